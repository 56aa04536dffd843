"""`audit --fix`: turn fixable findings into the same library calls the commands make, plan first.

Every fix is one unit that stands for one s3safe command (`acl set private`, `policy remove`, `harden`,
`policy apply`, `logging enable`, and the lifecycle rule `audit --fix` adds itself). All units are planned
before any runs: each planning call reads the bucket and computes its steps, which is what the CLI shows.
The run then goes through one SafetyGate (so `--dry-run` stops here) and each unit plans again right
before it runs, because an earlier unit may have changed what it finds (ACLs made private before
`harden` disables ACLs, a policy statement removed before another is merged).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from s3safe.audit.batch_fix import BatchOptions, plan_batch, run_batch
from s3safe.audit.checks.logging import DEFAULT_RETAIN_DAYS
from s3safe.audit.checks.policy import SSE_C_KEY
from s3safe.audit.checks.protection import abort_rule
from s3safe.audit.model import AuditReport, Finding, shell_url
from s3safe.core.errors import S3SafeError, SafetyRefusal, UsageError
from s3safe.core.locations import S3Url
from s3safe.core.models import ActionResult
from s3safe.core.safety import SafetyGate
from s3safe.ops.access_logging import plan_enable, read_lifecycle
from s3safe.ops.acl import acl_set
from s3safe.ops.harden import plan_harden
from s3safe.ops.policy import ApplyRequest, plan_apply, plan_remove
from s3safe.security.log_delivery import merge_rules
from s3safe.storage.connection import Connection
from s3safe.storage.errors import translated

HARDEN_STEPS = {
    "block public access": "bucket-public-access-block",
    "object ownership": "bucket-acls-enabled",
    "default encryption": "bucket-default-encryption",
    "policy": "bucket-tls-not-required",
    "versioning": "bucket-versioning-off",
}
HARDEN_CHECKS = frozenset(HARDEN_STEPS.values())
SID_DENY_SSE_C = "S3SafeDenySseC"
PLAN_ONLY = SafetyGate(dry_run=True)  # planning calls compute their steps; nothing runs through this gate
RUN = SafetyGate()  # the outer gate already decided that this run is real


@dataclass(frozen=True)
class FixOptions:
    log_target: S3Url | None = None  # where `bucket-logging-off` fixes send logs (s3://LOGBUCKET/prefix/)
    log_retain_days: int = DEFAULT_RETAIN_DAYS
    batch: BatchOptions | None = None  # object ACLs fixed by one S3 Batch Operations job (audit --inventory --fix)


@dataclass
class FixUnit:
    bucket: str
    command: str  # the s3safe command this unit amounts to
    lines: list[str]  # what it will change
    findings: list[Finding]
    run: Callable[[], Iterator[ActionResult]] = field(repr=False)
    covers: Callable[[ActionResult], list[str]] = field(repr=False)  # the finding ids a result settles

    def to_dict(self) -> dict[str, Any]:
        return {"type": "fix-plan", "bucket": self.bucket, "command": self.command, "changes": self.lines,
                "findings": [f.uid for f in self.findings]}  # fmt: skip


@dataclass
class FixPlan:
    units: list[FixUnit]
    notes: list[str]
    results: Iterator[ActionResult] = field(default_factory=lambda: iter(()))
    fixed: set[str] = field(default_factory=set)
    failed: set[str] = field(default_factory=set)

    @property
    def settled(self) -> frozenset[str]:
        """Findings that are fixed now: every result that covers them succeeded."""
        return frozenset(self.fixed - self.failed)


def _all(findings: Sequence[Finding]) -> Callable[[ActionResult], list[str]]:
    return lambda _: [f.uid for f in findings]


# --------------------------------------------------------------------------------------- unit builders


def _bucket_acl(conn: Connection, finding: Finding) -> FixUnit:
    bucket = finding.bucket
    return FixUnit(bucket, f"s3safe acl set private s3://{bucket}", [f"bucket ACL of s3://{bucket}: {finding.found} -> private"],
                   [finding], lambda: acl_set(conn, "private", S3Url(bucket), recursive=False, allow_public=False, gate=RUN),
                   _all([finding]))  # fmt: skip


def _object_acls(conn: Connection, bucket: str, *, findings: list[Finding]) -> FixUnit:
    by_url = {f.url: f.uid for f in findings}

    def run() -> Iterator[ActionResult]:
        for f in findings:
            yield from acl_set(conn, "private", S3Url(bucket, f.key or ""), recursive=False, allow_public=False, gate=RUN)

    lines = [f"{f.url}: {f.found} -> private" for f in findings]
    command = f"s3safe acl set private s3://{bucket}/KEY  (for each of {len(findings)} object(s))"
    return FixUnit(bucket, command, lines, findings, run, lambda r: [by_url[r.target]] if r.target in by_url else [])


def _batch_acls(conn: Connection, bucket: str, *, findings: list[Finding], options: BatchOptions, notes: list[str]) -> FixUnit:
    from s3safe.storage.identity import caller_identity

    account = options.account or (identity.account if (identity := caller_identity(conn)) else None)
    plan = plan_batch(bucket, findings, options, account=account)
    notes.append(f"s3://{bucket}: the objects are private once the Batch Operations job has run; "
                 "'s3safe jobs report JOB' reads its completion report back")  # fmt: skip
    command = f"S3 Batch Operations PutObjectAcl private job on {len(plan.keys)} object(s) of s3://{bucket}"
    # the job runs later, at AWS: no finding is settled by creating it
    return FixUnit(bucket, command, plan.lines(), findings, lambda: run_batch(conn, plan), lambda _: [])


def _policy_remove(conn: Connection, finding: Finding) -> FixUnit:
    bucket, sids = finding.bucket, list(finding.data.get("sids", []))
    plan = plan_remove(conn, S3Url(bucket), sids=sids, all_s3safe=False, gate=PLAN_ONLY)
    return FixUnit(bucket, finding.fix, plan.diff, [finding],
                   lambda: plan_remove(conn, S3Url(bucket), sids=sids, all_s3safe=False, gate=RUN).results, _all([finding]))  # fmt: skip


def _run_harden(conn: Connection, bucket: str, *, versioning: bool, keep_acls: bool) -> Iterator[ActionResult]:
    try:
        plan = plan_harden(conn, S3Url(bucket), versioning=versioning, keep_acls=keep_acls, gate=RUN)
    except SafetyRefusal as exc:
        if keep_acls:
            raise
        # ACLs still grant to others (objects not covered by this audit): harden the rest, leave ACLs on
        yield ActionResult("harden", f"s3://{bucket} object ownership", ok=False, error=str(exc))
        plan = plan_harden(conn, S3Url(bucket), versioning=versioning, keep_acls=True, gate=RUN)
    yield from plan.results


def _harden(conn: Connection, bucket: str, *, findings: list[Finding], acls_first: bool, notes: list[str]) -> FixUnit | None:
    ids = {f.check_id: f for f in findings}
    versioning = "bucket-versioning-off" in ids
    keep_acls = "bucket-acls-enabled" not in ids
    try:
        plan = plan_harden(conn, S3Url(bucket), versioning=versioning, keep_acls=keep_acls or acls_first, gate=PLAN_ONLY)
    except SafetyRefusal as exc:
        notes.append(f"s3://{bucket}: ACLs stay enabled: {exc}")
        keep_acls = True
        plan = plan_harden(conn, S3Url(bucket), versioning=versioning, keep_acls=True, gate=PLAN_ONLY)
    lines = [step.describe() for step in plan.steps]
    if acls_first and not keep_acls:
        lines.insert(0, "object ownership: -> BucketOwnerEnforced (ACLs disabled), once the ACLs above are private")
    lines += [f"note: {n}" for n in plan.notes if "--keep-acls" not in n]
    if not plan.steps and not (acls_first and not keep_acls):
        notes.append(f"s3://{bucket}: harden finds nothing to change for {', '.join(sorted(ids))}")
        return None
    acls_kept = any("--keep-acls" in n for n in plan.notes) or (keep_acls and acls_first)
    command = f"s3safe harden s3://{bucket}" + (" --versioning" if versioning else "") + (" --keep-acls" if acls_kept else "")

    def covers(result: ActionResult) -> list[str]:
        step = result.target.removeprefix(f"s3://{bucket} ")
        check = HARDEN_STEPS.get(step)
        return [ids[check].uid] if check in ids else []

    kept = list(ids.values())
    return FixUnit(
        bucket, command, lines, kept, lambda: _run_harden(conn, bucket, versioning=versioning, keep_acls=keep_acls), covers
    )


def deny_sse_c(bucket: str) -> dict[str, Any]:
    """Deny uploads that bring their own key (SSE-C): s3safe's policy statement for that."""
    condition = {"Null": {SSE_C_KEY: "false"}}
    return {"Sid": SID_DENY_SSE_C, "Effect": "Deny", "Principal": "*", "Action": "s3:PutObject",
            "Resource": f"arn:aws:s3:::{bucket}/*", "Condition": condition}  # fmt: skip


