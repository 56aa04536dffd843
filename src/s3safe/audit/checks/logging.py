"""Server access logging: is it on, and are the logs it writes ever expired."""

from __future__ import annotations

from s3safe.audit.checks._base import bucket_check
from s3safe.audit.facts import AuditContext, BucketFacts, Unknown
from s3safe.audit.model import Check, Finding, Severity, shell_url

DEFAULT_RETAIN_DAYS = 365


def logging_target(facts: BucketFacts) -> tuple[str, str] | None:
    enabled = facts.value("logging").get("LoggingEnabled")
    if not isinstance(enabled, dict):
        return None
    return str(enabled.get("TargetBucket")), str(enabled.get("TargetPrefix", ""))


@bucket_check(
    "bucket-logging-off", "Server access logging is off", severity=Severity.MEDIUM,
    why="Without access logs there is no record of who read, wrote or deleted what: a leak or a break-in cannot be "
    "noticed, scoped or proven afterwards.",
    fixable=True,
)  # fmt: skip
def logging_off(check: Check, facts: BucketFacts, ctx: AuditContext) -> list[Finding]:
    if logging_target(facts) is not None:
        return []
    fix = f"s3safe logging enable s3://{facts.name} --target s3://LOGBUCKET/ --retain-days {DEFAULT_RETAIN_DAYS}"
    return [check.finding(facts.name, "server access logging is off", fix=fix)]


@bucket_check(
    "bucket-log-retention", "Access logs are kept forever", severity=Severity.LOW,
    why="Access logs without an expiry grow and are billed without end, and they hold request details (addresses, keys, "
    "user agents) that privacy rules say not to keep longer than needed.",
    fixable=True,
)  # fmt: skip
def log_retention(check: Check, facts: BucketFacts, ctx: AuditContext) -> list[Finding]:
    target = logging_target(facts)
    if target is None:
        return []
    status = ctx.logging_status(facts.name)
    problems = [n for n in status.notes if n.startswith("cannot check the target")]
    if problems:
        raise Unknown(f"log retention: {problems[0]}")
    if status.retention_days is not None:
        return []
    bucket, prefix = target
    fix = f"s3safe logging enable s3://{facts.name} --target {shell_url(bucket, prefix)} --retain-days {DEFAULT_RETAIN_DAYS}"
    found = f"access logs go to s3://{bucket}/{prefix} and no lifecycle rule expires them"
    return [check.finding(facts.name, found, fix=fix, data={"target": bucket, "prefix": prefix})]


@bucket_check(
    "bucket-activity-unrecorded", "Object-level activity is recorded nowhere", severity=Severity.MEDIUM,
    why="With neither server access logs nor CloudTrail data events, no record says who read, wrote or deleted which "
    "object: after a leak nobody can tell what was taken, by whom or since when.",
    fixable=False,
)  # fmt: skip
def activity_unrecorded(check: Check, facts: BucketFacts, ctx: AuditContext) -> list[Finding]:
    from s3safe.ops.trail import coverage

    if logging_target(facts) is not None:
        return []
    region = facts.region or ctx.conn.default_region
    status = coverage(facts.name, ctx.trails(region), region=region)
    if status.recorded_by:
        return []
    stopped = f"; trail {status.stopped[0].trail} would record it but is not logging" if status.stopped else ""
    fix = (f"s3safe trail enable s3://{facts.name} --target s3://LOGBUCKET/ (CloudTrail data events), or "
           f"s3safe logging enable s3://{facts.name} --target s3://LOGBUCKET/ --retain-days {DEFAULT_RETAIN_DAYS}")  # fmt: skip
    return [check.finding(facts.name, f"no server access logs and no CloudTrail trail records its object-level events{stopped}", fix=fix)]


CHECKS = [logging_off, log_retention, activity_unrecorded]
