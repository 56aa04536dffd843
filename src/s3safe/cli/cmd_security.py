"""policy show|apply|remove|simulate, harden, logging enable|status|disable, presign."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from s3safe.cli.app import App
from s3safe.cli.numbers import WHOLE, WholeRange
from s3safe.cli.options import dry_run_option, make_gate
from s3safe.cli.prechecks import precheck
from s3safe.core.errors import UsageError
from s3safe.core.locations import parse_s3_url
from s3safe.core.models import ActionResult

if TYPE_CHECKING:
    from s3safe.ops.policy import PolicyPlan

pass_app = click.make_pass_decorator(App)
FILE = click.Path(dir_okay=False, path_type=Path)


def _notes(app: App, notes: Iterable[str]) -> None:
    for note in notes:
        app.render.info(f"note: {note}", data={"type": "note", "message": note})


def _lines(app: App, data: dict[str, object], lines: Iterable[str]) -> None:
    """One JSON record, or several text lines (the renderer escapes newlines inside one)."""
    if app.render.json_mode:
        app.render.record(data, None)
        return
    for line in lines:
        app.render.record(data, line)


def _diff(app: App, bucket: str, lines: list[str]) -> None:
    _lines(app, {"type": "diff", "bucket": bucket, "lines": lines}, lines)


class _Watch:
    """Passes results through, remembering whether any change was really made."""

    def __init__(self, results: Iterator[ActionResult]) -> None:
        self.results = results
        self.changed = False

    def __iter__(self) -> Iterator[ActionResult]:
        for result in self.results:
            self.changed = self.changed or (result.ok and not result.dry_run)
            yield result


# ------------------------------------------------------------------------------------------- policy


@click.group()
def policy() -> None:
    """Show, apply, remove or simulate bucket-policy statements (FAQ templates)."""


@policy.command("show")
@click.argument("url")
@pass_app
def policy_show(app: App, url: str) -> None:
    """Print the bucket policy as JSON, with one plain-language line per statement."""
    from s3safe.ops.policy import show_policy

    view = show_policy(app.conn, parse_s3_url(url))
    if app.render.json_mode:
        app.render.record(view.to_dict(), None)
        return
    if view.policy is None:
        app.render.info(f"s3://{view.bucket} has no bucket policy")
        return
    _lines(app, view.to_dict(), view.text.splitlines())
    app.render.info("")
    app.render.info(f"{len(view.summary)} statement(s):")
    _lines(app, view.to_dict(), [f"  - {line}" for line in view.summary])


@policy.command("apply")
@click.argument("url")
@click.option("--private-acl-only", is_flag=True, help="Deny any x-amz-acl other than private.")
@click.option("--require-sse", is_flag=False, flag_value="default", default=None, metavar="[AES256|aws:kms]",
              type=click.Choice(["AES256", "aws:kms", "aws:kms:dsse", "default"]),
              help="Deny uploads asking for other encryption (default: AES256 or aws:kms).")  # fmt: skip
@click.option("--require-tls", is_flag=True, help="Deny every plain-HTTP request.")
@click.option("--allow-ip", multiple=True, metavar="CIDR", help="Deny requests from outside these ranges (repeatable).")
@click.option("--deny-ip", multiple=True, metavar="CIDR", help="Deny requests from these ranges (repeatable).")
@click.option("--exempt-aws-services", is_flag=True, help="Let AWS service principals (log delivery) past --allow-ip.")
@click.option("--from-file", "policy_file", type=FILE, help="Merge the statements of this policy file too.")
@click.option("--caller-ip", metavar="IP", help="Your public address as S3 sees it, for the lock-out check (not looked up).")
@click.option("--force", is_flag=True, help="Apply even if the policy would lock you out.")
@dry_run_option
@pass_app
def policy_apply(app: App, url: str, private_acl_only: bool, require_sse: str | None, require_tls: bool,
                 allow_ip: tuple[str, ...], deny_ip: tuple[str, ...], exempt_aws_services: bool, policy_file: Path | None,
                 caller_ip: str | None, force: bool, dry_run: bool) -> None:  # fmt: skip
    """Merge template statements into the bucket policy; shows the diff, refuses lock-outs.

    Without --caller-ip your address is unknown to s3safe, so an --allow-ip list counts as locking you
    out (refused unless --force). Applying the same options twice changes nothing.
    """
    from s3safe.ops.policy import ApplyRequest, plan_apply
    from s3safe.security.policy_templates import TemplateOptions

    precheck_policy_apply({"allow_ip": allow_ip, "deny_ip": deny_ip, "caller_ip": caller_ip})
    sse = None if require_sse is None else () if require_sse == "default" else (require_sse,)
    templates = TemplateOptions(private_acl_only=private_acl_only, require_sse=sse, require_tls=require_tls,
                                allow_ips=allow_ip, deny_ips=deny_ip, exempt_aws_services=exempt_aws_services)  # fmt: skip
    request = ApplyRequest(templates, policy_file, caller_ip, force)
    plan = plan_apply(app.conn, parse_s3_url(url), request, make_gate(dry_run, None))
    _show_plan(app, plan, "already contains these statements")


@precheck("policy remove")
def precheck_policy_remove(params: Mapping[str, Any]) -> None:
    if not params.get("sids") and not params.get("all_s3safe"):
        raise UsageError("say which statements to remove: --sid SID or --all-s3safe")


@precheck("policy apply")
def precheck_policy_apply(params: Mapping[str, Any]) -> None:
    """Every --allow-ip/--deny-ip is an address or CIDR block (exec checks them before line 1)."""
    from s3safe.ops.policy import check_ip
    from s3safe.security.policy_templates import normalize_cidr

    check_ip(params.get("caller_ip"), "--caller-ip")
    for cidr in (*params.get("allow_ip", ()), *params.get("deny_ip", ())):
        normalize_cidr(cidr)


def _show_plan(app: App, plan: PolicyPlan, same: str) -> None:
    if not plan.changed:
        app.render.info(f"no change: the policy of s3://{plan.bucket} {same}", data={"type": "summary", "changed": False})
        return
    _diff(app, plan.bucket, plan.diff)
    for warning in plan.warnings:
        app.render.warn(warning)
    app.actions(plan.results, noun="policy")


@policy.command("remove")
@click.argument("url")
@click.option("--sid", "sids", multiple=True, metavar="SID", help="Remove the statement with this Sid (repeatable).")
@click.option("--all-s3safe", is_flag=True, help="Remove every statement s3safe added (Sid S3Safe*).")
@dry_run_option
@pass_app
def policy_remove(app: App, url: str, sids: tuple[str, ...], all_s3safe: bool, dry_run: bool) -> None:
    """Remove statements by Sid; the policy is deleted when none are left."""
    from s3safe.ops.policy import plan_remove

    precheck_policy_remove({"sids": sids, "all_s3safe": all_s3safe})
    plan = plan_remove(app.conn, parse_s3_url(url), sids=sids, all_s3safe=all_s3safe, gate=make_gate(dry_run, None))
    _show_plan(app, plan, "has no such statements")


@policy.command("simulate")
@click.argument("url")
@click.option("--action", required=True, metavar="ACTION", help="e.g. s3:GetObject, s3:PutObject, s3:ListBucket.")
@click.option("--key", metavar="KEY", help="Object key (object actions).")
@click.option("--principal", default="anonymous", show_default=True, metavar="anonymous|ARN", help="Who asks.")
@click.option("--source-ip", metavar="IP", help="The caller's address (aws:SourceIp).")
@click.option("--secure-transport", type=click.Choice(["true", "false"]), default="true", show_default=True, help="HTTPS?")
@click.option("--acl", metavar="CANNED", help="The x-amz-acl header sent.")
@click.option("--sse", metavar="ALG", help="The x-amz-server-side-encryption header sent.")
@click.option("--from-file", "policy_file", type=FILE, help="Simulate this policy file instead of the bucket's policy.")
@click.option("--bucket-account", metavar="ACCOUNT", help="The account owning the bucket (default: your credentials' account).")
@click.option("--identity-policy", type=click.Choice(["allow", "deny"]), default="allow", show_default=True,
              help="Whether the principal's own IAM policy allows the action.")  # fmt: skip
@pass_app
def policy_simulate(app: App, url: str, action: str, key: str | None, principal: str, source_ip: str | None,
                    secure_transport: str, acl: str | None, sse: str | None, policy_file: Path | None,
                    bucket_account: str | None, identity_policy: str) -> None:  # fmt: skip
    """Decide one request against the bucket policy with s3safe's evaluator (exit 0 either way)."""
    from s3safe.ops.policy import SimulationRequest, simulate

    request = SimulationRequest(action, key, principal, source_ip, secure_transport == "true", acl, sse, policy_file,
                                bucket_account=bucket_account, identity_allows=identity_policy == "allow")  # fmt: skip
    result = simulate(app.conn, parse_s3_url(url), request)
    lines = [f"decision: {result.decision}", f"request: {result.action} on {result.resource} by {result.principal}"]
    lines += [f"assumed: {note}" for note in result.assumptions]
    if result.statement_index is not None:
        lines.append(f"deciding statement: #{result.statement_index}" + (f" ({result.sid})" if result.sid else ""))
        lines.append(f"  {result.statement}")
    else:
        lines.append("deciding statement: none")
    lines += [f"why: {result.explanation}", f"policy: {result.source}"]
    _lines(app, result.to_dict(), lines)


