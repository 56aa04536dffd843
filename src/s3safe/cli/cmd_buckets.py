"""mb, rb, info."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import click

from s3safe.cli.app import App
from s3safe.cli.options import gate_options, make_gate
from s3safe.cli.prechecks import precheck
from s3safe.core.locations import parse_s3_url

pass_app = click.make_pass_decorator(App)


@click.command()
@click.argument("url")
@click.option("--plain", is_flag=True, help="Skip the secure defaults (not recommended).")
@click.option("--bucket-region", "region", metavar="REGION", help="Region for the new bucket (default: --region).")
@click.option("--object-lock", is_flag=True, help="Enable Object Lock (and versioning): uploads can then be made immutable.")
@pass_app
def mb(app: App, url: str, plain: bool, region: str | None, object_lock: bool) -> None:
    """Make a bucket: public access blocked, ACLs disabled, AES256 by default."""
    from s3safe.ops.buckets import make_bucket

    precheck_mb({"region": region})
    target = parse_s3_url(url)
    steps = make_bucket(app.conn, target, region=region, plain=plain, object_lock=object_lock)
    for step in steps:
        app.render.record({"type": "step", "bucket": target.bucket, "step": step}, step)
    if plain:
        app.render.warn("created without the secure defaults; run 'info' to review it")


@precheck("mb")
def precheck_mb(params: Mapping[str, Any]) -> None:
    """--bucket-region is a region name (exec checks it before line 1)."""
    from s3safe.core.settings import check_region

    if params.get("region") is not None:  # "" is an unset shell variable, not "the default region"
        check_region(params["region"], option="--bucket-region")


@click.command()
@click.argument("url")
@click.option("--force", is_flag=True, help="Delete every object and version first.")
@gate_options
@pass_app
def rb(app: App, url: str, force: bool, dry_run: bool, max_delete: int | None) -> None:
    """Remove a bucket (--force empties it first, through the safety gate)."""
    from s3safe.ops.buckets import remove_bucket

    app.actions(remove_bucket(app.conn, parse_s3_url(url), force=force, gate=make_gate(dry_run, max_delete)))


@click.command()
@click.argument("url")
@pass_app
def info(app: App, url: str) -> None:
    """Show a bucket's security-relevant settings, each as set / not set."""
    from s3safe.core.errors import ServiceError
    from s3safe.ops.buckets import bucket_info, nothing_read

    target = parse_s3_url(url)
    settings = bucket_info(app.conn, target)
    if app.render.json_mode:
        for setting in settings:
            app.render.record({**setting.to_dict(), "bucket": target.bucket}, None)
    else:
        app.render.table(["setting", "state", "details"], [[s.name, s.state, s.summary] for s in settings], title=f"s3://{target.bucket}")
    if nothing_read(settings):  # a table of unknowns is not an answer: say so, and exit 1
        raise ServiceError(f"could not read any setting of s3://{target.bucket}; see the details above",
                           hint="check --endpoint-url and your permissions")  # fmt: skip
