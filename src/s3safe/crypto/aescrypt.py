"""AES Crypt stream format: read versions 0–3, write version 3 only.

Layout (https://www.aescrypt.com/aes_stream_format.html):

v3  "AES" 03 00 | extensions: (u16 len, identifier NUL content)* 00 00 | u32 PBKDF2 iterations | IV[16]
    | AES-256-CBC(derived key, IV, session IV[16] || session key[32]) | HMAC-SHA256(derived key, those 48 || 03)
    | AES-256-CBC(session key, session IV, plaintext + PKCS#7) | HMAC-SHA256(session key, ciphertext)
    derived key = PBKDF2-HMAC-SHA512(UTF-8 passphrase, salt=IV, iterations, 32 bytes)
v2  like v3 without the iteration field; session HMAC without the 03; no padding: the last block's length
    (size mod 16) is one byte between ciphertext and final HMAC; derived key = SHA-256 iterated 8192 times
    over (digest || UTF-16LE passphrase), starting from IV || 16 zero bytes.
v1  v2 without extensions.
v0  "AES" 00 <size mod 16> IV[16] | AES-256-CBC(derived key, IV, plaintext) | HMAC-SHA256(derived key, ct).

Decryption is streamed in constant memory; it holds back the last block and the trailer until the final HMAC
is checked. Plaintext handed out by `Decryptor.update` is NOT yet authenticated (the format authenticates the
whole ciphertext at the end): write it somewhere disposable and keep it only once `finalize` returned — the
file helpers below do exactly that.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import struct
from dataclasses import dataclass

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import hmac as crypto_hmac
from cryptography.hazmat.primitives.ciphers import Cipher, CipherContext, algorithms, modes
from cryptography.hazmat.primitives.padding import PKCS7

from s3safe import __version__
from s3safe.core.errors import AccessDeniedError, IntegrityError, UsageError
from s3safe.core.redact import register_passphrase, register_secret
from s3safe.crypto._common import CHUNK, Sink, Source, passphrase_bytes, pump, transform_file

MAGIC = b"AES"
WRITE_VERSION = 3
DEFAULT_ITERATIONS = 300_000
MAX_WRITE_ITERATIONS = 5_000_000  # AES Crypt itself refuses more; never write what it cannot read
MAX_READ_ITERATIONS = 20_000_000  # refuse absurd counts from a hostile header (CPU exhaustion)
MAX_HEADER = 1024 * 1024  # extensions are unauthenticated; cap what a hostile header can make us buffer
CREATED_BY = f"s3safe {__version__}"
_LEGACY_KDF_ROUNDS = 8192
_BLOCK = 16


@dataclass(frozen=True, slots=True)
class AesCryptHeader:
    version: int
    iterations: int | None  # PBKDF2 iterations (version 3 only)
    extensions: tuple[tuple[str, bytes], ...]  # (identifier, content); unauthenticated, informational only
    size: int  # header bytes before the ciphertext


def _check_passphrase(passphrase: str) -> bytes:
    secret = passphrase_bytes(passphrase)
    register_passphrase(passphrase)
    return secret


def _legacy_key(passphrase: str, iv: bytes) -> bytes:
    """Key derivation of versions 0–2: SHA-256 iterated 8192 times over (digest || UTF-16LE passphrase)."""
    secret = passphrase.encode("utf-16-le")
    digest = iv + bytes(16)
    for _ in range(_LEGACY_KDF_ROUNDS):
        digest = hashlib.sha256(digest + secret).digest()
    return digest


def _v3_key(passphrase: bytes, iv: bytes, iterations: int) -> bytes:
    return hashlib.pbkdf2_hmac("sha512", passphrase, iv, iterations, 32)


def _hmac(key: bytes, *parts: bytes) -> bytes:
    mac = hmac.new(key, digestmod=hashlib.sha256)
    for part in parts:
        mac.update(part)
    return mac.digest()


def _cbc(key: bytes, iv: bytes, *, encrypt: bool) -> CipherContext:
    cipher = Cipher(algorithms.AES(key), modes.CBC(iv))
    return cipher.encryptor() if encrypt else cipher.decryptor()


def _extension(identifier: bytes, content: bytes) -> bytes:
    body = identifier + b"\x00" + content if identifier else bytes(1) + content
    return struct.pack(">H", len(body)) + body


class Encryptor:
    """Push-style AES Crypt v3 encryptor: ``update(plaintext) -> ciphertext``, then ``finalize()``."""

    def __init__(
        self, passphrase: str, *, iterations: int = DEFAULT_ITERATIONS, created_by: str = CREATED_BY,
        state: bytes | None = None,
    ) -> None:  # fmt: skip
        """`state` (from `state()`) repeats an earlier encryptor's ciphertext byte for byte, for resumed uploads."""
        secret = _check_passphrase(passphrase)
        if not 1 <= iterations <= MAX_WRITE_ITERATIONS:
            raise UsageError(f"AES Crypt iterations must be between 1 and {MAX_WRITE_ITERATIONS:,}, not {iterations:,}")
        if state is not None and len(state) != 64:
            raise UsageError("not an AES Crypt encryptor state")
        randoms = state if state is not None else os.urandom(64)
        register_secret(randoms.hex())
        self._state = randoms
        public_iv, session_iv, session_key = randoms[:16], randoms[16:32], randoms[32:]
        key = _v3_key(secret, public_iv, iterations)
        wrapper = _cbc(key, public_iv, encrypt=True)
        wrapped = wrapper.update(session_iv + session_key) + wrapper.finalize()
        self._header = b"".join(
            (
                MAGIC,
                bytes((WRITE_VERSION, 0)),
                _extension(b"CREATED_BY", created_by.encode("utf-8")),
                _extension(b"", bytes(127)),  # the 128-octet "container" extension the spec asks writers to leave
                b"\x00\x00",
                struct.pack(">I", iterations),
                public_iv,
                wrapped,
                _hmac(key, wrapped, bytes((WRITE_VERSION,))),
            )
        )
        self._padder = PKCS7(128).padder()
        self._cipher = _cbc(session_key, session_iv, encrypt=True)
        self._mac = crypto_hmac.HMAC(session_key, hashes.SHA256())
        self._header_sent = False
        self._done = False

    def state(self) -> bytes:
        """The random values behind this ciphertext (a SECRET: the session key); see `__init__`."""
        return self._state

    def _take_header(self) -> bytes:
        if self._header_sent:
            return b""
        self._header_sent = True
        return self._header

    def update(self, data: bytes) -> bytes:
        if self._done:
            raise ValueError("Encryptor already finalized")
        ciphertext = self._cipher.update(self._padder.update(data))
        self._mac.update(ciphertext)
        return self._take_header() + ciphertext

    def finalize(self) -> bytes:
        if self._done:
            raise ValueError("Encryptor already finalized")
        self._done = True
        ciphertext = self._cipher.update(self._padder.finalize()) + self._cipher.finalize()
        self._mac.update(ciphertext)
        return self._take_header() + ciphertext + self._mac.finalize()


