"""`harden S3URL`: Block Public Access, ACLs disabled, default encryption, TLS-only policy, versioning.

The plan is read first (BucketAdmin.info plus the policy) and holds only the steps that change something;
each runs through the SafetyGate. Object Ownership = BucketOwnerEnforced is refused when the bucket's ACL
or a sample of its objects' ACLs grant anyone but the owner: disabling ACLs would silently change who can
read those objects.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import islice
from typing import Any

from s3safe.core.concurrency import run_unordered
from s3safe.core.errors import S3SafeError, SafetyRefusal, UsageError
from s3safe.core.locations import S3Url
from s3safe.core.models import AclInfo, ActionResult, ObjectInfo
from s3safe.core.safety import SafetyGate
from s3safe.ops.policy import bucket_of, read_policy, write_policy
from s3safe.security.policy_templates import diff, merge, require_tls, validate
from s3safe.storage.buckets import BLOCK_ALL, OWNER_ENFORCED, BucketAdmin, Setting, is_unsupported
from s3safe.storage.connection import Connection
from s3safe.storage.errors import UNSUPPORTED, translated
from s3safe.storage.s3 import S3Storage

DEFAULT_ACL_SAMPLE = 200
KMS_ALGORITHMS = ("aws:kms", "aws:kms:dsse")
REPORTED = ("block public access", "object ownership", "default encryption", "policy", "versioning")


@dataclass(frozen=True)
class HardenStep:
    name: str
    before: str
    after: str
    run: Callable[[], object] = field(repr=False, compare=False)

    def describe(self) -> str:
        return f"{self.name}: {self.before} -> {self.after}"


@dataclass
class HardenPlan:
    bucket: str
    before: list[Setting]
    steps: list[HardenStep]
    notes: list[str]
    results: Iterator[ActionResult]
    read_after: Callable[[], list[Setting]] = field(repr=False)
    unsupported: list[str] = field(default_factory=list)  # settings the endpoint does not implement


@dataclass(frozen=True)
class AclSample:
    checked: int
    complete: bool  # every object was checked
    findings: list[str]


def _acl_findings(name: str, acl: AclInfo, bucket_owner: str | None) -> list[str]:
    out = []
    if bucket_owner and acl.owner and acl.owner != bucket_owner:
        out.append(f"{name} is owned by another account ({acl.owner})")
    for grant in acl.grants:
        if grant.grantee_type == "CanonicalUser" and grant.grantee in (acl.owner, bucket_owner):
            continue
        out.append(f"{name} grants {grant.permission} to {grant.grantee}")
    return out


def sample_acls(conn: Connection, bucket: str, *, limit: int) -> AclSample:
    """Read the bucket ACL and up to `limit` object ACLs; report grants to anyone but the owner."""
    storage = S3Storage(conn)
    bucket_acl = storage.get_acl(bucket)
    findings = _acl_findings(f"bucket s3://{bucket}", bucket_acl, bucket_acl.owner)
    listing = (e for e in storage.iter_entries(bucket, "", recursive=True) if isinstance(e, ObjectInfo))
    objects = list(islice(listing, limit + 1))
    complete = len(objects) <= limit
    objects = objects[:limit]

    def check(obj: ObjectInfo) -> list[str]:
        return _acl_findings(f"s3://{bucket}/{obj.key}", storage.get_acl(bucket, obj.key), bucket_acl.owner)

    for found in run_unordered(check, objects, threads=conn.settings.threads):
        findings += found
    return AclSample(len(objects), complete, sorted(findings))


def _by_name(settings: Sequence[Setting]) -> dict[str, Setting]:
    return {s.name: s for s in settings}


def _value(setting: Setting | None) -> dict[str, Any]:
    return setting.value if setting is not None and isinstance(setting.value, dict) else {}


def _ownership_step(
    conn: Connection, bucket: str, current: Setting | None, *, keep_acls: bool, acl_sample: int, notes: list[str]
) -> HardenStep | None:
    if is_unsupported(current):
        return None
    rules = _value(current).get("OwnershipControls", {}).get("Rules", [])
    value = rules[0].get("ObjectOwnership") if rules else ("ObjectWriter" if current and current.state != "unknown" else None)
    if value == OWNER_ENFORCED:
        return None
    if keep_acls:
        notes.append("object ownership left as it is (--keep-acls): ACLs stay enabled")
        return None
    sample = sample_acls(conn, bucket, limit=acl_sample)
    if sample.findings:
        shown = "; ".join(sample.findings[:5]) + (f"; and {len(sample.findings) - 5} more" if len(sample.findings) > 5 else "")
        raise SafetyRefusal(
            f"refusing to disable ACLs on s3://{bucket}: {shown}. With Object Ownership = BucketOwnerEnforced every ACL "
            "is ignored and the bucket owner owns every object, so these grants would stop working; nothing was changed",
            hint=f"make the objects private first ('s3safe acl set private -r s3://{bucket}/') and grant access with a "
            "bucket policy, or rerun with --keep-acls to harden everything else",
        )
    if not sample.complete:
        notes.append(f"checked the ACLs of the first {sample.checked} objects only (--acl-sample); none grants to others")

    def run() -> None:
        client = conn.client_for(bucket)
        client.put_bucket_ownership_controls(Bucket=bucket, OwnershipControls={"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]})

    return HardenStep("object ownership", value or "unknown", f"{OWNER_ENFORCED} (ACLs disabled)", run)


def _steps(conn: Connection, bucket: str, before: dict[str, Setting], *, versioning: bool, keep_acls: bool,
           acl_sample: int, notes: list[str]) -> list[HardenStep]:  # fmt: skip
    client = conn.client_for(bucket)
    steps: list[HardenStep] = []
    ownership = _ownership_step(conn, bucket, before.get("object ownership"), keep_acls=keep_acls, acl_sample=acl_sample, notes=notes)
    if ownership:
        steps.append(ownership)

    encryption = before.get("default encryption")
    rules = _value(encryption).get("ServerSideEncryptionConfiguration", {}).get("Rules", [])
    algorithms = [r.get("ApplyServerSideEncryptionByDefault", {}).get("SSEAlgorithm") for r in rules]
    if is_unsupported(encryption):
        pass
    elif encryption is not None and encryption.state == "unknown":
        notes.append(f"default encryption left alone: {encryption.summary}")
    elif any(a in KMS_ALGORITHMS for a in algorithms):
        notes.append("default encryption already uses KMS; kept")
    elif "AES256" not in algorithms:
        steps.append(HardenStep("default encryption", encryption.summary if encryption else "none", "AES256", lambda: client.put_bucket_encryption(
            Bucket=bucket,
            ServerSideEncryptionConfiguration={"Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]},
        )))  # fmt: skip

    if not is_unsupported(before.get("policy")):
        steps += _policy_steps(conn, bucket, notes)

    status = _value(before.get("versioning")).get("Status")
    if versioning and status != "Enabled":
        steps.append(HardenStep("versioning", status or "never enabled", "Enabled", lambda: client.put_bucket_versioning(
            Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})))  # fmt: skip
    elif not versioning and status != "Enabled":
        notes.append("versioning is off; add --versioning to keep overwritten and deleted objects recoverable")

    # last: a public policy could not be changed once BlockPublicPolicy is on
    block = before.get("block public access")
    conf = _value(block).get("PublicAccessBlockConfiguration", {})
    if not is_unsupported(block) and not all(conf.get(k) for k in BLOCK_ALL):
        steps.append(HardenStep("block public access", block.summary if block else "not set", "all four settings on",
                                lambda: client.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration=BLOCK_ALL)))  # type: ignore[arg-type]  # fmt: skip
    return steps


def _policy_steps(conn: Connection, bucket: str, notes: list[str]) -> list[HardenStep]:
    current = read_policy(conn, bucket)
    proposed = merge(current, require_tls(bucket))
    if not diff(current, proposed):
        return []
    validate(proposed, bucket)
    count = len(current.get("Statement", [])) if current else 0
    if conn.settings.uses_http:
        notes.append("you are connected over plain HTTP, which the TLS-only statement denies on AWS")
    return [HardenStep("policy", f"{count} statement(s) without a TLS-only rule", "denies plain-HTTP requests (S3SafeDenyInsecureTransport)",
                       lambda: write_policy(conn, bucket, proposed))]  # fmt: skip


def _execute(bucket: str, batch: Sequence[HardenStep]) -> list[ActionResult]:
    out = []
    for step in batch:
        try:
            with translated(f"change {step.name} of", bucket=bucket):
                step.run()
        except S3SafeError as exc:
            out.append(ActionResult("harden", f"s3://{bucket} {step.name}", ok=False, error=str(exc)))
            continue
        out.append(ActionResult("harden", f"s3://{bucket} {step.name}", detail=step.after))
    return out


def plan_harden(
    conn: Connection, url: S3Url, *, versioning: bool = False, keep_acls: bool = False,
    acl_sample: int = DEFAULT_ACL_SAMPLE, gate: SafetyGate,
) -> HardenPlan:  # fmt: skip
    bucket = bucket_of(url, "harden")
    if acl_sample < 0:
        raise UsageError("--acl-sample must be zero or more")
    admin = BucketAdmin(conn)
    before = admin.info(bucket)
    unsupported = [s.name for s in before if is_unsupported(s) and s.name in REPORTED]
    notes = [f"{name}: {UNSUPPORTED}; left as it is" for name in unsupported]
    steps = _steps(conn, bucket, _by_name(before), versioning=versioning, keep_acls=keep_acls, acl_sample=acl_sample, notes=notes)
    results = gate.apply("harden", steps, lambda batch: _execute(bucket, batch), describe=lambda s: f"s3://{bucket} {s.describe()}")
    return HardenPlan(bucket, before, steps, notes, results, lambda: admin.info(bucket), unsupported=unsupported)


def report_rows(before: Sequence[Setting], after: Sequence[Setting] | None) -> list[tuple[str, str, str]]:
    """(setting, before, after) for the settings harden touches; after None = unchanged."""
    b = _by_name(before)
    a = _by_name(after) if after is not None else b
    return [(name, b[name].summary if name in b else "-", a[name].summary if name in a else "-") for name in REPORTED]
