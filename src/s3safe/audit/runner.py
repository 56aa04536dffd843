"""`audit`: read every bucket's settings (buckets in parallel), run the checks, scan objects, plan fixes."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from s3safe.audit import checks as registry
from s3safe.audit.checks.objects import OBJECT_ACL_PUBLIC, OBJECT_NOT_ENCRYPTED
from s3safe.audit.facts import AuditContext, BucketFacts, Unknown, gather
from s3safe.audit.fixes import FixOptions, FixPlan, plan_fixes
from s3safe.audit.model import AuditReport, BucketResult, Check, sort_findings
from s3safe.audit.objects import ProgressFn, ScanOptions, scan_objects
from s3safe.core.concurrency import run_unordered
from s3safe.core.errors import S3SafeError, UsageError
from s3safe.core.locations import S3Url
from s3safe.core.safety import SafetyGate
from s3safe.ops.policy import bucket_of
from s3safe.storage.connection import Connection
from s3safe.storage.s3 import S3Storage

MAX_BUCKET_THREADS = 8
STATUS_SETTINGS = ("block public access", "object ownership", "default encryption", "versioning", "object lock", "logging")


@dataclass(frozen=True)
class AuditRequest:
    urls: tuple[S3Url, ...] = ()
    all_buckets: bool = False
    objects: bool = False  # also check every object (ACL, SSE, client-side marker)
    sample: int | None = None  # check only N objects per bucket
    resume: bool = False  # continue an interrupted object scan
    checks: tuple[str, ...] = ()  # only these check ids (all when empty)
    inventory: bool = False  # run the object checks on the newest S3 Inventory report instead
    inventory_manifest: S3Url | None = None  # that report's manifest.json (default: found from the configuration)
    inventory_id: str | None = None  # the inventory configuration to read (default: the newest report of any)


@dataclass
class AuditOutcome:
    report: AuditReport
    fixes: FixPlan | None = None
    notes: list[str] = field(default_factory=list)


def _buckets(conn: Connection, request: AuditRequest) -> list[str]:
    if request.all_buckets and request.urls:
        raise UsageError("give bucket URLs or --all, not both")
    if request.all_buckets:
        return sorted(b.name for b in S3Storage(conn).list_buckets())
    if not request.urls:
        raise UsageError("say what to audit: one or more s3://BUCKET, or --all")
    return list(dict.fromkeys(bucket_of(url, "audit") for url in request.urls))


def _status(facts: BucketFacts) -> dict[str, str]:
    status = {name: facts.settings[name].summary for name in STATUS_SETTINGS if name in facts.settings}
    versioning = facts.settings.get("versioning")
    if versioning is not None and versioning.state != "unknown":
        mfa = (versioning.value or {}).get("MFADelete") if isinstance(versioning.value, dict) else None
        status["mfa delete"] = mfa or "Disabled"
    return status


def _bucket_phase(ctx: AuditContext, bucket: str, *, checks: Sequence[Check]) -> tuple[BucketResult, BucketFacts | None]:
    result = BucketResult(bucket)
    try:
        facts = gather(ctx.conn, bucket)
    except S3SafeError as exc:
        result.error = str(exc)
        return result, None
    result.region = facts.region
    result.status = _status(facts)
    for check in checks:
        if check.scope != "bucket":
            continue
        try:
            result.findings += check.evaluate(facts, ctx)
        except Unknown as exc:
            result.notes.append(f"{check.id} not checked: {exc}")
        except S3SafeError as exc:
            result.notes.append(f"{check.id} not checked: {exc}")
    return result, facts


def _object_phase(conn: Connection, result: BucketResult, *, facts: BucketFacts, request: AuditRequest, ids: set[str],
                  progress: ProgressFn | None) -> None:  # fmt: skip
    try:
        acls_enabled = facts.acls_enabled
    except Unknown:
        acls_enabled = True  # cannot tell: read the ACLs rather than miss a public one
    options = ScanOptions(acls=OBJECT_ACL_PUBLIC.id in ids and acls_enabled, encryption=OBJECT_NOT_ENCRYPTED.id in ids,
                          sample=request.sample, resume=request.resume)  # fmt: skip
    if OBJECT_ACL_PUBLIC.id in ids and not acls_enabled:
        result.notes.append("ACLs are disabled (BucketOwnerEnforced): object ACLs grant nothing, so none were read")
    if not (options.acls or options.encryption):
        return
    scan, findings = scan_objects(conn, result.bucket, options=options, progress=progress, notes=result.notes)
    result.objects = scan
    result.findings += findings


def _inventory_phase(conn: Connection, result: BucketResult, *, facts: BucketFacts, request: AuditRequest, ids: set[str],
                     single: bool) -> None:  # fmt: skip
    from s3safe.audit.inventory import scan_inventory

    wanted = {c.id for c in registry.OBJECT_CHECKS} & ids
    try:
        acls_enabled = facts.acls_enabled
    except Unknown:
        acls_enabled = True
    if OBJECT_ACL_PUBLIC.id in wanted and not acls_enabled:
        wanted.discard(OBJECT_ACL_PUBLIC.id)
        result.notes.append("ACLs are disabled (BucketOwnerEnforced): object ACLs grant nothing, so none were checked")
    if not wanted:
        return
    try:
        found = scan_inventory(conn, result.bucket, checks=frozenset(wanted), manifest=request.inventory_manifest,
                               config_id=request.inventory_id)  # fmt: skip
    except S3SafeError as exc:
        if single:
            raise
        result.notes.append(f"objects not checked: {exc}")
        return
    result.objects = found.scan
    result.findings += found.findings
    result.notes += found.notes
    result.status["inventory"] = f"{found.manifest.created:%Y-%m-%d %H:%M} UTC, {found.manifest.file_format}"


def _validate(request: AuditRequest) -> None:
    if request.inventory and (request.objects or request.sample is not None or request.resume):
        raise UsageError("--inventory answers the object checks from an inventory report: leave out --objects, --sample and --resume")
    if (request.inventory_manifest or request.inventory_id) and not request.inventory:
        raise UsageError("--inventory-manifest and --inventory-id go with --inventory")
    if request.inventory_manifest and (request.all_buckets or len(request.urls) != 1):
        raise UsageError("--inventory-manifest names the report of one bucket: audit that bucket alone")


def run_audit(conn: Connection, request: AuditRequest, *, progress: ProgressFn | None = None) -> AuditReport:
    checks = registry.select(request.checks)
    ids = {c.id for c in checks}
    _validate(request)
    if request.sample is not None and not request.objects:
        raise UsageError("--sample applies to the object scan: add --objects")
    if request.resume and not request.objects:
        raise UsageError("--resume continues an object scan: add --objects")
    if request.sample is not None and request.sample < 1:
        raise UsageError("--sample must be 1 or more")
    buckets = _buckets(conn, request)
    ctx = AuditContext(conn)
    threads = max(1, min(conn.settings.threads, MAX_BUCKET_THREADS))
    phase = run_unordered(lambda b: _bucket_phase(ctx, b, checks=checks), buckets, threads=threads)
    done = sorted(phase, key=lambda pair: pair[0].bucket)
    if len(buckets) == 1 and not request.all_buckets and done[0][0].error:
        gather(conn, buckets[0])  # raise the bucket's own error (exit 3 or 4), not a report of it
    if request.objects:
        for result, facts in done:
            if facts is not None:
                _object_phase(conn, result, facts=facts, request=request, ids=ids, progress=progress)
    if request.inventory:
        single = len(buckets) == 1 and not request.all_buckets
        for result, facts in done:
            if facts is not None:
                _inventory_phase(conn, result, facts=facts, request=request, ids=ids, single=single)
    results = [result for result, _ in done]
    for result in results:
        result.findings = sort_findings(result.findings)
    return AuditReport(results, checks)


def audit(conn: Connection, request: AuditRequest, *, fix: FixOptions | None = None, gate: SafetyGate | None = None,
          progress: ProgressFn | None = None) -> AuditOutcome:  # fmt: skip
    """The `audit` command: the report and, with `fix`, a fix plan whose results run through `gate`."""
    report = run_audit(conn, request, progress=progress)
    if fix is None:
        return AuditOutcome(report)
    return AuditOutcome(report, plan_fixes(conn, report, options=fix, gate=gate or SafetyGate()))