# ------------------------------------------------------------------------------------------- harden


@click.command()
@click.argument("url")
@click.option("--versioning", is_flag=True, help="Also turn versioning on.")
@click.option("--keep-acls", is_flag=True, help="Leave Object Ownership (and so ACLs) as it is.")
@click.option("--acl-sample", type=WholeRange(min=0), default=200, show_default=True, metavar="N", help="Object ACLs to check first.")
@dry_run_option
@pass_app
def harden(app: App, url: str, versioning: bool, keep_acls: bool, acl_sample: int, dry_run: bool) -> None:
    """Block public access, disable ACLs, encrypt by default, deny plain HTTP; report before/after."""
    from s3safe.ops.harden import plan_harden, report_rows

    plan = plan_harden(app.conn, parse_s3_url(url), versioning=versioning, keep_acls=keep_acls, acl_sample=acl_sample,
                       gate=make_gate(dry_run, None))  # fmt: skip
    if plan.steps:
        app.render.info(f"changes for s3://{plan.bucket}:")
        for step in plan.steps:
            app.render.record({"type": "plan", "bucket": plan.bucket, "setting": step.name, "before": step.before,
                               "after": step.after}, f"  {step.describe()}")  # fmt: skip
    _notes(app, plan.notes)
    watch = _Watch(plan.results)
    if plan.steps:
        app.actions(watch, noun="setting")
    elif plan.unsupported:
        app.render.warn(f"no change: s3://{plan.bucket} has nothing left to harden that this endpoint supports; "
                        f"not supported: {', '.join(plan.unsupported)}")  # fmt: skip
    else:
        app.render.info(f"no change: s3://{plan.bucket} is already hardened", data={"type": "summary", "changed": False})
    rows = report_rows(plan.before, plan.read_after() if watch.changed else None)
    if app.render.json_mode:
        for name, before, after in rows:
            app.render.record({"type": "setting", "bucket": plan.bucket, "name": name, "before": before, "after": after}, None)
    elif watch.changed:
        app.render.table(["setting", "before", "after"], [list(r) for r in rows], title=f"s3://{plan.bucket}")
    else:
        app.render.table(["setting", "now"], [[name, before] for name, before, _ in rows], title=f"s3://{plan.bucket} (unchanged)")


