"""AES Crypt v0–v3 reading and v3 writing, checked against the official vectors and the stream-format spec.

Known answers: the AES Crypt engine's own decryption tests (github.com/terrapane/aescrypt_engine,
test/decryption/test_stream_{0,1,2,3}.cpp, password "Hello"). Independent checks: a reference reader and
writer built in this file straight from https://www.aescrypt.com/aes_stream_format.html with hashlib and
bare AES-CBC, sharing no code with s3safe.crypto.aescrypt.
"""

from __future__ import annotations

import hashlib
import hmac
import io
import os
import struct
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from s3safe import __version__
from s3safe.core.errors import AccessDeniedError, IntegrityError, NotFoundError, UsageError
from s3safe.core.redact import MASK, redact
from s3safe.crypto import aescrypt
from s3safe.crypto._common import TransformReader

FAST = 1000  # PBKDF2 iterations in tests (the default, 300,000, is checked once below)
SIZES = [0, 1, 15, 16, 17, 65535, 65536, 65537, 3 * 65536]


def _h(text: str) -> bytes:
    return bytes.fromhex("".join(text.split()))


# -- official known-answer vectors ---------------------------------------------------------------------

_V3_HEADER = "414553 03 00 001b 435245415445445f4259 00 6165736372797074 20 342e302e302e30 0000 00000005"
OFFICIAL = {
    "v0 empty": (
        _h("""41 45 53 00 00 33 64 05 da cc 29 e2 b1 10 ff e2 ad 46 90 77 be d2 ec db 0a 07 61 0a b0 77 9f 39
              d8 a5 45 2f 24 42 8d fb 0d b9 0b 87 91 57 77 88 41 ae 97 ca 75"""),
        b"",
    ),
    "v0 '0'": (
        _h("""41 45 53 00 01 a9 a8 48 14 6a 69 14 62 37 0f 96 d7 a0 60 34 6c 0d bf e1 b6 1a 83 37 c3 75 66 e3
              83 99 d3 92 b9 0f ad f1 00 58 91 19 1a 26 d8 b8 cf 8c c4 ea 79 0b 07 79 56 9d ef 6d a5 dd ab 98
              a0 aa a3 22 45"""),
        b"0",
    ),
    "v1 '0'": (
        _h("""41 45 53 01 00 7a c5 28 c2 e0 10 3c 77 72 cc 31 83 db ee fa 72 2f dc 80 6c 28 32 65 7b 85 02 0b
              a2 ac da 6b 28 92 01 af 3f 62 6b 18 7e f2 ea 19 94 77 ba 7e 98 70 d5 a2 35 86 b1 6b ff c1 81 ee
              aa 06 eb 57 50 be 9d 4c de bc 10 54 00 28 cc 68 bd 90 56 e3 3d b8 74 d5 b0 50 2d ab 7b 2c 65 35
              a0 bc 9e 3e 76 3d 8d b6 10 26 52 4e 62 a3 51 a5 ef bf fb e0 f0 01 c3 6f 56 7f ec 3e 50 35 a1 05
              e2 71 b1 7a 7d c7 a3 6c 27 4d 47 1b e0 07 ac 4d a8 a9 b3 37 39 b4"""),
        b"0",
    ),
    "v2 '0'": (
        # CREATED_BY "aescrypt 3.16", then the 128-octet container extension (zeros) and the 00 00 terminator
        _h("41 45 53 02 00 00 18 43 52 45 41 54 45 44 5f 42 59 00 61 65 73 63 72 79 70 74 20 33 2e 31 36 00 80")
        + bytes(130)
        + _h("""f0 c9 37 a3 4d 5c 6b fb 83 28 22 11 64 e1 1d 5e cd 0e b9 52 5c e7 f9 d5 a1 f1 8b 8f ad e5 fc 1e
                a0 87 3f 32 96 05 82 d7 0f 4f 3f 21 69 d2 c8 76 18 21 30 ad 05 b1 f4 31 f8 a6 3b 3a 9a a1 4f 3c
                ef 17 c6 d3 99 96 f7 a3 22 05 78 db ec 99 01 8d 49 e1 7f 7a 07 40 8a 33 01 6b 5e 9a e1 e3 9b 5a
                73 5d aa a5 52 69 f9 0d fc 19 5b 4c a0 c9 0c 8a 01 30 7d bb ce 2b e9 0c 92 2c 08 bf 46 b1 89 85
                c8 6d f0 aa 02 96 ef 4a 07 a8 e1 5a fa a7 02 a9 be"""),
        b"0",
    ),
    "v3 '0'": (
        _h(_V3_HEADER)
        + _h("""ca c0 b1 77 b8 99 03 9b b3 26 b3 3c 22 a1 8b 39 f4 bb 30 94 4e 08 64 80 74 78 6a 57 6b c4 f1 6c
                dc 59 8b c1 f3 14 b5 a4 d4 9b 97 2f 30 0a ac d7 d8 d6 61 e5 5a 73 c0 5c 19 25 80 6d 07 dc 1b fa
                2f 7d 3c 91 1c 0f 6f 61 ff af 49 b2 51 e0 4b 66 9a 81 f1 47 3d bc b2 2d 57 05 f0 de 47 be 32 cf
                1b ee 36 24 64 0d e8 da 7b ec 29 d6 bb 6d 78 a5 0f f8 fe 3c 70 e8 a7 17 3e 46 1c fc e8 08 70 2b
                de 6d de 21 ab 33 5b e5 c3 a1 63 39 57 b6 ec be"""),
        b"0",
    ),
    "v3 one full block": (
        _h(_V3_HEADER)
        + _h("""55 9d 64 2d 66 b6 65 13 df 9b ab 97 7c 7b a8 1d de dc 1e 30 f1 e5 0e 33 c5 29 39 26 f7 0b 85 72
                c1 b2 02 64 5d 45 ad 57 7d f9 88 90 a6 e1 3f a9 3c 31 e8 c0 ea b0 d2 55 91 d7 23 1d 2b 27 44 cd
                d0 b4 f8 d8 c0 8a 8b a1 a7 77 8d 67 39 30 1c c9 82 8d f6 c0 bd ce d2 3a b1 b9 fb a2 81 a2 f0 4b
                55 5c d3 88 d1 26 dc d6 02 8f 20 3b b3 69 0f 30 1f 68 f5 49 af 30 68 ee b7 26 6a e9 de 7f ee 10
                9f f0 33 c6 04 7d 87 8d f7 a1 1f fe 73 d8 07 c6 7a ad 32 af f6 8d ce 12 f7 ef 95 d6 6c 99 df 9a"""),
        b"0123456789ABCDEF",
    ),
}


