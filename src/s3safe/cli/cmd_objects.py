"""ls, rm, cp, mkdir."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import click

from s3safe.cli.app import App
from s3safe.cli.options import build_upload_options, gate_options, make_gate, object_filter, upload_options, where_option
from s3safe.cli.prechecks import precheck
from s3safe.cli.render import human_size
from s3safe.core.errors import UsageError
from s3safe.core.locations import parse_s3_url

pass_app = click.make_pass_decorator(App)


@click.command()
@click.argument("url", required=False)
@click.option("-r", "--recursive", is_flag=True, help="Everything under the prefix, not just one level.")
@click.option("--dirs", is_flag=True, help="With -r, also show each folder.")
@click.option("--dirs-only", is_flag=True, help="Show folders only.")
@click.option("--bytes", "raw_bytes", is_flag=True, help="Sizes in bytes, not KiB/MiB.")
@click.option("--summary", is_flag=True, help="End with the object count and total size.")
@click.option("--long", "long_", is_flag=True, help="Add storage class, SSE and whether the object is private.")
@click.option("--versions", is_flag=True,
              help="Every version and delete marker (version id, latest?, delete marker?, storage class), newest first.")
@where_option
@pass_app
def ls(app: App, url: str | None, recursive: bool, dirs: bool, dirs_only: bool, raw_bytes: bool, summary: bool, long_: bool,
       versions: bool, where: str | None) -> None:  # fmt: skip
    """List buckets, or the objects and folders under S3URL."""
    from s3safe.ops.listing import ListOptions, ListSummary, iter_listing, list_buckets

    precheck_ls({"url": url, "where": where, "versions": versions})
    r = app.render
    if url is None:
        buckets = list_buckets(app.conn)
        if r.json_mode:
            for bucket in buckets:
                r.record(bucket.to_dict(), None)
        else:
            r.table(["created", "bucket"], [[app.render.time(b.created), b.name] for b in buckets])
        return
    target = parse_s3_url(url)
    totals = ListSummary()
    size = (lambda n: str(n)) if raw_bytes else human_size
    with object_filter(app, where) as selector:
        options = ListOptions(recursive=recursive, dirs=dirs, dirs_only=dirs_only, long=long_, where=selector, versions=versions)
        _ls_rows(app, iter_listing(app.conn, target, options, totals), size=size, long_=long_, versions=versions)
    for problem in totals.errors:
        r.warn(problem)
    if summary:
        noun = "version(s) and delete marker(s)" if versions else "object(s)"
        r.record(totals.to_dict(), f"{totals.objects} {noun}, {size(totals.total_bytes)}" + (f", {totals.dirs} folder(s)" if totals.dirs else ""))
    if app.verbose and long_:
        r.note(f"--long made {totals.extra_requests} extra request(s)")


def _ls_rows(app: App, rows: Any, *, size: Any, long_: bool, versions: bool) -> None:
    from s3safe.core.models import PrefixInfo

    r = app.render
    width = len(r.time(datetime.now(UTC)))  # DIR rows line up under times of either form
    for row in rows:
        if isinstance(row, PrefixInfo):
            r.record(row.to_dict(), f"{'':{width}}  {'DIR':>12}  s3://{row.bucket}/{row.prefix}")
            continue
        obj = row.obj
        text = f"{r.time(obj.last_modified):{width}}  {'-' if obj.is_delete_marker else size(obj.size):>12}  "
        if versions:
            flags = ",".join(f for f, on in (("latest", obj.is_latest), ("DELETE-MARKER", obj.is_delete_marker)) if on) or "-"
            text += f"{obj.version_id or 'null':<36}  {flags:<20}  "
            if not long_:  # --long shows the storage class itself
                text += f"{'-' if obj.is_delete_marker else obj.storage_class or '-':<12}  "
        if long_:
            privacy = "private" if row.private else "NOT PRIVATE" if row.private is False else "unknown"
            text += f"{obj.storage_class or '-':<12}  {row.sse or 'none':<8}  {privacy:<11}  "
        r.record(row.to_dict(), text + f"s3://{obj.bucket}/{obj.key}")


@click.command()
@click.argument("url")
@click.option("-r", "--recursive", is_flag=True, help="Delete everything under the prefix.")
@click.option("--versions", is_flag=True, help="Delete every version and delete marker, not just the latest.")
@where_option
@gate_options
@pass_app
def rm(app: App, url: str, recursive: bool, versions: bool, where: str | None, dry_run: bool, max_delete: int | None) -> None:
    """Delete objects (in batches of 1,000)."""
    from s3safe.ops.objects import remove

    precheck_rm({"url": url, "recursive": recursive, "versions": versions, "where": where})
    gate = make_gate(dry_run, max_delete)
    with object_filter(app, where) as selector:
        app.actions(remove(app.conn, parse_s3_url(url), recursive=recursive, versions=versions, gate=gate, where=selector))


def _check_where(text: str | None) -> None:
    if text:
        from s3safe.ops.where import compile_s3_where

        compile_s3_where(text)  # a syntax error or an unknown variable: UsageError


@precheck("ls")
def precheck_ls(params: Mapping[str, Any]) -> None:
    """ls's checks that need neither the store nor the disk (exec runs them before line 1)."""
    if params.get("url") is not None:
        parse_s3_url(params["url"])
    elif params.get("versions"):
        raise UsageError("--versions lists the versions under an S3URL", hint="e.g. ls -r --versions s3://bucket/")
    _check_where(params.get("where"))


@precheck("rm")
def precheck_rm(params: Mapping[str, Any]) -> None:
    """rm's checks that need neither the store nor the disk (exec runs them before line 1)."""
    from s3safe.ops.objects import check_remove

    check_remove(parse_s3_url(params["url"]), recursive=bool(params.get("recursive")), versions=bool(params.get("versions")))
    _check_where(params.get("where"))


@click.command()
@click.argument("source")
@click.argument("destination")
@click.option("-r", "--recursive", is_flag=True, help="Copy everything under the source prefix.")
@click.option("--dry-run", is_flag=True, help="Print the plan; change nothing.")
@where_option
@upload_options
@click.option("--sse-c-key-file", "sse_c_key_file", metavar="FILE",
              help="SSE-C: the key the source objects were written with, and the copies get (HTTPS only).")  # fmt: skip
@pass_app
def cp(app: App, /, source: str, destination: str, recursive: bool, dry_run: bool, where: str | None, **values: Any) -> None:
    """Copy objects server-side (multipart above 5 GiB), private and encrypted like uploads."""
    from s3safe.core.progress import TransferProgress
    from s3safe.ops.objects import copy

    app.use_sse_c_key(values.pop("sse_c_key_file"))
    options = build_upload_options(values, app.defaults)
    meter = TransferProgress()
    with object_filter(app, where) as selector:
        results = copy(app.conn, parse_s3_url(source), parse_s3_url(destination), recursive=recursive,
                       options=options, gate=make_gate(dry_run, None), where=selector, progress=meter)  # fmt: skip
        app.actions(results, progress=meter)


@click.command()
@click.argument("url")
@pass_app
def mkdir(app: App, url: str) -> None:
    """Create a folder marker (KEY/)."""
    from s3safe.ops.objects import make_folder

    result = make_folder(app.conn, parse_s3_url(url))
    app.render.record(result.to_dict(), f"created {result.target}")
