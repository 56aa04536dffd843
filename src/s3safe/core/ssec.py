"""SSE-C: server-side encryption with a key the customer provides on every request.

The key is read from a file (32 raw bytes, or their base64 on one line), never taken from the command line.
Its base64 form and the base64 MD5 S3 wants beside it are registered for redaction before any request is
made. Over plain HTTP it would cross the network in clear text: refused.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from pathlib import Path

from s3safe.core.errors import NotFoundError, UsageError
from s3safe.core.redact import register_secret
from s3safe.core.smallfile import read_small_file

KEY_BYTES = 32  # AES-256
_MAX_FILE = 1024


def load_sse_c_key(path: str | Path, *, plain_http: bool) -> bytes:
    """The 32-byte key in `path`; UsageError for a file that holds none, or when requests would go over HTTP."""
    if plain_http:
        raise UsageError("SSE-C is refused over plain HTTP: the key would cross the network in clear text",
                         hint="use an https:// endpoint (AWS S3 refuses SSE-C over HTTP too)")  # fmt: skip
    file = Path(path)
    try:
        data = read_small_file(file, what="SSE-C key file", limit=_MAX_FILE)
    except NotFoundError as exc:
        raise UsageError(exc.message) from None
    key = data if len(data) == KEY_BYTES else _from_base64(data)
    if key is None:
        raise UsageError(f"SSE-C key file {file} does not hold a 256-bit key",
                         hint="write 32 random bytes, or their base64 on one line (e.g. openssl rand -base64 32)")  # fmt: skip
    register_secret(base64.b64encode(key).decode("ascii"))
    register_secret(base64.b64encode(hashlib.md5(key, usedforsecurity=False).digest()).decode("ascii"))
    register_secret(key.hex())
    return key


def _from_base64(data: bytes) -> bytes | None:
    if len(data) > _MAX_FILE:
        return None
    try:
        key = base64.b64decode(data.strip(), validate=True)
    except (binascii.Error, ValueError):
        return None
    if len(key) != KEY_BYTES:
        return None
    register_secret(data.strip().decode("ascii"))
    return key
