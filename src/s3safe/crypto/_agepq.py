"""age v1.3 post-quantum hybrid recipients: the `mlkem768x25519` stanza (ML-KEM-768 + X25519 through HPKE).

    identity  = AGE-SECRET-KEY-PQ-1… (Bech32 of a 32-byte seed); SHAKE256(seed) gives the 64-byte ML-KEM-768
                seed, then the 32-byte X25519 scalar
    recipient = age1pq1… (Bech32 of the ML-KEM-768 encapsulation key [1184] || the X25519 public key [32])
    stanza    = "-> mlkem768x25519 " base64(ML-KEM ciphertext [1088] || X25519 ephemeral share [32]);
                body = HPKE base-mode seal of the 16-byte file key, info "age-encryption.org/mlkem768x25519",
                KEM 0x647a (MLKEM768-X25519, X-Wing-style SHA3-256 combiner), HKDF-SHA256, ChaCha20-Poly1305

Checked against the C2SP/CCTV age vectors for the hybrid type (tests/unit/data/cctv-age-hybrid). The
primitives are pyca's: ML-KEM-768 needs cryptography >= 47 on a backend that has it (OpenSSL >= 3.5 or
AWS-LC), imported only when a hybrid key is used, so X25519 and passphrase files work without it.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import importlib
import struct
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from cryptography.exceptions import InvalidTag, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.hkdf import HKDFExpand

from s3safe.core.errors import UsageError
from s3safe.crypto._agefmt import HeaderError, Stanza, b64_raw, b64_raw_decode

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.mlkem import MLKEM768PrivateKey

STANZA_TYPE = "mlkem768x25519"
IDENTITY_HRP = "age-secret-key-pq-"
RECIPIENT_HRP = "age1pq"
SEED_SIZE = 32
_PQ_PUBLIC = 1184
_PQ_CIPHERTEXT = 1088
_T_SIZE = 32
RECIPIENT_SIZE = _PQ_PUBLIC + _T_SIZE
ENC_SIZE = _PQ_CIPHERTEXT + _T_SIZE
_WRAPPED_FILE_KEY = 16 + 16
_SUITE = b"HPKE" + struct.pack(">HHH", 0x647A, 0x0001, 0x0003)
_INFO = b"age-encryption.org/mlkem768x25519"
_COMBINER_LABEL = b"\\./" + b"/^\\"


@dataclass(frozen=True)
class HybridIdentity:
    pq: MLKEM768PrivateKey
    classic: X25519PrivateKey

    @classmethod
    def from_seed(cls, seed: bytes) -> HybridIdentity:
        expanded = hashlib.shake_256(seed).digest(64 + 32)
        private = _mlkem().MLKEM768PrivateKey.from_seed_bytes(expanded[:64])
        return cls(private, X25519PrivateKey.from_private_bytes(expanded[64:]))

    def recipient(self) -> bytes:
        return self.pq.public_key().public_bytes_raw() + self.classic.public_key().public_bytes_raw()


@functools.cache
def _mlkem() -> Any:
    """pyca's ML-KEM module, or a UsageError saying what is missing (checked once per process)."""
    try:
        mlkem = importlib.import_module("cryptography.hazmat.primitives.asymmetric.mlkem")
        mlkem.MLKEM768PrivateKey.generate()  # raises UnsupportedAlgorithm when the backend lacks ML-KEM
    except (ImportError, UnsupportedAlgorithm):
        raise UsageError(
            "post-quantum age keys (mlkem768x25519) need ML-KEM-768, which this installation of 'cryptography' lacks",
            hint="install cryptography >= 47 built with OpenSSL >= 3.5 or AWS-LC, or use an X25519 key",
        ) from None
    return mlkem


def _extract(salt: bytes, label: bytes, ikm: bytes) -> bytes:
    return hmac.new(salt, b"HPKE-v1" + _SUITE + label + ikm, hashlib.sha256).digest()


def _expand(prk: bytes, label: bytes, info: bytes, length: int) -> bytes:
    labeled = struct.pack(">H", length) + b"HPKE-v1" + _SUITE + label + info
    return HKDFExpand(algorithm=hashes.SHA256(), length=length, info=labeled).derive(prk)


def _seal_key(ss_pq: bytes, ss_t: bytes, ct_t: bytes, pk_t: bytes) -> tuple[bytes, bytes]:
    """The HPKE base-mode key schedule over the combined shared secret: (AEAD key, nonce of sequence 0)."""
    shared = hashlib.sha3_256(ss_pq + ss_t + ct_t + pk_t + _COMBINER_LABEL).digest()
    context = b"\x00" + _extract(b"", b"psk_id_hash", b"") + _extract(b"", b"info_hash", _INFO)
    secret = _extract(shared, b"secret", b"")
    return _expand(secret, b"key", context, 32), _expand(secret, b"base_nonce", context, 12)


def _x25519(scalar: X25519PrivateKey, point: bytes) -> bytes:
    try:
        return scalar.exchange(X25519PublicKey.from_public_bytes(point))
    except ValueError:  # pyca refuses the all-zero result of a low-order point
        raise HeaderError("mlkem768x25519 stanza uses a low-order X25519 point") from None


def wrap(file_key: bytes, recipient: bytes) -> Stanza:
    pk_pq, pk_t = recipient[:_PQ_PUBLIC], recipient[_PQ_PUBLIC:]
    ss_pq, ct_pq = _mlkem().MLKEM768PublicKey.from_public_bytes(pk_pq).encapsulate()
    ephemeral = X25519PrivateKey.generate()
    ct_t = ephemeral.public_key().public_bytes_raw()
    key, nonce = _seal_key(ss_pq, _x25519(ephemeral, pk_t), ct_t, pk_t)
    return Stanza((STANZA_TYPE, b64_raw(ct_pq + ct_t).decode()), ChaCha20Poly1305(key).encrypt(nonce, file_key, None))


def unwrap(identity: HybridIdentity, stanza: Stanza) -> bytes | None:
    """The file key, or None when this identity is not the stanza's recipient; HeaderError when malformed."""
    if len(stanza.args) != 2 or len(stanza.body) != _WRAPPED_FILE_KEY:
        raise HeaderError("malformed mlkem768x25519 stanza")
    enc = b64_raw_decode(stanza.args[1].encode())
    if len(enc) != ENC_SIZE:
        raise HeaderError("malformed mlkem768x25519 stanza (enc is not 1120 bytes)")
    ct_pq, ct_t = enc[:_PQ_CIPHERTEXT], enc[_PQ_CIPHERTEXT:]
    ss_pq = identity.pq.decapsulate(ct_pq)  # ML-KEM rejects implicitly: a wrong ciphertext gives a wrong secret
    ss_t = _x25519(identity.classic, ct_t)
    key, nonce = _seal_key(ss_pq, ss_t, ct_t, identity.classic.public_key().public_bytes_raw())
    try:
        return ChaCha20Poly1305(key).decrypt(nonce, stanza.body, None)
    except InvalidTag:
        return None
