"""`logging enable|status|disable`: S3 server access logging with a policy grant and a retention rule.

enable: the target bucket is created hardened (the `mb` code path) or checked (same region, not the source,
SSE-S3 and no default object-lock retention, which S3 log delivery requires), the logging service is granted
through the target's bucket policy (merged, limited by aws:SourceArn / aws:SourceAccount), a lifecycle rule
expiring the log prefix is merged into the target's existing rules, and logging is switched on last, so
the first log object already finds its permissions. Every change is a step through the SafetyGate.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from s3safe.core.errors import NotFoundError, S3SafeError, UsageError
from s3safe.core.locations import S3Url
from s3safe.core.models import ActionResult
from s3safe.core.safety import SafetyGate
from s3safe.ops.buckets import make_bucket
from s3safe.ops.policy import bucket_of, read_policy, write_policy
from s3safe.security.log_delivery import LOGGING_SERVICE, log_delivery_statement, merge_retention, retention_rule
from s3safe.security.policy_conditions import PolicyError
from s3safe.security.policy_eval import evaluate, s3_request
from s3safe.security.policy_summary import summarize_statement
from s3safe.security.policy_templates import diff, merge, validate
from s3safe.storage.buckets import OWNER_ENFORCED, BucketAdmin, Setting, read_optional
from s3safe.storage.connection import Connection
from s3safe.storage.errors import translated
from s3safe.storage.identity import caller_identity

KMS_ALGORITHMS = ("aws:kms", "aws:kms:dsse")


@dataclass(frozen=True)
class LogStep:
    name: str
    detail: str
    run: Callable[[], Any] = field(repr=False, compare=False)


@dataclass
class LoggingPlan:
    source: str
    target: str | None
    prefix: str | None
    steps: list[LogStep]
    notes: list[str]
    results: Iterator[ActionResult]


def read_logging(conn: Connection, bucket: str) -> dict[str, Any] | None:
    """The source bucket's LoggingEnabled element, or None when logging is off."""
    with translated("read the logging configuration of", bucket=bucket):
        response = conn.client_for(bucket).get_bucket_logging(Bucket=bucket)
    enabled = response.get("LoggingEnabled")
    return dict(enabled) if enabled else None


def read_lifecycle(conn: Connection, bucket: str) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """(rules, extra top-level parameters to send back unchanged); ([], {}) when there is no configuration."""
    client = conn.client_for(bucket)
    response = read_optional(lambda: client.get_bucket_lifecycle_configuration(Bucket=bucket),
                             absent_codes=("NoSuchLifecycleConfiguration",), action="read the lifecycle rules of", bucket=bucket)  # fmt: skip
    if response is None:
        return [], {}
    extra = {k: v for k, v in response.items() if k == "TransitionDefaultMinimumObjectSize"}
    return [dict(r) for r in response.get("Rules", [])], extra


def _delivery_probe(policy: dict[str, Any] | None, target: str, prefix: str, source: str, account: str | None) -> tuple[bool, str]:
    extra: dict[str, object] = {"aws:SourceArn": f"arn:aws:s3:::{source}"}
    if account:
        extra["aws:SourceAccount"] = account
    request = s3_request("s3:PutObject", target, f"{prefix}s3safe-probe", principal=LOGGING_SERVICE, extra=extra)
    result = evaluate(policy, request)
    statements = (policy or {}).get("Statement", [])
    if result.statement_index is not None and isinstance(statements, list):
        return result.allowed, summarize_statement(statements[result.statement_index])
    return result.allowed, result.explanation