def _decrypt(data: bytes, passphrase: str, **kwargs: int) -> tuple[bytes, aescrypt.AesCryptHeader]:
    out = io.BytesIO()
    header = aescrypt.decrypt_stream(io.BytesIO(data), out, passphrase, **kwargs)
    return out.getvalue(), header


def _encrypt(data: bytes, passphrase: str = "correct horse", iterations: int = FAST) -> bytes:  # noqa: S107
    out = io.BytesIO()
    aescrypt.encrypt_stream(io.BytesIO(data), out, passphrase, iterations=iterations)
    return out.getvalue()


@pytest.mark.parametrize("name", sorted(OFFICIAL))
def test_official_vectors_decrypt(name: str) -> None:
    ciphertext, plaintext = OFFICIAL[name]
    out, header = _decrypt(ciphertext, "Hello")
    assert out == plaintext
    assert header.version == int(name[1])
    assert header.iterations == (5 if header.version == 3 else None)


@pytest.mark.parametrize("name", sorted(OFFICIAL))
def test_official_vectors_refuse_a_wrong_password(name: str) -> None:
    ciphertext, _ = OFFICIAL[name]
    # v0 has no password check of its own: its only HMAC cannot tell a wrong password from damage
    expected = IntegrityError if name.startswith("v0") else AccessDeniedError
    with pytest.raises(expected, match="passphrase"):
        _decrypt(ciphertext, "hello")


