"""Keeping the data: default encryption, versioning, protection of old versions, and multipart clean-up."""

from __future__ import annotations

import itertools
from typing import TYPE_CHECKING, Any

from s3safe.audit.checks._base import bucket_check
from s3safe.audit.facts import AuditContext, BucketFacts, Unknown
from s3safe.audit.model import Check, Finding, Severity
from s3safe.core.errors import S3SafeError

if TYPE_CHECKING:
    from s3safe.core.models import ObjectDetails

ABORT_RULE_ID = "s3safe-abort-incomplete-uploads"
ABORT_AFTER_DAYS = 7


@bucket_check(
    "bucket-default-encryption", "No default encryption", severity=Severity.MEDIUM,
    why="Without a default, objects uploaded by any client that does not ask for encryption are stored unencrypted "
    "(buckets created before 2023, and many S3-compatible stores).",
    fixable=True,
)  # fmt: skip
def default_encryption(check: Check, facts: BucketFacts, ctx: AuditContext) -> list[Finding]:
    if facts.setting("default encryption").state == "set":
        return []
    return [check.finding(facts.name, "the bucket has no default server-side encryption", fix=f"s3safe harden s3://{facts.name}")]


def versioning(facts: BucketFacts) -> dict[str, Any]:
    return facts.value("versioning")


def object_lock_enabled(facts: BucketFacts) -> bool:
    return bool(facts.value("object lock").get("ObjectLockConfiguration", {}).get("ObjectLockEnabled") == "Enabled")


@bucket_check(
    "bucket-versioning-off", "Versioning is off", severity=Severity.MEDIUM,
    why="Without versioning an overwrite or delete, by mistake, a buggy sync or ransomware, destroys the only copy.",
    fixable=True,
)  # fmt: skip
def versioning_off(check: Check, facts: BucketFacts, ctx: AuditContext) -> list[Finding]:
    status = versioning(facts).get("Status")
    if status == "Enabled":
        return []
    found = "versioning was never enabled" if not status else f"versioning is {status}"
    return [check.finding(facts.name, found, fix=f"s3safe harden s3://{facts.name} --versioning")]


@bucket_check(
    "bucket-delete-protection", "Old versions are not protected (no MFA delete, no Object Lock)", severity=Severity.LOW,
    why="Versioning keeps old versions, but whoever holds the bucket owner's keys can still delete them all; MFA delete "
    "(a second factor for permanent deletes) or Object Lock (retention no one can shorten) closes that gap.",
    fixable=False,
)  # fmt: skip
def delete_protection(check: Check, facts: BucketFacts, ctx: AuditContext) -> list[Finding]:
    if versioning(facts).get("Status") != "Enabled":
        return []  # bucket-versioning-off says it already; MFA delete and Object Lock both need versioning
    if versioning(facts).get("MFADelete") == "Enabled" or object_lock_enabled(facts):
        return []
    fix = (f"with the root user's MFA device: aws s3api put-bucket-versioning --bucket {facts.name} --mfa 'SERIAL CODE' "
           "--versioning-configuration Status=Enabled,MFADelete=Enabled; or enable Object Lock with a default retention")  # fmt: skip
    return [check.finding(facts.name, "versioning is on, but neither MFA delete nor Object Lock protects old versions", fix=fix)]


BACKUP_SAMPLE = 5  # objects read (HEAD) to tell a backup bucket: enough to find s3safe's metadata, cheap per bucket
BACKUP_META_PREFIX = "s3safe-"  # every object s3safe uploads carries s3safe-mtime / s3safe-sha256 / s3safe-encryption


def backup_sample(ctx: AuditContext, bucket: str) -> list[ObjectDetails]:
    """The first few objects s3safe wrote in the bucket (by its metadata marker), read by HEAD."""
    from s3safe.core.models import ObjectInfo
    from s3safe.storage.s3 import S3Storage

    storage = S3Storage(ctx.conn)
    try:
        listed = (e for e in storage.iter_entries(bucket, "", recursive=True) if isinstance(e, ObjectInfo) and not e.key.endswith("/"))
        heads = [storage.head(bucket, obj.key) for obj in itertools.islice(listed, BACKUP_SAMPLE)]
    except S3SafeError as exc:
        raise Unknown(f"objects: {exc}") from None
    return [d for d in heads if any(name.startswith(BACKUP_META_PREFIX) for name in d.metadata)]