def _sse_c(conn: Connection, finding: Finding) -> FixUnit:
    bucket = finding.bucket
    request = ApplyRequest(statements=(deny_sse_c(bucket),))
    plan = plan_apply(conn, S3Url(bucket), request, PLAN_ONLY)
    lines = plan.diff or ["the policy already holds the statement"]
    command = f"s3safe policy apply s3://{bucket} (statement {SID_DENY_SSE_C})"
    return FixUnit(
        bucket, command, lines, [finding], lambda: plan_apply(conn, S3Url(bucket), request, RUN).results, _all([finding])
    )


def _put_abort_rule(conn: Connection, bucket: str) -> Iterator[ActionResult]:
    rules, extra = read_lifecycle(conn, bucket)
    merged = merge_rules(rules, abort_rule())
    if merged == rules:
        yield ActionResult("set-lifecycle", f"s3://{bucket}", detail="already present")
        return
    with translated("set the lifecycle rules of", bucket=bucket):
        configuration: Any = {"Rules": merged}
        conn.client_for(bucket).put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration=configuration, **extra)
    yield ActionResult("set-lifecycle", f"s3://{bucket}", detail=f"{abort_rule()['ID']} added, {len(rules)} rule(s) kept")


def _lifecycle(conn: Connection, finding: Finding) -> FixUnit:
    bucket = finding.bucket
    rules, _ = read_lifecycle(conn, bucket)
    rule = abort_rule()
    line = (f"lifecycle of s3://{bucket}: add rule {rule['ID']} (abort incomplete multipart uploads after "
            f"{rule['AbortIncompleteMultipartUpload']['DaysAfterInitiation']} days); {len(rules)} existing rule(s) kept")  # fmt: skip
    return FixUnit(bucket, finding.fix, [line], [finding], lambda: _put_abort_rule(conn, bucket), _all([finding]))