def _check_existing_target(conn: Connection, source: str, target: str, notes: list[str]) -> None:
    admin = BucketAdmin(conn)
    if conn.bucket_region(target) != conn.bucket_region(source):
        raise UsageError(
            f"target s3://{target} is in {conn.bucket_region(target)}, the source s3://{source} in {conn.bucket_region(source)}",
            hint="S3 delivers access logs only to a bucket in the same region",
        )
    settings: dict[str, Setting] = {s.name: s for s in admin.info(target)}
    encryption = settings.get("default encryption")
    if encryption is not None and any(a in encryption.summary for a in KMS_ALGORITHMS):
        raise UsageError(
            f"target s3://{target} encrypts with KMS by default; S3 delivers access logs only to buckets using SSE-S3 (AES256)",
            hint="choose another target or switch its default encryption to AES256",
        )
    lock = settings.get("object lock")
    if lock is not None and "default" in lock.summary:
        raise UsageError(f"target s3://{target} has a default object-lock retention, which S3 log delivery does not support")
    block = settings.get("block public access")
    if block is None or block.summary != "all four settings on":
        notes.append(f"target s3://{target} does not block all public access; run 's3safe harden s3://{target}'")
    ownership = settings.get("object ownership")
    if ownership is None or not ownership.summary.startswith(OWNER_ENFORCED):
        notes.append(f"target s3://{target} has ACLs enabled; log objects are governed by its ACLs too")


def _run_steps(steps: Sequence[LogStep], gate: SafetyGate) -> Iterator[ActionResult]:
    failed: list[str] = []

    def execute(batch: Sequence[LogStep]) -> list[ActionResult]:
        out = []
        for step in batch:
            if failed:
                out.append(ActionResult(step.name, step.detail, ok=False, error=f"skipped: {failed[0]} failed"))
                continue
            try:
                step.run()
            except S3SafeError as exc:
                failed.append(step.name)
                out.append(ActionResult(step.name, step.detail, ok=False, error=str(exc)))
                continue
            out.append(ActionResult(step.name, step.detail))
        return out

    return gate.apply("apply", steps, execute, describe=lambda s: f"{s.name}: {s.detail}")


def plan_enable(
    conn: Connection, url: S3Url, target_url: S3Url, *, retain_days: int | None = None,
    source_account: str | None = None, gate: SafetyGate,
) -> LoggingPlan:  # fmt: skip
    source = bucket_of(url, "logging enable")
    target = target_url.bucket
    if target == source:
        raise UsageError(f"s3://{source} cannot hold its own access logs", hint="each log write would be logged again; choose another bucket")
    prefix = target_url.key or f"{source}/"
    rule = retention_rule(prefix, retain_days) if retain_days is not None else None  # validates the days first
    admin = BucketAdmin(conn)
    admin.exists(source)
    notes: list[str] = []
    steps: list[LogStep] = []
    try:
        admin.exists(target)
        exists = True
    except NotFoundError:
        exists = False
    if exists:
        _check_existing_target(conn, source, target, notes)
    else:
        region = conn.bucket_region(source)
        steps.append(LogStep("create-bucket", f"s3://{target} in {region}, hardened (mb)", lambda: make_bucket(conn, S3Url(target), region=region)))

    account = source_account or (identity.account if (identity := caller_identity(conn)) else None)
    if account is None:
        notes.append("could not tell the account id; the grant is limited by the source bucket ARN only (pass --source-account)")
    statement = log_delivery_statement(target, prefix, source, account)
    current = read_policy(conn, target) if exists else None
    proposed = merge(current, [statement])
    validate(proposed, target)
    try:
        allowed, why = _delivery_probe(proposed, target, prefix, source, account)
    except PolicyError as exc:
        raise UsageError(f"cannot check the policy of s3://{target}: {exc}") from None
    if not allowed:
        raise UsageError(
            f"the policy of s3://{target} would still refuse log delivery: {why}",
            hint="exempt AWS services from that statement, or choose another target",
        )
    if diff(current, proposed):
        steps.append(LogStep("grant-log-delivery", f"s3://{target} policy allows {LOGGING_SERVICE} to write {prefix}*",
                             lambda: write_policy(conn, target, proposed)))  # fmt: skip

    if rule is not None:
        rules, extra = read_lifecycle(conn, target) if exists else ([], {})
        merged = merge_retention(rules, rule)
        if merged != rules:

            def put_rules() -> None:
                with translated("set the lifecycle rules of", bucket=target):
                    conn.client_for(target).put_bucket_lifecycle_configuration(
                        Bucket=target, LifecycleConfiguration={"Rules": merged}, **extra  # type: ignore[typeddict-item]
                    )

            kept = len(merged) - 1
            steps.append(LogStep("log-retention", f"s3://{target}/{prefix} expires after {retain_days} days ({rule['ID']}; {kept} other rule(s) kept)", put_rules))
    else:
        notes.append("no --retain-days: access logs are kept until deleted")

    enabled = read_logging(conn, source)
    if not enabled or enabled.get("TargetBucket") != target or enabled.get("TargetPrefix", "") != prefix:
        status = {"LoggingEnabled": {"TargetBucket": target, "TargetPrefix": prefix}}
        was = f" (was s3://{enabled.get('TargetBucket')}/{enabled.get('TargetPrefix', '')})" if enabled else ""

        def put_logging() -> None:
            with translated("enable access logging of", bucket=source):
                conn.client_for(source).put_bucket_logging(Bucket=source, BucketLoggingStatus=status)  # type: ignore[arg-type]

        steps.append(LogStep("enable-logging", f"s3://{source} logs to s3://{target}/{prefix}{was}", put_logging))
    return LoggingPlan(source, target, prefix, steps, notes, _run_steps(steps, gate))