def test_official_v3_vector_fed_one_byte_at_a_time() -> None:
    ciphertext, plaintext = OFFICIAL["v3 one full block"]
    decryptor = aescrypt.Decryptor("Hello")
    out = b"".join(decryptor.update(ciphertext[i : i + 1]) for i in range(len(ciphertext)))
    assert out + decryptor.finalize() == plaintext


# -- an independent reading of the spec ----------------------------------------------------------------


def _cbc(key: bytes, iv: bytes, data: bytes, *, encrypt: bool) -> bytes:
    cipher = Cipher(algorithms.AES(key), modes.CBC(iv))
    ctx = cipher.encryptor() if encrypt else cipher.decryptor()
    return ctx.update(data) + ctx.finalize()


@dataclass
class SpecFields:
    magic: bytes = b""
    version: int = -1
    reserved: int = -1
    extensions: list[bytes] = field(default_factory=list)
    iterations: int = -1
    ciphertext_len: int = -1


def _spec_decrypt_v3(data: bytes, passphrase: str) -> tuple[bytes, SpecFields]:
    """AES Crypt v3 read step by step from the spec text; returns (plaintext, header fields)."""
    fields = SpecFields(magic=data[:3], version=data[3], reserved=data[4])
    pos, extensions = 5, fields.extensions
    while True:
        (length,) = struct.unpack(">H", data[pos : pos + 2])
        pos += 2
        if length == 0:
            break
        extensions.append(data[pos : pos + length])
        pos += length
    (iterations,) = struct.unpack(">I", data[pos : pos + 4])
    fields.iterations = iterations
    iv = data[pos + 4 : pos + 20]
    wrapped, tag = data[pos + 20 : pos + 68], data[pos + 68 : pos + 100]
    key = hashlib.pbkdf2_hmac("sha512", passphrase.encode("utf-8"), iv, iterations, 32)
    assert hmac.compare_digest(hmac.new(key, wrapped + b"\x03", "sha256").digest(), tag), "session HMAC"
    session = _cbc(key, iv, wrapped, encrypt=False)
    ciphertext, final_tag = data[pos + 100 : -32], data[-32:]
    fields.ciphertext_len = len(ciphertext)
    assert hmac.compare_digest(hmac.new(session[16:], ciphertext, "sha256").digest(), final_tag), "final HMAC"
    padded = _cbc(session[16:], session[:16], ciphertext, encrypt=False)
    pad = padded[-1]
    assert 1 <= pad <= 16
    assert padded[-pad:] == bytes([pad]) * pad
    return padded[:-pad], fields


def _legacy_key(passphrase: str, iv: bytes) -> bytes:
    digest = iv + bytes(16)
    for _ in range(8192):
        digest = hashlib.sha256(digest + passphrase.encode("utf-16-le")).digest()
    return digest


def _spec_encrypt(version: int, plaintext: bytes, passphrase: str, iterations: int = 7) -> bytes:
    """Write any version from the spec text (fixed-pattern random values, no s3safe code)."""
    public_iv, session_iv, session_key = os.urandom(16), os.urandom(16), os.urandom(32)
    remainder = len(plaintext) % 16
    if version == 3:
        pad = 16 - remainder
        padded = plaintext + bytes([pad]) * pad
    else:
        padded = plaintext + bytes(16 - remainder if remainder else 0)
    head = b"AES" + bytes([version])
    if version == 0:
        key = _legacy_key(passphrase, public_iv)
        ciphertext = _cbc(key, public_iv, padded, encrypt=True)
        return head + bytes([remainder]) + public_iv + ciphertext + hmac.new(key, ciphertext, "sha256").digest()
    head += b"\x00"
    if version >= 2:
        head += struct.pack(">H", 15) + b"CREATED_BY\x00test" + b"\x00\x00"
    if version == 3:
        head += struct.pack(">I", iterations)
        key = hashlib.pbkdf2_hmac("sha512", passphrase.encode("utf-8"), public_iv, iterations, 32)
    else:
        key = _legacy_key(passphrase, public_iv)
    wrapped = _cbc(key, public_iv, session_iv + session_key, encrypt=True)
    tag = hmac.new(key, wrapped + (b"\x03" if version == 3 else b""), "sha256").digest()
    ciphertext = _cbc(session_key, session_iv, padded, encrypt=True)
    final = hmac.new(session_key, ciphertext, "sha256").digest()
    modulo = b"" if version == 3 else bytes([remainder])
    return head + public_iv + wrapped + tag + ciphertext + modulo + final


