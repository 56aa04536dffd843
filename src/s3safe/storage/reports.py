"""Report files AWS services write into buckets and read from them: inventory manifests and data files,
Batch Operations manifests and completion reports. Small objects, read whole or streamed to a local file."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

from s3safe.core.errors import UsageError
from s3safe.storage.connection import Connection
from s3safe.storage.errors import translated
from s3safe.storage.s3 import S3Storage


def read_small(conn: Connection, bucket: str, key: str, *, limit: int) -> bytes:
    """The whole object, refused when larger than `limit` bytes (a manifest is small; a huge one is not ours)."""
    data = bytearray()
    for chunk in S3Storage(conn).read_chunks(bucket, key):
        data += chunk
        if len(data) > limit:
            raise UsageError(f"s3://{bucket}/{key} is larger than {limit} bytes: not a report manifest s3safe can read")
    return bytes(data)


def download(conn: Connection, bucket: str, key: str, path: Path) -> int:
    """Stream the object to a new local file; returns its size."""
    size = 0
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        for chunk in S3Storage(conn).read_chunks(bucket, key):
            handle.write(chunk)
            size += len(chunk)
    return size


def child_prefixes(conn: Connection, bucket: str, prefix: str) -> Iterator[str]:
    """The 'folders' directly under `prefix` (which ends with '/'), in key order."""
    from s3safe.core.models import ObjectInfo

    for entry in S3Storage(conn).iter_entries(bucket, prefix, recursive=False):
        if not isinstance(entry, ObjectInfo):
            yield entry.prefix


def keys_under(conn: Connection, bucket: str, prefix: str) -> Iterator[str]:
    from s3safe.core.models import ObjectInfo

    for entry in S3Storage(conn).iter_entries(bucket, prefix, recursive=True):
        if isinstance(entry, ObjectInfo):
            yield entry.key


def put_small(conn: Connection, bucket: str, key: str, body: bytes, *, content_type: str) -> str:
    """Write a small report object, encrypted at rest (SSE-S3); returns its ETag (without quotes)."""
    with translated("write", bucket=bucket, key=key):
        response = S3Storage(conn).client(bucket).put_object(
            Bucket=bucket, Key=key, Body=body, ContentType=content_type, ServerSideEncryption="AES256", ChecksumAlgorithm="SHA256"
        )
    return str(response.get("ETag", "")).strip('"')
