"""age v1.3 post-quantum hybrid recipients (mlkem768x25519): the C2SP/CCTV vectors, and s3safe's own files.

The vectors are stored as the suite ships them (tests/unit/data/cctv-age-hybrid/README.md).
"""

from __future__ import annotations

import hashlib
import io
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from s3safe.core.errors import AccessDeniedError, IntegrityError, UsageError
from s3safe.crypto import age

DATA = Path(__file__).parent / "data" / "cctv-age-hybrid"


@dataclass
class Vector:
    expect: str
    payload_sha256: str | None
    identities: list[str] = field(default_factory=list)
    data: bytes = b""


def _load(path: Path) -> Vector:
    raw = path.read_bytes()
    head, _, body = raw.partition(b"\n\n")
    fields: dict[str, list[str]] = {}
    for line in head.decode().splitlines():
        key, _, value = line.partition(": ")
        fields.setdefault(key, []).append(value)
    if fields.get("compressed") == ["zlib"]:
        body = zlib.decompress(body)
    return Vector(fields["expect"][0], fields.get("payload", [None])[0], fields.get("identity", []), body)


NAMES = sorted(p.name for p in DATA.iterdir() if p.name != "README.md")


def test_the_suite_is_all_here() -> None:
    assert len(NAMES) == 19


@pytest.mark.parametrize("name", NAMES)
def test_hybrid_vector(name: str) -> None:
    v = _load(DATA / name)
    decryptor = age.Decryptor(identities=v.identities)
    released = bytearray()
    error: Exception | None = None
    try:
        released += decryptor.update(v.data)
        released += decryptor.finalize()
    except (IntegrityError, AccessDeniedError) as exc:
        error = exc
    if v.expect == "success":
        assert error is None, f"{name}: {error}"
        assert hashlib.sha256(released).hexdigest() == v.payload_sha256
    elif v.expect == "no match":
        assert isinstance(error, AccessDeniedError), f"{name}: {error!r}"
        assert str(error).startswith("no identity matched")
    else:
        assert isinstance(error, IntegrityError), f"{name}: expected {v.expect}, got {error!r}"
        assert not released


@pytest.mark.parametrize("armor", [False, True])
def test_s3safe_writes_hybrid_files_it_and_the_suite_identity_read(armor: bool) -> None:
    secret, recipient = age.generate_identity(post_quantum=True)
    assert secret.startswith("AGE-SECRET-KEY-PQ-1") and recipient.startswith("age1pq1")
    assert age.recipient_from_identity(secret) == recipient
    plaintext = b"post-quantum " * 10_000
    out = io.BytesIO()
    age.encrypt_stream(io.BytesIO(plaintext), out, recipients=[recipient, age.generate_identity(post_quantum=True)[1]], armor=armor)
    data = out.getvalue()
    if armor:
        import base64

        data = base64.b64decode(b"".join(data.splitlines()[1:-1]))
    assert data.count(b"\n-> mlkem768x25519 ") == 2
    back = io.BytesIO()
    age.decrypt_stream(io.BytesIO(out.getvalue()), back, identities=[secret])
    assert back.getvalue() == plaintext
    with pytest.raises(AccessDeniedError, match="no identity matched"):
        age.decrypt_stream(io.BytesIO(out.getvalue()), io.BytesIO(), identities=[age.generate_identity()[0]])


def test_hybrid_and_x25519_recipients_are_not_mixed() -> None:
    _, classic = age.generate_identity()
    _, hybrid = age.generate_identity(post_quantum=True)
    with pytest.raises(UsageError, match="cannot be mixed"):
        age.Encryptor(recipients=[classic, hybrid])


def test_identity_files_hold_hybrid_identities() -> None:
    secret, recipient = age.generate_identity(post_quantum=True)
    text = age.identity_file_text(secret)
    assert f"# public key: {recipient}" in text
    assert age.parse_identity_file(text) == [secret]
    assert age.parse_recipients_file(recipient + "\n") == [recipient]


def test_without_ml_kem_a_hybrid_key_is_a_clear_error_and_x25519_still_works(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys

    from s3safe.crypto import _agepq

    secret, _ = age.generate_identity(post_quantum=True)
    _agepq._mlkem.cache_clear()
    monkeypatch.setitem(sys.modules, "cryptography.hazmat.primitives.asymmetric.mlkem", None)  # import fails
    try:
        with pytest.raises(UsageError, match="need ML-KEM-768"):
            age.Decryptor(identities=[secret])
        classic, recipient = age.generate_identity()
        out = io.BytesIO()
        age.encrypt_stream(io.BytesIO(b"x"), out, recipients=[recipient])
        back = io.BytesIO()
        age.decrypt_stream(io.BytesIO(out.getvalue()), back, identities=[classic])
        assert back.getvalue() == b"x"
    finally:
        _agepq._mlkem.cache_clear()
