"""audit: find exposed buckets and objects, explain each finding, fix what can be fixed, write reports."""

from __future__ import annotations

import contextlib
import os
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from s3safe.cli.app import App
from s3safe.cli.numbers import WHOLE
from s3safe.cli.options import dry_run_option, make_gate
from s3safe.cli.prechecks import precheck
from s3safe.cli.render import clean
from s3safe.core.errors import AuditFindings, PartialFailure, UsageError
from s3safe.core.locations import parse_s3_url

if TYPE_CHECKING:
    from s3safe.audit import AuditOutcome, AuditReport, FixPlan, Severity
    from s3safe.audit.batch_fix import BatchOptions
    from s3safe.audit.objects import ProgressFn

pass_app = click.make_pass_decorator(App)
FILE = click.Path(dir_okay=False, path_type=Path)
LEVELS = ["low", "medium", "high", "critical"]


@click.command()
@click.argument("urls", nargs=-1, metavar="[S3URL]...")
@click.option("--all", "all_buckets", is_flag=True, help="Audit every bucket the credentials can list.")
@click.option("--objects", is_flag=True, help="Also check every object: public ACL grants, SSE, client-side encryption.")
@click.option("--sample", type=WHOLE, metavar="N", help="With --objects: check N objects per bucket, drawn at random.")
@click.option("--resume", is_flag=True, help="With --objects: continue an interrupted object scan where it stopped.")
@click.option("--inventory", is_flag=True, help="Check objects from the newest S3 Inventory report (DuckDB), not one request each.")
@click.option("--inventory-manifest", metavar="s3://BUCKET/…/manifest.json", help="With --inventory: read this report.")
@click.option("--inventory-id", metavar="ID", help="With --inventory: the inventory configuration to read.")
@click.option("--batch-manifest", metavar="s3://BUCKET/prefix/",
              help="With --inventory --fix: where the Batch Operations manifest and completion report go.")
@click.option("--batch-role", metavar="ARN", help="With --inventory --fix: the IAM role the Batch Operations job runs as.")
@click.option("--account", metavar="ID", help="With --batch-manifest: the account that runs the job (default: from STS).")
@click.option("--check", "checks", multiple=True, metavar="ID", help="Run only this check (repeatable; see --list-checks).")
@click.option("--list-checks", is_flag=True, help="List the checks and exit.")
@click.option("--fix", is_flag=True, help="Fix what can be fixed (shows the plan first; try --dry-run).")
@click.option(
    "--log-target", metavar="s3://LOGBUCKET/prefix/", help="With --fix: where to send access logs of buckets that log nothing."
)
@click.option(
    "--log-retain-days", type=WHOLE, default=365, show_default=True, metavar="N", help="With --fix: access-log retention."
)
@dry_run_option
@click.option(
    "--fail-on",
    type=click.Choice(LEVELS),
    default="high",
    show_default=True,
    help="Exit 8 when findings this severe or worse remain.",
)
@click.option("--sarif", "sarif_file", type=FILE, metavar="FILE", help="Also write a SARIF 2.1.0 report.")
@click.option("--html", "html_file", type=FILE, metavar="FILE", help="Also write a self-contained HTML report.")
@pass_app
def audit(app: App, urls: tuple[str, ...], all_buckets: bool, objects: bool, sample: int | None, resume: bool,
          inventory: bool, inventory_manifest: str | None, inventory_id: str | None, batch_manifest: str | None,
          batch_role: str | None, account: str | None, checks: tuple[str, ...], list_checks: bool, fix: bool, log_target: str | None, log_retain_days: int,
          dry_run: bool, fail_on: str, sarif_file: Path | None, html_file: Path | None) -> None:  # fmt: skip
    """Audit buckets (and with --objects their objects) for exposure and weak settings; exit 8 on findings.

    Each finding has an id, a severity, what was found, why it matters and the s3safe command that fixes it.
    --fix applies the fixes with the same code as harden, policy apply/remove, logging enable and acl set.
    An interrupted --objects scan keeps a checkpoint in the state directory; --resume continues it.
    --inventory answers the object checks from the bucket's newest S3 Inventory report; with --fix, public
    object ACLs are made private by one S3 Batch Operations job (--batch-manifest, --batch-role).
    """
    from s3safe.audit import AuditRequest, FixOptions, Severity
    from s3safe.audit import audit as run

    if list_checks:
        _list_checks(app)
        return
    precheck_audit({"dry_run": dry_run, "fix": fix, "log_target": log_target, "log_retain_days": log_retain_days,
                    "checks": checks, "inventory": inventory, "batch_manifest": batch_manifest, "batch_role": batch_role,
                    "account": account})  # fmt: skip
    batch = _batch_options(inventory=inventory, fix=fix, dry_run=dry_run, location=batch_manifest, role=batch_role, account=account)
    request = AuditRequest(tuple(parse_s3_url(u) for u in urls), all_buckets=all_buckets, objects=objects, sample=sample,
                           resume=resume, checks=checks, inventory=inventory, inventory_id=inventory_id,
                           inventory_manifest=parse_s3_url(inventory_manifest) if inventory_manifest else None)  # fmt: skip
    fix_options = FixOptions(parse_s3_url(log_target) if log_target else None, log_retain_days, batch) if fix else None
    # the exit code (8: findings) and the report files are the result, not the lines: `audit … | head` keeps them
    app.render.finish_if_stdout_closes()
    with _progress(app) as progress:
        outcome = run(app.conn, request, fix=fix_options, gate=make_gate(dry_run, None), progress=progress)
    _render_report(app, outcome.report)
    fix_failure = _render_fixes(app, outcome.fixes) if outcome.fixes is not None else None
    statuses = _statuses(outcome, dry_run=dry_run)
    _write_reports(app, outcome.report, statuses=statuses, sarif=sarif_file, html=html_file)
    _exit(outcome, Severity.parse(fail_on), dry_run=dry_run, fix_failure=fix_failure)


