"""`policy show|apply|remove|simulate`: FAQ templates merged into a bucket's policy, through the gate.

Plans are computed eagerly (read, merge, diff, validate, lock-out check) so the CLI can show the diff
before anything happens; the change itself runs only when the plan's `results` are consumed, and only
through the SafetyGate (which is where --dry-run is honoured).

The caller's IP address: s3safe makes no request to any "what is my IP" service. The lock-out check uses
the address given with `--caller-ip`; without it the address is unknown, which an IP allow-list denies
(aws:SourceIp absent -> NotIpAddress is true), so an allow-list needs --caller-ip or --force.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from s3safe.core.errors import NotFoundError, SafetyRefusal, UsageError
from s3safe.core.locations import S3Url
from s3safe.core.models import ActionResult
from s3safe.core.safety import SafetyGate
from s3safe.core.smallfile import read_small_file
from s3safe.security.policy_conditions import PolicyError, load_policy_json
from s3safe.security.policy_eval import evaluate, parse_policy, s3_request
from s3safe.security.policy_summary import summarize_policy, summarize_statement
from s3safe.security.policy_templates import (
    CANNED_ACLS,
    KNOWN_SSE_ALGORITHMS,
    TemplateOptions,
    build_statements,
    diff,
    dump_policy,
    merge,
    remove,
    validate,
    would_lock_out,
)
from s3safe.security.s3_actions import canonical_action, is_object_action
from s3safe.storage.buckets import read_optional
from s3safe.storage.connection import Connection
from s3safe.storage.errors import translated
from s3safe.storage.identity import caller_identity

Policy = dict[str, Any]
UNKNOWN_CALLER = "arn:aws:iam::000000000000:user/s3safe-caller"
ACCOUNT_ID = re.compile(r"\d{12}")


# ------------------------------------------------------------------------------------ shared helpers


def read_policy(conn: Connection, bucket: str) -> Policy | None:
    """The bucket's policy as a dict, or None when it has none."""
    client = conn.client_for(bucket)
    response = read_optional(lambda: client.get_bucket_policy(Bucket=bucket), absent_codes=("NoSuchBucketPolicy",),
                             action="read the bucket policy of", bucket=bucket)  # fmt: skip
    if response is None:
        return None
    text = response.get("Policy") or ""
    if not text.strip():
        return None
    loaded = load_policy_json(text, what=f"the stored policy of s3://{bucket}")
    if not isinstance(loaded, dict):
        raise PolicyError(f"the stored policy of s3://{bucket} is not a JSON object")
    return loaded


def policy_bytes(policy: Mapping[str, Any]) -> str:
    """What s3safe stores: the canonical element order of dump_policy, without whitespace."""
    return json.dumps(json.loads(dump_policy(policy)), separators=(",", ":"), ensure_ascii=False)


def write_policy(conn: Connection, bucket: str, policy: Mapping[str, Any] | None) -> None:
    """Put the policy, or delete it when None (S3 refuses a policy without statements)."""
    client = conn.client_for(bucket)
    with translated("change the bucket policy of", bucket=bucket):
        if policy is None:
            client.delete_bucket_policy(Bucket=bucket)
        else:
            client.put_bucket_policy(Bucket=bucket, Policy=policy_bytes(policy))


def bucket_of(url: S3Url, command: str) -> str:
    if not url.is_bucket:
        raise UsageError(f"'{command}' takes a bucket, not an object path: {url}", hint=f"write s3://{url.bucket}")
    return url.bucket


# ---------------------------------------------------------------------------------------------- show


@dataclass(frozen=True)
class PolicyView:
    bucket: str
    policy: Policy | None
    summary: list[str]

    @property
    def text(self) -> str:
        return dump_policy(self.policy) if self.policy else ""

    def to_dict(self) -> dict[str, Any]:
        return {"type": "policy", "bucket": self.bucket, "policy": self.policy, "summary": self.summary}


def show_policy(conn: Connection, url: S3Url) -> PolicyView:
    bucket = bucket_of(url, "policy show")
    policy = read_policy(conn, bucket)
    return PolicyView(bucket, policy, summarize_policy(policy) if policy else [])


# ------------------------------------------------------------------------------------- apply / remove


