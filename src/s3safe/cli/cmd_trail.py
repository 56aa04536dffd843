"""trail enable|status|disable: CloudTrail data events for one bucket."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import click

from s3safe.cli.app import App
from s3safe.cli.numbers import WHOLE
from s3safe.cli.options import dry_run_option, make_gate
from s3safe.cli.prechecks import precheck
from s3safe.core.errors import UsageError
from s3safe.core.locations import parse_s3_url

pass_app = click.make_pass_decorator(App)
TRAIL_HELP = "The trail to use (created when missing; one trail serves many buckets)."


@click.group()
def trail() -> None:
    """CloudTrail data events: who called which object API on a bucket (cost shown first)."""


@precheck("trail enable")
def precheck_trail_enable(params: Mapping[str, Any]) -> None:
    if params.get("keep_forever") and params.get("retain_days") is not None:
        raise UsageError("--retain-days and --keep-forever contradict each other", hint="give one of them")


@trail.command("enable")
@click.argument("url")
@click.option("--target", metavar="s3://LOGBUCKET/prefix/", help="Where a new trail writes (created hardened if missing).")
@click.option("--retain-days", type=WHOLE, metavar="N", help="Expire the trail's logs after N days.  [default: 365]")
@click.option("--keep-forever", is_flag=True, help="No retention rule: keep the logs until deleted.")
@click.option("--trail", "trail_name", default="s3safe-data-events", show_default=True, metavar="NAME", help=TRAIL_HELP)
@click.option("--account", metavar="ID", help="Account id for the log bucket's grant (default: asked from STS).")
@dry_run_option
@pass_app
def trail_enable(app: App, url: str, target: str | None, retain_days: int | None, keep_forever: bool, trail_name: str,
                 account: str | None, dry_run: bool) -> None:  # fmt: skip
    """Record every object-level API call on a bucket with CloudTrail (advanced event selector)."""
    from s3safe.ops.trail import TrailRequest, plan_enable

    precheck_trail_enable({"keep_forever": keep_forever, "retain_days": retain_days})
    request = TrailRequest(parse_s3_url(target) if target else None, None if keep_forever else 365 if retain_days is None else retain_days, trail_name, account)
    plan = plan_enable(app.conn, parse_s3_url(url), request, gate=make_gate(dry_run, None))
    for line in plan.cost:
        app.render.info(line, data={"type": "cost", "message": line})
    for note in plan.notes:
        app.render.info(f"note: {note}", data={"type": "note", "message": note})
    if not plan.steps:
        app.render.info(f"no change: the object-level events of s3://{plan.source} are already recorded", data={"type": "summary", "changed": False})
        return
    app.actions(plan.results, noun="step")


@trail.command("status")
@click.argument("url")
@pass_app
def trail_status_cmd(app: App, url: str) -> None:
    """Show which trails record a bucket's object-level events."""
    from s3safe.ops.trail import trail_status

    status = trail_status(app.conn, parse_s3_url(url))
    if app.render.json_mode:
        app.render.record(status.to_dict(), None)
        return
    if not status.recorded_by:
        app.render.record(status.to_dict(), f"s3://{status.bucket}: no logging trail records its object-level events")
    for c in status.recorded_by:
        app.render.record(status.to_dict(), f"s3://{status.bucket}: recorded by trail {c.trail} ({c.selector})")
    for c in status.stopped:
        app.render.record(status.to_dict(), f"  note: trail {c.trail} would record it ({c.selector}) but is not logging")


@trail.command("disable")
@click.argument("url")
@click.option("--trail", "trail_name", default="s3safe-data-events", show_default=True, metavar="NAME", help="The trail to change.")
@dry_run_option
@pass_app
def trail_disable(app: App, url: str, trail_name: str, dry_run: bool) -> None:
    """Stop recording a bucket's object-level events (the trail's logs stay)."""
    from s3safe.ops.trail import plan_disable

    plan = plan_disable(app.conn, parse_s3_url(url), trail=trail_name, gate=make_gate(dry_run, None))
    if not plan.steps:
        app.render.info(f"no change: trail {trail_name} does not record s3://{plan.source}", data={"type": "summary", "changed": False})
        return
    app.actions(plan.results, noun="step")
    for note in plan.notes:
        app.render.info(f"note: {note}", data={"type": "note", "message": note})
