"""Keyed plaintext digests (change detection without decrypting) and format sniffing.

An encrypted object's ETag says nothing about its plaintext (every encryption is randomised), so uploads
store a digest of the plaintext in metadata. A bare hash would let anyone who can read metadata confirm a
guess of the content, so the digest is HMAC-SHA256 under a key derived (HKDF) from the user's key material:

* `digest_key_from_identity` — from an ``AGE-SECRET-KEY-1…`` identity;
* `digest_key_from_passphrase` — scrypt first (a passphrase is low-entropy), then HKDF;
* `generate_digest_key` — 32 random bytes, for a backup host that holds only public recipients and must not
  hold anything that decrypts: keep it in the keyring; losing it only means the next run re-uploads.

Tokens look like ``hmac-sha256-v1:<key id>:<hex>``; the key id tells a changed key apart from changed content.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from pathlib import Path
from typing import Literal

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from s3safe.core.errors import UsageError
from s3safe.crypto import bech32
from s3safe.crypto._common import CHUNK, Source, scrypt

SCHEME = "hmac-sha256-v1"
_SALT = b"s3safe/v1"
_INFO = b"s3safe/v1/plaintext-digest"
_PASSPHRASE_SALT = b"s3safe/v1/digest-key-from-passphrase"
DEFAULT_PASSPHRASE_WORK_FACTOR = 16  # scrypt N = 2**16 (64 MiB, ~0.1 s), once per run

Format = Literal["age", "aescrypt"]


def derive_digest_key(material: bytes) -> bytes:
    """HKDF-SHA256 from high-entropy key material (at least 16 bytes) to a 32-byte digest key."""
    if len(material) < 16:
        raise UsageError("digest key material must be at least 16 bytes of high-entropy secret")
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=_SALT, info=_INFO).derive(material)


def digest_key_from_identity(identity: str) -> bytes:
    try:
        hrp, secret = bech32.decode(identity.strip(), max_length=None)
    except ValueError:
        raise UsageError("not a valid age identity for the digest key") from None
    if hrp != "age-secret-key-" or len(secret) != 32:
        raise UsageError("not an age X25519 identity for the digest key")
    return derive_digest_key(secret)


def digest_key_from_passphrase(
    passphrase: str, *, context: bytes = b"", work_factor: int = DEFAULT_PASSPHRASE_WORK_FACTOR
) -> bytes:
    """Passphrase -> scrypt -> HKDF. `context` (e.g. the bucket name) separates keys of different stores."""
    if not passphrase:
        raise UsageError("an empty passphrase cannot key the plaintext digest")
    stretched = scrypt(passphrase.encode("utf-8"), salt=_PASSPHRASE_SALT + b"\x00" + context, work_factor=work_factor)
    return derive_digest_key(stretched)


def generate_digest_key() -> bytes:
    return os.urandom(32)


def key_id(key: bytes) -> str:
    """A short public fingerprint of a digest key (reveals nothing about the key)."""
    return hmac.new(key, b"s3safe/v1/digest-key-id", hashlib.sha256).hexdigest()[:16]


class PlaintextDigest:
    """Incremental keyed digest; feed it the plaintext while it is being encrypted."""

    def __init__(self, key: bytes) -> None:
        if len(key) != 32:
            raise UsageError("a digest key is 32 bytes")
        self._key_id = key_id(key)
        self._mac = hmac.new(key, digestmod=hashlib.sha256)

    def update(self, data: bytes) -> None:
        self._mac.update(data)

    def hexdigest(self) -> str:
        return self._mac.hexdigest()

    def token(self) -> str:
        return f"{SCHEME}:{self._key_id}:{self.hexdigest()}"


def digest_stream(src: Source, key: bytes, *, chunk_size: int = CHUNK) -> str:
    """The digest token of everything `src` yields."""
    digest = PlaintextDigest(key)
    while chunk := src.read(chunk_size):
        digest.update(chunk)
    return digest.token()


def digest_file(path: str | os.PathLike[str], key: bytes) -> str:
    with Path(path).open("rb") as handle:
        return digest_stream(handle, key)


def same_digest(stored: str | None, computed: str) -> bool:
    """Constant-time token comparison; a token under another key (or scheme) never matches."""
    if not stored:
        return False
    return hmac.compare_digest(stored.strip().encode(), computed.encode())


def detect_format(first_bytes: bytes) -> Format | None:
    """'age' (binary or armored), 'aescrypt' (v0–v3) or None, from the first bytes of a file (64 are plenty)."""
    if first_bytes.startswith(b"age-encryption.org/"):
        return "age"
    if first_bytes.lstrip(b" \t\r\n").startswith(b"-----BEGIN AGE ENCRYPTED FILE-----"):
        return "age"
    if len(first_bytes) >= 5 and first_bytes[:3] == b"AES":
        version, reserved = first_bytes[3], first_bytes[4]
        if (version == 0 and reserved <= 15) or (version in (1, 2, 3) and reserved == 0):
            return "aescrypt"
    return None