@dataclass
class PolicyPlan:
    """A proposed policy change: shown (diff) first, made when `results` is consumed."""

    bucket: str
    current: Policy | None
    proposed: Policy | None
    diff: list[str]
    warnings: list[str] = field(default_factory=list)
    results: Iterator[ActionResult] = field(default_factory=lambda: iter(()))

    @property
    def changed(self) -> bool:
        return bool(self.diff)


@dataclass(frozen=True)
class ApplyRequest:
    templates: TemplateOptions = field(default_factory=TemplateOptions)
    policy_file: Path | None = None
    caller_ip: str | None = None
    force: bool = False
    statements: tuple[Mapping[str, Any], ...] = ()  # extra statements built by a caller (e.g. audit --fix)


def _read_policy_file(path: Path) -> Any:
    try:
        text = read_small_file(path, what="policy file").decode("utf-8")
    except UnicodeDecodeError:
        raise UsageError(f"policy file {path} is not UTF-8 text") from None
    return load_policy_json(text, what=f"policy file {path}")


def load_statements(path: Path) -> list[Policy]:
    """Statements from a file holding a whole policy, a list of statements, or one statement."""
    data = _read_policy_file(path)
    if isinstance(data, dict) and "Statement" in data:
        data = data["Statement"]
    items = data if isinstance(data, list) else [data]
    if not items or not all(isinstance(s, dict) for s in items):
        raise UsageError(f"policy file {path} must hold a policy, a statement, or a list of statements")
    return [dict(s) for s in items]


def load_policy_document(path: Path) -> tuple[Policy, list[str]]:
    """A policy file as the policy it is: a whole document keeps its own Version (a 2008-10-17 or
    Version-less policy treats ${...} as literal text), bad Versions and unknown top-level elements are
    refused by parse_policy. Bare statements have no Version: they are read as 2012-10-17, and said so."""
    data = _read_policy_file(path)
    if isinstance(data, dict) and "Statement" in data:
        return data, []
    wrapped = {"Version": "2012-10-17", "Statement": load_statements(path)}
    return wrapped, [f"{path} holds statements without a policy around them: read as Version 2012-10-17"]


def _statements_to_merge(path: Path) -> list[Policy]:
    """The file's statements. Merged, they live under the bucket policy's Version 2012-10-17, so those of a
    2008-10-17 (or Version-less) file that contain "${" are refused: their literal text would become a
    policy variable (the change that hid a public path in issue 20.10)."""
    document, _ = load_policy_document(path)
    statements = load_statements(path)
    version = document.get("Version", "2008-10-17")
    if version != "2012-10-17" and "${" in json.dumps(statements):
        raise UsageError(
            f"{path} is a Version {version} policy, where ${{...}} is literal text; merged into the bucket policy "
            "(Version 2012-10-17) it would become a policy variable",
            hint="set the file's Version to 2012-10-17 if variables are meant; a literal '$' is written ${$} there",
        )
    return statements


def check_ip(text: str | None, what: str) -> str | None:
    if text is None:
        return None
    try:
        return str(ipaddress.ip_address(text.strip()))
    except ValueError:
        raise UsageError(f"{what} {text!r} is not an IPv4 or IPv6 address") from None


def _change(conn: Connection, bucket: str, proposed: Policy | None, gate: SafetyGate) -> Iterator[ActionResult]:
    action = "put-policy" if proposed is not None else "delete-policy"
    count = len(proposed.get("Statement", [])) if proposed else 0
    detail = f"{count} statement(s)" if proposed is not None else "no statements left"

    def execute(_: Sequence[str]) -> list[ActionResult]:
        write_policy(conn, bucket, proposed)
        return [ActionResult(action, f"s3://{bucket}", detail=detail)]

    return gate.apply(action, [bucket], execute, describe=lambda b: f"s3://{b} ({detail})")


def _lockout(policy: Policy | None, caller_ip: str | None, caller_arn: str, bucket: str) -> str | None:
    if policy is None:
        return None
    try:
        return would_lock_out(policy, caller_ip, caller_arn, bucket=bucket)
    except PolicyError:
        return None


