"""`restore`: bring archived (Glacier / Deep Archive) objects back for a number of days."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from s3safe.core.errors import UsageError
from s3safe.core.locations import S3Url
from s3safe.core.models import ActionResult, ObjectInfo
from s3safe.core.safety import SafetyGate
from s3safe.ops.targets import iter_targets
from s3safe.ops.where import ObjectFilter
from s3safe.storage.connection import Connection
from s3safe.storage.s3 import S3Storage

TIERS = ("Standard", "Bulk", "Expedited")
ARCHIVED = {"GLACIER", "DEEP_ARCHIVE"}


def restore(
    conn: Connection, url: S3Url, *, recursive: bool, days: int, tier: str, gate: SafetyGate, where: ObjectFilter | None = None
) -> Iterator[ActionResult]:
    if not 1 <= days <= 36500:
        raise UsageError("--days must be between 1 and 36500")
    tier = tier.capitalize()
    if tier not in TIERS:
        raise UsageError(f"unknown tier {tier!r}", hint="one of: " + ", ".join(TIERS))
    storage = S3Storage(conn)

    def execute(batch: Sequence[ObjectInfo]) -> list[ActionResult]:
        return [_restore_one(storage, obj, days=days, tier=tier) for obj in batch]

    # restores cost money per request, so they get a printable plan like any bulk change
    archived = (obj for obj in iter_targets(storage, url, recursive=recursive, where=where) if obj.storage_class in ARCHIVED or not recursive)
    yield from gate.apply("restore", archived, execute, describe=lambda obj: f"s3://{obj.bucket}/{obj.key} ({days} days, {tier})")


def _restore_one(storage: S3Storage, obj: ObjectInfo, *, days: int, tier: str) -> ActionResult:
    if obj.storage_class not in ARCHIVED:
        # a single named object that is not archived: say so instead of a raw InvalidObjectState
        return ActionResult("skip", f"s3://{obj.bucket}/{obj.key}", detail=f"storage class {obj.storage_class} is not archived")
    return storage.restore(obj.bucket, obj.key, days=days, tier=tier)
