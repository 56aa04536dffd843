"""age v1: keys, round trips, structure against the spec, tampering, truncation, wrong keys, ranged reads.

`_spec_decrypt` below is an independent reading of https://age-encryption.org/v1 built from pyca primitives
only; s3safe's output must satisfy it byte for byte.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import os
import re
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from s3safe.core.errors import AccessDeniedError, IntegrityError, UsageError
from s3safe.core.redact import MASK, redact
from s3safe.crypto import age, bech32
from s3safe.crypto._common import TransformReader

CHUNK = 64 * 1024
SIZES = [0, 1, 15, 16, 17, 65535, 65536, 65537, 3 * CHUNK]
WF = 10  # scrypt work factor for tests
SECRET, RECIPIENT = age.generate_identity()
OTHER_SECRET, OTHER_RECIPIENT = age.generate_identity()


def _encrypt(data: bytes, **kwargs: object) -> bytes:
    out = io.BytesIO()
    if "passphrase" in kwargs:
        kwargs.setdefault("work_factor", WF)
    else:
        kwargs.setdefault("recipients", [RECIPIENT])
    age.encrypt_stream(io.BytesIO(data), out, **kwargs)  # type: ignore[arg-type]
    return out.getvalue()


def _decrypt(data: bytes, **kwargs: object) -> bytes:
    out = io.BytesIO()
    if "passphrase" not in kwargs:
        kwargs.setdefault("identities", [SECRET])
    age.decrypt_stream(io.BytesIO(data), out, **kwargs)  # type: ignore[arg-type]
    return out.getvalue()


def _hkdf(ikm: bytes, salt: bytes | None, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=info).derive(ikm)


def _unb64(text: str) -> bytes:
    return base64.b64decode(text + "=" * (-len(text) % 4))


def _spec_decrypt(data: bytes, *, identity: str | None = None, passphrase: str | None = None) -> bytes:
    """age v1 decryption from the spec, asserting the layout s3safe must produce."""
    header_end = data.index(b"\n---") + 1
    mac_line_end = data.index(b"\n", header_end) + 1
    lines = data[:header_end].decode("ascii").split("\n")
    assert lines[0] == "age-encryption.org/v1"
    stanza_line, body_line = lines[1], lines[2]
    assert lines[3:] == [""], "exactly one stanza, body on one line"
    file_key: bytes | None = None
    if identity is not None:
        match = re.fullmatch(r"-> X25519 ([A-Za-z0-9+/]{43})", stanza_line)
        assert match, stanza_line
        share = _unb64(match.group(1))
        key = X25519PrivateKey.from_private_bytes(bech32.decode(identity, max_length=None)[1])
        secret = key.exchange(X25519PublicKey.from_public_bytes(share))
        wrap = _hkdf(secret, share + key.public_key().public_bytes_raw(), b"age-encryption.org/v1/X25519")
    else:
        assert passphrase is not None
        match = re.fullmatch(r"-> scrypt ([A-Za-z0-9+/]{22}) ([1-9][0-9]?)", stanza_line)
        assert match, stanza_line
        salt, log_n = _unb64(match.group(1)), int(match.group(2))
        wrap = Scrypt(salt=b"age-encryption.org/v1/scrypt" + salt, length=32, n=1 << log_n, r=8, p=1).derive(passphrase.encode())
    assert len(body_line) == 43  # 16-byte file key + 16-byte tag, unpadded base64
    file_key = ChaCha20Poly1305(wrap).decrypt(bytes(12), _unb64(body_line), None)
    assert len(file_key) == 16
    mac_line = data[header_end:mac_line_end].decode("ascii")
    assert re.fullmatch(r"--- [A-Za-z0-9+/]{43}\n", mac_line)
    expected_mac = hmac.new(_hkdf(file_key, None, b"header"), data[: header_end + 3], hashlib.sha256).digest()
    assert hmac.compare_digest(_unb64(mac_line[4:-1]), expected_mac)
    nonce = data[mac_line_end : mac_line_end + 16]
    aead = ChaCha20Poly1305(_hkdf(file_key, nonce, b"payload"))
    payload = data[mac_line_end + 16 :]
    chunks = [payload[i : i + CHUNK + 16] for i in range(0, len(payload), CHUNK + 16)]
    out = bytearray()
    for counter, chunk in enumerate(chunks):
        last = counter == len(chunks) - 1
        assert last or len(chunk) == CHUNK + 16
        out += aead.decrypt(counter.to_bytes(11, "big") + bytes([last]), chunk, None)
    assert out or len(chunks) == 1, "only an empty file may end with an empty chunk"
    return bytes(out)


# -- keys ----------------------------------------------------------------------------------------------


def test_generated_keys_have_the_age_format() -> None:
    assert re.fullmatch(r"AGE-SECRET-KEY-1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{58}", SECRET)
    assert re.fullmatch(r"age1[qpzry9x8gf2tvdw0s3jn54khce6mua7l]{58}", RECIPIENT)
    assert age.recipient_from_identity(SECRET) == RECIPIENT
    assert age.recipient_from_identity(SECRET.lower()) == RECIPIENT
    assert SECRET != OTHER_SECRET


def test_generated_identity_is_registered_for_redaction() -> None:
    secret, _ = age.generate_identity()
    assert redact(f"key={secret}") == f"key={MASK}"


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "AGE-SECRET-KEY-1",
        SECRET[:-1] + ("Q" if SECRET[-1] != "Q" else "P"),  # checksum
        SECRET[:30] + SECRET[30:].lower(),  # mixed case
        bech32.encode("age-secret-key-", bytes(31)).upper(),  # wrong length
        RECIPIENT,  # a public key given as identity
    ],
    # fixed ids: the keys are generated at import, and pytest-xdist needs every worker to collect the same names
    ids=["empty", "bare-prefix", "bad-checksum", "mixed-case", "wrong-length", "recipient"],
)
def test_invalid_identities_are_refused_without_echo(bad: str) -> None:
    with pytest.raises(UsageError) as info:
        age.recipient_from_identity(bad)
    if len(bad) > 20:
        assert bad[16:40] not in str(info.value) and bad[16:40].lower() not in str(info.value)


@pytest.mark.parametrize(
    "bad",
    ["age1", RECIPIENT[:-1] + "q" if RECIPIENT[-1] != "q" else "p", SECRET, "ssh-ed25519 AAAA"],
    ids=["bare-prefix", "bad-checksum", "secret-key", "ssh-key"],
)
def test_invalid_recipients_are_refused(bad: str) -> None:
    with pytest.raises(UsageError, match="recipient"):
        age.parse_recipient(bad)


def test_identity_file_parsing() -> None:
    text = f"# created: today\n# public key: {RECIPIENT}\n\n{SECRET}\n  {OTHER_SECRET.lower()}  \n"
    assert age.parse_identity_file(text) == [SECRET, OTHER_SECRET]
    assert redact(OTHER_SECRET) == MASK
    with pytest.raises(UsageError, match="line 2") as info:
        age.parse_identity_file(f"{SECRET}\n{SECRET[:-3]}xyz\n")
    assert SECRET[16:] not in str(info.value)
    with pytest.raises(UsageError, match="no age identity"):
        age.parse_identity_file("# only a comment\n")


def test_recipients_file_parsing() -> None:
    assert age.parse_recipients_file(f"# team\n{RECIPIENT}\n{OTHER_RECIPIENT.upper()}\n") == [RECIPIENT, OTHER_RECIPIENT]
    with pytest.raises(UsageError, match="line 1"):
        age.parse_recipients_file("age1nope\n")


def test_identity_file_text_looks_like_age_keygen() -> None:
    lines = age.identity_file_text(SECRET).splitlines()
    assert lines[0].startswith("# created: ")
    assert lines[1:] == [f"# public key: {RECIPIENT}", SECRET]


# -- round trips and the spec --------------------------------------------------------------------------


@pytest.mark.parametrize("size", SIZES)
def test_x25519_output_follows_the_spec(size: int) -> None:
    plaintext = os.urandom(size)
    data = _encrypt(plaintext)
    assert _spec_decrypt(data, identity=SECRET) == plaintext
    assert _decrypt(data) == plaintext


@pytest.mark.parametrize("size", [0, 1, 65536, 65537])
def test_scrypt_output_follows_the_spec(size: int) -> None:
    plaintext = os.urandom(size)
    data = _encrypt(plaintext, passphrase="correct horse ✓")
    assert b"\n-> scrypt " in data[:40] and data.split(b"\n")[1].endswith(b" 10")
    assert _spec_decrypt(data, passphrase="correct horse ✓") == plaintext
    assert _decrypt(data, passphrase="correct horse ✓") == plaintext


def test_default_work_factor_is_the_age_default() -> None:
    encryptor = age.Encryptor(passphrase="pw-pw-pw")
    assert encryptor.finalize().split(b"\n")[1].endswith(b" 18")


def test_several_recipients_each_decrypt() -> None:
    data = _encrypt(b"shared", recipients=[RECIPIENT, OTHER_RECIPIENT])
    assert data.count(b"\n-> X25519 ") == 2
    assert _decrypt(data) == _decrypt(data, identities=[OTHER_SECRET]) == b"shared"
    assert _decrypt(data, identities=[age.generate_identity()[0], OTHER_SECRET]) == b"shared"


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    size=st.one_of(st.sampled_from(SIZES), st.integers(0, 300_000)),
    cuts=st.lists(st.integers(1, 140_000), max_size=6),
    armor=st.booleans(),
    scrypt=st.booleans(),
)
def test_round_trip_with_arbitrary_chunking(size: int, cuts: list[int], armor: bool, scrypt: bool) -> None:
    plaintext = os.urandom(size)
    keys: dict[str, object] = {"passphrase": "hypothesis"} if scrypt else {"recipients": [RECIPIENT]}
    encryptor = age.Encryptor(armor=armor, work_factor=WF, **keys)  # type: ignore[arg-type]
    pieces, pos = [], 0
    for cut in [*cuts, size]:
        pieces.append(encryptor.update(plaintext[pos : pos + cut]))
        pos += cut
    ciphertext = b"".join(pieces) + encryptor.finalize()
    assert ciphertext.startswith(b"-----BEGIN AGE ENCRYPTED FILE-----\n" if armor else b"age-encryption.org/v1\n")
    decryptor = age.Decryptor(passphrase="hypothesis") if scrypt else age.Decryptor(identities=[SECRET])
    out, pos = [], 0
    for cut in [*cuts, len(ciphertext)]:
        out.append(decryptor.update(ciphertext[pos : pos + cut]))
        pos += cut
    assert b"".join(out) + decryptor.finalize() == plaintext


def test_armor_layout_and_tolerance() -> None:
    data = _encrypt(b"armored" * 100, armor=True)
    lines = data.decode("ascii").split("\n")
    assert lines[0] == "-----BEGIN AGE ENCRYPTED FILE-----"
    assert lines[-2:] == ["-----END AGE ENCRYPTED FILE-----", ""]
    assert all(len(line) == 64 for line in lines[1:-3]) and 0 < len(lines[-3]) <= 64
    assert _spec_decrypt(base64.b64decode("".join(lines[1:-2])), identity=SECRET) == b"armored" * 100
    crlf = b"  \r\n" + data.replace(b"\n", b"\r\n") + b"\r\n\t"
    assert _decrypt(crlf) == b"armored" * 100


def test_transform_reader_streams_ciphertext_for_uploads() -> None:
    plaintext = os.urandom(2 * CHUNK + 3)
    reader = TransformReader(io.BytesIO(plaintext), age.Encryptor(recipients=[RECIPIENT]))
    ciphertext = b"".join(iter(lambda: reader.read(10_000), b""))
    assert _decrypt(ciphertext) == plaintext


# -- wrong keys, tampering, truncation -----------------------------------------------------------------


def test_wrong_identity_or_passphrase_is_access_denied(tmp_path: Path) -> None:
    (tmp_path / "x.age").write_bytes(_encrypt(b"secret"))
    (tmp_path / "p.age").write_bytes(_encrypt(b"secret", passphrase="right one"))
    cases: list[tuple[str, dict[str, object], str]] = [
        ("x.age", {"identities": [OTHER_SECRET]}, "none of the given age identities"),
        ("x.age", {"passphrase": "right one"}, "identity .* is needed"),
        ("p.age", {"passphrase": "wrong one"}, "wrong passphrase"),
        ("p.age", {"identities": [SECRET]}, "passphrase is needed"),
    ]
    for name, keys, message in cases:
        dst = tmp_path / "out"
        with pytest.raises(AccessDeniedError, match=message) as info:
            age.decrypt_file(tmp_path / name, dst, **keys)  # type: ignore[arg-type]
        assert info.value.exit_code == 4
        assert not dst.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["home", "p.age", "x.age"]


def _header_length(data: bytes) -> int:
    return data.index(b"\n", data.index(b"\n---") + 1) + 1


def test_flipping_any_byte_is_caught_and_leaves_no_file(tmp_path: Path) -> None:
    plaintext = b"tamper me " * 20
    data = _encrypt(plaintext)
    header = _header_length(data)
    src, dst = tmp_path / "in.age", tmp_path / "out"
    for i in range(len(data)):
        src.write_bytes(data[:i] + bytes([data[i] ^ 0x01]) + data[i + 1 :])
        expected: tuple[type[Exception], ...] = (IntegrityError, AccessDeniedError) if i < header - 48 else (IntegrityError,)
        with pytest.raises(expected):
            age.decrypt_file(src, dst, identities=[SECRET])
        assert not dst.exists(), i
    assert sorted(p.name for p in tmp_path.iterdir()) == ["home", "in.age"]


def test_every_truncation_is_an_integrity_error(tmp_path: Path) -> None:
    data = _encrypt(b"truncate me" * 10)
    src, dst = tmp_path / "in.age", tmp_path / "out"
    for length in range(len(data)):
        src.write_bytes(data[:length])
        with pytest.raises(IntegrityError):
            age.decrypt_file(src, dst, identities=[SECRET])
        assert not dst.exists()


_LARGE_PLAINTEXT = os.urandom(3 * CHUNK + 9)
_LARGE = _encrypt(_LARGE_PLAINTEXT)


@settings(max_examples=40, deadline=None)
@given(position=st.integers(0, len(_LARGE) - 1), flip=st.integers(1, 255), truncate=st.booleans())
def test_damage_anywhere_in_a_multi_chunk_file(position: int, flip: int, truncate: bool) -> None:
    damaged = _LARGE[:position] if truncate else _LARGE[:position] + bytes([_LARGE[position] ^ flip]) + _LARGE[position + 1 :]
    decryptor = age.Decryptor(identities=[SECRET])
    released = bytearray()
    error: Exception | None = None
    try:
        released += decryptor.update(damaged)
        released += decryptor.finalize()
    except (IntegrityError, AccessDeniedError) as exc:
        error = exc
    assert error is not None, f"damage at {position} went unnoticed"
    assert _LARGE_PLAINTEXT.startswith(released), "only authenticated plaintext is ever released"


def test_a_late_failure_releases_only_the_chunks_before_it_and_no_file(tmp_path: Path) -> None:
    """Issue 20.5, the decision pinned: plaintext is released one authenticated 64 KiB chunk at a time, so a
    damaged third chunk fails after the first two were released -- and decrypt_file writes them only to a
    temporary file that is removed: nothing appears at the destination."""
    damaged = bytearray(_LARGE)
    damaged[_header_length(_LARGE) + 16 + 2 * (CHUNK + 16) + 5] ^= 1
    decryptor = age.Decryptor(identities=[SECRET])
    released = bytearray()
    error: IntegrityError | None = None
    try:
        for i in range(0, len(damaged), 4096):
            released += decryptor.update(bytes(damaged[i : i + 4096]))
    except IntegrityError as exc:
        error = exc
    assert error is not None and "chunk 2 failed authentication" in str(error)
    assert bytes(released) == _LARGE_PLAINTEXT[: 2 * CHUNK]
    folder = tmp_path / "late"
    folder.mkdir()
    (folder / "in.age").write_bytes(bytes(damaged))
    with pytest.raises(IntegrityError):
        age.decrypt_file(folder / "in.age", folder / "out", identities=[SECRET])
    assert sorted(p.name for p in folder.iterdir()) == ["in.age"]


def test_dropping_the_last_chunk_or_appending_data_is_caught() -> None:
    header = _header_length(_LARGE) + 16
    at_boundary = _LARGE[: header + 3 * (CHUNK + 16)]
    with pytest.raises(IntegrityError, match="stops at a chunk boundary"):
        _decrypt(at_boundary)
    with pytest.raises(IntegrityError, match="failed authentication"):
        _decrypt(_LARGE + b"\x00")
    with pytest.raises(IntegrityError, match="empty input"):
        _decrypt(b"")


def test_work_factor_limits() -> None:
    with pytest.raises(UsageError, match="work factor"):
        age.Encryptor(passphrase="pw-pw", work_factor=23)
    data = _encrypt(b"x", passphrase="pw-pw", work_factor=12)
    with pytest.raises(IntegrityError, match="work factor 12, above the limit 11"):
        _decrypt(data, passphrase="pw-pw", max_work_factor=11)
    assert _decrypt(data, passphrase="pw-pw", max_work_factor=12) == b"x"


def test_bad_arguments() -> None:
    with pytest.raises(UsageError, match="either recipients or a passphrase"):
        age.Encryptor()
    with pytest.raises(UsageError, match="either recipients or a passphrase"):
        age.Encryptor(recipients=[RECIPIENT], passphrase="pw-pw")
    # no key at all: the file is read first (C2SP "empty"/"armor_empty" are header failures whatever the keys)
    with pytest.raises(UsageError, match="identity or a passphrase"):
        age.decrypt_stream(io.BytesIO(_encrypt(b"x", passphrase="pw-pw")), io.BytesIO())
    with pytest.raises(IntegrityError):
        age.Decryptor().finalize()
    with pytest.raises(UsageError, match="recipient"):
        age.Encryptor(recipients=["age1bogus"])


def test_crlf_converted_binary_file_gets_a_helpful_message() -> None:
    with pytest.raises(IntegrityError, match="CRLF"):
        _decrypt(_encrypt(b"x").replace(b"\n", b"\r\n"))


# -- verified ranged reads -----------------------------------------------------------------------------


def _ranged(data: bytes) -> age.RangeDecryptor:
    return age.RangeDecryptor.open(data[:CHUNK], len(data), identities=[SECRET])


@settings(max_examples=40, deadline=None)
@given(start=st.integers(0, len(_LARGE_PLAINTEXT) - 1), length=st.integers(1, 3 * CHUNK))
def test_ranged_reads_return_verified_slices(start: int, length: int) -> None:
    reader = _ranged(_LARGE)
    assert reader.plaintext_size == len(_LARGE_PLAINTEXT)
    end = start + length
    first, last = reader.span(start, end)
    assert reader.decrypt(_LARGE[first:last], start, end) == _LARGE_PLAINTEXT[start:end]


def test_ranged_reads_detect_damage_and_truncation() -> None:
    reader = _ranged(_LARGE)
    first, last = reader.span(CHUNK, CHUNK + 10)
    damaged = bytearray(_LARGE[first:last])
    damaged[5] ^= 1
    with pytest.raises(IntegrityError, match="chunk 1"):
        reader.decrypt(bytes(damaged), CHUNK, CHUNK + 10)
    # an object cut at a chunk boundary: its (now) last chunk is not flagged final
    cut = _LARGE[: _header_length(_LARGE) + 16 + 2 * (CHUNK + 16)]
    short = _ranged(cut)
    first, last = short.span(CHUNK, 2 * CHUNK)
    with pytest.raises(IntegrityError):
        short.decrypt(cut[first:last], CHUNK, 2 * CHUNK)
    with pytest.raises(IntegrityError, match="cannot hold whole payload chunks"):
        age.RangeDecryptor.open(_LARGE[:CHUNK], len(_LARGE) - 10, identities=[SECRET])
    with pytest.raises(IntegrityError, match="binary"):
        age.RangeDecryptor.open(_encrypt(b"x", armor=True), 100, identities=[SECRET])


@pytest.mark.parametrize("armor", [False, True])
def test_input_fed_one_byte_at_a_time(armor: bool) -> None:
    # regression: a closing "---" line split across two updates was skipped by the header scan
    data = _encrypt(b"byte by byte", armor=armor)
    decryptor = age.Decryptor(identities=[SECRET])
    out = b"".join(decryptor.update(data[i : i + 1]) for i in range(len(data)))
    assert out + decryptor.finalize() == b"byte by byte"


def test_undecodable_passphrase_is_a_usage_error() -> None:
    undecodable = b"caf\xe9".decode("utf-8", "surrogateescape")
    with pytest.raises(UsageError, match="not valid text"):
        age.Encryptor(passphrase=undecodable)
    with pytest.raises(UsageError, match="not valid text"):
        age.Decryptor(passphrase=undecodable)
