"""`rm`, `cp` (server-side) and `mkdir`."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from s3safe.core.errors import AccessDeniedError, S3SafeError, UsageError
from s3safe.core.locations import S3Url
from s3safe.core.models import ActionResult, ObjectInfo
from s3safe.core.progress import TransferProgress, watching
from s3safe.core.safety import SafetyGate
from s3safe.ops.targets import iter_targets, walk_versions
from s3safe.ops.where import ObjectFilter
from s3safe.storage.connection import Connection
from s3safe.storage.s3 import DELETE_BATCH, LOCKED, MAX_SINGLE_COPY, S3Storage, version_url
from s3safe.transfer.options import UploadOptions
from s3safe.transfer.pipeline import applied_sse
from s3safe.transfer.single import plan_upload


def check_remove(url: S3Url, *, recursive: bool, versions: bool) -> None:
    """What `remove` refuses before any request: a folder or bucket without -r."""
    if not recursive and url.is_prefix:
        raise UsageError(f"{url} names a folder or bucket" + ("" if versions else ", not an object"),
                         hint="add -r to delete every version under it" if versions else "add -r to act on everything under it")  # fmt: skip


def remove(
    conn: Connection, url: S3Url, *, recursive: bool, versions: bool, gate: SafetyGate, where: ObjectFilter | None = None
) -> Iterator[ActionResult]:
    check_remove(url, recursive=recursive, versions=versions)
    storage = S3Storage(conn)
    items: Any
    if versions:
        if recursive:
            chosen = walk_versions(storage, url)
        else:  # only the exact key's versions (the listing is a prefix match)
            chosen = (v for v in storage.iter_versions(url.bucket, url.key) if v.key == url.key)
        items = ((v.key, v.version_id, None) for v in (where.select(chosen) if where else chosen))
    else:  # deleted only while still the object listed: another writer's newer one is a conflict, kept
        items = ((obj.key, None, obj.etag) for obj in iter_targets(storage, url, recursive=recursive, where=where))
    results = gate.apply(
        "delete",
        items,
        lambda batch: storage.delete_batch(url.bucket, [(k, v) for k, v, _ in batch], etags={k: e for k, _, e in batch if e}),
        describe=lambda item: version_url(url.bucket, item[0], item[1]),
        batch_size=DELETE_BATCH,
        deletes=True,
    )
    yield from _locks_refuse(results, url)


def _locks_refuse(results: Iterator[ActionResult], url: S3Url) -> Iterator[ActionResult]:
    """When Object Lock refused every deletion (nothing was deleted), the run ends as access denied (exit 4),
    each version having named its retention date; a run that deleted some ends as a partial failure (exit 5)."""
    deleted = locked = other = 0
    for result in results:
        if result.ok:
            deleted += not result.dry_run
        elif LOCKED in (result.error or ""):
            locked += 1
        else:
            other += 1
        yield result
    if locked and not deleted and not other:
        raise AccessDeniedError(f"nothing under {url} was deleted: {locked} version(s) {LOCKED} (dates above)",
                                hint="wait until their retention ends; s3safe never bypasses Object Lock")  # fmt: skip


def make_folder(conn: Connection, url: S3Url) -> ActionResult:
    """Create the zero-byte "folder/" marker object, private and encrypted like any upload."""
    if url.is_bucket:
        raise UsageError("mkdir needs a folder path, e.g. s3://bucket/reports/")
    key = url.key if url.key.endswith("/") else url.key + "/"
    plan = plan_upload(conn, url.bucket, UploadOptions())
    extra: dict[str, Any] = {}
    if plan.acl_header:
        extra["ACL"] = plan.acl_header
    if plan.sse:
        extra["ServerSideEncryption"] = plan.sse
    S3Storage(conn).put_empty(url.bucket, key, extra=extra)
    return ActionResult("mkdir", f"s3://{url.bucket}/{key}")


def copy(
    conn: Connection,
    src: S3Url,
    dst: S3Url,
    *,
    recursive: bool,
    options: UploadOptions,
    gate: SafetyGate,
    multipart_threshold: int = MAX_SINGLE_COPY,
    where: ObjectFilter | None = None,
    progress: TransferProgress | None = None,
) -> Iterator[ActionResult]:
    """Server-side copy of one object or, with `recursive`, of everything under a prefix; `progress` counts the
    objects (and their bytes, each when its copy is done: they never pass through here)."""
    options.validate()
    if recursive:
        # with -r both sides are folders: s3://a/photos copies s3://a/photos/x to DST/x
        src, dst = S3Url(src.bucket, src.folder), S3Url(dst.bucket, dst.folder)
        _refuse_copy_into_itself(src, dst)
    elif not src.is_prefix and (src.bucket, src.key) == (dst.bucket, _target_key(src, dst, src.key, recursive=False)):
        # one object onto itself: a mistake in the command, not a failure of the copy (with -r,
        # _refuse_copy_into_itself refuses the same prefix: no object can be its own destination past here)
        raise UsageError(f"{src} and the destination are the same object; nothing to copy",
                         hint="name another key or folder as the destination")  # fmt: skip
    storage = S3Storage(conn)
    plan = plan_upload(conn, dst.bucket, options)

    def destination(obj: ObjectInfo) -> str:
        return _target_key(src, dst, obj.key, recursive=recursive)

    def copy_one(obj: ObjectInfo) -> ActionResult:
        target = destination(obj)
        extra = _copy_args(storage, obj, plan.acl_header, plan.sse, options, size_limit=multipart_threshold)
        try:
            storage.copy(obj.bucket, obj.key, dst.bucket, target, size=obj.size, extra=extra,
                         threads=conn.settings.threads, multipart_threshold=multipart_threshold)  # fmt: skip
        except S3SafeError as exc:
            return ActionResult("copy", f"s3://{dst.bucket}/{target}", ok=False, error=str(exc))
        # where the destination's default encryption could not be read, no SSE header went with the copy: what the
        # server applied is read back, and a copy stored unencrypted is warned about, as an upload is
        applied_sse(conn, plan, bucket=dst.bucket, key=target)
        return ActionResult("copy", f"s3://{dst.bucket}/{target}", detail=f"from s3://{obj.bucket}/{obj.key}")

    counted = watching(progress, copy_one, name_of=lambda obj: obj.key, size_of=lambda obj: obj.size)
    targets = iter_targets(storage, src, recursive=recursive, where=where)
    if progress is not None:
        targets = progress.plan(targets, size_of=lambda obj: obj.size)
    yield from gate.apply(
        "copy",
        targets,
        lambda batch: [counted(obj) for obj in batch],
        describe=lambda obj: f"s3://{dst.bucket}/{destination(obj)} (from s3://{obj.bucket}/{obj.key})",
    )


def _target_key(src: S3Url, dst: S3Url, key: str, *, recursive: bool) -> str:
    """Where the object `key` named by `src` is copied to."""
    if recursive:  # both sides are folders: src/x goes to dst/x
        return dst.key + key[len(src.key):]
    return dst.key + src.name if dst.is_prefix else dst.key


def _refuse_copy_into_itself(src: S3Url, dst: S3Url) -> None:
    """The source is listed as the copy runs, so a destination inside it would feed the copy its own copies; the
    source itself as destination copies every object onto itself."""
    if src.bucket == dst.bucket and dst.key == src.key:
        raise UsageError(f"s3://{src.bucket}/{src.key} is both the source and the destination; nothing to copy",
                         hint="name another prefix or bucket as the destination")  # fmt: skip
    if src.bucket == dst.bucket and dst.key.startswith(src.key):
        raise UsageError(
            f"refusing to copy s3://{src.bucket}/{src.key} into s3://{dst.bucket}/{dst.key}, which is inside it: "
            "the copy would keep finding its own copies",
            hint="copy to a prefix outside the source (or to another bucket), then move it into place",
        )


def _copy_args(
    storage: S3Storage, obj: ObjectInfo, acl: str | None, sse: str | None, options: UploadOptions, *, size_limit: int
) -> dict[str, Any]:
    extra: dict[str, Any] = {}
    if acl:
        extra["ACL"] = acl
    if sse:
        extra["ServerSideEncryption"] = sse
    if options.sse_kms_key_id:
        extra["SSEKMSKeyId"] = options.sse_kms_key_id
    if options.storage_class:
        extra["StorageClass"] = options.storage_class
    if options.metadata or options.content_type or options.cache_control or obj.size > size_limit:
        # a multipart copy, or replaced metadata, must carry the source's headers itself
        details = storage.head(obj.bucket, obj.key)
        extra["Metadata"] = {**details.metadata, **options.metadata}
        extra["ContentType"] = options.content_type or details.content_type or "application/octet-stream"
        cache_control = options.cache_control or details.cache_control
        if cache_control:
            extra["CacheControl"] = cache_control
        extra["MetadataDirective"] = "REPLACE"
    return extra
