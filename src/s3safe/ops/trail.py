"""`trail enable|status|disable`: CloudTrail data events (object-level API calls) for one bucket.

enable: one trail (default `s3safe-data-events`, reused for every bucket) gets an advanced event selector
per bucket; its log bucket is created hardened (the `mb` code path) when missing, CloudTrail is granted
delivery by bucket-policy statements limited to the trail (merged), a lifecycle rule expires the logs
(merged into the existing rules), and logging is started last. The cost model is part of the plan, shown
before anything is created; every change is a step through the SafetyGate (`--dry-run`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from s3safe.core.errors import NotFoundError, UsageError
from s3safe.core.locations import S3Url
from s3safe.core.safety import SafetyGate
from s3safe.ops.access_logging import LoggingPlan, LogStep, _run_steps, read_lifecycle
from s3safe.ops.buckets import make_bucket
from s3safe.ops.policy import bucket_of, read_policy, write_policy
from s3safe.security.log_delivery import merge_retention, retention_rule
from s3safe.security.policy_templates import diff, merge, validate
from s3safe.security.trail_policy import (
    Coverage,
    bucket_selector,
    cost_lines,
    covering,
    delivery_statements,
    selector_name,
    superseded_delivery,
)
from s3safe.storage.buckets import BucketAdmin
from s3safe.storage.connection import Connection
from s3safe.storage.identity import caller_identity
from s3safe.storage.trail import TrailInfo, Trails, put_lifecycle

DEFAULT_TRAIL = "s3safe-data-events"
# CloudTrail's naming rules (CreateTrail): 3-128 characters, ASCII letters, digits, '.', '_', '-', beginning
# and ending with a letter or digit, and no '..', '._', '_.', '-_' or '_-' (checked apart)
TRAIL_NAME = re.compile(r"(?!.*(?:\.\.|\._|_\.|-_|_-))[A-Za-z0-9][A-Za-z0-9._-]{1,126}[A-Za-z0-9]")


@dataclass(frozen=True)
class TrailRequest:
    target: S3Url | None = None  # s3://LOGBUCKET/prefix/ (needed when the trail does not exist yet)
    retain_days: int | None = 365
    trail: str = DEFAULT_TRAIL
    account: str | None = None


@dataclass
class TrailPlan(LoggingPlan):
    cost: list[str] = field(default_factory=list)


def _account(conn: Connection, account: str | None) -> str:
    found = account or (identity.account if (identity := caller_identity(conn)) else None)
    if not found:
        raise UsageError("cannot tell the account id, which the log bucket's grant names", hint="pass --account ID")
    return found


def _log_bucket_steps(conn: Connection, request: TrailRequest, *, region: str, trail_arn: str, account: str,
                      steps: list[LogStep], notes: list[str]) -> None:  # fmt: skip
    assert request.target is not None
    target, prefix = request.target.bucket, request.target.key.strip("/")
    try:
        BucketAdmin(conn).exists(target)
        exists = True
    except NotFoundError:
        exists = False
    if not exists:
        steps.append(LogStep("create-bucket", f"s3://{target} in {region}, hardened (mb)", lambda: make_bucket(conn, S3Url(target), region=region)))
    current = read_policy(conn, target) if exists else None
    statements = delivery_statements(target, prefix, trail_arn=trail_arn, account=account)
    proposed = merge(current, statements, supersedes=lambda st: superseded_delivery(st, trail_arn=trail_arn, statements=statements))
    validate(proposed, target)
    if diff(current, proposed):
        steps.append(LogStep("grant-cloudtrail-delivery", f"s3://{target} policy lets CloudTrail write {prefix + '/' if prefix else ''}AWSLogs/{account}/* "
                             "for this trail only", lambda: write_policy(conn, target, proposed)))  # fmt: skip
    if request.retain_days is None:
        notes.append("no --retain-days: CloudTrail logs are kept until deleted")
        return
    log_prefix = f"{prefix}/AWSLogs/" if prefix else "AWSLogs/"
    rule = retention_rule(log_prefix, request.retain_days)
    rules, extra = read_lifecycle(conn, target) if exists else ([], {})
    merged = merge_retention(rules, rule)
    if merged != rules:
        steps.append(LogStep("log-retention", f"s3://{target}/{log_prefix} expires after {request.retain_days} days ({rule['ID']}; "
                             f"{len(merged) - 1} other rule(s) kept)", lambda: put_lifecycle(conn, target, merged, extra)))  # fmt: skip


def _validate(request: TrailRequest) -> None:
    """Before anything is written: a name CloudTrail would refuse must not leave a grant and a rule behind."""
    if not TRAIL_NAME.fullmatch(request.trail):
        raise UsageError(f"trail name {request.trail!r} is not one CloudTrail accepts",
                         hint="3-128 letters, digits, '.', '_' or '-', beginning and ending with a letter or digit, no '..', '._' or '-_'")  # fmt: skip
    if request.account is not None and not re.fullmatch(r"\d{12}", request.account):
        raise UsageError(f"--account {request.account!r} is not a 12-digit AWS account id")
    if request.retain_days is not None and request.retain_days < 1:
        raise UsageError(f"--retain-days must be 1 or more, not {request.retain_days}")


def plan_enable(conn: Connection, url: S3Url, request: TrailRequest, *, gate: SafetyGate) -> TrailPlan:
    _validate(request)
    bucket = bucket_of(url, "trail enable")
    BucketAdmin(conn).exists(bucket)
    region = conn.bucket_region(bucket)
    trails = Trails(conn, region=region)
    existing = trails.get(request.trail)
    steps: list[LogStep] = []
    notes: list[str] = []
    if existing is None:
        if request.target is None:
            raise UsageError(f"trail {request.trail!r} does not exist yet: say where it writes", hint="add --target s3://LOGBUCKET/prefix/")
        if request.target.bucket == bucket:
            raise UsageError(f"s3://{bucket} cannot hold its own CloudTrail logs", hint="each log write would be an event again; choose another bucket")
        account = _account(conn, request.account)
        arn = f"arn:aws:cloudtrail:{region}:{account}:trail/{request.trail}"
        _log_bucket_steps(conn, request, region=region, trail_arn=arn, account=account, steps=steps, notes=notes)
        target, prefix = request.target.bucket, request.target.key.strip("/")
        steps.append(LogStep("create-trail", f"trail {request.trail} in {region} writes to s3://{target}/{prefix}, log file validation on",
                             lambda: trails.create(request.trail, bucket=target, prefix=prefix)))  # fmt: skip
        advanced: list[dict[str, Any]] = []
    else:
        if request.target is not None and (request.target.bucket, request.target.key.strip("/")) != (existing.bucket, existing.prefix.strip("/")):
            notes.append(f"trail {existing.name} already writes to s3://{existing.bucket}/{existing.prefix}: --target is not used")
        if existing.basic and not existing.advanced:
            raise UsageError(f"trail {existing.name} uses basic event selectors, which s3safe does not rewrite",
                             hint="choose another trail with --trail NAME")  # fmt: skip
        if (found := covering(bucket, trail=existing.name, basic=existing.basic, advanced=existing.advanced)) is not None and existing.logging:
            return TrailPlan(bucket, existing.bucket, existing.prefix, [], [f"already recorded by {found.trail} ({found.selector})"], iter(()))
        advanced = [s for s in existing.advanced if s.get("Name") != selector_name(bucket)]
    selectors = [*advanced, bucket_selector(bucket)]
    steps.append(LogStep("event-selector", f"trail {request.trail} records every object-level event of s3://{bucket} "
                         f"(resources.ARN StartsWith arn:aws:s3:::{bucket}/; {len(advanced)} other selector(s) kept)",
                         lambda: trails.put_advanced(request.trail, selectors)))  # fmt: skip
    if existing is None or not existing.logging:
        steps.append(LogStep("start-logging", f"trail {request.trail} starts logging", lambda: trails.start(request.trail)))
    writes_to = existing.bucket if existing is not None else request.target.bucket if request.target else None
    return TrailPlan(bucket, writes_to, None, steps, notes, _run_steps(steps, gate), cost=cost_lines(bucket))


def plan_disable(conn: Connection, url: S3Url, *, trail: str = DEFAULT_TRAIL, gate: SafetyGate) -> TrailPlan:
    bucket = bucket_of(url, "trail disable")
    trails = Trails(conn, region=conn.bucket_region(bucket))
    existing = trails.get(trail)
    if existing is None or not any(s.get("Name") == selector_name(bucket) for s in existing.advanced):
        return TrailPlan(bucket, None, None, [], [], iter(()))
    remaining = [s for s in existing.advanced if s.get("Name") != selector_name(bucket)]
    notes = [f"logs already written stay in s3://{existing.bucket}/{existing.prefix}"]
    steps: list[LogStep]
    if remaining:
        steps = [LogStep("event-selector", f"trail {trail} stops recording s3://{bucket} ({len(remaining)} other selector(s) kept)",
                         lambda: trails.put_advanced(trail, remaining))]  # fmt: skip
    else:
        steps = [LogStep("stop-logging", f"trail {trail} recorded only s3://{bucket}: it stops logging (trail and selector kept)",
                         lambda: trails.stop(trail))]  # fmt: skip
    return TrailPlan(bucket, existing.bucket, existing.prefix, steps, notes, _run_steps(steps, gate))


@dataclass(frozen=True)
class TrailStatus:
    bucket: str
    recorded_by: tuple[Coverage, ...]  # logging trails whose selectors record every object event of the bucket
    stopped: tuple[Coverage, ...]  # trails that would, but are not logging

    def to_dict(self) -> dict[str, Any]:
        return {"type": "trail", "bucket": self.bucket, "recorded": bool(self.recorded_by),
                "trails": [{"trail": c.trail, "selector": c.selector} for c in self.recorded_by],
                "stopped": [{"trail": c.trail, "selector": c.selector} for c in self.stopped]}  # fmt: skip


def coverage(bucket: str, trails: list[TrailInfo], *, region: str) -> TrailStatus:
    recorded: list[Coverage] = []
    stopped: list[Coverage] = []
    for t in trails:
        if not (t.multi_region or t.home_region == region):
            continue
        found = covering(bucket, trail=t.name, basic=t.basic, advanced=t.advanced)
        if found is not None:
            (recorded if t.logging else stopped).append(found)
    return TrailStatus(bucket, tuple(recorded), tuple(stopped))


def trail_status(conn: Connection, url: S3Url) -> TrailStatus:
    bucket = bucket_of(url, "trail status")
    region = conn.bucket_region(bucket)
    return coverage(bucket, Trails(conn, region=region).all(), region=region)


__all__ = ["DEFAULT_TRAIL", "TrailPlan", "TrailRequest", "TrailStatus", "coverage", "plan_disable", "plan_enable", "trail_status"]