# ------------------------------------------------------------------------------------------ logging


@click.group("logging")
def logging_group() -> None:
    """Server access logging with a policy grant and a retention rule."""


@logging_group.command("enable")
@click.argument("url")
@click.option("--target", required=True, metavar="s3://LOGBUCKET/prefix/", help="Where logs go (created hardened if missing).")
@click.option("--retain-days", type=WHOLE, metavar="N", help="Expire log objects after N days (lifecycle rule, merged).")
@click.option("--source-account", metavar="ID", help="Account id for the grant's aws:SourceAccount (default: asked from STS).")
@dry_run_option
@pass_app
def logging_enable(app: App, url: str, target: str, retain_days: int | None, source_account: str | None, dry_run: bool) -> None:
    """Enable server access logging of a bucket into a target bucket and prefix."""
    from s3safe.ops.access_logging import plan_enable

    plan = plan_enable(app.conn, parse_s3_url(url), parse_s3_url(target), retain_days=retain_days,
                       source_account=source_account, gate=make_gate(dry_run, None))  # fmt: skip
    _notes(app, plan.notes)
    if not plan.steps:
        app.render.info(f"no change: s3://{plan.source} already logs to s3://{plan.target}/{plan.prefix}",
                        data={"type": "summary", "changed": False})  # fmt: skip
        return
    app.actions(plan.results, noun="step")


