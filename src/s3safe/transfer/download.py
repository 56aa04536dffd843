"""Downloads: streamed to a temp file beside the target, verified, then renamed into place."""

from __future__ import annotations

import base64
import hashlib
import logging
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from s3safe.core import cancel
from s3safe.core.errors import IntegrityError, NotFoundError, UsageError
from s3safe.core.locations import S3Url, unsafe_key_reason
from s3safe.storage.connection import Connection
from s3safe.storage.errors import translated
from s3safe.storage.s3 import S3Storage
from s3safe.transfer.options import MTIME_META, SHA256_META
from s3safe.transfer.single import TransferResult

log = logging.getLogger("s3safe.transfer")

CHUNK = 1024 * 1024


@dataclass(frozen=True, slots=True)
class Expected:
    """What the store says the bytes should be, from a listing or a HEAD."""

    size: int
    etag: str | None
    server_sha256_b64: str | None = None  # x-amz-checksum-sha256 of a single-part object
    sse: str | None = None
    sse_known: bool = False


@dataclass(frozen=True, slots=True)
class Fetched:
    verified: str
    sha256_hex: str
    mtime: float | None


def fetch_object(conn: Connection, bucket: str, key: str, target: Path, *, expected: Expected) -> Fetched:
    """GET one object into `target` atomically; IntegrityError (and no file) if it does not verify."""
    import obstore

    store = conn.store(bucket)
    fd, tmp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".s3safe-tmp")
    tmp = Path(tmp_name)
    try:
        sha256, md5, written = hashlib.sha256(), hashlib.md5(usedforsecurity=False), 0
        with os.fdopen(fd, "wb") as handle, translated("download", bucket=bucket, key=key):
            result = obstore.get(store, key)
            attributes = dict(result.attributes)
            for chunk in result.stream(min_chunk_size=CHUNK):
                cancel.check()
                data = memoryview(chunk)
                if conn.limiter:
                    conn.limiter.consume(len(data))
                handle.write(data)
                sha256.update(data)
                md5.update(data)
                written += len(data)
        url = f"s3://{bucket}/{key}"
        verified = _verify(conn, url, expected, attributes, written=written, sha256=sha256.digest(), md5=md5.hexdigest())
        mtime = _mtime(attributes.get(MTIME_META), url)
        if mtime is not None:
            os.utime(tmp, (mtime, mtime))
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return Fetched(verified, sha256.hexdigest(), mtime)


def _mtime(value: str | None, url: str) -> float | None:
    if not value:
        return None
    try:
        return float(value)
    except ValueError:
        log.warning("ignoring unusable %s metadata on %s", MTIME_META, url)
        return None


def _verify(
    conn: Connection, url: str, expected: Expected, attributes: dict[str, str], *, written: int, sha256: bytes, md5: str
) -> str:
    problem = f"download of {url} does not match its stored %s; nothing was written"
    if written != expected.size:
        raise IntegrityError(f"download of {url} got {written} bytes, expected {expected.size}; nothing was written")
    whole = attributes.get(SHA256_META)
    if whole:
        if whole.lower() != sha256.hex():
            raise IntegrityError(problem % "SHA-256 (s3safe metadata)")
        return "sha256"
    if expected.server_sha256_b64 and "-" not in expected.server_sha256_b64:
        if base64.b64decode(expected.server_sha256_b64) != sha256:
            raise IntegrityError(problem % "SHA-256 checksum")
        return "sha256"
    etag = (expected.etag or "").strip('"').lower()
    if len(etag) != 32 or "-" in etag:
        return "size"
    if etag == md5:
        return "md5"
    # A plain-looking ETag is not an MD5 under SSE-KMS or SSE-C; find out before crying corruption.
    sse = expected.sse
    if not expected.sse_known:
        bucket, _, key = url[5:].partition("/")
        sse = S3Storage(conn).head(bucket, key).sse_algorithm
    if sse in (None, "AES256"):
        raise IntegrityError(problem % "ETag (MD5)")
    return "size"


def download_file(conn: Connection, source: S3Url, dest: Path) -> TransferResult:
    """`get S3URL LOCAL` for one object: into a folder (keeping the name) or to a file path."""
    if source.is_prefix:
        raise UsageError(f"{source} names a folder", hint="add -r to download everything under it")
    if dest.is_dir() or str(dest).endswith(("/", os.sep)):
        name = source.name
        reason = unsafe_key_reason(name)
        if reason:
            raise UsageError(f"refusing key {source.key!r}: its file name {reason}")
        target = dest / name
    else:
        target = dest
    if not target.parent.is_dir():
        raise NotFoundError(f"destination folder {target.parent} does not exist")
    details = S3Storage(conn).head(source.bucket, source.key)
    expected = Expected(details.size, details.etag, details.checksums.get("sha256"), details.sse_algorithm, sse_known=True)
    fetched = fetch_object(conn, source.bucket, source.key, target, expected=expected)
    return TransferResult("download", str(source), str(target), details.size, sse=details.sse_algorithm,
                          verified=fetched.verified, etag=details.etag, sha256_hex=fetched.sha256_hex)  # fmt: skip