class Decryptor:
    """Push-style reader of AES Crypt versions 0–3; raises IntegrityError / AccessDeniedError.

    `update` returns plaintext as soon as it is decrypted, before the final HMAC is checked; treat it as
    unverified until `finalize` returns.
    """

    def __init__(self, passphrase: str, *, max_iterations: int = MAX_READ_ITERATIONS) -> None:
        _check_passphrase(passphrase)
        self._passphrase = passphrase
        self._max_iterations = max_iterations
        self._buffer = bytearray()
        self.header: AesCryptHeader | None = None
        self._cipher: CipherContext | None = None
        self._mac: crypto_hmac.HMAC | None = None
        self._trailer = 32
        self._modulo = 0
        self._ciphertext_len = 0
        self._done = False

    # -- header --------------------------------------------------------------------------------------

    def _parse_header(self) -> bool:
        """Parse the header once enough bytes arrived; False while more are needed."""
        buf = self._buffer
        if bytes(buf[:3]) != MAGIC[: len(buf)]:
            raise IntegrityError("not an AES Crypt file (no 'AES' signature)")
        if len(buf) < 5:
            return False
        version, reserved = buf[3], buf[4]
        if version > 3:
            raise IntegrityError(f"unsupported AES Crypt version {version} (s3safe reads versions 0 to 3)")
        if version == 0:
            if reserved > 15:
                raise IntegrityError("damaged AES Crypt v0 header (last-block size above 15)")
        elif reserved:
            raise IntegrityError("damaged AES Crypt header (reserved byte is not zero)")
        pos = 5
        extensions: list[tuple[str, bytes]] = []
        if version >= 2:
            while True:
                if len(buf) < pos + 2:
                    return self._need_more(pos)
                (length,) = struct.unpack_from(">H", buf, pos)
                pos += 2
                if length == 0:
                    break
                if len(buf) < pos + length:
                    return self._need_more(pos + length)
                identifier, _, content = bytes(buf[pos : pos + length]).partition(b"\x00")
                extensions.append((identifier.decode("utf-8", "replace"), content))
                pos += length
                if pos > MAX_HEADER:
                    return self._need_more(pos)
        iterations: int | None = None
        if version == 3:
            if len(buf) < pos + 4:
                return False
            (iterations,) = struct.unpack_from(">I", buf, pos)
            pos += 4
            if iterations == 0:
                raise IntegrityError("damaged AES Crypt header (zero PBKDF2 iterations)")
            if iterations > self._max_iterations:
                raise IntegrityError(
                    f"AES Crypt header asks for {iterations:,} PBKDF2 iterations, more than the "
                    f"{self._max_iterations:,} s3safe accepts; the file is damaged or hostile"
                )
        end = pos + 16 + (0 if version == 0 else 48 + 32)
        if len(buf) < end:
            return False
        iv = bytes(buf[pos : pos + 16])
        if version == 3:
            assert iterations is not None
            key = _v3_key(self._passphrase.encode("utf-8"), iv, iterations)
        else:
            key = _legacy_key(self._passphrase, iv)
        if version == 0:
            data_key, data_iv, self._modulo = key, iv, reserved
        else:
            wrapped = bytes(buf[pos + 16 : pos + 64])
            tag = bytes(buf[pos + 64 : pos + 96])
            expected = _hmac(key, wrapped, bytes((version,)) if version == 3 else b"")
            if not hmac.compare_digest(expected, tag):
                raise AccessDeniedError(
                    "wrong passphrase for this AES Crypt file (or its header is damaged)",
                    hint="check the passphrase source (prompt, S3SAFE_PASSPHRASE, --passphrase-file, keyring)",
                )
            unwrapper = _cbc(key, iv, encrypt=False)
            session = unwrapper.update(wrapped) + unwrapper.finalize()
            data_iv, data_key = session[:16], session[16:]
        self._trailer = 33 if version in (1, 2) else 32
        self._cipher = _cbc(data_key, data_iv, encrypt=False)
        self._mac = crypto_hmac.HMAC(data_key, hashes.SHA256())
        self.header = AesCryptHeader(version, iterations, tuple(extensions), end)
        del buf[:end]
        return True

    def _need_more(self, needed: int) -> bool:
        if needed > MAX_HEADER:
            raise IntegrityError(f"AES Crypt header extensions exceed {MAX_HEADER:,} bytes; the file is damaged or hostile")
        return False

    # -- body ----------------------------------------------------------------------------------------

    def _decrypt(self, ciphertext: bytes) -> bytes:
        assert self._cipher is not None and self._mac is not None
        self._mac.update(ciphertext)
        self._ciphertext_len += len(ciphertext)
        return self._cipher.update(ciphertext)

    def update(self, data: bytes) -> bytes:
        if self._done:
            raise ValueError("Decryptor already finalized")
        self._buffer += data
        if self.header is None and not self._parse_header():
            return b""
        # keep the trailer and one whole block back: padding and the final HMAC are only known at the end
        ready = len(self._buffer) - self._trailer - _BLOCK
        if ready < _BLOCK:
            return b""
        ready -= ready % _BLOCK
        plaintext = self._decrypt(bytes(self._buffer[:ready]))
        del self._buffer[:ready]
        return plaintext

    def finalize(self) -> bytes:
        if self._done:
            raise ValueError("Decryptor already finalized")
        self._done = True
        if self.header is None and not self._parse_header():
            raise IntegrityError("truncated AES Crypt file (the header is incomplete)")
        assert self.header is not None and self._cipher is not None and self._mac is not None
        version = self.header.version
        buf = bytes(self._buffer)
        self._buffer.clear()
        if len(buf) < self._trailer:
            raise IntegrityError("truncated AES Crypt file (the final HMAC is missing)")
        ciphertext, trailer = buf[: -self._trailer], buf[-self._trailer :]
        if len(ciphertext) % _BLOCK:
            raise IntegrityError("truncated or damaged AES Crypt file (ciphertext is not whole AES blocks)")
        plaintext = self._decrypt(ciphertext) + self._cipher.finalize()
        if not hmac.compare_digest(self._mac.finalize(), trailer[-32:]):
            if version == 0:
                raise IntegrityError(
                    "AES Crypt v0 file failed its HMAC check: wrong passphrase or damaged file (v0 cannot tell which)"
                )
            raise IntegrityError("AES Crypt file failed its HMAC check: it was altered or truncated")
        if version == 3:
            if self._ciphertext_len == 0:
                raise IntegrityError("damaged AES Crypt v3 file (no padded final block)")
            pad = plaintext[-1]
            if not 1 <= pad <= _BLOCK or plaintext[-pad:] != bytes((pad,)) * pad:
                raise IntegrityError("damaged AES Crypt v3 file (invalid PKCS#7 padding)")
            return plaintext[:-pad]
        modulo = self._modulo if version == 0 else trailer[0]
        if modulo > 15:
            raise IntegrityError("damaged AES Crypt file (last-block size above 15)")
        if self._ciphertext_len == 0:  # no block to cut: the reference engine writes nothing, whatever the size says
            return b""
        return plaintext[: len(plaintext) - _BLOCK + modulo] if modulo else plaintext