def plan_apply(conn: Connection, url: S3Url, request: ApplyRequest, gate: SafetyGate) -> PolicyPlan:
    """Merge the template (and file) statements into the bucket's policy; refuse a lock-out unless forced."""
    bucket = bucket_of(url, "policy apply")
    caller_ip = check_ip(request.caller_ip, "--caller-ip")
    statements = build_statements(bucket, request.templates)
    if request.policy_file is not None:
        statements += _statements_to_merge(request.policy_file)
    statements += [dict(s) for s in request.statements]
    if not statements:
        raise UsageError(
            "nothing to apply",
            hint="give --private-acl-only, --require-sse, --require-tls, --allow-ip, --deny-ip or --from-file",
        )
    current = read_policy(conn, bucket)
    proposed = merge(current, statements)
    changes = diff(current, proposed)
    if not changes:
        return PolicyPlan(bucket, current, proposed, [])
    validate(proposed, bucket)
    warnings: list[str] = []
    identity = caller_identity(conn)
    arn = identity.arn if identity else UNKNOWN_CALLER
    lock = _lockout(proposed, caller_ip, arn, bucket)
    if lock and lock != _lockout(current, caller_ip, arn, bucket):
        if not request.force:
            hint = "nothing was changed; if you are sure, rerun with --force"
            if caller_ip is None:
                hint = "s3safe does not look up your public address: pass --caller-ip ADDRESS (the one S3 sees), or --force"
            raise SafetyRefusal(lock, hint=hint)
        warnings.append(f"--force: {lock}")
    if conn.settings.uses_http:
        probe = s3_request("s3:ListBucket", bucket, principal=arn, source_ip=caller_ip, secure_transport=False)
        if not evaluate(proposed, probe).allowed:
            warnings.append("you are connected over plain HTTP, which this policy denies; on AWS these requests would fail")
    return PolicyPlan(bucket, current, proposed, changes, warnings, _change(conn, bucket, proposed, gate))


def plan_remove(conn: Connection, url: S3Url, *, sids: Sequence[str], all_s3safe: bool, gate: SafetyGate) -> PolicyPlan:
    """Drop statements by Sid (or every S3Safe* statement); the policy is deleted when none are left."""
    bucket = bucket_of(url, "policy remove")
    if sids and all_s3safe:
        raise UsageError("give either --sid or --all-s3safe, not both")
    current = read_policy(conn, bucket)
    present = {st.get("Sid") for st in _statements(current)}
    missing = [sid for sid in sids if sid not in present]
    if missing:
        raise NotFoundError(f"no statement with Sid {', '.join(missing)} in the policy of s3://{bucket}", hint="see 'policy show'")
    proposed = remove(current, sids, all_s3safe=all_s3safe)
    changes = diff(current, proposed)
    if not changes:
        return PolicyPlan(bucket, current, proposed, [])
    return PolicyPlan(bucket, current, proposed, changes, [], _change(conn, bucket, proposed, gate))


def _statements(policy: Mapping[str, Any] | None) -> list[Mapping[str, Any]]:
    raw = (policy or {}).get("Statement", [])
    items = [raw] if isinstance(raw, Mapping) else raw if isinstance(raw, list) else []
    return [s for s in items if isinstance(s, Mapping)]


# ------------------------------------------------------------------------------------------ simulate


@dataclass(frozen=True)
class SimulationRequest:
    action: str
    key: str | None = None
    principal: str = "anonymous"
    source_ip: str | None = None
    secure_transport: bool = True
    acl: str | None = None
    sse: str | None = None
    policy_file: Path | None = None
    bucket_account: str | None = None  # None: derived from the credentials (STS), or unknown
    identity_allows: bool = True  # the principal's own IAM policy allows the action


@dataclass(frozen=True)
class Simulation:
    bucket: str
    action: str
    resource: str
    principal: str
    decision: str
    statement_index: int | None
    sid: str | None
    statement: str | None  # plain-language summary of the deciding statement
    explanation: str
    source: str
    assumptions: tuple[str, ...] = ()

    @property
    def allowed(self) -> bool:
        return self.decision == "allow"

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": "simulation", "bucket": self.bucket, "action": self.action, "resource": self.resource,
            "principal": self.principal, "decision": self.decision, "statement_index": self.statement_index,
            "sid": self.sid, "statement": self.statement, "explanation": self.explanation, "policy_source": self.source,
            "assumptions": list(self.assumptions),
        }  # fmt: skip


UNKNOWN_ACCOUNT = "unknown"  # not any caller's account: the evaluator treats the caller as cross-account


