"""Selecting the objects a bulk command acts on.

One rule for every command that walks (README "Which objects -r selects"): with `-r`, `s3://b/foo/` and
`s3://b/` name everything under them, and `s3://b/foo` names the folder `foo/` plus the object `foo`
itself if it exists, never `foobar`, `foo.txt` or `foo-archive/` (as `get -r`, `cp -r` and the AWS CLI
read it). A raw key-prefix match is what `--where` is for.
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import takewhile
from typing import TYPE_CHECKING

from s3safe.core.errors import UsageError
from s3safe.core.locations import S3Url
from s3safe.core.models import ObjectInfo
from s3safe.storage.s3 import S3Storage

if TYPE_CHECKING:
    from s3safe.ops.where import ObjectFilter


def iter_targets(storage: S3Storage, url: S3Url, *, recursive: bool, where: ObjectFilter | None = None) -> Iterator[ObjectInfo]:
    """The objects named by `url` (one key, or with `recursive` what `walk` selects), narrowed by `where`."""
    objects = walk(storage, url) if recursive else _one(storage, url)
    return where.select(objects) if where is not None else objects


def walk(storage: S3Storage, url: S3Url) -> Iterator[ObjectInfo]:
    """What `-r url` names, in key order: the object `foo` itself if it exists, then all of `foo/`."""
    if not url.is_prefix:
        # a listing under the raw prefix starts with the exact key when it exists ("foo" sorts before "foo…")
        for entry in storage.iter_entries(url.bucket, url.key, recursive=True):
            if isinstance(entry, ObjectInfo) and entry.key == url.key:
                yield entry
            break
    for entry in storage.iter_entries(url.bucket, url.folder, recursive=True):
        if isinstance(entry, ObjectInfo):
            yield entry


def walk_versions(storage: S3Storage, url: S3Url) -> Iterator[ObjectInfo]:
    """Every version `walk` would name: those of the key itself, then those under the folder."""
    if not url.is_prefix:
        yield from takewhile(lambda v: v.key == url.key, storage.iter_versions(url.bucket, url.key))
    yield from storage.iter_versions(url.bucket, url.folder)


def _one(storage: S3Storage, url: S3Url) -> Iterator[ObjectInfo]:
    if url.is_prefix:
        raise UsageError(f"{url} names a folder or bucket, not an object", hint="add -r to act on everything under it")
    details = storage.head(url.bucket, url.key)  # NotFoundError (exit 3) when missing
    yield ObjectInfo(url.bucket, url.key, details.size, details.last_modified, details.etag, details.storage_class)