@precheck("audit")
def precheck_audit(params: Mapping[str, Any]) -> None:
    """audit's option checks that need neither the store nor the disk (exec runs them before line 1)."""
    from s3safe.audit.checks import select

    if params.get("list_checks"):
        return
    fix, dry_run = bool(params.get("fix")), bool(params.get("dry_run"))
    if dry_run and not fix:
        raise UsageError("--dry-run shows the plan of --fix: add --fix")
    if (params.get("log_target") or params.get("log_retain_days", 365) != 365) and not fix:
        raise UsageError("--log-target and --log-retain-days go with --fix")
    _batch_options(inventory=bool(params.get("inventory")), fix=fix, dry_run=dry_run, location=params.get("batch_manifest"),
                   role=params.get("batch_role"), account=params.get("account"))  # fmt: skip
    select(params.get("checks") or ())  # an unknown check id: UsageError with a suggestion


def _batch_options(*, inventory: bool, fix: bool, dry_run: bool, location: str | None, role: str | None,
                   account: str | None) -> BatchOptions | None:  # fmt: skip
    from s3safe.audit.batch_fix import BatchOptions

    if (location or role or account) and not (inventory and fix):
        raise UsageError("--batch-manifest, --batch-role and --account go with --inventory --fix")
    if not (inventory and fix):
        return None
    if not location:
        raise UsageError("--inventory --fix fixes object ACLs with an S3 Batch Operations job: name where its manifest goes",
                         hint="add --batch-manifest s3://BUCKET/prefix/ (and --batch-role ARN; try --dry-run first)")  # fmt: skip
    if not dry_run and not role:
        raise UsageError("--inventory --fix needs the IAM role the Batch Operations job runs as", hint="add --batch-role ARN, or --dry-run to see the plan")
    url = parse_s3_url(location)
    return BatchOptions(url, role, account)


def _list_checks(app: App) -> None:
    from s3safe.audit.checks import ALL_CHECKS

    rows = [[c.id, c.severity.label, c.scope, "yes" if c.fixable else "no", c.title] for c in ALL_CHECKS]
    if app.render.json_mode:
        for c in ALL_CHECKS:
            app.render.record({"type": "check", "id": c.id, "severity": c.severity.label, "scope": c.scope,
                               "fixable": c.fixable, "title": c.title, "why": c.why}, None)  # fmt: skip
        return
    app.render.table(["check", "severity", "scope", "--fix", "what it looks for"], rows)


@contextlib.contextmanager
def _progress(app: App) -> Iterator[ProgressFn | None]:
    """The object scan on the transfers' live display (stderr a terminal, or --progress): the bucket being scanned,
    objects checked / total, rate, ETA and findings so far."""
    render = app.render
    if not render.progress_wanted():
        yield None
        return
    from s3safe.cli.progress_text import RateMeter, scan_line

    # the scan under way, set by the scan's thread and read by the display's: (bucket, checked, total, findings),
    # and since when and at what rate that bucket is being checked
    latest: list[tuple[str, int, int | None, int]] = []
    clock: dict[str, tuple[float, RateMeter]] = {}

    def update(bucket: str, checked: int, total: int | None, findings: int) -> None:
        clock.setdefault(bucket, (time.monotonic(), RateMeter()))
        latest[:] = [(bucket, checked, total, findings)]

    def view() -> list[str]:
        if not latest:
            return []
        bucket, checked, total, findings = latest[0]
        started, rates = clock[bucket]
        return [scan_line(clean(f"s3://{bucket}"), checked, total, findings=findings, rate=rates.rate(checked),
                          elapsed=time.monotonic() - started)]  # fmt: skip

    with render.live_display(view):
        yield update


