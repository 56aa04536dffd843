"""Keyed plaintext digests (never a bare hash) and format sniffing."""

from __future__ import annotations

import hashlib
import hmac
import io
import os

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from s3safe.core.errors import UsageError
from s3safe.crypto import aescrypt, age, bech32, digest


def test_digest_is_hmac_sha256_under_an_hkdf_key() -> None:
    secret, _ = age.generate_identity()
    key = digest.digest_key_from_identity(secret)
    raw = bech32.decode(secret, max_length=None)[1]
    expected_key = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"s3safe/v1", info=b"s3safe/v1/plaintext-digest").derive(raw)
    assert key == expected_key
    data = os.urandom(200_000)
    token = digest.digest_stream(io.BytesIO(data), key)
    scheme, kid, value = token.split(":")
    assert scheme == "hmac-sha256-v1"
    assert kid == digest.key_id(key) and len(kid) == 16
    assert value == hmac.new(key, data, hashlib.sha256).hexdigest()
    assert value != hashlib.sha256(data).hexdigest()  # never a bare hash


def test_digest_detects_same_size_edits_and_key_changes() -> None:
    key, other = digest.generate_digest_key(), digest.generate_digest_key()
    a = digest.digest_stream(io.BytesIO(b"hello world"), key)
    b = digest.digest_stream(io.BytesIO(b"hello World"), key)
    assert not digest.same_digest(a, b)
    assert digest.same_digest(a, digest.digest_stream(io.BytesIO(b"hello world"), key))
    assert not digest.same_digest(a, digest.digest_stream(io.BytesIO(b"hello world"), other))
    assert not digest.same_digest(None, a)


def test_incremental_digest_matches_one_shot(tmp_path: os.PathLike[str]) -> None:
    key = digest.generate_digest_key()
    running = digest.PlaintextDigest(key)
    for part in (b"a" * 10, b"", b"b" * 70_000):
        running.update(part)
    path = os.path.join(tmp_path, "f")
    with open(path, "wb") as handle:
        handle.write(b"a" * 10 + b"b" * 70_000)
    assert running.token() == digest.digest_file(path, key)


def test_passphrase_keys_are_stretched_and_separated() -> None:
    k1 = digest.digest_key_from_passphrase("pw-pw", work_factor=10)
    assert k1 == digest.digest_key_from_passphrase("pw-pw", work_factor=10)
    assert k1 != digest.digest_key_from_passphrase("pw-pw", work_factor=10, context=b"bucket-b")
    assert k1 != digest.derive_digest_key(b"pw-pw".ljust(16, b"\0"))
    with pytest.raises(UsageError):
        digest.digest_key_from_passphrase("")
    with pytest.raises(UsageError, match="16 bytes"):
        digest.derive_digest_key(b"short")
    with pytest.raises(UsageError):
        digest.PlaintextDigest(b"short")


def test_detect_format() -> None:
    _, recipient = age.generate_identity()
    for armor in (False, True):
        out = io.BytesIO()
        age.encrypt_stream(io.BytesIO(b"x"), out, recipients=[recipient], armor=armor)
        assert digest.detect_format(out.getvalue()[:64]) == "age"
    out = io.BytesIO()
    aescrypt.encrypt_stream(io.BytesIO(b"x"), out, "pw-pw", iterations=10)
    assert digest.detect_format(out.getvalue()[:64]) == "aescrypt"
    assert digest.detect_format(b"AES\x00\x0f" + bytes(16)) == "aescrypt"  # v0: size mod 16 in byte 4
    assert digest.detect_format(b"\n  -----BEGIN AGE ENCRYPTED FILE-----\n") == "age"
    for other in (b"", b"AES", b"AES\x04\x00", b"AES\x02\x01", b"AES\x00\x10", b"%PDF-1.7", b"age-encryption"):
        assert digest.detect_format(other) is None