def _principal_account(principal: str) -> str | None:
    if ACCOUNT_ID.fullmatch(principal):
        return principal
    parts = principal.split(":", 5)
    if len(parts) == 6 and parts[0] == "arn" and ACCOUNT_ID.fullmatch(parts[4]):
        return parts[4]
    return None


def _bucket_account(conn: Connection, request: SimulationRequest, account: str) -> tuple[str, str]:
    """The bucket's account and the sentence saying where it came from."""
    if request.bucket_account is not None:
        if not ACCOUNT_ID.fullmatch(request.bucket_account):
            raise UsageError(f"--bucket-account {request.bucket_account!r} is not a 12-digit AWS account id")
        return request.bucket_account, f"the bucket belongs to account {request.bucket_account} (--bucket-account)"
    identity = caller_identity(conn) if request.policy_file is None else None
    if identity is not None and identity.account:
        return identity.account, (
            f"the bucket belongs to account {identity.account}, the account of your credentials (STS GetCallerIdentity); "
            "give --bucket-account if another account owns it"
        )
    return UNKNOWN_ACCOUNT, (
        f"the bucket's account is unknown, so {account} counts as another account: the bucket policy must allow "
        "the request too (give --bucket-account ACCOUNT if the bucket is in the caller's account)"
    )


def _assumptions(conn: Connection, request: SimulationRequest) -> tuple[str | None, list[str]]:
    """The bucket account to evaluate with, and the assumptions made about the caller (said in the output)."""
    account = _principal_account(request.principal.strip())
    if account is None:
        return None, []  # anonymous, a service or a canonical user: no account, no identity policy
    bucket_account, where = _bucket_account(conn, request, account)
    identity = (
        f"{request.principal}'s own IAM policy allows {canonical_action(request.action)} (--identity-policy deny to check the bucket policy alone)"
        if request.identity_allows
        else f"{request.principal}'s own IAM policy does not allow it (--identity-policy deny)"
    )
    return bucket_account, [where, identity]


def simulate(conn: Connection, url: S3Url, request: SimulationRequest) -> Simulation:
    """Decide one request against the bucket's policy (or a policy file, without contacting the store)."""
    action = canonical_action(request.action)
    key = request.key if request.key is not None else (url.key or None)
    if is_object_action(action) and not key:
        raise UsageError(f"{action} acts on an object: give --key KEY")
    if not is_object_action(action) and key:
        raise UsageError(f"{action} acts on the bucket itself: leave out --key")
    if request.acl is not None and request.acl not in CANNED_ACLS:
        raise UsageError(f"unknown canned ACL {request.acl!r}", hint="one of: " + ", ".join(CANNED_ACLS))
    if request.sse is not None and request.sse not in KNOWN_SSE_ALGORITHMS:
        raise UsageError(f"unknown server-side encryption {request.sse!r}", hint="one of: " + ", ".join(KNOWN_SSE_ALGORITHMS))
    source_ip = check_ip(request.source_ip, "--source-ip")
    notes: list[str] = []
    policy: Policy | None
    if request.policy_file is not None:
        policy, notes = load_policy_document(request.policy_file)
        source = str(request.policy_file)
    else:
        policy = read_policy(conn, url.bucket)
        source = f"bucket policy of s3://{url.bucket}" if policy else f"s3://{url.bucket} has no bucket policy"
    compiled = parse_policy(policy) if policy else None
    bucket_account, assumed = _assumptions(conn, request)
    ctx = s3_request(
        action, url.bucket, key, principal=request.principal, source_ip=source_ip,
        secure_transport=request.secure_transport, acl=request.acl, sse=request.sse,
        identity_allows=request.identity_allows, bucket_account=bucket_account,
    )  # fmt: skip
    result = evaluate(compiled, ctx)
    statements = _statements(policy)
    deciding = None
    if result.statement_index is not None and result.statement_index < len(statements):
        deciding = summarize_statement(statements[result.statement_index])
    return Simulation(
        bucket=url.bucket, action=action, resource=ctx.resource, principal=request.principal, decision=result.decision,
        statement_index=result.statement_index, sid=result.sid, statement=deciding, explanation=result.explanation,
        source=source, assumptions=tuple(notes + assumed),
    )  # fmt: skip