def plan_disable(conn: Connection, url: S3Url, *, gate: SafetyGate) -> LoggingPlan:
    source = bucket_of(url, "logging disable")
    enabled = read_logging(conn, source)
    if not enabled:
        return LoggingPlan(source, None, None, [], [], iter(()))
    target, prefix = str(enabled.get("TargetBucket")), str(enabled.get("TargetPrefix", ""))

    def put_off() -> None:
        with translated("disable access logging of", bucket=source):
            conn.client_for(source).put_bucket_logging(Bucket=source, BucketLoggingStatus={})

    steps = [LogStep("disable-logging", f"s3://{source} stops logging to s3://{target}/{prefix}", put_off)]
    notes = [f"logs already written stay in s3://{target}/{prefix}; the target's policy grant and lifecycle rule are kept"]
    return LoggingPlan(source, target, prefix, steps, notes, _run_steps(steps, gate))


@dataclass(frozen=True)
class LoggingStatus:
    bucket: str
    enabled: bool
    target_bucket: str | None = None
    target_prefix: str | None = None
    retention_days: int | None = None
    delivery_allowed: bool | None = None
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": "logging", "bucket": self.bucket, "enabled": self.enabled, "target_bucket": self.target_bucket,
            "target_prefix": self.target_prefix, "retention_days": self.retention_days,
            "delivery_allowed": self.delivery_allowed, "notes": list(self.notes),
        }  # fmt: skip


def _rule_prefix(rule: dict[str, Any]) -> str | None:
    flt = rule.get("Filter")
    if isinstance(flt, dict):
        if set(flt) <= {"Prefix"}:
            return str(flt.get("Prefix", ""))
        return None  # tag or size filters: not a plain retention rule
    prefix = rule.get("Prefix")
    return str(prefix) if isinstance(prefix, str) else None


def logging_status(conn: Connection, url: S3Url) -> LoggingStatus:
    source = bucket_of(url, "logging status")
    enabled = read_logging(conn, source)
    if not enabled:
        return LoggingStatus(source, False)
    target, prefix = str(enabled.get("TargetBucket")), str(enabled.get("TargetPrefix", ""))
    notes: list[str] = []
    days: int | None = None
    allowed: bool | None = None
    try:
        rules, _ = read_lifecycle(conn, target)
        covering = [
            int(r["Expiration"]["Days"]) for r in rules
            if r.get("Status") == "Enabled" and isinstance(r.get("Expiration"), dict) and "Days" in r["Expiration"]
            and (p := _rule_prefix(r)) is not None and prefix.startswith(p)
        ]  # fmt: skip
        days = min(covering) if covering else None
        if days is None:
            notes.append("no lifecycle rule expires the logs: they are kept until deleted")
        identity = caller_identity(conn)
        allowed, why = _delivery_probe(read_policy(conn, target), target, prefix, source, identity.account if identity else None)
        if not allowed:
            notes.append(f"the target's policy does not let {LOGGING_SERVICE} write there: {why}")
    except (S3SafeError, PolicyError) as exc:
        notes.append(f"cannot check the target s3://{target}: {exc}")
    return LoggingStatus(source, True, target, prefix, days, allowed, tuple(notes))


__all__ = ["LoggingPlan", "LoggingStatus", "logging_status", "plan_disable", "plan_enable"]
