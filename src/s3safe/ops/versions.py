"""`revert` and `undelete`: roll a versioned prefix back in place, through the safety gate.

revert: each key's version current at a time becomes current again by a server-side copy of that
version onto its key; keys created since get a delete marker; keys deleted since come back. Nothing is
destroyed: every version stays, and a revert can itself be reverted. undelete: the delete markers on top
of each key are removed, so the newest version that holds data is current again.

Both plan the whole prefix first (spooled on disk, so memory stays flat), check the plan (versioning on,
--max-delete, something existed at the time), then copy, then add delete markers, and add none if any
copy failed.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable, Iterator, Sequence
from datetime import datetime
from itertools import takewhile
from typing import Any

from s3safe.core.errors import DeleteCapRefusal, NotFoundError, S3SafeError, SafetyRefusal, UsageError
from s3safe.core.locations import S3Url
from s3safe.core.models import ActionResult, ObjectDetails, ObjectInfo
from s3safe.core.safety import SafetyGate
from s3safe.ops.targets import walk_versions
from s3safe.storage.buckets import BucketAdmin
from s3safe.storage.connection import Connection
from s3safe.storage.s3 import DELETE_BATCH, MAX_SINGLE_COPY, S3Storage, version_url
from s3safe.transfer.options import UploadOptions
from s3safe.transfer.single import UploadPlan, plan_upload
from s3safe.transfer.versions import KeyHistory, histories

# a planned version: key, version id, size, last modified, why, ETag
Planned = tuple[str, str | None, int, str | None, str, str | None]


class _Spool:
    """Planned versions, one JSON line each in a temporary file (keys round-trip whatever they hold)."""

    def __init__(self) -> None:
        self._file = tempfile.TemporaryFile("w+", encoding="ascii", newline="\n")  # noqa: SIM115 - closed by close()
        self.count = 0

    def add(self, version: ObjectInfo, note: str) -> None:
        when = version.last_modified.isoformat() if version.last_modified else None
        planned = [version.key, version.version_id, version.size, when, note, version.etag]
        self._file.write(json.dumps(planned, ensure_ascii=True) + "\n")
        self.count += 1

    def __iter__(self) -> Iterator[Planned]:
        self._file.seek(0)
        for line in self._file:
            key, version_id, size, when, note, etag = json.loads(line)
            yield key, version_id, size, when, note, etag

    def close(self) -> None:
        self._file.close()


def _versions(storage: S3Storage, url: S3Url, *, recursive: bool) -> Iterator[ObjectInfo]:
    if recursive:
        return walk_versions(storage, url)
    if url.is_prefix:
        raise UsageError(f"{url} names a folder or bucket", hint="add -r to act on every key under it")
    # the listing is a prefix match in key order: the key's own versions come first, and end it
    return takewhile(lambda v: v.key == url.key, storage.iter_versions(url.bucket, url.key))


def _require_versioning(conn: Connection, url: S3Url, *, doing: str) -> None:
    """Without versioning on, a delete marker is a real deletion and there is nothing to go back to."""
    status = BucketAdmin(conn).versioning(url.bucket)
    if status != "Enabled":
        state = "suspended" if status == "Suspended" else "not enabled"
        raise SafetyRefusal(
            f"refusing to {doing} in s3://{url.bucket}: versioning is {state}, so a deletion there would destroy data "
            "instead of adding a delete marker; nothing was changed",
            hint="turn versioning on first (harden --versioning); 'get -r --as-of' restores into a folder from whatever "
                 "versions the bucket kept",
        )


def _short(when: str | None) -> str:
    return when.replace("+00:00", "Z") if when else "unknown time"


def revert(
    conn: Connection, url: S3Url, *, when: datetime, recursive: bool, gate: SafetyGate
) -> Iterator[ActionResult]:  # fmt: skip
    """Make each key's version current at `when` current again (copies), hide keys created since (delete markers)."""
    _require_versioning(conn, url, doing="revert")
    storage = S3Storage(conn)
    copies, markers = _Spool(), _Spool()
    try:
        keys, existed = _plan_revert(histories(_versions(storage, url, recursive=recursive), when=when), copies=copies, markers=markers,
                                     same=lambda latest, target: _same(storage, latest, target))  # fmt: skip
        if not keys:
            raise NotFoundError(f"nothing to revert: no version of any object under {url}", hint="check the URL ('ls -r --versions')")
        if markers.count and not existed:
            gate.require_source(has_entries=False, what=f"s3://{url.bucket}/{url.key} at {when.isoformat()}")
        if not gate.dry_run and gate.max_delete is not None and markers.count > gate.max_delete:
            raise DeleteCapRefusal("add", gate.max_delete, noun="delete marker(s)")  # before any copy: nothing changed yet
        failed = 0
        for result in _copy_back(conn, storage, bucket=url.bucket, copies=copies, gate=gate):
            failed += not result.ok
            yield result
        yield from _add_markers(storage, url.bucket, markers=markers, gate=gate, failed=failed)
    finally:
        copies.close()
        markers.close()


