"""Who can reach the bucket: Block Public Access, the bucket ACL, and Object Ownership (ACLs on or off)."""

from __future__ import annotations

from s3safe.audit.checks._base import bucket_check
from s3safe.audit.facts import AuditContext, BucketFacts, Unknown
from s3safe.audit.model import Check, Finding, Severity
from s3safe.storage.buckets import BLOCK_ALL, OWNER_ENFORCED

PUBLIC_GROUPS = ("AllUsers", "AuthenticatedUsers")
WRITE_PERMISSIONS = ("WRITE", "WRITE_ACP", "FULL_CONTROL")


def block_settings(facts: BucketFacts) -> dict[str, bool]:
    conf = facts.value("block public access").get("PublicAccessBlockConfiguration", {})
    return {name: bool(conf.get(name)) for name in BLOCK_ALL}


@bucket_check(
    "bucket-public-access-block", "Block Public Access is not fully on", severity=Severity.HIGH,
    why="Block Public Access is the safety net that overrides any public ACL or bucket policy, including one set by "
    "mistake or by a compromised tool tomorrow; with any of its four settings off, one wrong grant exposes data.",
    fixable=True,
)  # fmt: skip
def public_access_block(check: Check, facts: BucketFacts, ctx: AuditContext) -> list[Finding]:
    settings = block_settings(facts)
    off = [name for name, on in settings.items() if not on]
    if not off:
        return []
    found = (
        "Block Public Access is not configured" if len(off) == len(BLOCK_ALL) else f"Block Public Access: {', '.join(off)} off"
    )
    return [check.finding(facts.name, found, fix=f"s3safe harden s3://{facts.name}")]


@bucket_check(
    "bucket-acl-public", "Bucket ACL grants access to everyone", severity=Severity.HIGH,
    why="A bucket ACL grant to AllUsers (anyone on the internet) or AuthenticatedUsers (anyone with any AWS account) "
    "lets strangers list or, with WRITE, fill and overwrite the bucket.",
    fixable=True,
)  # fmt: skip
def bucket_acl_public(check: Check, facts: BucketFacts, ctx: AuditContext) -> list[Finding]:
    if not facts.acls_enabled:
        return []  # ACLs are disabled: they grant nothing whatever they say
    if facts.acl is None:
        raise Unknown("bucket acl: could not be read")
    grants = [g for g in facts.acl.grants if g.grantee in PUBLIC_GROUPS]
    if not grants:
        return []
    severity = Severity.CRITICAL if any(g.permission in WRITE_PERMISSIONS for g in grants) else Severity.HIGH
    found = "bucket ACL grants " + ", ".join(f"{g.permission} to {g.grantee}" for g in grants)
    if block_settings(facts)["IgnorePublicAcls"]:
        found += " (ignored while Block Public Access IgnorePublicAcls is on)"
    return [check.finding(facts.name, found, fix=f"s3safe acl set private s3://{facts.name}", severity=severity)]


@bucket_check(
    "bucket-acls-enabled", "Object Ownership is not BucketOwnerEnforced (ACLs enabled)", severity=Severity.MEDIUM,
    why="With ACLs enabled every object can carry its own grants, objects uploaded by other accounts stay theirs, and "
    "one public-read upload is enough to expose a file; BucketOwnerEnforced turns ACLs off so that only policies decide.",
    fixable=True,
)  # fmt: skip
def acls_enabled(check: Check, facts: BucketFacts, ctx: AuditContext) -> list[Finding]:
    ownership = facts.ownership
    if ownership == OWNER_ENFORCED:
        return []
    return [
        check.finding(facts.name, f"Object Ownership is {ownership}: ACLs are enabled", fix=f"s3safe harden s3://{facts.name}")
    ]


CHECKS = [public_access_block, bucket_acl_public, acls_enabled]
