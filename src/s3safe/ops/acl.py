"""`acl get` and `acl set` with canned ACLs, refusing clearly where a bucket has ACLs disabled."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from s3safe.core.errors import S3SafeError, UsageError
from s3safe.core.locations import S3Url
from s3safe.core.models import AclInfo, ActionResult, ObjectInfo
from s3safe.core.safety import SafetyGate
from s3safe.ops.targets import iter_targets
from s3safe.ops.where import ObjectFilter
from s3safe.storage.buckets import OWNER_ENFORCED, BucketAdmin
from s3safe.storage.connection import Connection
from s3safe.storage.s3 import CANNED_ACLS, PUBLIC_ACLS, S3Storage


def _refuse_if_acls_disabled(conn: Connection, bucket: str) -> None:
    if BucketAdmin(conn).object_ownership(bucket) == OWNER_ENFORCED:
        raise UsageError(
            f"bucket s3://{bucket} has ACLs disabled (Object Ownership = BucketOwnerEnforced): "
            "every object is owned by the bucket owner and ACLs neither grant nor can be changed",
            hint="control access with a bucket policy instead",
        )


def acl_get(conn: Connection, url: S3Url) -> AclInfo:
    BucketAdmin(conn).exists(url.bucket)
    _refuse_if_acls_disabled(conn, url.bucket)
    return S3Storage(conn).get_acl(url.bucket, None if url.is_bucket else url.key)


def check_canned(canned: str, *, allow_public: bool) -> None:
    """A canned ACL to set: known, and public only with --allow-public (exec's pre-check runs it too)."""
    if canned not in CANNED_ACLS:
        raise UsageError(f"unknown canned ACL {canned!r}", hint="one of: " + ", ".join(CANNED_ACLS))
    if canned in PUBLIC_ACLS and not allow_public:
        raise UsageError(f"refusing to set public ACL {canned!r}", hint="add --allow-public if it must be public")


def acl_set(
    conn: Connection, canned: str, url: S3Url, *, recursive: bool, allow_public: bool, gate: SafetyGate,
    where: ObjectFilter | None = None,
) -> Iterator[ActionResult]:  # fmt: skip
    check_canned(canned, allow_public=allow_public)
    BucketAdmin(conn).exists(url.bucket)
    _refuse_if_acls_disabled(conn, url.bucket)
    storage = S3Storage(conn)
    if url.is_bucket and not recursive and where is None:
        yield from gate.apply("set-acl", [url.bucket], lambda _: [_put(storage, url.bucket, None, canned)], describe=lambda b: f"s3://{b} -> {canned}")
        return

    def execute(batch: Sequence[ObjectInfo]) -> list[ActionResult]:
        return [_put(storage, obj.bucket, obj.key, canned) for obj in batch]

    yield from gate.apply(
        "set-acl", iter_targets(storage, url, recursive=recursive, where=where), execute,
        describe=lambda obj: f"s3://{obj.bucket}/{obj.key} -> {canned}",
    )  # fmt: skip


def _put(storage: S3Storage, bucket: str, key: str | None, canned: str) -> ActionResult:
    target = f"s3://{bucket}/{key or ''}"
    try:
        storage.put_acl(bucket, key, canned)
    except S3SafeError as exc:
        return ActionResult("set-acl", target, ok=False, error=str(exc))
    return ActionResult("set-acl", target, detail=canned)
