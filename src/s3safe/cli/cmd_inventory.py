"""inventory enable|status, jobs ls|status|report: S3 Inventory and S3 Batch Operations."""

from __future__ import annotations

import click

from s3safe.cli.app import App
from s3safe.cli.options import dry_run_option, make_gate
from s3safe.core.errors import PartialFailure
from s3safe.core.locations import parse_s3_url

pass_app = click.make_pass_decorator(App)


# --------------------------------------------------------------------------------------- inventory


@click.group()
def inventory() -> None:
    """S3 Inventory reports with the fields 'audit --inventory' reads."""


@inventory.command("enable")
@click.argument("url")
@click.option("--destination", required=True, metavar="s3://BUCKET/prefix/", help="Where reports go (created hardened if missing).")
@click.option("--format", "file_format", type=click.Choice(["Parquet", "CSV"]), default="Parquet", show_default=True)
@click.option("--frequency", type=click.Choice(["Daily", "Weekly"]), default="Daily", show_default=True)
@click.option("--id", "config_id", default="s3safe", show_default=True, metavar="ID", help="The inventory configuration's id.")
@click.option("--account", metavar="ID", help="Account id for the delivery grant (default: asked from STS).")
@dry_run_option
@pass_app
def inventory_enable(app: App, url: str, destination: str, file_format: str, frequency: str, config_id: str,
                     account: str | None, dry_run: bool) -> None:  # fmt: skip
    """Configure a daily (or weekly) inventory of a bucket: encryption, ACL, owner, checksum, size, dates, class."""
    from s3safe.ops.inventory import InventoryRequest, plan_enable

    request = InventoryRequest(parse_s3_url(destination), file_format, frequency, config_id, account)
    plan = plan_enable(app.conn, parse_s3_url(url), request, gate=make_gate(dry_run, None))
    for note in plan.notes:
        app.render.info(f"note: {note}", data={"type": "note", "message": note})
    if not plan.steps:
        app.render.info(f"no change: s3://{plan.source} already has inventory {config_id!r} as asked", data={"type": "summary", "changed": False})
        return
    app.actions(plan.results, noun="step")


@inventory.command("status")
@click.argument("url")
@pass_app
def inventory_status_cmd(app: App, url: str) -> None:
    """Show a bucket's inventory configurations, the fields they lack, and their newest report's age."""
    from s3safe.ops.inventory import inventory_status

    found = inventory_status(app.conn, parse_s3_url(url))
    if not found:
        app.render.record({"type": "inventory", "bucket": parse_s3_url(url).bucket, "configured": False},
                          f"s3://{parse_s3_url(url).bucket}: no inventory configuration")  # fmt: skip
        return
    for s in found:
        age = f"{s.newest_report} ({s.age_hours:.1f} hours old)" if s.newest_report and s.age_hours is not None else (s.note or "none yet")
        lines = [f"s3://{s.bucket} inventory {s.config_id!r}: {'enabled' if s.enabled else 'DISABLED'}, {s.frequency} {s.file_format} "
                 f"to {s.destination}", f"  newest report: {age}"]  # fmt: skip
        if s.missing_fields:
            lines.append(f"  missing fields the audit reads: {', '.join(s.missing_fields)} (run 'inventory enable' with --id {s.config_id})")
        if app.render.json_mode:
            app.render.record(s.to_dict(), None)
            continue
        for line in lines:
            app.render.record(s.to_dict(), line)


# -------------------------------------------------------------------------------------------- jobs


@click.group()
def jobs() -> None:
    """Follow S3 Batch Operations jobs (audit --inventory --fix creates them) and read their reports."""


@jobs.command("ls")
@click.option("--account", metavar="ID", help="The account whose jobs to list (default: from STS).")
@pass_app
def jobs_ls(app: App, account: str | None) -> None:
    """List the account's Batch Operations jobs in this region."""
    from s3safe.ops.jobs import list_jobs

    found = list_jobs(app.conn, account=account)
    if app.render.json_mode:
        for job in found:
            app.render.record(job.to_dict(), None)
        return
    if not found:
        app.render.info("no Batch Operations jobs", data={"type": "summary", "jobs": 0})
        return
    rows = [[j.job_id, j.status, j.operation, f"{j.succeeded or 0}/{j.total if j.total is not None else '?'}", str(j.failed or 0),
             j.created or "", j.description] for j in found]  # fmt: skip
    app.render.table(["job", "status", "operation", "done", "failed", "created", "description"], rows)


@jobs.command("status")
@click.argument("job_id", metavar="JOB")
@click.option("--account", metavar="ID", help="The account that runs the job (default: from STS).")
@pass_app
def jobs_status(app: App, job_id: str, account: str | None) -> None:
    """Show one job: status, progress, failures, where its completion report goes."""
    from s3safe.ops.jobs import job_status

    job = job_status(app.conn, job_id, account=account)
    lines = [f"job {job.job_id}: {job.status} ({job.operation})",
             f"  tasks: {job.succeeded or 0} succeeded, {job.failed or 0} failed of {job.total if job.total is not None else 'unknown'}",
             f"  completion report: {job.report or 'none'}"]  # fmt: skip
    lines += [f"  failure: {reason}" for reason in job.reasons]
    if app.render.json_mode:
        app.render.record(job.to_dict(), None)
        return
    for line in lines:
        app.render.record(job.to_dict(), line)


@jobs.command("report")
@click.argument("job_id", metavar="JOB")
@click.option("--account", metavar="ID", help="The account that runs the job (default: from STS).")
@click.option("--from", "location", metavar="s3://BUCKET/prefix/", help="The job's report location (default: asked from the job).")
@pass_app
def jobs_report(app: App, job_id: str, account: str | None, location: str | None) -> None:
    """Read a job's completion report: objects fixed and objects that failed (exit 5 if any failed)."""
    from s3safe.ops.jobs import job_report

    report = job_report(app.conn, job_id, account=account, location=parse_s3_url(location) if location else None)
    r = app.render
    for failure in report.failed:
        r.record(failure.to_dict(), f"FAILED s3://{failure.bucket}/{failure.key}: {failure.error}")
    text = f"job {job_id}: {len(report.fixed)} object(s) fixed, {len(report.failed)} failed (report {report.location})"
    r.info(text, data=report.to_dict())
    if report.failed:
        raise PartialFailure(f"{len(report.failed)} of {len(report.failed) + len(report.fixed)} task(s) of job {job_id} failed",
                             failed=len(report.failed), succeeded=len(report.fixed),
                             hint="the failed objects are listed above; run the audit again to see what is still open")  # fmt: skip