def _logging(conn: Connection, finding: Finding, *, target: S3Url, days: int) -> FixUnit:
    bucket = finding.bucket
    plan = plan_enable(conn, S3Url(bucket), target, retain_days=days, gate=PLAN_ONLY)
    lines = [f"{s.name}: {s.detail}" for s in plan.steps] + [f"note: {n}" for n in plan.notes]
    command = f"s3safe logging enable s3://{bucket} --target {shell_url(target.bucket, target.key)} --retain-days {days}"
    return FixUnit(bucket, command, lines, [finding],
                   lambda: plan_enable(conn, S3Url(bucket), target, retain_days=days, gate=RUN).results, _all([finding]))  # fmt: skip


# ------------------------------------------------------------------------------------------ planning


def _bucket_units(
    conn: Connection, bucket: str, *, findings: list[Finding], options: FixOptions, notes: list[str]
) -> list[FixUnit]:
    ids = {f.check_id: f for f in findings if f.key is None}
    objects = [f for f in findings if f.check_id == "object-acl-public"]
    builders: list[Callable[[], FixUnit | None]] = []
    if "bucket-acl-public" in ids:
        builders.append(lambda: _bucket_acl(conn, ids["bucket-acl-public"]))
    batch = options.batch
    if objects and batch is not None:
        builders.append(lambda: _batch_acls(conn, bucket, findings=objects, options=batch, notes=notes))
    elif objects:
        builders.append(lambda: _object_acls(conn, bucket, findings=objects))
    if "bucket-policy-public" in ids and ids["bucket-policy-public"].fixable:
        builders.append(lambda: _policy_remove(conn, ids["bucket-policy-public"]))
    harden = [f for f in ids.values() if f.check_id in HARDEN_CHECKS]
    if harden:
        acls_first = "bucket-acl-public" in ids or bool(objects)
        builders.append(lambda: _harden(conn, bucket, findings=harden, acls_first=acls_first, notes=notes))
    if "bucket-sse-c-not-blocked" in ids:
        builders.append(lambda: _sse_c(conn, ids["bucket-sse-c-not-blocked"]))
    if "bucket-abort-mpu-missing" in ids:
        builders.append(lambda: _lifecycle(conn, ids["bucket-abort-mpu-missing"]))
    if "bucket-log-retention" in ids:
        f = ids["bucket-log-retention"]
        target = S3Url(str(f.data["target"]), str(f.data["prefix"]))
        builders.append(lambda: _logging(conn, f, target=target, days=options.log_retain_days))
    if "bucket-logging-off" in ids:
        log_target = options.log_target
        if log_target is None:
            notes.append(f"s3://{bucket}: pass --log-target s3://LOGBUCKET/ to let --fix turn access logging on")
        elif log_target.bucket == bucket:
            notes.append(f"s3://{bucket}: not logging into itself (it is the --log-target)")
        else:
            base = log_target.key if not log_target.key or log_target.key.endswith("/") else log_target.key + "/"
            per_bucket = S3Url(log_target.bucket, f"{base}{bucket}/")  # one prefix per source bucket
            builders.append(lambda: _logging(conn, ids["bucket-logging-off"], target=per_bucket, days=options.log_retain_days))
    units = []
    for build in builders:
        try:
            unit = build()
        except S3SafeError as exc:
            notes.append(f"s3://{bucket}: cannot plan a fix: {exc}")
            continue
        if unit is not None:
            units.append(unit)
    return units


