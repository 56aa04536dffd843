"""Fuzzing the AES Crypt and age readers with random and mutated files.

Whatever the input, a reader returns plaintext or raises an S3SafeError (never another exception), and a
failed file decryption leaves nothing at the destination: no output file and no temp file beside it.
Valid files are made with the lowest work factors so that thousands of examples stay fast.
"""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from s3safe.core.errors import S3SafeError
from s3safe.crypto import aescrypt, age

PASSPHRASE = "fuzz passphrase"
IDENTITY, RECIPIENT = age.generate_identity()
PLAINTEXT = b"attack at dawn " * 5000  # ~73 KiB: two age chunks, many AES blocks


def _aes_v3() -> bytes:
    out = io.BytesIO()
    aescrypt.encrypt_stream(io.BytesIO(PLAINTEXT), out, PASSPHRASE, iterations=1)
    return out.getvalue()


def _age(*, armor: bool, passphrase: bool) -> bytes:
    out = io.BytesIO()
    if passphrase:
        age.encrypt_stream(io.BytesIO(PLAINTEXT), out, passphrase=PASSPHRASE, armor=armor, work_factor=1)
    else:
        age.encrypt_stream(io.BytesIO(PLAINTEXT), out, recipients=[RECIPIENT], armor=armor)
    return out.getvalue()


SAMPLES = {
    "aes-v3": _aes_v3(),
    "age-x25519": _age(armor=False, passphrase=False),
    "age-scrypt": _age(armor=False, passphrase=True),
    "age-armor": _age(armor=True, passphrase=False),
}


@st.composite
def mutated(draw: st.DrawFn, base: bytes) -> bytes:
    """Flip, insert, delete, truncate or splice: the usual damage to a file."""
    data = bytearray(base)
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        op = draw(st.sampled_from(["flip", "insert", "delete", "truncate", "extend", "header"]))
        pos = draw(st.integers(min_value=0, max_value=max(0, len(data) - 1)))
        if op == "flip" and data:
            data[pos] ^= draw(st.integers(min_value=1, max_value=255))
        elif op == "insert":
            data[pos:pos] = draw(st.binary(min_size=1, max_size=40))
        elif op == "delete":
            del data[pos : pos + draw(st.integers(min_value=1, max_value=64))]
        elif op == "truncate":
            del data[pos:]
        elif op == "extend":
            data += draw(st.binary(min_size=1, max_size=100))
        elif op == "header" and data:
            # damage where the parsers look hardest: the first 300 bytes
            at = draw(st.integers(min_value=0, max_value=min(299, len(data) - 1)))
            data[at] = draw(st.integers(min_value=0, max_value=255))
    return bytes(data)


def _decrypt_aes(data: bytes, chunks: list[int]) -> bytes:
    reader = aescrypt.Decryptor(PASSPHRASE, max_iterations=1000)
    return _feed(reader, data, chunks)


def _decrypt_age(data: bytes, chunks: list[int]) -> bytes:
    reader = age.Decryptor(identities=[IDENTITY], passphrase=None, max_work_factor=4)
    return _feed(reader, data, chunks)


def _decrypt_age_passphrase(data: bytes, chunks: list[int]) -> bytes:
    reader = age.Decryptor(passphrase=PASSPHRASE, max_work_factor=4)
    return _feed(reader, data, chunks)


def _feed(reader: aescrypt.Decryptor | age.Decryptor, data: bytes, chunks: list[int]) -> bytes:
    """Push `data` in pieces of the given sizes (the way a download's chunks arrive)."""
    out, pos = bytearray(), 0
    for size in chunks:
        if pos >= len(data):
            break
        out += reader.update(data[pos : pos + size])
        pos += size
    out += reader.update(data[pos:])
    out += reader.finalize()
    return bytes(out)


READERS = {"aes": _decrypt_aes, "age": _decrypt_age, "age-pass": _decrypt_age_passphrase}
chunkings = st.lists(st.integers(min_value=1, max_value=70_000), max_size=6)


