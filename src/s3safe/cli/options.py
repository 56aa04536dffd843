"""Option groups several commands share, declared once."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import click

from s3safe.cli.numbers import WHOLE
from s3safe.core.errors import UsageError
from s3safe.core.safety import SafetyGate
from s3safe.core.settings import parse_rate

F = TypeVar("F", bound=Callable[..., Any])


def gate_options(func: F, *, noun: str = "objects") -> F:
    func = click.option("--dry-run", is_flag=True, help="Print the plan; change nothing.")(func)
    func = click.option("--max-delete", type=WHOLE, metavar="N", help=f"Refuse to delete more than N {noun}.")(func)
    return func


def where_option(func: F) -> F:
    return click.option("--where", metavar="EXPR", help="Only objects matching the condition, e.g. \"s3_size_mb > 100\".")(func)


@contextmanager
def object_filter(app: Any, text: str | None) -> Iterator[Any]:
    """An ObjectFilter for --where (None without one); with -v, reports the extra requests it made."""
    if not text:
        yield None
        return
    from s3safe.ops.where import ObjectFilter, compile_s3_where

    condition = compile_s3_where(text)
    assert condition is not None
    where = ObjectFilter(app.conn, condition)
    try:
        yield where
    finally:
        if app.verbose:
            app.render.note(where.describe_requests())


def dry_run_option(func: F) -> F:
    return click.option("--dry-run", is_flag=True, help="Print the plan; change nothing.")(func)


def make_gate(dry_run: bool, max_delete: int | None) -> SafetyGate:
    if max_delete is not None and max_delete < 0:
        raise UsageError("--max-delete must be zero or more")
    return SafetyGate(dry_run=dry_run, max_delete=max_delete)


def upload_options(func: F) -> F:
    """Options that decide how a new object is stored (put, cp)."""
    decorators = [
        click.option("--acl", metavar="CANNED", help="Canned ACL (default: private). Public ACLs need --allow-public."),
        click.option("--allow-public", is_flag=True, help="Permit a public canned ACL."),
        click.option("--sse", type=click.Choice(["AES256", "aws:kms"]), help="Server-side encryption (default AES256)."),
        click.option("--sse-kms-key-id", metavar="KEY", help="KMS key for --sse aws:kms."),
        click.option("--storage-class", metavar="CLASS", help="e.g. STANDARD_IA, GLACIER_IR."),
        click.option("--meta", multiple=True, metavar="K=V", help="User metadata (repeatable)."),
        click.option("--content-type", metavar="TYPE", help="Content-Type (default: guessed from the name)."),
        click.option("--cache-control", metavar="VALUE", help="Cache-Control header."),
        click.option("--part-size", metavar="SIZE", help="Multipart part size, e.g. 16MiB (min 5MiB)."),
    ]
    for decorator in reversed(decorators):
        func = decorator(func)
    return func


def lock_options(func: F) -> F:
    """Object Lock of each version uploaded (put, sync): immutable until a date, or under a legal hold."""
    decorators = [
        click.option("--retain-until", metavar="DATE", help="Object Lock: keep each version uploaded until DATE (ISO 8601)."),
        click.option("--retain-days", type=WHOLE, metavar="N", help="Object Lock: keep each version uploaded for N days."),
        click.option("--lock-mode", type=click.Choice(["governance", "compliance"], case_sensitive=False),
                     help="Retention mode (default governance; compliance cannot be shortened by anyone)."),
        click.option("--legal-hold", is_flag=True, help="Object Lock: put each version uploaded under a legal hold."),
    ]  # fmt: skip
    for decorator in reversed(decorators):
        func = decorator(func)
    return func


LOCK_KEYS = ("retain_until", "retain_days", "lock_mode", "legal_hold")
UPLOAD_KEYS = ("acl", "allow_public", "sse", "sse_kms_key_id", "storage_class", "meta", "content_type", "cache_control", "part_size",
               *LOCK_KEYS)  # fmt: skip


def build_upload_options(values: dict[str, Any], defaults: dict[str, Any] | None = None) -> Any:
    """Options from the command line, falling back to the config file's upload defaults."""
    from s3safe.transfer.options import UploadOptions, parse_meta, retention

    defaults = defaults or {}
    part = values.get("part_size")
    retain_until, lock_mode = retention(until=values.get("retain_until"), days=values.get("retain_days"), mode=values.get("lock_mode"))
    return UploadOptions(
        acl=values.get("acl"),
        allow_public=bool(values.get("allow_public")),
        sse=values.get("sse") or defaults.get("sse"),
        sse_kms_key_id=values.get("sse_kms_key_id") or defaults.get("sse_kms_key_id"),
        storage_class=values.get("storage_class") or defaults.get("storage_class"),
        metadata=parse_meta(values.get("meta") or ()),
        content_type=values.get("content_type"),
        cache_control=values.get("cache_control"),
        part_size=_part_size(part) if part else None,
        retain_until=retain_until,
        lock_mode=lock_mode,
        legal_hold=bool(values.get("legal_hold")),
        no_clobber=bool(values.get("no_clobber")),
    ).validate()


def _part_size(text: str) -> int:
    try:
        return parse_rate(text)
    except UsageError:
        raise UsageError(f"invalid --part-size {text!r}", hint="a size from 5MiB to 5GiB, e.g. 16MiB") from None