@bucket_check(
    "bucket-backup-unretained", "Backups without retention (no Object Lock)", severity=Severity.MEDIUM,
    why="Whoever holds the backup host's credentials (ransomware on that host included) can delete or overwrite every "
    "version of a backup that no Object Lock retention protects; with a retention, not even they can until it ends.",
    fixable=False,
)  # fmt: skip
def backup_unretained(check: Check, facts: BucketFacts, ctx: AuditContext) -> list[Finding]:
    lock = facts.value("object lock").get("ObjectLockConfiguration", {})
    if lock.get("ObjectLockEnabled") == "Enabled" and lock.get("Rule", {}).get("DefaultRetention"):
        return []
    sample = backup_sample(ctx, facts.name)
    if not sample or any(d.locked_until or d.legal_hold for d in sample):
        return []  # no s3safe backups seen, or they are given a retention one by one (put --retain-days)
    if lock.get("ObjectLockEnabled") == "Enabled":
        found = "holds s3safe backups with no retention: Object Lock is on, but neither a default retention nor the objects have one"
        fix = (f"upload with 's3safe sync --retain-days N', or set a default: aws s3api put-object-lock-configuration --bucket {facts.name} "
               "--object-lock-configuration 'ObjectLockEnabled=Enabled,Rule={DefaultRetention={Mode=GOVERNANCE,Days=30}}'")  # fmt: skip
    else:
        found = "holds s3safe backups, but Object Lock is off: anyone with the backup credentials can destroy them"
        fix = (f"back up into a bucket made with 's3safe mb --object-lock s3://NEW' using --retain-days N (or enable Object Lock "
               f"on this versioned bucket: aws s3api put-object-lock-configuration --bucket {facts.name} "
               "--object-lock-configuration ObjectLockEnabled=Enabled)")  # fmt: skip
    return [check.finding(facts.name, found, fix=fix)]


def covers_whole_bucket(rule: dict[str, Any]) -> bool:
    flt = rule.get("Filter")
    if isinstance(flt, dict):
        return not flt or (set(flt) == {"Prefix"} and not flt.get("Prefix"))
    return not rule.get("Prefix")


@bucket_check(
    "bucket-abort-mpu-missing", "No lifecycle rule aborts incomplete multipart uploads", severity=Severity.LOW,
    why="Parts of uploads that never completed are invisible in listings yet stored and billed forever; they can also hold "
    "data that was meant to be deleted. A lifecycle rule aborting them after a few days cleans them up.",
    fixable=True,
)  # fmt: skip
def abort_mpu_missing(check: Check, facts: BucketFacts, ctx: AuditContext) -> list[Finding]:
    rules = [r for r in facts.value("lifecycle").get("Rules", []) if isinstance(r, dict) and r.get("Status") == "Enabled"]
    aborting = [r for r in rules if isinstance(r.get("AbortIncompleteMultipartUpload"), dict)]
    if any(covers_whole_bucket(r) for r in aborting):
        return []
    found = "no enabled lifecycle rule aborts incomplete multipart uploads"
    if aborting:
        found = "incomplete multipart uploads are aborted only under some prefixes or tags"
    fix = f"s3safe audit s3://{facts.name} --check {check.id} --fix"
    return [check.finding(facts.name, found, fix=fix)]


def abort_rule() -> dict[str, Any]:
    return {"ID": ABORT_RULE_ID, "Status": "Enabled", "Filter": {"Prefix": ""},
            "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": ABORT_AFTER_DAYS}}  # fmt: skip


CHECKS = [default_encryption, versioning_off, delete_protection, backup_unretained, abort_mpu_missing]
