"""Plumbing shared by the encryption formats: stream protocols, pumping, atomic output files.

Every format is written as a push-style transformer (``update(bytes) -> bytes`` then ``finalize() -> bytes``)
because that is what both directions of a transfer need: a download feeds chunks as they arrive, an upload
pulls ciphertext with ``read(n)`` through `TransformReader`. Memory stays bounded by the chunk size.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO, Protocol

from s3safe.core.errors import NotFoundError, UsageError

# here, not in keys.py, so that reading them does not load the age implementation
ENV_PASSPHRASE = "S3SAFE_PASSPHRASE"  # noqa: S105 (a variable name, not a secret)
ENV_IDENTITY_FILE = "S3SAFE_IDENTITY_FILE"

CHUNK = 64 * 1024


# scrypt's memory is its point (N = 2**18 takes 256 MiB); derivations take turns, so that many threads
# opening passphrase-encrypted objects never hold more than one such buffer at a time
_SCRYPT_TURN = threading.Lock()


def scrypt(secret: bytes, *, salt: bytes, work_factor: int) -> bytes:
    """32 bytes of scrypt(N = 2**work_factor, r = 8, p = 1), one derivation at a time in this process."""
    from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

    with _SCRYPT_TURN:
        return Scrypt(salt=salt, length=32, n=1 << work_factor, r=8, p=1).derive(secret)


class Source(Protocol):
    """Anything with ``read(n)``: an open file, a socket file, an HTTP body, `TransformReader`."""

    def read(self, size: int, /) -> bytes: ...


class Sink(Protocol):
    def write(self, data: bytes, /) -> object: ...


class Transformer(Protocol):
    """Push-style stream transform; `finalize` ends the stream (and verifies whatever is left to verify)."""

    def update(self, data: bytes) -> bytes: ...

    def finalize(self) -> bytes: ...


def pump(src: Source, dst: Sink, transformer: Transformer, *, chunk_size: int = CHUNK) -> None:
    """Feed `src` through `transformer` into `dst` in bounded chunks."""
    while True:
        data = src.read(chunk_size)
        if not data:
            break
        out = transformer.update(data)
        if out:
            dst.write(out)
    out = transformer.finalize()
    if out:
        dst.write(out)


class TransformReader:
    """Pull-style view of a transformer: ``read(n)`` returns transformed bytes (for uploads: ciphertext on the fly).

    At most one source chunk plus its output is buffered, whatever the stream length.
    """

    def __init__(self, src: Source, transformer: Transformer, *, chunk_size: int = CHUNK) -> None:
        self._src = src
        self._transformer = transformer
        self._chunk_size = chunk_size
        self._buffer = bytearray()
        self._done = False

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1, /) -> bytes:
        while not self._done and (size < 0 or len(self._buffer) < size):
            data = self._src.read(self._chunk_size)
            if data:
                self._buffer += self._transformer.update(data)
            else:
                self._buffer += self._transformer.finalize()
                self._done = True
        if size < 0 or size >= len(self._buffer):
            out = bytes(self._buffer)
            self._buffer.clear()
            return out
        out = bytes(self._buffer[:size])
        del self._buffer[:size]
        return out


def passphrase_bytes(passphrase: str) -> bytes:
    """UTF-8 bytes of a passphrase; UsageError for an empty one or one that is not text (e.g. undecodable env bytes)."""
    if not isinstance(passphrase, str) or not passphrase:
        raise UsageError("a passphrase must be a non-empty string")
    try:
        return passphrase.encode("utf-8")
    except UnicodeEncodeError:
        raise UsageError(
            "the passphrase is not valid text (undecodable bytes)", hint="check the passphrase source's encoding"
        ) from None


@contextlib.contextmanager
def atomic_output(dst_path: str | os.PathLike[str]) -> Iterator[BinaryIO]:
    """Write beside `dst_path` (mode 0600) and rename over it only if the block finishes without an exception.

    On any failure the temporary file is removed, so a failed decryption never leaves a file (partial or
    unverified) at the destination; an existing destination file stays untouched until the rename.
    """
    dst = Path(dst_path)
    fd, tmp_name = tempfile.mkstemp(dir=dst.parent, prefix=f".{dst.name}.", suffix=".s3safe-tmp")
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, dst)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def transform_file(src_path: str | os.PathLike[str], dst_path: str | os.PathLike[str], make: Callable[[], Transformer]) -> None:
    """File-to-file transform through `atomic_output`; refuses to overwrite the source with its own output."""
    src, dst = Path(src_path), Path(dst_path)
    if not src.is_file():
        raise NotFoundError(f"input file not found: {src}")
    if not dst.parent.is_dir():
        raise NotFoundError(f"output folder does not exist: {dst.parent}")
    if dst.exists() and os.path.samefile(src, dst):
        raise UsageError(f"input and output are the same file: {dst}", hint="write to a different path")
    transformer = make()
    with src.open("rb") as handle, atomic_output(dst) as out:
        pump(handle, out, transformer)