@logging_group.command("status")
@click.argument("url")
@pass_app
def logging_status_cmd(app: App, url: str) -> None:
    """Show where a bucket's access logs go, their retention, and whether delivery is permitted."""
    from s3safe.ops.access_logging import logging_status

    status = logging_status(app.conn, parse_s3_url(url))
    if not status.enabled:
        app.render.record(status.to_dict(), f"s3://{status.bucket}: access logging is off")
        return
    retention = f"{status.retention_days} days" if status.retention_days else "kept until deleted"
    allowed = {True: "yes", False: "NO", None: "unknown"}[status.delivery_allowed]
    lines = [f"s3://{status.bucket}: access logging on", f"  target: s3://{status.target_bucket}/{status.target_prefix}",
             f"  retention: {retention}", f"  log delivery permitted by target policy: {allowed}"]  # fmt: skip
    lines += [f"  note: {n}" for n in status.notes]
    _lines(app, status.to_dict(), lines)


@logging_group.command("disable")
@click.argument("url")
@dry_run_option
@pass_app
def logging_disable(app: App, url: str, dry_run: bool) -> None:
    """Turn server access logging off (logs, grant and retention rule stay)."""
    from s3safe.ops.access_logging import plan_disable

    plan = plan_disable(app.conn, parse_s3_url(url), gate=make_gate(dry_run, None))
    if not plan.steps:
        app.render.info(f"no change: access logging of s3://{plan.source} is already off", data={"type": "summary", "changed": False})
        return
    app.actions(plan.results, noun="step")
    _notes(app, plan.notes)


# ------------------------------------------------------------------------------------------ presign


@click.command()
@click.argument("url")
@click.option("--method", type=click.Choice(["GET", "PUT", "POST"], case_sensitive=False), default="GET", show_default=True)
@click.option("--expires", default="1h", show_default=True, metavar="DURATION", help="e.g. 15m, 1h, 2d; at most 7d.")
@click.option("--content-type", metavar="TYPE", help="PUT/POST: Content-Type uploads must have ('image/' = any image, POST); GET: response type.")
@click.option("--sse", type=click.Choice(["AES256", "aws:kms", "none"]), help="PUT/POST: pin server-side encryption (POST default AES256).")
@click.option("--max-size", metavar="SIZE", help="POST: largest upload accepted (default 5GiB).")
@click.option("--min-size", metavar="SIZE", help="POST: smallest upload accepted (default 0).")
@pass_app
def presign(app: App, url: str, method: str, expires: str, content_type: str | None, sse: str | None,
            max_size: str | None, min_size: str | None) -> None:  # fmt: skip
    """Print a pre-signed URL (GET/PUT) or POST form; the URL alone goes to stdout."""
    from s3safe.ops.presign import PresignRequest, parse_duration, parse_size
    from s3safe.ops.presign import presign as sign

    precheck_presign({"expires": expires, "min_size": min_size, "max_size": max_size})
    request = PresignRequest(method.upper(), parse_duration(expires), content_type, sse,
                             parse_size(min_size) if min_size is not None else None,
                             parse_size(max_size) if max_size is not None else None)  # fmt: skip
    result = sign(app.conn, parse_s3_url(url), request)
    for warning in result.warnings:
        app.render.warn(warning)
    # revealed: every other output path would (rightly) mask the signature the user asked for
    if app.render.json_mode:
        app.render.reveal_json(result.to_dict())
        return
    notes = [f"expires {app.render.time(result.expires_at)}"]
    if result.method == "POST":
        app.render.reveal_json({"url": result.url, "fields": result.fields, "curl": result.curl()}, indent=2)
        notes.append("upload with the 'curl' line (replace FILE; the file field must come last)")
    else:
        app.render.reveal(result.url)
    if result.headers:
        notes.append("the uploader must send these headers: " + "; ".join(f"{k}: {v}" for k, v in result.headers.items()))
    if not app.render.quiet:
        for note in notes:
            app.render.line(f"s3safe: {note}", err=True)


@precheck("presign")
def precheck_presign(params: Mapping[str, Any]) -> None:
    """presign's values that need neither the store nor the disk (exec runs them before line 1)."""
    from s3safe.ops.presign import parse_duration, parse_size

    parse_duration(params["expires"])  # also: at most 7 days
    for key in ("min_size", "max_size"):
        if params.get(key) is not None:
            parse_size(params[key])