def encrypt_stream(
    src: Source, dst: Sink, passphrase: str, *, iterations: int = DEFAULT_ITERATIONS, chunk_size: int = CHUNK
) -> None:
    """Encrypt `src` to `dst` as AES Crypt v3 (PBKDF2-HMAC-SHA512, `iterations` rounds)."""
    pump(src, dst, Encryptor(passphrase, iterations=iterations), chunk_size=chunk_size)


def decrypt_stream(
    src: Source, dst: Sink, passphrase: str, *, max_iterations: int = MAX_READ_ITERATIONS, chunk_size: int = CHUNK
) -> AesCryptHeader:
    """Decrypt AES Crypt v0–v3 from `src` to `dst`.

    `dst` receives plaintext before the final HMAC is verified; on an exception discard it (see `decrypt_file`).
    """
    decryptor = Decryptor(passphrase, max_iterations=max_iterations)
    pump(src, dst, decryptor, chunk_size=chunk_size)
    assert decryptor.header is not None
    return decryptor.header


def encrypt_file(
    src_path: str | os.PathLike[str], dst_path: str | os.PathLike[str], passphrase: str, *, iterations: int = DEFAULT_ITERATIONS
) -> None:
    """Encrypt a file; the result appears at `dst_path` (mode 0600) only once complete."""
    transform_file(src_path, dst_path, lambda: Encryptor(passphrase, iterations=iterations))


def decrypt_file(
    src_path: str | os.PathLike[str],
    dst_path: str | os.PathLike[str],
    passphrase: str,
    *,
    max_iterations: int = MAX_READ_ITERATIONS,
) -> None:
    """Decrypt a file; nothing appears at `dst_path` unless every check passed (written beside it, then renamed)."""
    transform_file(src_path, dst_path, lambda: Decryptor(passphrase, max_iterations=max_iterations))
