"""`ls`: buckets, or objects and folders, streamed, with optional per-object security details."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from s3safe.core.concurrency import run_bounded
from s3safe.core.errors import S3SafeError
from s3safe.core.locations import S3Url
from s3safe.core.models import BucketInfo, ObjectInfo, PrefixInfo
from s3safe.ops.targets import walk, walk_versions
from s3safe.storage.buckets import OWNER_ENFORCED, BucketAdmin
from s3safe.storage.connection import Connection
from s3safe.storage.s3 import S3Storage

if TYPE_CHECKING:
    from s3safe.ops.where import ObjectFilter


@dataclass(frozen=True, slots=True)
class ListOptions:
    recursive: bool = False
    dirs: bool = False
    dirs_only: bool = False
    long: bool = False
    where: ObjectFilter | None = None
    versions: bool = False  # every version and delete marker, each key's newest first


@dataclass(frozen=True, slots=True)
class ListRow:
    """One listed object with the security details `--long` asks for."""

    obj: ObjectInfo
    sse: str | None = None
    private: bool | None = None
    private_reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out = self.obj.to_dict()
        out.update(sse=self.sse, private=self.private, private_reason=self.private_reason)
        return out


@dataclass(slots=True)
class ListSummary:
    objects: int = 0
    dirs: int = 0
    total_bytes: int = 0
    extra_requests: int = 0
    errors: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"type": "summary", "objects": self.objects, "dirs": self.dirs, "total_bytes": self.total_bytes}


def list_buckets(conn: Connection) -> list[BucketInfo]:
    return S3Storage(conn).list_buckets()


def _folders_of(key: str, base: str) -> list[str]:
    """Folder prefixes between `base` and the key's own folder, shallowest first."""
    rest = key[len(base):]
    parts = rest.split("/")[:-1]
    return [base + "/".join(parts[: i + 1]) + "/" for i in range(len(parts))]


def iter_listing(
    conn: Connection, url: S3Url, options: ListOptions, summary: ListSummary
) -> Iterator[ListRow | PrefixInfo]:
    """Stream rows in key order; `summary` is filled in as rows go by."""
    storage = S3Storage(conn)
    rows = _raw_rows(storage, url, options, summary)
    if not options.long:
        yield from rows
        return
    enricher = _Enricher(conn, storage, url.bucket, summary)
    yield from run_bounded(enricher, rows, threads=min(conn.settings.threads, 16))


def _raw_rows(
    storage: S3Storage, url: S3Url, options: ListOptions, summary: ListSummary
) -> Iterator[ListRow | PrefixInfo]:
    seen_dir = ""
    # -r walks the folder (and the object itself), like every command; without -r, a prefix match as `aws s3 ls`
    entries: Iterator[ObjectInfo | PrefixInfo]
    if options.versions:
        entries = walk_versions(storage, url) if options.recursive else storage.iter_version_entries(url.bucket, url.key, recursive=False)
    else:
        entries = walk(storage, url) if options.recursive else storage.iter_entries(url.bucket, url.key, recursive=False)
    if options.where is not None:
        entries = _filtered(entries, options.where, keep_dirs=options.dirs or options.dirs_only)
    for entry in entries:
        if isinstance(entry, PrefixInfo):
            summary.dirs += 1
            yield entry
            continue
        if options.recursive and (options.dirs or options.dirs_only):
            # Folders are implied by keys; each is shown once, just before its first object.
            for folder in _folders_of(entry.key, url.key if url.is_prefix else ""):
                if folder.encode() > seen_dir.encode():
                    seen_dir = folder
                    summary.dirs += 1
                    yield PrefixInfo(url.bucket, folder)
        if options.dirs_only:
            continue
        summary.objects += 1
        summary.total_bytes += entry.size
        yield ListRow(entry)


def _filtered(entries: Iterator[ObjectInfo | PrefixInfo], where: ObjectFilter, *, keep_dirs: bool) -> Iterator[ObjectInfo | PrefixInfo]:
    """Objects that satisfy the condition; folders only when asked for, since a condition is about objects."""
    from itertools import tee

    if not keep_dirs:
        yield from where.select(e for e in entries if isinstance(e, ObjectInfo))
        return
    # folders interleaved with the selected objects (tee buffers at most the filter's look-ahead)
    objects_only, everything = tee(entries)
    selected = where.select(e for e in objects_only if isinstance(e, ObjectInfo))
    pending = next(selected, None)
    for entry in everything:
        if isinstance(entry, PrefixInfo):
            if keep_dirs:
                yield entry
        elif pending is not None and entry is pending:
            yield entry
            pending = next(selected, None)


class _Enricher:
    """Adds SSE (HEAD) and privacy (bucket ownership, else GetObjectAcl) to a row."""

    def __init__(self, conn: Connection, storage: S3Storage, bucket: str, summary: ListSummary) -> None:
        self.storage = storage
        self.summary = summary
        self.acls_disabled = BucketAdmin(conn).object_ownership(bucket) == OWNER_ENFORCED

    def __call__(self, row: ListRow | PrefixInfo) -> ListRow | PrefixInfo:
        if isinstance(row, PrefixInfo) or row.obj.is_delete_marker:  # a delete marker has no headers or ACL
            return row
        obj = row.obj
        try:
            details = self.storage.head(obj.bucket, obj.key, version_id=obj.version_id)
            self.summary.extra_requests += 1
            if self.acls_disabled:
                private, reason = True, "ACLs disabled (BucketOwnerEnforced)"
            else:
                acl = self.storage.get_acl(obj.bucket, obj.key, version_id=obj.version_id)
                self.summary.extra_requests += 1
                private = acl.is_private
                reason = "owner-only ACL" if private else _exposure(acl.is_public_read, acl.is_public_write)
        except S3SafeError as exc:
            self.summary.errors.append(f"{obj.key}: {exc}")
            return ListRow(obj, private_reason=f"unknown: {exc}")
        return ListRow(obj, sse=details.sse_algorithm, private=private, private_reason=reason)


def _exposure(public_read: bool, public_write: bool) -> str:
    if public_read and public_write:
        return "public read and write"
    if public_read:
        return "public read"
    if public_write:
        return "public write"
    return "granted to other accounts"