def _execute(plan: FixPlan, batch: Sequence[FixUnit]) -> Iterator[ActionResult]:
    for unit in batch:
        try:
            for result in unit.run():
                settled = unit.covers(result)
                (plan.fixed if result.ok else plan.failed).update(settled)
                yield result
        except S3SafeError as exc:
            plan.failed.update(f.uid for f in unit.findings)
            yield ActionResult("run", unit.command, ok=False, error=str(exc))


def plan_fixes(conn: Connection, report: AuditReport, *, options: FixOptions, gate: SafetyGate) -> FixPlan:
    """Plan a fix for every fixable finding; run them (through `gate`) by consuming `results`."""
    if not 1 <= options.log_retain_days <= 36_500:
        raise UsageError(f"--log-retain-days must be between 1 and 36500, not {options.log_retain_days}")
    notes: list[str] = []
    units: list[FixUnit] = []
    for result in report.buckets:
        fixable = [f for f in result.findings if f.fixable]
        if fixable:
            units += _bucket_units(conn, result.bucket, findings=fixable, options=options, notes=notes)
    plan = FixPlan(units, notes)
    plan.results = gate.apply("run", units, lambda batch: _execute(plan, batch), describe=lambda u: u.command)
    return plan


def unfixed(findings: Iterable[Finding], plan: FixPlan | None) -> list[Finding]:
    settled = plan.settled if plan is not None else frozenset()
    return [f for f in findings if f.uid not in settled]