def _check(reader: str, data: bytes, chunks: list[int], *, original: bytes | None) -> None:
    try:
        plaintext = READERS[reader](data, chunks)
    except S3SafeError as exc:
        error = str(exc)
    else:
        error = None
    if error is not None:
        assert error.strip()
        return
    # accepted: only a real file is, and then it yields exactly what was encrypted; damage a reader
    # tolerates (AES Crypt's unauthenticated header extensions, armor whitespace) never changes a byte
    assert original is not None and plaintext == PLAINTEXT


def test_valid_samples_decrypt() -> None:
    assert _decrypt_aes(SAMPLES["aes-v3"], [7, 100]) == PLAINTEXT
    assert _decrypt_age(SAMPLES["age-x25519"], [1, 2, 3]) == PLAINTEXT
    assert _decrypt_age(SAMPLES["age-armor"], [64]) == PLAINTEXT
    assert _decrypt_age_passphrase(SAMPLES["age-scrypt"], []) == PLAINTEXT


@settings(max_examples=750, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.binary(max_size=600), reader=st.sampled_from(sorted(READERS)), chunks=chunkings)
def test_random_bytes_are_refused_cleanly(data: bytes, reader: str, chunks: list[int]) -> None:
    _check(reader, data, chunks, original=None)


@settings(max_examples=750, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.sampled_from([b"AES\x03\x00", b"AES\x02\x00", b"AES\x00\x05", b"age-encryption.org/v1\n", b"-----BEGIN AGE ENCRYPTED FILE-----\n"])
       .flatmap(lambda head: st.binary(max_size=400).map(lambda tail: head + tail)),
       reader=st.sampled_from(sorted(READERS)), chunks=chunkings)  # fmt: skip
def test_plausible_headers_with_random_bodies_are_refused_cleanly(data: bytes, reader: str, chunks: list[int]) -> None:
    _check(reader, data, chunks, original=None)


@pytest.mark.filterwarnings("ignore::hypothesis.errors.HypothesisWarning")
@pytest.mark.parametrize(
    ("sample", "reader"), [("aes-v3", "aes"), ("age-x25519", "age"), ("age-armor", "age"), ("age-scrypt", "age-pass")]
)
def test_mutated_files_are_refused_cleanly(sample: str, reader: str) -> None:
    original = SAMPLES[sample]

    @settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(data=mutated(original), chunks=chunkings)
    def run(data: bytes, chunks: list[int]) -> None:
        _check(reader, data, chunks, original=original)

    run()


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(sample=st.sampled_from(sorted(SAMPLES)), data=st.data())
def test_failed_file_decryption_leaves_nothing_at_the_destination(
    tmp_path_factory: pytest.TempPathFactory, sample: str, data: st.DataObject
) -> None:
    damaged = data.draw(mutated(SAMPLES[sample]))
    folder = tmp_path_factory.mktemp("out")
    src = folder / "in.bin"
    src.write_bytes(damaged)
    dst = folder / "plain.txt"
    try:
        if sample.startswith("aes"):
            aescrypt.decrypt_file(src, dst, PASSPHRASE, max_iterations=1000)
        elif sample == "age-scrypt":
            age.decrypt_file(src, dst, passphrase=PASSPHRASE, max_work_factor=4)
        else:
            age.decrypt_file(src, dst, identities=[IDENTITY], max_work_factor=4)
    except S3SafeError:
        assert sorted(p.name for p in folder.iterdir()) == ["in.bin"]
        return
    assert dst.read_bytes() == PLAINTEXT


def test_decrypt_file_never_replaces_an_existing_destination_on_failure(tmp_path: Path) -> None:
    tmp_path = tmp_path / "out"
    tmp_path.mkdir()
    src = tmp_path / "bad.aes"
    src.write_bytes(SAMPLES["aes-v3"][:-1])
    dst = tmp_path / "keep.txt"
    dst.write_bytes(b"precious")
    with pytest.raises(S3SafeError):
        aescrypt.decrypt_file(src, dst, PASSPHRASE, max_iterations=1000)
    assert dst.read_bytes() == b"precious"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.aes", "keep.txt"]