def _plan_revert(
    keys: Iterator[KeyHistory], *, copies: _Spool, markers: _Spool, same: Callable[[ObjectInfo, ObjectInfo], bool]
) -> tuple[int, int]:  # fmt: skip
    """Spool what the revert does for each key; how many keys there are, and how many existed at the time."""
    existed = seen = 0
    for history in keys:
        seen += 1
        target = history.existed
        if target is None:
            if not history.latest.is_delete_marker:
                markers.add(history.latest, "created after that time")
            continue
        existed += 1
        if not same(history.latest, target):
            copies.add(target, "deleted since" if history.latest.is_delete_marker else "changed since")
    return seen, existed


def _same(storage: S3Storage, latest: ObjectInfo, target: ObjectInfo) -> bool:
    """The current version is that version, or a copy of it (an earlier revert): nothing to copy. The same bytes
    with other metadata (a changed s3safe-mode, -mtime or digest) is a change: both versions' HEADs tell."""
    if latest.version_id == target.version_id:
        return True
    if latest.is_delete_marker or not latest.etag or (latest.etag, latest.size) != (target.etag, target.size):
        return False
    try:
        return _described(storage, latest) == _described(storage, target)
    except S3SafeError:  # cannot tell: copied back, which changes nothing if they were the same
        return False


def _described(storage: S3Storage, version: ObjectInfo) -> tuple[object, ...]:
    d = storage.head(version.bucket, version.key, version_id=version.version_id)
    return d.metadata, d.content_type, d.cache_control


def _copy_back(conn: Connection, storage: S3Storage, *, bucket: str, copies: _Spool, gate: SafetyGate) -> Iterator[ActionResult]:
    plan: list[UploadPlan] = []

    def execute(batch: Sequence[Planned]) -> list[ActionResult]:
        if not plan:  # the bucket's upload settings, read once and only if something is copied
            plan.append(plan_upload(conn, bucket, UploadOptions()))
        return [_copy_one(conn, storage, bucket=bucket, item=item, plan=plan[0]) for item in batch]

    yield from gate.apply(
        "revert", copies, execute,
        describe=lambda item: f"s3://{bucket}/{item[0]} (version {item[1]} of {_short(item[3])}; {item[4]})",
    )  # fmt: skip


def _copy_one(
    conn: Connection, storage: S3Storage, *, bucket: str, item: Planned, plan: UploadPlan
) -> ActionResult:  # fmt: skip
    key, version_id, size, when, note, _etag = item
    target = f"s3://{bucket}/{key}"
    try:
        details = storage.head(bucket, key, version_id=version_id)
        if details.sse_algorithm == "SSE-C":
            raise UsageError(f"version {version_id} of {target} is SSE-C encrypted, which revert cannot copy yet",
                             hint=f"restore it with 'get --version-id {version_id} --sse-c-key-file FILE' and upload it again")  # fmt: skip
        extra = _copy_extra(details, plan)
        if size > MAX_SINGLE_COPY:  # a multipart copy carries the version's headers itself
            extra.update(Metadata=dict(details.metadata), MetadataDirective="REPLACE",
                         ContentType=details.content_type or "application/octet-stream")  # fmt: skip
            if details.cache_control:
                extra["CacheControl"] = details.cache_control
        storage.copy(bucket, key, bucket, key, size=size, extra=extra, threads=conn.settings.threads, src_version=version_id)
    except S3SafeError as exc:
        return ActionResult("revert", target, ok=False, error=str(exc))
    return ActionResult("revert", target, detail=f"version {version_id} of {_short(when)} is current again; {note}")