def _render_report(app: App, report: AuditReport) -> None:
    r = app.render
    for bucket in report.buckets:
        if bucket.error:
            r.record(bucket.to_dict(), None)
            r.warn(f"s3://{bucket.bucket} was not audited: {bucket.error}")
            continue
        if r.json_mode:
            r.record(bucket.to_dict(), None)
            for finding in bucket.findings:
                r.record(finding.to_dict(), None)
            continue
        counts = report.counts(bucket.findings)
        summary = ", ".join(f"{n} {label}" for label, n in counts.items() if n) or "no findings"
        r.info("")
        r.record({}, f"s3://{bucket.bucket}" + (f" ({bucket.region})" if bucket.region else "") + f": {summary}")
        if bucket.findings:
            rows = [[f.severity.label.upper(), f.check_id, (f"{f.key}: " if f.key is not None else "") + f.found, f.fix]
                    for f in bucket.findings]  # fmt: skip
            r.table(["severity", "check", "found", "fix"], rows)
        if bucket.objects is not None:
            o = bucket.objects
            scope = f"a sample of {o.scanned}" if o.sampled else f"{o.scanned}"
            resumed = f" (resumed after {o.resumed_after!r})" if o.resumed_after else ""
            client = "" if o.inventory else f"{o.client_encrypted} client-side encrypted, "
            source = " (from the inventory report)" if o.inventory else ""
            r.record({}, f"  objects: {scope} checked{source}{resumed}: {o.public} public, {o.unencrypted} unencrypted, "
                         f"{client}{o.errors} error(s)")  # fmt: skip
        for note in bucket.notes:
            r.info(f"  note: {note}")
    _render_summary(app, report)


def _render_summary(app: App, report: AuditReport) -> None:
    r = app.render
    fired = {f.check_id for f in report.findings}
    if fired and not r.json_mode and not r.quiet:
        r.info("")
        r.info("why these matter:")
        for check in report.checks:
            if check.id in fired:
                r.info(f"  {check.id}: {check.why}")
    counts = report.counts()
    audited = len(report.buckets) - len(report.errors)
    r.info("")
    text = f"audit: {sum(counts.values())} finding(s) in {audited} bucket(s)"
    text += ": " + ", ".join(f"{n} {label}" for label, n in counts.items() if n) if any(counts.values()) else ""
    data = {"type": "summary", "findings": sum(counts.values()), "by_severity": counts, "buckets": audited,
            "not_audited": len(report.errors)}  # fmt: skip
    r.info(text, data=data)


def _render_fixes(app: App, plan: FixPlan) -> PartialFailure | None:
    r = app.render
    if plan.units:
        r.info("")
        r.info("fix plan:")
    for unit in plan.units:
        lines = [f"  {unit.command}"] + [f"      {line}" for line in unit.lines]
        if r.json_mode:
            r.record(unit.to_dict(), None)
        else:
            for line in lines:
                r.record({}, line)
    for note in plan.notes:
        r.info(f"note: {note}", data={"type": "note", "message": note})
    if not plan.units:
        r.info("nothing to fix automatically", data={"type": "summary", "fixes": 0})
        return None
    try:
        app.actions(plan.results, noun="fix")
    except PartialFailure as exc:
        return exc  # the reports still get written; the exit code comes last
    return None


def _statuses(outcome: AuditOutcome, *, dry_run: bool) -> dict[str, str] | None:
    plan = outcome.fixes
    if plan is None:
        return None
    planned = {f.uid for unit in plan.units for f in unit.findings}
    out = {}
    for finding in outcome.report.findings:
        if dry_run:
            out[finding.uid] = "fix planned" if finding.uid in planned else "open"
        elif finding.uid in plan.settled:
            out[finding.uid] = "fixed"
        else:
            out[finding.uid] = "fix failed" if finding.uid in plan.failed else "open"
    return out


def _write(path: Path, text: str) -> None:
    """Atomically, so a reader never sees half a report."""
    directory = path.parent if str(path.parent) else Path(".")
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _write_reports(
    app: App, report: AuditReport, *, statuses: dict[str, str] | None, sarif: Path | None, html: Path | None
) -> None:
    from s3safe.audit.report_html import html_report
    from s3safe.audit.report_sarif import sarif_text

    reports: list[tuple[Path | None, str, Callable[[], str]]] = [
        (sarif, "SARIF", lambda: sarif_text(report, statuses=statuses)),
        (html, "HTML", lambda: html_report(report, statuses=statuses)),
    ]
    for path, kind, make in reports:
        if path is None:
            continue
        try:
            _write(path, make())
        except OSError as exc:
            raise UsageError(f"cannot write the {kind} report to {path}: {exc.strerror or exc}") from None
        app.render.info(f"wrote the {kind} report to {path}", data={"type": "report", "format": kind.lower(), "path": str(path)})


def _exit(outcome: AuditOutcome, level: Severity, *, dry_run: bool, fix_failure: PartialFailure | None) -> None:
    from s3safe.audit.fixes import unfixed

    remaining = unfixed(outcome.report.findings, None if dry_run else outcome.fixes)
    failing = [f for f in remaining if f.severity >= level]
    if failing:
        label = level.label
        raise AuditFindings(f"audit found {len(failing)} problem(s) of severity {label} or worse",
                            hint="see the fix column; 'audit --fix --dry-run' shows what s3safe can fix")  # fmt: skip
    if fix_failure is not None:
        raise fix_failure
    errors = outcome.report.errors
    if errors:
        raise PartialFailure(f"{len(errors)} bucket(s) could not be audited", failed=len(errors),
                             succeeded=len(outcome.report.buckets) - len(errors))  # fmt: skip
