"""revert, undelete: roll a versioned prefix back in place."""

from __future__ import annotations

import click

from s3safe.cli.app import App
from s3safe.cli.options import gate_options, make_gate
from s3safe.core.locations import parse_s3_url

pass_app = click.make_pass_decorator(App)


@click.command()
@click.argument("url")
@click.option("--as-of", "as_of", metavar="TIME", required=True,
              help="The time to go back to: ISO 8601 with zone (2026-12-01T18:00:00Z) or an age (2d, 36h).")  # fmt: skip
@click.option("-r", "--recursive", is_flag=True, help="Every key under the prefix.")
@gate_options
@pass_app
def revert(app: App, url: str, as_of: str, recursive: bool, dry_run: bool, max_delete: int | None) -> None:
    """Make each key's version at TIME current again (server-side copies; keys created since get a delete marker)."""
    from datetime import UTC, datetime

    from s3safe.core.timespec import parse_point_in_time
    from s3safe.ops.versions import revert as revert_versions

    when = parse_point_in_time(as_of, now=datetime.now(UTC))
    gate = make_gate(dry_run, max_delete)
    app.actions(revert_versions(app.conn, parse_s3_url(url), when=when, recursive=recursive, gate=gate), noun="change")


@click.command()
@click.argument("url")
@click.option("-r", "--recursive", is_flag=True, help="Every key under the prefix.")
@gate_options
@pass_app
def undelete(app: App, url: str, recursive: bool, dry_run: bool, max_delete: int | None) -> None:
    """Remove the delete markers on top of deleted keys, so their newest versions are current again."""
    from s3safe.ops.versions import undelete as undelete_versions

    gate = make_gate(dry_run, max_delete)
    app.actions(undelete_versions(app.conn, parse_s3_url(url), recursive=recursive, gate=gate), noun="deleted key")