@pytest.mark.parametrize("size", [0, 1, 15, 16, 17, 100, 65537])
def test_v3_written_by_s3safe_matches_the_spec(size: int) -> None:
    plaintext = os.urandom(size)
    data = _encrypt(plaintext, "pässwörd ✓", iterations=1234)
    decoded, fields = _spec_decrypt_v3(data, "pässwörd ✓")
    assert decoded == plaintext
    assert fields.magic == b"AES"
    assert fields.version == 3
    assert fields.reserved == 0
    assert fields.iterations == 1234
    created_by, container = fields.extensions
    assert created_by == f"CREATED_BY\x00s3safe {__version__}".encode()
    assert container == bytes(128)  # the 128-octet container extension writers should leave
    assert fields.ciphertext_len == (size // 16 + 1) * 16  # PKCS#7 always adds 1..16 bytes
    assert len(data) == 5 + 2 + len(created_by) + 2 + 128 + 2 + 4 + 16 + 48 + 32 + (size // 16 + 1) * 16 + 32


def test_default_iterations_are_at_least_300000() -> None:
    data = aescrypt.Encryptor("pw-pw-pw").finalize()
    _, fields = _spec_decrypt_v3(data, "pw-pw-pw")
    assert fields.iterations == aescrypt.DEFAULT_ITERATIONS >= 300_000


@pytest.mark.parametrize("version", [0, 1, 2, 3])
@pytest.mark.parametrize("size", [0, 1, 15, 16, 17, 48, 1000])
def test_files_written_from_the_spec_are_read(version: int, size: int) -> None:
    plaintext = os.urandom(size)
    out, header = _decrypt(_spec_encrypt(version, plaintext, "Grüße, €"), "Grüße, €")
    assert out == plaintext
    assert header.version == version


# -- round trips ---------------------------------------------------------------------------------------


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    size=st.one_of(st.sampled_from(SIZES), st.integers(0, 200_000)),
    cuts=st.lists(st.integers(1, 70_000), max_size=6),
)
def test_round_trip_with_arbitrary_chunking(size: int, cuts: list[int]) -> None:
    plaintext = os.urandom(size)
    encryptor = aescrypt.Encryptor("round trip", iterations=FAST)
    pieces, pos = [], 0
    for cut in [*cuts, size]:
        pieces.append(encryptor.update(plaintext[pos : pos + cut]))
        pos += cut
    ciphertext = b"".join(pieces) + encryptor.finalize()
    decryptor = aescrypt.Decryptor("round trip")
    out, pos = [], 0
    for cut in [*cuts, len(ciphertext)]:
        out.append(decryptor.update(ciphertext[pos : pos + cut]))
        pos += cut
    assert b"".join(out) + decryptor.finalize() == plaintext


def test_transform_reader_streams_ciphertext_for_uploads() -> None:
    plaintext = os.urandom(3 * 65536 + 7)
    reader = TransformReader(io.BytesIO(plaintext), aescrypt.Encryptor("upload", iterations=FAST))
    parts = []
    while part := reader.read(5 * 1024 * 1024 // 100):
        parts.append(part)
    assert _decrypt(b"".join(parts), "upload")[0] == plaintext


# -- refusal, tampering, truncation --------------------------------------------------------------------


def _extension_content_positions(data: bytes) -> set[int]:
    """Bytes inside extension bodies: the format neither encrypts nor authenticates them."""
    positions: set[int] = set()
    pos = 5
    while True:
        (length,) = struct.unpack(">H", data[pos : pos + 2])
        pos += 2
        if not length:
            return positions
        positions.update(range(pos, pos + length))
        pos += length


@pytest.fixture
def work(tmp_path: Path) -> Path:
    path = tmp_path / "work"
    path.mkdir()
    return path


def _no_leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name != "in.aes")


def test_flipping_any_byte_is_caught_and_leaves_no_file(work: Path) -> None:
    plaintext = b"s3safe tamper test " * 5
    data = _encrypt(plaintext)
    harmless = _extension_content_positions(data)
    src, dst = work / "in.aes", work / "out"
    for i in range(len(data)):
        src.write_bytes(data[:i] + bytes([data[i] ^ 0x01]) + data[i + 1 :])
        try:
            aescrypt.decrypt_file(src, dst, "correct horse", max_iterations=5000)
        except (IntegrityError, AccessDeniedError):
            assert _no_leftovers(work) == [], i
            continue
        # only the unauthenticated extension area may change without error -- and never the plaintext
        assert i in harmless, f"flipped byte {i} went unnoticed"
        assert dst.read_bytes() == plaintext
        dst.unlink()


def test_every_truncation_is_an_integrity_error(work: Path) -> None:
    data = _encrypt(b"x" * 40)
    src, dst = work / "in.aes", work / "out"
    for length in range(len(data)):
        src.write_bytes(data[:length])
        with pytest.raises(IntegrityError):
            aescrypt.decrypt_file(src, dst, "correct horse")
        assert _no_leftovers(work) == []


@settings(max_examples=25, deadline=None)
@given(position=st.integers(0, 3 * 65536 + 400), flip=st.integers(1, 255), truncate=st.booleans())
def test_large_file_damage_is_caught(position: int, flip: int, truncate: bool) -> None:
    data = _LARGE_CIPHERTEXT
    position %= len(data)
    damaged = data[:position] if truncate else data[:position] + bytes([data[position] ^ flip]) + data[position + 1 :]
    if not truncate and position in _extension_content_positions(data):
        return
    with pytest.raises((IntegrityError, AccessDeniedError)):
        _decrypt(damaged, "correct horse", max_iterations=5000)


_LARGE_PLAINTEXT = os.urandom(3 * 65536 + 5)
_LARGE_CIPHERTEXT = _encrypt(_LARGE_PLAINTEXT)


def test_wrong_passphrase_is_access_denied_and_keeps_an_existing_file(work: Path) -> None:
    src, dst = work / "in.aes", work / "out"
    src.write_bytes(_encrypt(b"secret data"))
    with pytest.raises(AccessDeniedError, match="wrong passphrase") as info:
        aescrypt.decrypt_file(src, dst, "wrong horse")
    assert info.value.exit_code == 4
    assert "\n" not in str(info.value)
    assert not dst.exists()
    dst.write_bytes(b"previous version")
    with pytest.raises(AccessDeniedError):
        aescrypt.decrypt_file(src, dst, "wrong horse")
    assert dst.read_bytes() == b"previous version"
    assert sorted(p.name for p in work.iterdir()) == ["in.aes", "out"]


def test_file_helpers_round_trip_with_private_mode(tmp_path: Path) -> None:
    plain, enc, back = tmp_path / "plain", tmp_path / "plain.aes", tmp_path / "back"
    plain.write_bytes(b"hello" * 1000)
    aescrypt.encrypt_file(plain, enc, "file pass", iterations=FAST)
    aescrypt.decrypt_file(enc, back, "file pass")
    assert back.read_bytes() == plain.read_bytes()
    if os.name == "posix":
        assert back.stat().st_mode & 0o777 == 0o600
    with pytest.raises(UsageError, match="same file"):
        aescrypt.decrypt_file(enc, enc, "file pass")


def _v3_header(iterations: int) -> bytes:
    return b"AES\x03\x00\x00\x00" + struct.pack(">I", iterations) + bytes(16 + 48 + 32 + 16 + 32)


def test_absurd_iteration_counts_are_refused_before_any_work() -> None:
    with pytest.raises(IntegrityError, match=r"4,000,000,000 PBKDF2 iterations.*20,000,000"):
        _decrypt(_v3_header(4_000_000_000), "pw-pw")
    with pytest.raises(IntegrityError, match="zero PBKDF2"):
        _decrypt(_v3_header(0), "pw-pw")
    with pytest.raises(IntegrityError, match="more than the 10 s3safe accepts"):
        _decrypt(_v3_header(11), "pw-pw", max_iterations=10)


def test_the_iteration_count_in_the_header_is_honoured() -> None:
    plaintext = b"iterations"
    for iterations in (1, 2, 4321):
        data = _spec_encrypt(3, plaintext, "pw-pw", iterations=iterations)
        out, header = _decrypt(data, "pw-pw")
        assert (out, header.iterations) == (plaintext, iterations)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "truncated"),
        (b"AE", "truncated"),
        (b"PK\x03\x04 not aes", "not an AES Crypt file"),
        (b"AES\x04\x00" + bytes(200), "unsupported AES Crypt version 4"),
        (b"AES\x03\x01" + bytes(200), "reserved byte"),
        (b"AES\x00\x10" + bytes(200), "above 15"),
        (b"AES\x02\x00" + b"\xff\xff" * 600_000, "exceed"),
    ],
)
def test_malformed_headers(data: bytes, message: str) -> None:
    with pytest.raises(IntegrityError, match=message):
        _decrypt(data, "pw-pw")