def _copy_extra(details: ObjectDetails, plan: UploadPlan) -> dict[str, Any]:
    """The copy keeps the version's own encryption and storage class (a copy is otherwise encrypted as the
    bucket's uploads are), and is private like every upload."""
    sse, kms_key, storage_class = details.sse_algorithm, details.sse_kms_key_id, details.storage_class
    extra: dict[str, Any] = {}
    if plan.acl_header:
        extra["ACL"] = plan.acl_header
    if sse in ("aws:kms", "aws:kms:dsse"):
        extra["ServerSideEncryption"] = sse
        if kms_key:
            extra["SSEKMSKeyId"] = kms_key
    elif sse != "SSE-C" and (sse or plan.sse):
        extra["ServerSideEncryption"] = sse or plan.sse
    if storage_class and storage_class != "STANDARD":
        extra["StorageClass"] = storage_class
    return extra


def _add_markers(storage: S3Storage, bucket: str, *, markers: _Spool, gate: SafetyGate, failed: int) -> Iterator[ActionResult]:
    if not markers.count:
        return
    if failed:
        yield ActionResult("skip", f"s3://{bucket}/", ok=False,
                           error=f"{markers.count} delete marker(s) not added because {failed} revert(s) failed")  # fmt: skip
        return
    # each marker only while the key's current object is still the one planned for (its ETag): a version another
    # writer adds after the listing stays current, reported as a conflict (DeleteObjects' ETag, as rm -r's)
    items = ((key, etag, when) for key, _version, _size, when, _note, etag in markers)

    def execute(batch: Sequence[tuple[str, str | None, str | None]]) -> list[ActionResult]:
        results = storage.delete_batch(bucket, [(key, None) for key, _etag, _when in batch],
                                       etags={key: etag for key, etag, _when in batch if etag})  # fmt: skip
        return [_as_marker(result) for result in results]

    yield from gate.apply(
        "delete", items, execute, batch_size=DELETE_BATCH, deletes=True,
        describe=lambda item: f"s3://{bucket}/{item[0]} (created after that time; a delete marker hides it)",
    )  # fmt: skip


def _as_marker(result: ActionResult) -> ActionResult:
    if not result.ok:
        return result
    return ActionResult("delete", result.target, detail="created after that time; a delete marker hides it, its versions stay")


def undelete(conn: Connection, url: S3Url, *, recursive: bool, gate: SafetyGate) -> Iterator[ActionResult]:
    """Remove the delete markers on top of each key that has a version holding data behind them."""
    storage = S3Storage(conn)
    seen = 0

    def counted(keys: Iterator[KeyHistory]) -> Iterator[KeyHistory]:
        nonlocal seen
        for history in keys:
            seen += 1
            yield history

    items = (
        (marker, history.newest_object)
        for history in counted(histories(_versions(storage, url, recursive=recursive)))
        if history.newest_object is not None
        for marker in history.top_markers
    )

    def execute(batch: Sequence[tuple[ObjectInfo, ObjectInfo]]) -> list[ActionResult]:
        results = storage.delete_batch(url.bucket, [(marker.key, marker.version_id) for marker, _ in batch])
        return [_undeleted(result, marker=marker, back=back) for result, (marker, back) in zip(results, batch, strict=True)]

    yield from gate.apply(
        "undelete", items, execute, batch_size=DELETE_BATCH, deletes=True, counted=("remove", "delete marker(s)"),
        describe=lambda item: f"s3://{url.bucket}/{item[0].key} (remove delete marker {item[0].version_id})",
    )  # fmt: skip
    if not seen:  # as revert: a URL that names nothing is not "nothing to do"
        raise NotFoundError(f"nothing to undelete: no version of any object under {url}", hint="check the URL ('ls -r --versions')")


def _undeleted(result: ActionResult, *, marker: ObjectInfo, back: ObjectInfo) -> ActionResult:
    target = f"s3://{marker.bucket}/{marker.key}"
    if not result.ok:
        return ActionResult("undelete", version_url(marker.bucket, marker.key, marker.version_id), ok=False, error=result.error)
    when = back.last_modified.isoformat() if back.last_modified else None
    return ActionResult("undelete", target, detail=f"removed delete marker {marker.version_id}; version {back.version_id} of {_short(when)} is current")
