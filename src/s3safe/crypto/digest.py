"""Keyed plaintext digests (change detection without decrypting) and format sniffing.

An encrypted object's ETag says nothing about its plaintext (every encryption is randomised), so uploads
store a digest of the plaintext in metadata. A bare hash would let anyone who can read metadata confirm a
guess of the content, so the digest is HMAC-SHA256 under a key derived (HKDF) from the user's key material:

* `digest_key_from_identity` — from an ``AGE-SECRET-KEY-1…`` identity;
* `digest_key_from_passphrase_salt` — scrypt first (a passphrase is low-entropy), at the age CLI's own cost
  (N = 2**18) with a random per-bucket salt, then HKDF;
* `generate_digest_key` — 32 random bytes, for a backup host that holds only public recipients and must not
  hold anything that decrypts: keep it in the keyring; losing it only means the next run re-uploads.

Tokens look like ``hmac-sha256-v1:<key id>:<hex>`` for random keys (the key id, a MAC under a 256-bit key,
tells a changed key apart from changed content and reveals nothing), and ``hmac-sha256-v2:s-<salt>:<hex>``
for passphrase keys: the label is the random salt the key was derived with, never a fingerprint of the key,
so reading metadata lets nobody test a passphrase guess more cheaply than the age header itself does (one
scrypt at N = 2**18 per guess, not precomputable). Version-1 passphrase keys (`digest_key_from_passphrase`:
N = 2**16, salted with the bucket name only) are still derived to read old tokens, never to write new ones.
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
SCHEME_V2 = "hmac-sha256-v2"
SALT_LABEL = "s-"
SALT_BYTES = 16
_PASSPHRASE_SALT_V2 = b"s3safe/v2/digest-key-from-passphrase"
PASSPHRASE_WORK_FACTOR_V2 = 18  # = age.DEFAULT_WORK_FACTOR, the age CLI's own scrypt cost: a digest token is no cheaper an oracle
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


class DigestKey(bytes):
    """A digest key that knows the label its tokens carry (None: the v1 key id)."""

    label: str | None

    def __new__(cls, key: bytes, label: str | None = None) -> DigestKey:
        made = super().__new__(cls, key)
        made.label = label
        return made


def new_digest_salt() -> bytes:
    return os.urandom(SALT_BYTES)


def digest_key_from_passphrase_salt(
    passphrase: str, salt: bytes, *, work_factor: int = PASSPHRASE_WORK_FACTOR_V2
) -> DigestKey:
    """Passphrase -> scrypt (random per-bucket `salt`, the age CLI's cost) -> HKDF; tokens name the salt."""
    if not passphrase:
        raise UsageError("an empty passphrase cannot key the plaintext digest")
    if len(salt) != SALT_BYTES:
        raise UsageError(f"a digest salt is {SALT_BYTES} bytes")
    stretched = scrypt(passphrase.encode("utf-8"), salt=_PASSPHRASE_SALT_V2 + b"\x00" + salt, work_factor=work_factor)
    return DigestKey(derive_digest_key(stretched), SALT_LABEL + salt.hex())


def salt_of(token: str | None) -> bytes | None:
    """The salt a v2 passphrase token was made with; None for any other token."""
    parts = (token or "").strip().split(":")
    if len(parts) != 3 or parts[0] != SCHEME_V2 or not parts[1].startswith(SALT_LABEL):
        return None
    try:
        salt = bytes.fromhex(parts[1][len(SALT_LABEL) :])
    except ValueError:
        return None
    return salt if len(salt) == SALT_BYTES else None


def _scheme_and_label(key: bytes) -> tuple[str, str]:
    label = getattr(key, "label", None)
    return (SCHEME_V2, label) if label else (SCHEME, key_id(key))


def made_with(token: str | None, key: bytes) -> bool:
    """Whether `token` was made under `key` (so comparing them says something about the content)."""
    parts = (token or "").strip().split(":")
    return len(parts) == 3 and tuple(parts[:2]) == _scheme_and_label(key)


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
        self._scheme, self._label = _scheme_and_label(key)
        self._mac = hmac.new(key, digestmod=hashlib.sha256)

    def update(self, data: bytes) -> None:
        self._mac.update(data)

    def hexdigest(self) -> str:
        return self._mac.hexdigest()

    def token(self) -> str:
        return f"{self._scheme}:{self._label}:{self.hexdigest()}"


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
