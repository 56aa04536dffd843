"""age v1 (https://age-encryption.org/v1): X25519 and post-quantum hybrid (mlkem768x25519, age >= 1.3, see
_agepq) recipients and scrypt passphrases, streamed, on pyca primitives.

    header  = "age-encryption.org/v1\\n" stanza* "--- " base64(HMAC-SHA256(HKDF(file key, "header"), header up to "---"))
    X25519  = "-> X25519 " base64(ephemeral share); body = ChaCha20-Poly1305(HKDF(shared secret,
              salt=share || recipient, "age-encryption.org/v1/X25519"), zero nonce, file key)
    scrypt  = "-> scrypt " base64(salt) log2(N); body = ChaCha20-Poly1305(scrypt(passphrase,
              "age-encryption.org/v1/scrypt" || salt, N, r=8, p=1), zero nonce, file key); must be alone
    payload = nonce[16] || STREAM: ChaCha20-Poly1305(HKDF(file key, salt=nonce, "payload")) over 64 KiB chunks,
              chunk nonce = 11-byte big-endian counter || 0x01 on the last chunk else 0x00

Decryption releases plaintext one authenticated chunk at a time, so a failure can only happen after some
verified plaintext was handed out; `decrypt_file` writes beside the destination and renames after the last
chunk verified. ASCII armor is detected and read transparently; `armor=True` writes it.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import hmac
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from s3safe.core.errors import AccessDeniedError, IntegrityError, UsageError
from s3safe.core.redact import register_passphrase, register_secret
from s3safe.crypto import _agepq, bech32
from s3safe.crypto._agefmt import (
    INTRO,
    MAX_HEADER,
    VERSION_PREFIX,
    ArmorDecoder,
    ArmorEncoder,
    Header,
    HeaderError,
    Stanza,
    b64_raw,
    b64_raw_decode,
    encode_header_body,
    find_header_end,
    parse_header,
)
from s3safe.crypto._common import Sink, Source, passphrase_bytes, pump, scrypt, transform_file

CHUNK_SIZE = 64 * 1024
TAG_SIZE = 16
ENCRYPTED_CHUNK = CHUNK_SIZE + TAG_SIZE
FILE_KEY_SIZE = 16
NONCE_SIZE = 16
DEFAULT_WORK_FACTOR = 18  # what the age CLI uses: scrypt N = 2**18
MAX_WORK_FACTOR = 22  # decryption cap (the age CLI's too): N = 2**22 already needs 4 GiB of memory
OBJECT_WORK_FACTOR = DEFAULT_WORK_FACTOR  # what s3safe accepts from objects by default: what it writes itself
IDENTITY_HRP = "age-secret-key-"
RECIPIENT_HRP = "age"
_X25519_LABEL = b"age-encryption.org/v1/X25519"
_SCRYPT_LABEL = b"age-encryption.org/v1/scrypt"
_WORK_FACTOR_RE = re.compile(r"[1-9][0-9]?")
_ZERO_NONCE = bytes(12)


# -- keys ----------------------------------------------------------------------------------------------


Identity = X25519PrivateKey | _agepq.HybridIdentity


def generate_identity(*, post_quantum: bool = False) -> tuple[str, str]:
    """A new key pair as (``AGE-SECRET-KEY-1…``, ``age1…``), or with `post_quantum` the ML-KEM-768 + X25519
    hybrid of age 1.3 (``AGE-SECRET-KEY-PQ-1…``, ``age1pq1…``); the secret is registered for redaction."""
    if post_quantum:
        seed = os.urandom(_agepq.SEED_SIZE)
        secret = bech32.encode(_agepq.IDENTITY_HRP, seed).upper()
    else:
        secret = bech32.encode(IDENTITY_HRP, X25519PrivateKey.generate().private_bytes_raw()).upper()
    register_secret(secret)
    return secret, recipient_from_identity(secret)


def _identity_key(identity: str) -> Identity:
    text = identity.strip()
    try:
        hrp, data = bech32.decode(text, max_length=None)
    except ValueError as exc:
        raise UsageError(f"not a valid age identity ({exc})", hint="expected AGE-SECRET-KEY-1…") from None
    if hrp not in (IDENTITY_HRP, _agepq.IDENTITY_HRP) or len(data) != 32:
        raise UsageError(
            "not an age X25519 or hybrid identity",
            hint="expected AGE-SECRET-KEY-1… or AGE-SECRET-KEY-PQ-1… (plugin identities are not supported)",
        )
    register_secret(text)
    register_secret(text.upper())
    if hrp == _agepq.IDENTITY_HRP:
        return _agepq.HybridIdentity.from_seed(data)
    return X25519PrivateKey.from_private_bytes(data)


def recipient_from_identity(identity: str) -> str:
    """The ``age1…`` (or ``age1pq1…``) recipient, the public key, of an identity."""
    key = _identity_key(identity)
    if isinstance(key, _agepq.HybridIdentity):
        return bech32.encode(_agepq.RECIPIENT_HRP, key.recipient())
    return bech32.encode(RECIPIENT_HRP, key.public_key().public_bytes_raw())


def parse_recipient(recipient: str) -> bytes:
    """The public key of an ``age1…`` X25519 recipient (32 bytes) or an ``age1pq1…`` hybrid one (1216 bytes)."""
    text = recipient.strip()
    try:
        hrp, data = bech32.decode(text, max_length=None)
    except ValueError as exc:
        raise UsageError(f"invalid age recipient {text!r} ({exc})") from None
    if (hrp, len(data)) not in ((RECIPIENT_HRP, 32), (_agepq.RECIPIENT_HRP, _agepq.RECIPIENT_SIZE)):
        raise UsageError(
            f"invalid age recipient {text[:40]!r}",
            hint="expected an X25519 recipient age1… or a hybrid one age1pq1… (plugins are not supported)",
        )
    return data


def _key_lines(text: str) -> list[tuple[int, str]]:
    return [(n, line.strip()) for n, line in enumerate(text.splitlines(), 1) if line.strip() and not line.strip().startswith("#")]


def parse_identity_file(text: str) -> list[str]:
    """Identities from an age identity file (one per line, ``#`` comments and blank lines ignored)."""
    identities: list[str] = []
    for number, line in _key_lines(text):
        try:
            _identity_key(line)
        except UsageError:
            raise UsageError(
                f"line {number} of the identity file is not an age identity (AGE-SECRET-KEY-1… or AGE-SECRET-KEY-PQ-1…)"
            ) from None
        identities.append(line.upper())
    if not identities:
        raise UsageError("the identity file holds no age identity")
    return identities


def parse_recipients_file(text: str) -> list[str]:
    """Recipients from a recipients file (``age -R`` format: one per line, ``#`` comments)."""
    recipients = []
    for number, line in _key_lines(text):
        try:
            parse_recipient(line)
        except UsageError as exc:
            raise UsageError(f"line {number} of the recipients file: {exc.message}") from None
        recipients.append(line.lower())
    if not recipients:
        raise UsageError("the recipients file holds no age recipient")
    return recipients


def identity_file_text(identity: str) -> str:
    """An identity file in the layout of ``age-keygen`` (creation time, public key, secret)."""
    created = _dt.datetime.now(_dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")
    return f"# created: {created}\n# public key: {recipient_from_identity(identity)}\n{identity.strip().upper()}\n"


# -- stanzas -------------------------------------------------------------------------------------------


def _hkdf(ikm: bytes, salt: bytes, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=salt or None, info=info).derive(ikm)


def _scrypt_key(passphrase: str, salt: bytes, work_factor: int) -> bytes:
    return scrypt(passphrase.encode("utf-8"), salt=_SCRYPT_LABEL + salt, work_factor=work_factor)


def _wrap_x25519(file_key: bytes, recipient: bytes) -> Stanza:
    ephemeral = X25519PrivateKey.generate()
    share = ephemeral.public_key().public_bytes_raw()
    secret = ephemeral.exchange(X25519PublicKey.from_public_bytes(recipient))
    wrap_key = _hkdf(secret, share + recipient, _X25519_LABEL)
    return Stanza(("X25519", b64_raw(share).decode()), ChaCha20Poly1305(wrap_key).encrypt(_ZERO_NONCE, file_key, None))


def _wrap_scrypt(file_key: bytes, passphrase: str, work_factor: int) -> Stanza:
    salt = os.urandom(16)
    key = _scrypt_key(passphrase, salt, work_factor)
    return Stanza(
        ("scrypt", b64_raw(salt).decode(), str(work_factor)), ChaCha20Poly1305(key).encrypt(_ZERO_NONCE, file_key, None)
    )


def _unwrap_body(key: bytes, body: bytes) -> bytes | None:
    try:
        return ChaCha20Poly1305(key).decrypt(_ZERO_NONCE, body, None)
    except InvalidTag:
        return None


def _wrap(file_key: bytes, recipients: Sequence[str]) -> list[Stanza]:
    keys = [parse_recipient(r) for r in recipients]
    if len({len(k) == _agepq.RECIPIENT_SIZE for k in keys}) > 1:  # as age >= 1.3: mixing would void the PQ part
        raise UsageError("post-quantum (age1pq1…) and X25519 (age1…) recipients cannot be mixed in one file")
    return [_agepq.wrap(file_key, k) if len(k) == _agepq.RECIPIENT_SIZE else _wrap_x25519(file_key, k) for k in keys]


def _unwrap(identity: Identity, stanza: Stanza) -> bytes | None:
    """The file key if `identity` opens `stanza`; None for another recipient or another stanza type."""
    if isinstance(identity, _agepq.HybridIdentity):
        return _agepq.unwrap(identity, stanza) if stanza.type == _agepq.STANZA_TYPE else None
    return _unwrap_x25519(identity, stanza) if stanza.type == "X25519" else None


def _unwrap_x25519(identity: X25519PrivateKey, stanza: Stanza) -> bytes | None:
    if len(stanza.args) != 2 or len(stanza.body) != FILE_KEY_SIZE + TAG_SIZE:
        raise HeaderError("malformed X25519 stanza")
    share = b64_raw_decode(stanza.args[1].encode())
    if len(share) != 32:
        raise HeaderError("malformed X25519 stanza (share is not 32 bytes)")
    try:
        secret = identity.exchange(X25519PublicKey.from_public_bytes(share))
    except ValueError:
        raise HeaderError("X25519 stanza uses a low-order point") from None
    recipient = identity.public_key().public_bytes_raw()
    return _unwrap_body(_hkdf(secret, share + recipient, _X25519_LABEL), stanza.body)


def _unwrap_scrypt(passphrase: str, stanza: Stanza, max_work_factor: int) -> bytes | None:
    if len(stanza.args) != 3 or len(stanza.body) != FILE_KEY_SIZE + TAG_SIZE:
        raise HeaderError("malformed scrypt stanza")
    salt = b64_raw_decode(stanza.args[1].encode())
    if len(salt) != 16 or not _WORK_FACTOR_RE.fullmatch(stanza.args[2]):
        raise HeaderError("malformed scrypt stanza")
    work_factor = int(stanza.args[2])
    if work_factor > max_work_factor:
        raise IntegrityError(
            f"age file asks for scrypt work factor {work_factor}, above the limit {max_work_factor}",
            hint="raise the limit (--max-work-factor, at most 22) only for a file you trust",
        )
    return _unwrap_body(_scrypt_key(passphrase, salt, work_factor), stanza.body)


def _file_key(header: Header, identities: Sequence[Identity], passphrase: str | None, max_work_factor: int) -> bytes:
    """Unwrap the file key and check the header MAC; AccessDeniedError when no key fits."""
    stanzas = header.stanzas
    if not identities and passphrase is None:  # checked after the header, so a malformed file is reported as such
        raise UsageError("age decryption needs an identity or a passphrase")
    # stanza types are case-sensitive: "Scrypt" is an unknown stanza, which no passphrase or identity matches
    if any(s.type == "scrypt" for s in stanzas):
        if len(stanzas) != 1:
            raise HeaderError("an scrypt stanza must be the only stanza")
        if passphrase is None:
            raise AccessDeniedError("this age file is passphrase-encrypted; a passphrase is needed, not an identity")
        file_key = _unwrap_scrypt(passphrase, stanzas[0], max_work_factor)
        if file_key is None:
            raise AccessDeniedError("wrong passphrase for this age file")
    else:
        file_key = None
        for identity in identities:
            for stanza in stanzas:
                file_key = _unwrap(identity, stanza)
                if file_key is not None:
                    break
            if file_key is not None:
                break
        if file_key is None:
            raise AccessDeniedError(_no_match(stanzas, identities))
    mac = hmac.new(_hkdf(file_key, b"", b"header"), header.mac_input, hashlib.sha256).digest()
    if not hmac.compare_digest(mac, header.mac):
        raise IntegrityError("age header MAC mismatch: the file header was altered")
    return file_key


def _no_match(stanzas: Sequence[Stanza], identities: Sequence[Identity]) -> str:
    if not identities and any(s.type in ("X25519", _agepq.STANZA_TYPE) for s in stanzas):
        return "no identity matched: this age file is encrypted to public keys; an identity (AGE-SECRET-KEY-1…) is needed"
    if not identities:
        return "no identity matched: the passphrase fits no stanza of this age file (it has no scrypt stanza)"
    return "no identity matched: none of the given age identities can decrypt this file (it was encrypted to other recipients)"


def _chunk_nonce(counter: int, last: bool) -> bytes:
    if counter >= 1 << 88:
        raise IntegrityError("age payload has too many chunks")
    return counter.to_bytes(11, "big") + (b"\x01" if last else b"\x00")


def _check_inputs(identities: Sequence[str] | None, passphrase: str | None) -> list[Identity]:
    if passphrase is not None:
        passphrase_bytes(passphrase)
        register_passphrase(passphrase)
    return [_identity_key(i) for i in identities or ()]


# -- push-style encryptor / decryptor ------------------------------------------------------------------


class Encryptor:
    """age v1 encryptor: ``update(plaintext) -> ciphertext`` then ``finalize()``; memory stays at one chunk."""

    def __init__(
        self,
        *,
        recipients: Sequence[str] | None = None,
        passphrase: str | None = None,
        work_factor: int = DEFAULT_WORK_FACTOR,
        armor: bool = False,
    ) -> None:
        if bool(recipients) == (passphrase is not None):
            raise UsageError("age encryption needs either recipients or a passphrase (not both)")
        file_key = os.urandom(FILE_KEY_SIZE)
        if passphrase is not None:
            passphrase_bytes(passphrase)
            if not 1 <= work_factor <= MAX_WORK_FACTOR:
                raise UsageError(f"scrypt work factor must be between 1 and {MAX_WORK_FACTOR}")
            register_passphrase(passphrase)
            stanzas = [_wrap_scrypt(file_key, passphrase, work_factor)]
        else:
            stanzas = _wrap(file_key, recipients or ())
        body = encode_header_body(stanzas)
        mac = hmac.new(_hkdf(file_key, b"", b"header"), body, hashlib.sha256).digest()
        nonce = os.urandom(NONCE_SIZE)
        self._setup(body + b" " + b64_raw(mac) + b"\n" + nonce, _hkdf(file_key, nonce, b"payload"), armor=armor)

    def _setup(self, prefix: bytes, payload_key: bytes, *, armor: bool) -> None:
        self._prefix = prefix
        self._payload_key = payload_key
        self._aead = ChaCha20Poly1305(payload_key)
        self._armor = ArmorEncoder() if armor else None
        self._buffer = bytearray()
        self._counter = 0
        self._done = False

    def state(self) -> bytes:
        """What `resume` needs to produce the same ciphertext again (header and payload key: a SECRET).

        A resumable multipart upload keeps it in its 0600 journal, beside the plaintext it encrypts,
        so that parts already on the server stay valid; it opens this one file and nothing else.
        """
        if self._counter or self._done:
            raise ValueError("state() must be taken before any data is encrypted")
        return self._payload_key + self._prefix

    @classmethod
    def resume(cls, state: bytes) -> Encryptor:
        """An encryptor that repeats, byte for byte, the ciphertext of the one that gave `state`."""
        if len(state) < 32 + NONCE_SIZE or not state[32:].startswith(VERSION_PREFIX):
            raise UsageError("not an age encryptor state")
        self = cls.__new__(cls)
        register_secret(state[:32].hex())
        self._setup(state[32:], state[:32], armor=False)
        return self

    def _seal(self, chunk: bytes, last: bool) -> bytes:
        sealed = self._aead.encrypt(_chunk_nonce(self._counter, last), chunk, None)
        self._counter += 1
        return sealed

    def _emit(self, data: bytes) -> bytes:
        out, self._prefix = self._prefix + data, b""
        return self._armor.update(out) if self._armor else out

    def update(self, data: bytes) -> bytes:
        if self._done:
            raise ValueError("Encryptor already finalized")
        self._buffer += data
        out = bytearray()
        while len(self._buffer) > CHUNK_SIZE:  # only a chunk known to be followed by more data is non-final
            out += self._seal(bytes(self._buffer[:CHUNK_SIZE]), False)
            del self._buffer[:CHUNK_SIZE]
        return self._emit(bytes(out))

    def finalize(self) -> bytes:
        if self._done:
            raise ValueError("Encryptor already finalized")
        self._done = True
        out = self._emit(self._seal(bytes(self._buffer), True))
        self._buffer.clear()
        return out + self._armor.finalize() if self._armor else out


class Decryptor:
    """age v1 decryptor (binary or armored); `update` returns only authenticated plaintext."""

    def __init__(
        self,
        *,
        identities: Sequence[str] | None = None,
        passphrase: str | None = None,
        max_work_factor: int = MAX_WORK_FACTOR,
    ) -> None:
        self._identities = _check_inputs(identities, passphrase)
        self._passphrase = passphrase
        self._max_work_factor = max_work_factor
        self._raw = bytearray()
        self._armor: ArmorDecoder | None = None
        self._mode: str | None = None  # "binary" or "armor" once the first bytes told
        self._buffer = bytearray()
        self._scan = 0
        self._header_end = -1
        self._file_key: bytes | None = None
        self._aead: ChaCha20Poly1305 | None = None
        self._counter = 0
        self._done = False
        self.header: Header | None = None

    def update(self, data: bytes) -> bytes:
        if self._done:
            raise ValueError("Decryptor already finalized")
        try:
            if self._mode is None:
                self._raw += data
                stripped = self._raw.lstrip()
                if not stripped:
                    if len(self._raw) > 1024:
                        raise HeaderError("input is only whitespace")
                    return b""
                self._mode = "armor" if stripped.startswith(b"-") else "binary"
                data, self._raw = bytes(self._raw), bytearray()
                if self._mode == "armor":
                    self._armor = ArmorDecoder()
            if self._armor is not None:
                data = self._armor.update(data)
            return self._feed(data)
        except HeaderError as exc:
            raise IntegrityError(f"malformed age file: {exc}") from None

    def finalize(self) -> bytes:
        if self._done:
            raise ValueError("Decryptor already finalized")
        self._done = True
        try:
            out = b""
            if self._mode is None:
                raise HeaderError("empty input, not an age file")
            if self._armor is not None:
                out = self._feed(self._armor.finalize())
        except HeaderError as exc:
            raise IntegrityError(f"malformed age file: {exc}") from None
        if self._aead is None:
            what = "nonce" if self._file_key is not None else "header"
            raise IntegrityError(f"truncated age file (the {what} is incomplete)")
        last = bytes(self._buffer)
        self._buffer.clear()
        if len(last) < TAG_SIZE:
            raise IntegrityError("truncated age file (the final payload chunk is missing)")
        plaintext = self._open(last, True)
        if not plaintext and self._counter > 1:
            raise IntegrityError("damaged age file (empty final chunk after data)")
        return out + plaintext

    def _open(self, chunk: bytes, last: bool) -> bytes:
        assert self._aead is not None
        try:
            plaintext = self._aead.decrypt(_chunk_nonce(self._counter, last), chunk, None)
        except InvalidTag:
            if last and len(chunk) == ENCRYPTED_CHUNK and self._try_open(chunk):
                raise IntegrityError("truncated age file (it stops at a chunk boundary, the final chunk is missing)") from None
            raise IntegrityError(
                f"age payload chunk {self._counter} failed authentication: the file was altered or truncated"
            ) from None
        self._counter += 1
        return plaintext

    def _try_open(self, chunk: bytes) -> bool:
        assert self._aead is not None
        try:
            self._aead.decrypt(_chunk_nonce(self._counter, False), chunk, None)
        except InvalidTag:
            return False
        return True

    def _feed(self, data: bytes) -> bytes:
        buf = self._buffer
        buf += data
        if self._aead is None and not self._read_header():
            return b""
        out = bytearray()
        while len(buf) > ENCRYPTED_CHUNK:
            out += self._open(bytes(buf[:ENCRYPTED_CHUNK]), False)
            del buf[:ENCRYPTED_CHUNK]
        return bytes(out)

    def _read_header(self) -> bool:
        buf = self._buffer
        if self._file_key is None:
            head = bytes(buf[: len(INTRO)])
            if head == INTRO[:-1] + b"\r":
                raise HeaderError("header lines end in CRLF, age requires LF (was the file converted as text?)")
            if not INTRO.startswith(head) and head.startswith(VERSION_PREFIX):
                raise HeaderError("unsupported age format version (s3safe reads age-encryption.org/v1)")
            if not INTRO.startswith(head):
                raise HeaderError("not an age file (no age-encryption.org/v1 header)")
            end, self._scan = find_header_end(buf, self._scan)
            if end < 0:
                if len(buf) > MAX_HEADER:
                    raise HeaderError(f"header longer than {MAX_HEADER:,} bytes")
                return False
            self.header = parse_header(bytes(buf[:end]))
            self._file_key = _file_key(self.header, self._identities, self._passphrase, self._max_work_factor)
            self._header_end = end
        if len(buf) < self._header_end + NONCE_SIZE:
            return False
        nonce = bytes(buf[self._header_end : self._header_end + NONCE_SIZE])
        self._aead = ChaCha20Poly1305(_hkdf(self._file_key, nonce, b"payload"))
        del buf[: self._header_end + NONCE_SIZE]
        return True


# -- streams and files ---------------------------------------------------------------------------------


def encrypt_stream(
    src: Source,
    dst: Sink,
    *,
    recipients: list[str] | None = None,
    passphrase: str | None = None,
    armor: bool = False,
    work_factor: int = DEFAULT_WORK_FACTOR,
) -> None:
    """Encrypt `src` to `dst` for the ``age1…`` `recipients`, or with a scrypt `passphrase` (exactly one of the two)."""
    pump(src, dst, Encryptor(recipients=recipients, passphrase=passphrase, armor=armor, work_factor=work_factor))


def decrypt_stream(
    src: Source,
    dst: Sink,
    *,
    identities: list[str] | None = None,
    passphrase: str | None = None,
    max_work_factor: int = MAX_WORK_FACTOR,
) -> None:
    """Decrypt an age file (binary or armored); every byte written to `dst` was authenticated first."""
    pump(src, dst, Decryptor(identities=identities, passphrase=passphrase, max_work_factor=max_work_factor))


def encrypt_file(
    src_path: str | os.PathLike[str],
    dst_path: str | os.PathLike[str],
    *,
    recipients: list[str] | None = None,
    passphrase: str | None = None,
    armor: bool = False,
    work_factor: int = DEFAULT_WORK_FACTOR,
) -> None:
    """Encrypt a file; `dst_path` appears (mode 0600) only when complete."""
    transform_file(
        src_path, dst_path, lambda: Encryptor(recipients=recipients, passphrase=passphrase, armor=armor, work_factor=work_factor)
    )


def decrypt_file(
    src_path: str | os.PathLike[str],
    dst_path: str | os.PathLike[str],
    *,
    identities: list[str] | None = None,
    passphrase: str | None = None,
    max_work_factor: int = MAX_WORK_FACTOR,
) -> None:
    """Decrypt a file; nothing appears at `dst_path` unless the whole file verified (temp file + rename)."""
    transform_file(
        src_path, dst_path, lambda: Decryptor(identities=identities, passphrase=passphrase, max_work_factor=max_work_factor)
    )


# -- verified ranged reads -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RangeDecryptor:
    """Verified random access into a binary age object: fetch the header once, then only the chunks you need.

    Every returned byte comes from a chunk that authenticated at its position (the chunk counter is in the
    nonce); a range that reaches the end also proves the object was not truncated (final-chunk flag).
    """

    payload_offset: int  # ciphertext offset of chunk 0 (header + MAC line + nonce)
    object_size: int
    _aead: ChaCha20Poly1305

    @classmethod
    def open(
        cls,
        prefix: bytes,
        object_size: int,
        *,
        identities: list[str] | None = None,
        passphrase: str | None = None,
        max_work_factor: int = MAX_WORK_FACTOR,
    ) -> RangeDecryptor:
        """`prefix`: the first bytes of the object, enough to hold the header and nonce (64 KiB is plenty)."""
        keys = _check_inputs(identities, passphrase)
        try:
            if not prefix.startswith(INTRO):
                raise HeaderError("not a binary age v1 file (ranged reads need the binary format)")
            end, _ = find_header_end(prefix)
            if end < 0 or len(prefix) < end + NONCE_SIZE:
                raise HeaderError(f"the first {len(prefix):,} bytes do not hold the whole header; fetch more")
            header = parse_header(prefix[:end])
        except HeaderError as exc:
            raise IntegrityError(f"malformed age file: {exc}") from None
        try:
            file_key = _file_key(header, keys, passphrase, max_work_factor)
        except HeaderError as exc:
            raise IntegrityError(f"malformed age file: {exc}") from None
        nonce = prefix[end : end + NONCE_SIZE]
        payload = object_size - end - NONCE_SIZE
        if payload < TAG_SIZE or 0 < payload % ENCRYPTED_CHUNK < TAG_SIZE:
            raise IntegrityError("truncated age file (its size cannot hold whole payload chunks)")
        return cls(end + NONCE_SIZE, object_size, ChaCha20Poly1305(_hkdf(file_key, nonce, b"payload")))

    @property
    def _chunks(self) -> int:
        return -(-(self.object_size - self.payload_offset) // ENCRYPTED_CHUNK)

    @property
    def plaintext_size(self) -> int:
        return self.object_size - self.payload_offset - self._chunks * TAG_SIZE

    def span(self, start: int, end: int) -> tuple[int, int]:
        """Ciphertext byte range [first, last) that covers plaintext [start, end)."""
        end = min(end, self.plaintext_size)
        if not 0 <= start < end:
            raise UsageError(f"empty or invalid plaintext range {start}-{end}")
        first, last = start // CHUNK_SIZE, (end - 1) // CHUNK_SIZE
        return (
            self.payload_offset + first * ENCRYPTED_CHUNK,
            min(self.payload_offset + (last + 1) * ENCRYPTED_CHUNK, self.object_size),
        )

    def decrypt(self, ciphertext: bytes, start: int, end: int) -> bytes:
        """Plaintext [start, end) from the bytes fetched for ``span(start, end)``."""
        ct_first, ct_last = self.span(start, end)
        if len(ciphertext) != ct_last - ct_first:
            raise IntegrityError("ranged read returned the wrong number of bytes")
        index = (ct_first - self.payload_offset) // ENCRYPTED_CHUNK
        out = bytearray()
        for pos in range(0, len(ciphertext), ENCRYPTED_CHUNK):
            last = index == self._chunks - 1
            try:
                out += self._aead.decrypt(_chunk_nonce(index, last), ciphertext[pos : pos + ENCRYPTED_CHUNK], None)
            except InvalidTag:
                raise IntegrityError(f"age payload chunk {index} failed authentication in a ranged read") from None
            index += 1
        skip = start - (ct_first - self.payload_offset) // ENCRYPTED_CHUNK * CHUNK_SIZE
        return bytes(out[skip : skip + min(end, self.plaintext_size) - start])
