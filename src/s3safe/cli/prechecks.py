"""The part of a command's validation that needs neither the store nor the disk.

A command calls its own check first thing; `exec` runs `check_parsed` on every line before the first line runs,
so a usage error on line 5 stops the script before line 1 changed anything. Two kinds of checks:

- shared ones, by parameter name, for every command that has the parameter (the global -t/--retries/--timeout/
  --max-bandwidth/--region, every S3URL argument, --where, --max-delete, --as-of, --older-than, the upload
  options …): a new command
  gets them without registering anything;
- a command's own, registered with `@precheck(name)` (option combinations only that command knows).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import click

from s3safe.core.errors import UsageError

Precheck = Callable[[Mapping[str, Any]], None]
PRECHECKS: dict[str, Precheck] = {}


def precheck(name: str) -> Callable[[Precheck], Precheck]:
    """Register `check(params)` (click's parsed parameters) as the pre-check of command `name`, its path
    below `s3safe` ("put", "meta set": a subcommand's own name, "set", is shared by several groups)."""

    def register(check: Precheck) -> Precheck:
        PRECHECKS[name] = check
        return check

    return register


def run_precheck(name: str, params: Mapping[str, Any]) -> None:
    check = PRECHECKS.get(name)
    if check is not None:
        check(params)


def check_parsed(ctx: click.Context) -> None:
    """Every check of a parsed (not invoked) command line that needs neither the store nor the disk: the global
    options' values, the shared checks of each (sub)command's parameters, then the command's own check."""
    chain = [ctx]
    while chain[-1].parent is not None:
        chain.append(chain[-1].parent)
    root = chain[-1]
    _check_global_values(root.params)
    for level in reversed(chain[:-1]):
        _check_s3_arguments(level)
        _check_shared_values(level.params)
    run_precheck(" ".join(level.info_name or "" for level in reversed(chain[:-1])), ctx.params)


def _check_global_values(params: Mapping[str, Any]) -> None:
    """-t, --retries, --timeout, --max-bandwidth and --region, checked as the main command checks them (the
    environment and config file are not consulted: they are the same for every line, and checked when it runs).
    --ca-bundle is a file (disk) and the endpoint's check depends on the call's --allow-http: both at run time."""
    from s3safe.core.settings import resolve_settings

    given = {k: v for k, v in params.items() if k in ("threads", "retries", "timeout", "max_bandwidth", "region")}
    resolve_settings(given, env={}, config={}, check_endpoint_url=False)


def _check_s3_arguments(ctx: click.Context) -> None:
    """An argument written as s3://… must be a valid S3 URL (bucket name, key encoding) for any command."""
    from s3safe.core.locations import is_s3_url, parse_s3_url

    for param in ctx.command.params:
        if not isinstance(param, click.Argument) or param.name is None:
            continue
        value = ctx.params.get(param.name)
        for item in value if isinstance(value, tuple | list) else (value,):
            if isinstance(item, str) and is_s3_url(item):
                parse_s3_url(item)


def _check_where(text: Any) -> None:
    if text:
        from s3safe.query import compile_where

        compile_where(str(text), scope="any")  # a syntax error or an unknown variable: UsageError


def _check_max_delete(value: Any) -> None:
    if value is not None and value < 0:
        raise UsageError("--max-delete must be zero or more")


def _check_upload_values(params: Mapping[str, Any]) -> None:
    """The upload options (put, cp, sync): storage class, header values, part size, metadata, retention, ACL.
    --sse and --sse-kms-key-id are left to run time: the config file may supply the --sse a key id needs."""
    from s3safe.cli.options import build_upload_options

    build_upload_options({**params, "sse": None, "sse_kms_key_id": None})


def _check_point_in_time(text: Any) -> None:
    """--as-of (get -r, revert): ISO 8601 with a zone, or an age."""
    from datetime import UTC, datetime

    from s3safe.core.timespec import parse_point_in_time

    parse_point_in_time(str(text), now=datetime.now(UTC))


def _check_age(text: Any) -> None:
    """--older-than (uploads ls|abort): 7d, 12h … up to the largest age."""
    from s3safe.ops.uploads import parse_age

    if text:
        parse_age(str(text))


SHARED_VALUE_CHECKS: dict[str, Callable[[Any], None]] = {
    "where": _check_where,
    "local_delete_where": _check_where,
    "max_delete": _check_max_delete,
    "as_of": _check_point_in_time,
    "older_than": _check_age,
}


def _check_shared_values(params: Mapping[str, Any]) -> None:
    for name, check in SHARED_VALUE_CHECKS.items():
        if params.get(name) is not None:
            check(params[name])
    if params.get("only_diff") and params.get("only_newer"):
        raise UsageError("choose one of --only-diff and --only-newer")
    if "storage_class" in params:
        _check_upload_values(params)