@pytest.mark.parametrize("version", [0, 1, 2])
@pytest.mark.parametrize("modulo", [1, 15])
def test_an_empty_legacy_file_decrypts_to_nothing_whatever_its_last_block_size(version: int, modulo: int) -> None:
    """Issue 20.6: with no ciphertext block there is no last block to cut; the reference engine
    (terrapane/aescrypt_engine, DecryptStream) writes nothing and succeeds, so does s3safe."""
    data = bytearray(_spec_encrypt(version, b"", "pw-pw"))
    data[4 if version == 0 else -33] = modulo  # v0 keeps it in the header, v1/v2 before the final HMAC
    assert _decrypt(bytes(data), "pw-pw")[0] == b""


def test_v2_last_block_byte_is_bounded() -> None:
    # v2 keeps "size mod 16" outside the HMAC -- a format weakness and the reason s3safe never writes v2;
    # s3safe at least refuses values that cannot be a block length
    data = bytearray(_spec_encrypt(2, b"twenty bytes of text", "pw-pw"))
    data[-33] = 0x14
    with pytest.raises(IntegrityError, match="above 15"):
        _decrypt(bytes(data), "pw-pw")


def test_bad_arguments() -> None:
    with pytest.raises(UsageError):
        aescrypt.Encryptor("", iterations=FAST)
    with pytest.raises(UsageError, match="between 1 and 5,000,000"):
        aescrypt.Encryptor("pw-pw", iterations=5_000_001)
    with pytest.raises(UsageError):
        aescrypt.Encryptor("pw-pw", iterations=0)


def test_passphrases_are_registered_for_redaction() -> None:
    aescrypt.Decryptor("a rather secret phrase")
    assert redact("oops: a rather secret phrase") == f"oops: {MASK}"


def test_file_helper_errors_are_actionable(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match="input file not found"):
        aescrypt.decrypt_file(tmp_path / "missing.aes", tmp_path / "out", "pw-pw")
    (tmp_path / "in").write_bytes(b"x")
    with pytest.raises(NotFoundError, match="output folder does not exist"):
        aescrypt.encrypt_file(tmp_path / "in", tmp_path / "no" / "such" / "out", "pw-pw", iterations=FAST)


def test_undecodable_passphrase_is_a_usage_error() -> None:
    undecodable = b"caf\xe9".decode("utf-8", "surrogateescape")  # what os.environ holds for Latin-1 bytes
    with pytest.raises(UsageError, match="not valid text"):
        aescrypt.Encryptor(undecodable, iterations=FAST)
    with pytest.raises(UsageError, match="not valid text"):
        aescrypt.Decryptor(undecodable)
