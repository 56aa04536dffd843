"""Selecting the objects a bulk command acts on."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from s3safe.core.errors import UsageError
from s3safe.core.locations import S3Url
from s3safe.core.models import ObjectInfo
from s3safe.storage.s3 import S3Storage

if TYPE_CHECKING:
    from s3safe.ops.where import ObjectFilter


def iter_targets(storage: S3Storage, url: S3Url, *, recursive: bool, where: ObjectFilter | None = None) -> Iterator[ObjectInfo]:
    """The objects named by `url` (one key, or with `recursive` everything under the prefix),
    narrowed by `where` when given."""
    objects = _named(storage, url, recursive=recursive)
    return where.select(objects) if where is not None else objects


def _named(storage: S3Storage, url: S3Url, *, recursive: bool) -> Iterator[ObjectInfo]:
    if recursive:
        for entry in storage.iter_entries(url.bucket, url.key, recursive=True):
            if isinstance(entry, ObjectInfo):
                yield entry
        return
    if url.is_prefix:
        raise UsageError(f"{url} names a folder or bucket, not an object", hint="add -r to act on everything under it")
    details = storage.head(url.bucket, url.key)  # NotFoundError (exit 3) when missing
    yield ObjectInfo(url.bucket, url.key, details.size, details.last_modified, details.etag, details.storage_class)
