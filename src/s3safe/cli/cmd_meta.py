"""meta get|set, acl get|set."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import click

from s3safe.cli.app import App
from s3safe.cli.options import make_gate, object_filter, where_option
from s3safe.cli.prechecks import precheck
from s3safe.cli.render import human_size
from s3safe.core.locations import parse_s3_url

pass_app = click.make_pass_decorator(App)


@click.group()
def meta() -> None:
    """Read or change object metadata."""


@meta.command("get")
@click.argument("url")
@click.option("--sse-c-key-file", "sse_c_key_file", metavar="FILE", help="The SSE-C key the object was written with (HTTPS only).")
@click.option("--version-id", "version_id", metavar="ID", help="That version of the object (see 'ls --versions').")
@pass_app
def meta_get_cmd(app: App, url: str, sse_c_key_file: str | None, version_id: str | None) -> None:
    """Show an object's headers and user metadata."""
    from s3safe.ops.meta import meta_get

    app.use_sse_c_key(sse_c_key_file)

    d = meta_get(app.conn, parse_s3_url(url, require_key=True), version_id=version_id)
    if app.render.json_mode:
        app.render.record(d.to_dict(), None)
        return
    rows = [
        ["size", f"{d.size} ({human_size(d.size)})"],
        ["last modified", app.render.time(d.last_modified)],
        ["etag", d.etag or "-"],
        ["content-type", d.content_type or "-"],
        ["cache-control", d.cache_control or "-"],
        ["storage class", d.storage_class],
        *([["version id", d.version_id]] if d.version_id else []),
        ["encryption", (d.sse_algorithm or "none") + (f" ({d.sse_kms_key_id})" if d.sse_kms_key_id else "")],
    ]
    if d.lock_mode or d.retain_until or d.legal_hold is not None:
        until = app.render.time(d.retain_until) if d.retain_until else None
        state = f"{d.lock_mode or 'retention'} until {until}" + ("" if d.locked_until else " (expired)") if until else "none"
        rows += [["object lock", state], ["legal hold", "on" if d.legal_hold else "off"]]
    rows += [[f"checksum {name}", value] for name, value in d.checksums.items()]
    rows += [[f"meta {name}", value] for name, value in sorted(d.metadata.items())]
    app.render.table(["field", "value"], rows, title=f"s3://{d.bucket}/{d.key}")


@meta.command("set")
@click.argument("url")
@click.option("--set", "pairs", multiple=True, metavar="K=V", help="Set metadata or a header (content-type, cache-control…).")
@click.option("--unset", "remove", multiple=True, metavar="K", help="Remove a metadata entry.")
@click.option("-r", "--recursive", is_flag=True, help="Every object under the prefix.")
@where_option
@click.option("--dry-run", is_flag=True, help="Print the plan; change nothing.")
@pass_app
def meta_set_cmd(
    app: App, url: str, pairs: tuple[str, ...], remove: tuple[str, ...], recursive: bool, where: str | None, dry_run: bool
) -> None:
    """Change metadata in place, keeping ACL, encryption and storage class."""
    from s3safe.ops.meta import meta_set, parse_changes

    changes, names = parse_changes(pairs, remove)
    with object_filter(app, where) as selector:
        results = meta_set(app.conn, parse_s3_url(url), changes=changes, remove=names,
                           recursive=recursive, gate=make_gate(dry_run, None), where=selector)  # fmt: skip
        app.actions(results)


@click.group()
def acl() -> None:
    """Read or set canned ACLs (on buckets whose ACLs are enabled)."""


@acl.command("get")
@click.argument("url")
@pass_app
def acl_get_cmd(app: App, url: str) -> None:
    """Show the ACL of a bucket or object."""
    from s3safe.ops.acl import acl_get

    target = parse_s3_url(url)
    info = acl_get(app.conn, target)
    if app.render.json_mode:
        app.render.record({"type": "acl", "url": str(target), **info.to_dict()}, None)
        return
    verdict = "private" if info.is_private else "PUBLIC" if info.is_public_read or info.is_public_write else "shared"
    app.render.table(["grantee", "type", "permission"], [[g.grantee, g.grantee_type, g.permission] for g in info.grants],
                     title=f"{target}: {verdict} (owner {info.owner})")  # fmt: skip


@acl.command("set", short_help="Apply a canned ACL to a bucket or objects.")
@click.argument("canned")
@click.argument("url")
@click.option("-r", "--recursive", is_flag=True, help="Every object under the prefix.")
@click.option("--allow-public", is_flag=True, help="Permit a public canned ACL.")
@where_option
@click.option("--dry-run", is_flag=True, help="Print the plan; change nothing.")
@pass_app
def acl_set_cmd(app: App, canned: str, url: str, recursive: bool, allow_public: bool, where: str | None, dry_run: bool) -> None:
    """Apply a canned ACL, e.g. `acl set private -r s3://bucket/`."""
    from s3safe.ops.acl import acl_set

    with object_filter(app, where) as selector:
        app.actions(acl_set(app.conn, canned, parse_s3_url(url), recursive=recursive, allow_public=allow_public,
                            gate=make_gate(dry_run, None), where=selector))  # fmt: skip


@precheck("meta set")
def precheck_meta_set(params: Mapping[str, Any]) -> None:
    """meta set's checks that need neither the store nor the disk (exec runs them before line 1)."""
    from s3safe.ops.meta import parse_changes

    parse_changes(params.get("pairs") or (), params.get("remove") or ())


@precheck("acl set")
def precheck_acl_set(params: Mapping[str, Any]) -> None:
    """acl set's checks that need neither the store nor the disk (exec runs them before line 1)."""
    from s3safe.ops.acl import check_canned

    check_canned(params["canned"], allow_public=bool(params.get("allow_public")))
