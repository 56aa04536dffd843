"""put and get of single files (whole trees arrive with the transfer engine)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from s3safe.cli.app import App
from s3safe.cli.options import build_upload_options, upload_options
from s3safe.cli.render import human_size
from s3safe.core.locations import parse_s3_url

pass_app = click.make_pass_decorator(App)


@click.command()
@click.argument("paths", nargs=-1, required=True, metavar="LOCAL... S3URL")
@upload_options
@pass_app
def put(app: App, /, paths: tuple[str, ...], **values: Any) -> None:
    """Upload files: private, server-side encrypted, checksummed and verified."""
    from s3safe.transfer.single import upload_files

    if len(paths) < 2:
        raise click.UsageError("give at least one local file and the destination S3URL")
    options = build_upload_options(values)
    results = upload_files(app.conn, [Path(p) for p in paths[:-1]], parse_s3_url(paths[-1]), options=options)
    for result in results:
        app.render.record(
            result.to_dict(),
            f"uploaded {result.source} -> {result.destination} ({human_size(result.size)}, acl {result.acl}, "
            f"sse {result.sse or 'bucket default'}, verified by {result.verified})",
        )


@click.command()
@click.argument("url")
@click.argument("local", type=click.Path(path_type=Path), default=".")
@pass_app
def get(app: App, url: str, local: Path) -> None:
    """Download an object, verified against its checksum, written atomically."""
    from s3safe.transfer.download import download_file

    result = download_file(app.conn, parse_s3_url(url, require_key=True), local)
    app.render.record(
        result.to_dict(),
        f"downloaded {result.source} -> {result.destination} ({human_size(result.size)}, verified by {result.verified})",
    )
