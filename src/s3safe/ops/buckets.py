"""`mb`, `rb`, `info`."""

from __future__ import annotations

from collections.abc import Iterator

from s3safe.core.errors import PartialFailure, S3SafeError, UsageError
from s3safe.core.locations import S3Url, validate_bucket_name
from s3safe.core.models import ActionResult, ObjectInfo
from s3safe.core.safety import SafetyGate
from s3safe.storage.buckets import BucketAdmin, Setting, is_unsupported
from s3safe.storage.connection import Connection
from s3safe.storage.errors import BucketNotEmptyError, UnsupportedError
from s3safe.storage.s3 import DELETE_BATCH, S3Storage, version_url


def _bucket_only(url: S3Url, command: str) -> str:
    if not url.is_bucket:
        raise UsageError(f"'{command}' takes a bucket, not an object path: {url}", hint=f"write s3://{url.bucket}")
    return validate_bucket_name(url.bucket)


def make_bucket(conn: Connection, url: S3Url, *, region: str | None = None, plain: bool = False, object_lock: bool = False) -> list[str]:
    """Create a bucket; hardened unless `plain`, with Object Lock (and versioning) if asked. Returns the steps done."""
    bucket = _bucket_only(url, "mb")
    return BucketAdmin(conn).create(bucket, region=region, hardened=not plain, object_lock=object_lock)


def remove_bucket(conn: Connection, url: S3Url, *, force: bool, gate: SafetyGate) -> Iterator[ActionResult]:
    """Delete a bucket; with `force`, first every object version through the safety gate."""
    bucket = _bucket_only(url, "rb")
    admin = BucketAdmin(conn)
    admin.exists(bucket)
    storage = S3Storage(conn)
    if force:
        results = gate.apply(
            "delete",
            _every_version(storage, admin, bucket),
            # an ETag rides with an object deleted without a version id: it is deleted only while still the one listed
            lambda batch: storage.delete_batch(bucket, [(k, v) for k, v, _ in batch], etags={k: e for k, _, e in batch if e}),
            describe=lambda item: version_url(bucket, item[0], item[1]),
            batch_size=DELETE_BATCH,
            deletes=True,
        )
        failed = deleted = 0
        for result in results:
            failed += not result.ok
            deleted += result.ok and not result.dry_run
            yield result
        if failed:  # as rm -r ends when some deletions failed (a conflict among them): exit 5
            raise PartialFailure(f"{failed} object(s) could not be deleted, so bucket s3://{bucket} was kept", failed=failed,
                                 succeeded=deleted)  # fmt: skip
    elif next(_every_version(storage, admin, bucket), None) is not None:
        raise UsageError(f"bucket s3://{bucket} is not empty", hint="use 'rb --force' to delete its objects first (try --dry-run)")
    yield from gate.apply(
        "delete-bucket", [bucket], lambda _: _delete(admin, bucket, emptied=force), describe=lambda b: f"s3://{b}"
    )


def _every_version(storage: S3Storage, admin: BucketAdmin, bucket: str) -> Iterator[tuple[str, str | None, str | None]]:
    """Every (key, version id, ETag to delete it under) in the bucket. A version with an id stays what it is: one
    another writer adds after the listing is not listed, so not deleted (and the bucket, not empty, is kept).
    The null version of a bucket where versioning was never on is the object a PUT replaces: it is deleted as
    rm -r deletes one, by key and listed ETag, so another writer's object put there after the listing is kept
    (a conflict). A store that cannot list versions has none beyond its objects, deleted the same way."""
    listed = False
    never_versioned: list[bool] = []  # read once, at the first null version
    try:
        for version in storage.iter_versions(bucket, ""):
            listed = True
            if version.version_id in (None, "null") and version.etag and not version.is_delete_marker:
                if not never_versioned:
                    never_versioned.append(_never_versioned(admin, bucket))
                if never_versioned[0]:
                    yield version.key, None, version.etag
                    continue
            yield version.key, version.version_id, None
    except UnsupportedError:
        if listed:
            raise
        entries = storage.iter_entries(bucket, "", recursive=True)
        yield from ((entry.key, None, entry.etag) for entry in entries if isinstance(entry, ObjectInfo))


def _never_versioned(admin: BucketAdmin, bucket: str) -> bool:
    """Whether versioning was never turned on (its null versions are then plain objects); when the status cannot
    be read, False: null versions are then deleted by version id, as they always were."""
    try:
        return admin.versioning(bucket) == ""
    except S3SafeError:
        return False


def _delete(admin: BucketAdmin, bucket: str, *, emptied: bool) -> list[ActionResult]:
    try:
        admin.delete(bucket)
    except BucketNotEmptyError:
        if not emptied:
            raise
        # every listed version is gone: what is left was written after the listing, by another writer, and is kept
        raise PartialFailure(f"bucket s3://{bucket} was kept: objects were written to it after it was listed (by another "
                             "writer) and were left as they were", failed=1, succeeded=0,
                             hint="look at them ('ls -r --versions'); rb --force again deletes them too") from None  # fmt: skip
    return [ActionResult("delete-bucket", f"s3://{bucket}")]


def bucket_info(conn: Connection, url: S3Url) -> list[Setting]:
    return BucketAdmin(conn).info(_bucket_only(url, "info"))


def nothing_read(settings: list[Setting]) -> bool:
    """Every setting unknown, and not because the endpoint lacks them: `info` learnt nothing (the region
    comes from the bucket's HEAD, which answered, and says nothing about its security)."""
    read = [s for s in settings if s.name != "region"]
    return bool(read) and all(s.state == "unknown" and not is_unsupported(s) for s in read)
