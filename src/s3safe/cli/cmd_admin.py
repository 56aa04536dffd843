"""uploads ls|abort, restore, config show|set|unset."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from s3safe.cli.app import App
from s3safe.cli.numbers import WHOLE, WholeRange
from s3safe.cli.options import make_gate, object_filter, where_option
from s3safe.core.locations import parse_s3_url

if TYPE_CHECKING:
    from s3safe.storage.s3 import UploadInfo

pass_app = click.make_pass_decorator(App)


def _key_then_start(upload: UploadInfo) -> tuple[bytes, float]:
    """AWS's order of a multipart upload listing: key in UTF-8 byte order, then the time the upload began."""
    return upload.key.encode("utf-8", "surrogateescape"), upload.initiated.timestamp() if upload.initiated else 0.0


@click.group()
def uploads() -> None:
    """Unfinished multipart uploads (they are billed until aborted)."""


@uploads.command("ls")
@click.argument("url")
@click.option("--older-than", metavar="AGE", help="Only uploads started longer ago, e.g. 7d, 12h.")
@pass_app
def uploads_ls(app: App, url: str, older_than: str | None) -> None:
    """List unfinished multipart uploads."""
    from s3safe.ops.uploads import list_uploads, parse_age

    age = parse_age(older_than) if older_than else None
    # servers list uploads in their own order (AWS by key then start time, moto as created): print AWS's order everywhere
    listed = sorted(list_uploads(app.conn, parse_s3_url(url), older_than=age), key=_key_then_start)
    for upload in listed:
        app.render.record(upload.to_dict(), f"{app.render.time(upload.initiated):19}  s3://{upload.bucket}/{upload.key}  {upload.upload_id}")


@uploads.command("abort")
@click.argument("url")
@click.option("--older-than", metavar="AGE", help="Only uploads started longer ago, e.g. 7d.")
@click.option("--upload-id", metavar="ID", help="Only this upload.")
@click.option("--dry-run", is_flag=True, help="Print the plan; change nothing.")
@click.option("--max-delete", type=WHOLE, metavar="N", help="Refuse to abort more than N uploads.")
@pass_app
def uploads_abort(app: App, url: str, older_than: str | None, upload_id: str | None, dry_run: bool, max_delete: int | None) -> None:
    """Abort unfinished multipart uploads, freeing their parts."""
    from s3safe.ops.uploads import abort_uploads, parse_age

    age = parse_age(older_than) if older_than else None
    app.actions(abort_uploads(app.conn, parse_s3_url(url), older_than=age, upload_id=upload_id,
                              gate=make_gate(dry_run, max_delete)), noun="upload")  # fmt: skip


@click.command()
@click.argument("url")
@click.option("-r", "--recursive", is_flag=True, help="Every archived object under the prefix.")
@click.option("--days", type=WholeRange(1, 36500), required=True, metavar="N", help="How long the restored copy stays available.")
@click.option("--tier", type=click.Choice(["Standard", "Bulk", "Expedited"], case_sensitive=False), default="Standard",
              show_default=True, help="Retrieval speed (and price).")  # fmt: skip
@click.option("--dry-run", is_flag=True, help="Print the plan; request nothing.")
@where_option
@pass_app
def restore(app: App, url: str, recursive: bool, days: int, tier: str, dry_run: bool, where: str | None) -> None:
    """Restore archived (Glacier / Deep Archive) objects for N days."""
    from s3safe.ops.restore import restore as restore_objects

    with object_filter(app, where) as selector:
        app.actions(restore_objects(app.conn, parse_s3_url(url), recursive=recursive, days=days, tier=tier,
                                    gate=make_gate(dry_run, None), where=selector))  # fmt: skip


@click.group()
def config() -> None:
    """Persistent defaults (never secrets) in the user's config file."""


@config.command("show")
@pass_app
def config_show(app: App) -> None:
    """Show the config file's values and the settings in effect."""
    from dataclasses import asdict

    from s3safe.core.settings import CONFIG_KEYS, config_path, load_config

    path = config_path()
    # as stored, checked or not: a value the commands refuse is shown, so that it can be seen and replaced
    # only s3safe's own keys: a secret written in by hand under another name is never shown
    stored = {key: value for key, value in load_config(path, check_values=app.unusable is None).items() if key in CONFIG_KEYS}
    effective = asdict(app.settings) if app.unusable is None else {}
    if app.render.json_mode:
        app.render.record({"type": "config", "path": str(path), "stored": stored, "effective": effective}, None)
    else:
        def shown(value: object) -> str:
            return "" if value is None else str(value)

        def in_effect(key: str) -> object:
            return None if app.unusable is not None else effective.get(key, stored.get(key))

        rows = [[key, shown(stored.get(key)), shown(in_effect(key)), CONFIG_KEYS[key]] for key in CONFIG_KEYS]
        app.render.table(["key", "config file", "in effect", "meaning"], rows, title=f"config file: {path}")
    if app.unusable is not None:  # shown as stored, with nothing in effect: then why (exit 2)
        raise app.unusable


@config.command("set", short_help="Store a default setting.")
@click.argument("key")
@click.argument("value")
@pass_app
def config_set(app: App, key: str, value: str) -> None:
    """Store a default, e.g. `config set region eu-west-1`."""
    from s3safe.core.settings import config_path, set_config_value

    set_config_value(key, value)
    app.render.record({"type": "config-set", "key": key, "value": value, "path": str(config_path())}, f"{key} = {value}  ({config_path()})")


@config.command("unset")
@click.argument("key")
@pass_app
def config_unset(app: App, key: str) -> None:
    """Remove a stored default."""
    from s3safe.core.settings import unset_config_value

    unset_config_value(key)
    app.render.record({"type": "config-unset", "key": key}, f"{key} removed")
