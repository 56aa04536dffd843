"""Our own evaluator of S3 bucket policies ("policy simulate").

No local S3 server enforces bucket-policy conditions, so this is how s3safe shows what a policy means.
It follows the AWS IAM User Guide, "Policy evaluation logic", for a resource-based policy:

1. Every statement whose Principal/NotPrincipal, Action/NotAction, Resource/NotResource and Condition all
   match the request "applies".
2. An applying Deny is final: decision ``explicit-deny`` (the first one in document order is reported).
3. Otherwise the request is allowed when an applying Allow exists, or when the caller's own identity-based
   policy allows it. An Allow that names the caller only through its account (Principal {"AWS": "ACCOUNT"}
   or the account's root ARN) delegates to that account: its users and roles need their identity policy too (``RequestContext.identity_allows``; meaningful only for IAM principals — anonymous
   callers and AWS service principals have no identity policy, so they need an Allow in the bucket policy).
   A caller from another account than the bucket's (``bucket_account`` known and different) needs both.
4. Otherwise ``implicit-deny``.

Not modelled: SCPs/RCPs, permission boundaries, session policies, VPC endpoint policies, ACLs and Block
Public Access. Two AWS special cases are: the bucket owner's root user always has identity permissions, and
it can always call Get/Put/DeleteBucketPolicy even when the policy denies it (S3 User Guide, "Adding a
bucket policy": the lock-out safety valve).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

from s3safe.core.errors import UsageError
from s3safe.security.policy_conditions import (
    CompiledCondition,
    ConditionContext,
    PolicyError,
    Template,
    arn_match,
    compile_conditions,
    evaluate_conditions,
    glob_match,
    load_policy_json,
    parse_template,
    resolve,
)

__all__ = [
    "CompiledPolicy",
    "Decision",
    "EvaluationResult",
    "PolicyError",
    "RequestContext",
    "evaluate",
    "load_policy_json",
    "parse_policy",
    "s3_request",
]

Decision = Literal["allow", "explicit-deny", "implicit-deny"]
VERSION_2012 = "2012-10-17"
_VERSIONS = ("2012-10-17", "2008-10-17")
_STATEMENT_KEYS = ("Sid", "Effect", "Principal", "NotPrincipal", "Action", "NotAction", "Resource", "NotResource", "Condition")
_ACCOUNT_RE = re.compile(r"^\d{12}$")
_CANONICAL_RE = re.compile(r"^[0-9a-fA-F]{64}$")
_SERVICE_RE = re.compile(r"^[a-z0-9][a-z0-9.-]*\.[a-z]{2,}$", re.IGNORECASE)
_POLICY_ACTIONS_ROOT_MAY_ALWAYS_USE = frozenset({"s3:getbucketpolicy", "s3:putbucketpolicy", "s3:deletebucketpolicy"})


# ------------------------------------------------------------------------------------------ request


@dataclass(frozen=True)
class RequestContext:
    """One request to simulate.

    principal: "anonymous", an IAM ARN (user, role, assumed-role session, federated user, account root),
    a 12-digit account id (= that account's root), an AWS service principal such as
    "logging.s3.amazonaws.com", or a 64-hex canonical user id.
    conditions: condition key -> str | list[str]; a key that is missing (or None / []) is absent.
    Keys derived from the principal (aws:PrincipalArn, aws:PrincipalAccount, aws:PrincipalType,
    aws:username, aws:userid, aws:PrincipalIsAWSService, aws:PrincipalServiceName) are filled in unless
    given here.
    identity_allows: the caller's own IAM policy allows the action (ignored for anonymous and services).
    bucket_account: the account owning the bucket; None means "the caller's account"; any text that is not
    the caller's account (e.g. "unknown") makes the caller cross-account.
    """

    action: str
    resource: str
    principal: str = "anonymous"
    conditions: Mapping[str, object] = field(default_factory=dict)
    identity_allows: bool = True
    bucket_account: str | None = None
    canonical_user: str | None = None


def s3_request(
    action: str,
    bucket: str,
    key: str | None = None,
    *,
    principal: str = "anonymous",
    source_ip: str | None = None,
    secure_transport: bool = True,
    acl: str | None = None,
    sse: str | None = None,
    sse_kms_key_id: str | None = None,
    current_time: datetime | None = None,
    extra: Mapping[str, object] | None = None,
    identity_allows: bool = True,
    bucket_account: str | None = None,
) -> RequestContext:
    """A RequestContext with the condition keys S3 sets for a request made the way described."""
    conditions: dict[str, object] = {"aws:SecureTransport": "true" if secure_transport else "false"}
    when = (current_time or datetime.now(UTC)).astimezone(UTC)
    conditions["aws:CurrentTime"] = when.strftime("%Y-%m-%dT%H:%M:%SZ")
    conditions["aws:EpochTime"] = str(int(when.timestamp()))
    if source_ip is not None:
        conditions["aws:SourceIp"] = source_ip
    if acl is not None:
        conditions["s3:x-amz-acl"] = acl
    if sse is not None:
        conditions["s3:x-amz-server-side-encryption"] = sse
    if sse_kms_key_id is not None:
        conditions["s3:x-amz-server-side-encryption-aws-kms-key-id"] = sse_kms_key_id
    conditions.update(extra or {})
    resource = f"arn:aws:s3:::{bucket}" if key is None else f"arn:aws:s3:::{bucket}/{key}"
    return RequestContext(action, resource, principal, conditions, identity_allows, bucket_account)


@dataclass(frozen=True)
class _Caller:
    kind: Literal["anonymous", "aws", "service", "canonical"]
    ids: frozenset[str]  # every identity the caller answers to: itself, its role, its account
    account: str | None
    is_root: bool
    keys: dict[str, str]  # condition keys derived from the principal


def _norm_aws(value: str) -> str:
    """One spelling per AWS principal: account ids and root ARNs -> account:ID, roles ignore their path."""
    if _ACCOUNT_RE.match(value):
        return f"account:{value}"
    parts = value.split(":", 5)
    if len(parts) == 6 and parts[0] == "arn" and parts[2] == "iam":
        if parts[5] == "root":
            return f"account:{parts[4]}"
        if parts[5].startswith("role/"):
            return f"role:{parts[4]}:{parts[5].rsplit('/', 1)[1]}"
    return value


def _caller(ctx: RequestContext) -> _Caller:
    p = ctx.principal.strip()
    if p == "anonymous":
        keys = {"aws:PrincipalType": "Anonymous", "aws:userid": "anonymous"}
        return _Caller("anonymous", frozenset({"anonymous"}), None, False, keys)
    if _ACCOUNT_RE.match(p):
        p = f"arn:aws:iam::{p}:root"
    if p.startswith("arn:"):
        parts = p.split(":", 5)
        if len(parts) != 6:
            raise UsageError(f"principal {p!r} is not a valid ARN")
        _, partition, service, _, account, res = parts
        ids = {_norm_aws(p)}
        keys = {"aws:PrincipalArn": p, "aws:PrincipalIsAWSService": "false"}
        is_root = False
        if service == "iam" and res == "root":
            keys.update({"aws:PrincipalType": "Account", "aws:userid": account})
            is_root = True
        elif service == "iam" and res.startswith("user/"):
            keys.update({"aws:PrincipalType": "User", "aws:username": res.rsplit("/", 1)[1]})
        elif service == "iam" and res.startswith("role/"):
            keys["aws:PrincipalType"] = "AssumedRole"  # a role calls only through a session of it, as IAM sees it
        elif service == "sts" and res.startswith("assumed-role/") and res.count("/") >= 2:
            role_arn = f"arn:{partition}:iam::{account}:role/{res.split('/')[1]}"
            ids.add(_norm_aws(role_arn))
            keys.update({"aws:PrincipalType": "AssumedRole", "aws:PrincipalArn": role_arn})
        elif service == "sts" and res.startswith("federated-user/"):
            keys["aws:PrincipalType"] = "FederatedUser"
        if _ACCOUNT_RE.match(account):
            ids.add(f"account:{account}")
            keys["aws:PrincipalAccount"] = account
        if ctx.canonical_user:
            ids.add(f"canonical:{ctx.canonical_user.lower()}")
        return _Caller("aws", frozenset(ids), account or None, is_root, keys)
    if _CANONICAL_RE.match(p):
        return _Caller("canonical", frozenset({f"canonical:{p.lower()}"}), None, False, {})
    if ":" not in p and "/" not in p and _SERVICE_RE.match(p):
        keys = {"aws:PrincipalIsAWSService": "true", "aws:PrincipalServiceName": p.lower()}
        return _Caller("service", frozenset({f"service:{p.lower()}"}), None, False, keys)
    raise UsageError(
        f"unknown principal {p!r}",
        hint="use 'anonymous', an IAM ARN, a 12-digit account id, a service such as logging.s3.amazonaws.com, or a canonical user id",
    )


# ------------------------------------------------------------------------------------------ policy


@dataclass(frozen=True)
class _Principals:
    wildcard: bool
    ids: frozenset[str]

    def matches(self, caller: _Caller) -> bool:
        return self.wildcard or bool(self.ids & caller.ids)

    def delegates(self, caller: _Caller) -> bool:
        """True when the statement names the caller only through its account ({"AWS": "444455556666"} or the
        account's root ARN): that delegates to the account, so a user or role of it also needs its own
        identity policy to allow the request (IAM User Guide, "AWS account principals")."""
        if self.wildcard or caller.is_root:
            return False
        common = self.ids & caller.ids
        return bool(common) and all(i.startswith("account:") for i in common)

    def excludes(self, caller: _Caller) -> bool:
        """NotPrincipal: the caller escapes only if it and everything it belongs to (role, account) are
        listed. AWS ("AWS JSON policy elements: NotPrincipal") says a Deny that omits the account or role
        "might" deny the whole account, depending on the service; we model that conservative reading, which
        is why its examples list the user or session ARN, the role ARN and the account root together."""
        return self.wildcard or caller.ids <= self.ids


@dataclass(frozen=True)
class _Statement:
    index: int
    sid: str | None
    effect: Literal["Allow", "Deny"]
    principals: _Principals
    not_principal: bool
    actions: tuple[str, ...]
    not_action: bool
    resources: tuple[Template, ...]
    not_resource: bool
    conditions: tuple[CompiledCondition, ...]

    @property
    def label(self) -> str:
        return f"statement #{self.index}" + (f" (Sid {self.sid})" if self.sid else "")


@dataclass(frozen=True)
class CompiledPolicy:
    version: str
    statements: tuple[_Statement, ...]


def _str_list(value: object, where: str) -> tuple[str, ...]:
    items = value if isinstance(value, list) else [value]
    if not items or not all(isinstance(v, str) and v for v in items):
        raise PolicyError(f"{where} must be a non-empty string or a non-empty list of non-empty strings")
    return tuple(str(v) for v in items)


def _principals(value: object, where: str) -> _Principals:
    if value == "*":
        return _Principals(True, frozenset())
    if not isinstance(value, Mapping) or not value:
        raise PolicyError(f'{where} must be "*" or an object such as {{"AWS": ...}} or {{"Service": ...}}')
    ids: set[str] = set()
    wildcard = False
    for kind, raw in value.items():
        for v in _str_list(raw, f"{where}.{kind}"):
            if kind == "AWS":
                if v == "*":
                    wildcard = True  # {"AWS": "*"} is the same as "*" (IAM User Guide, "Principal")
                    continue
                if "*" in v or "?" in v:
                    raise PolicyError(
                        f"{where}: wildcards are not allowed inside a principal ({v!r}); use a Condition on aws:PrincipalArn"
                    )
                ids.add(_norm_aws(v))
            elif kind == "Service":
                if "*" in v:
                    raise PolicyError(f"{where}: wildcards are not allowed in a service principal ({v!r})")
                ids.add(f"service:{v.lower()}")
            elif kind == "CanonicalUser":
                ids.add(f"canonical:{v.lower()}")
            elif kind == "Federated":
                ids.add(f"federated:{v}")
            else:
                raise PolicyError(f"{where}: unknown principal type {kind!r} (AWS, Service, CanonicalUser or Federated)")
    return _Principals(wildcard, frozenset(ids))


def _one_of(st: Mapping[str, object], a: str, b: str, where: str) -> tuple[object, bool]:
    if (a in st) == (b in st):
        raise PolicyError(f"{where} needs exactly one of {a} or {b}")
    return (st[a], False) if a in st else (st[b], True)


def _statement(index: int, st: object, variables: bool) -> _Statement:
    where = f"Statement[{index}]"
    if not isinstance(st, Mapping):
        raise PolicyError(f"{where} must be an object")
    unknown = [k for k in st if k not in _STATEMENT_KEYS]
    if unknown:
        raise PolicyError(f"{where}: unknown element(s) {', '.join(map(str, unknown))}")
    sid = st.get("Sid")
    if sid is not None and not isinstance(sid, str):
        raise PolicyError(f"{where}.Sid must be a string")
    effect = st.get("Effect")
    if effect not in ("Allow", "Deny"):
        raise PolicyError(f'{where}.Effect must be "Allow" or "Deny", not {effect!r}')
    principal, not_principal = _one_of(st, "Principal", "NotPrincipal", f"{where} (a bucket policy statement)")
    actions, not_action = _one_of(st, "Action", "NotAction", where)
    resources, not_resource = _one_of(st, "Resource", "NotResource", where)
    name = "NotPrincipal" if not_principal else "Principal"
    action_list = _str_list(actions, f"{where}.{'NotAction' if not_action else 'Action'}")
    for a in action_list:
        if a != "*" and ":" not in a:
            raise PolicyError(f"{where}: action {a!r} must look like service:Action (e.g. s3:GetObject) or be *")
    resource_list = _str_list(resources, f"{where}.{'NotResource' if not_resource else 'Resource'}")
    return _Statement(
        index=index,
        sid=sid,
        effect="Allow" if effect == "Allow" else "Deny",
        principals=_principals(principal, f"{where}.{name}"),
        not_principal=not_principal,
        actions=action_list,
        not_action=not_action,
        resources=tuple(parse_template(r, variables=variables) for r in resource_list),
        not_resource=not_resource,
        conditions=compile_conditions(st.get("Condition"), variables=variables, where=f"{where}.Condition"),
    )


def parse_policy(document: Mapping[str, object] | str) -> CompiledPolicy:
    """Check the shape of a bucket policy and compile it; raises PolicyError (a UsageError)."""
    if isinstance(document, str):
        document = load_policy_json(document)
    if not isinstance(document, Mapping):
        raise PolicyError("a policy must be a JSON object with Version and Statement")
    unknown = [k for k in document if k not in ("Version", "Id", "Statement")]
    if unknown:
        raise PolicyError(f"unknown top-level element(s) {', '.join(map(str, unknown))}")
    version = document.get("Version", "2008-10-17")
    if version not in _VERSIONS:
        raise PolicyError(f'Version must be "2012-10-17" (or the legacy "2008-10-17"), not {version!r}')
    raw = document.get("Statement")
    statements = [raw] if isinstance(raw, Mapping) else raw
    if not isinstance(statements, list) or not statements:
        raise PolicyError("Statement must be an object or a non-empty list of objects")
    variables = version == VERSION_2012  # older policies treat ${...} as literal text
    return CompiledPolicy(str(version), tuple(_statement(i, s, variables) for i, s in enumerate(statements)))


# -------------------------------------------------------------------------------------- evaluation


@dataclass(frozen=True)
class EvaluationResult:
    decision: Decision
    statement_index: int | None  # the deciding statement (None: no statement decided)
    sid: str | None
    explanation: str
    denied_by: tuple[int, ...] = ()  # every applying Deny statement
    allowed_by: tuple[int, ...] = ()  # every applying Allow statement

    @property
    def allowed(self) -> bool:
        return self.decision == "allow"


def _action_matches(st: _Statement, action: str) -> bool:
    hit = any(glob_match(((a, True),), action, ignore_case=True) for a in st.actions)
    return hit != st.not_action


def _resource_matches(st: _Statement, resource: str, ctx: ConditionContext) -> bool:
    hit = False
    for template in st.resources:
        resolved = resolve(template, ctx)
        if resolved is not None and arn_match(resolved, resource):  # a variable with no value matches nothing
            hit = True
            break
    return hit != st.not_resource


def _applies(st: _Statement, caller: _Caller, req: RequestContext, ctx: ConditionContext) -> tuple[bool, list[str]]:
    if st.not_principal:
        if st.principals.excludes(caller):
            return False, []
    elif not st.principals.matches(caller):
        return False, []
    if not _action_matches(st, req.action) or not _resource_matches(st, req.resource, ctx):
        return False, []
    return evaluate_conditions(st.conditions, ctx)


def _because(held: list[str]) -> str:
    return " because " + " and ".join(held) if held else " (no conditions)"


def evaluate(policy: Mapping[str, object] | str | CompiledPolicy | None, request: RequestContext) -> EvaluationResult:
    """Decide one request against a bucket policy (None: the bucket has no policy)."""
    if ":" not in request.action:
        raise UsageError(f"action {request.action!r} must look like s3:GetObject")
    compiled = policy if isinstance(policy, CompiledPolicy) or policy is None else parse_policy(policy)
    caller = _caller(request)
    ctx = ConditionContext(caller.keys, request.conditions)
    who = "anonymous caller" if caller.kind == "anonymous" else request.principal
    what = f"{request.action} on {request.resource} by {who}"

    denies: list[tuple[_Statement, list[str]]] = []
    allows: list[tuple[_Statement, list[str]]] = []
    for st in compiled.statements if compiled else ():
        applies, held = _applies(st, caller, request, ctx)
        if applies:
            (denies if st.effect == "Deny" else allows).append((st, held))
    denied_by = tuple(st.index for st, _ in denies)
    allowed_by = tuple(st.index for st, _ in allows)
    owner_root = caller.is_root and (request.bucket_account is None or request.bucket_account == caller.account)

    if denies:
        st, held = denies[0]
        if owner_root and request.action.lower() in _POLICY_ACTIONS_ROOT_MAY_ALWAYS_USE:
            return EvaluationResult(
                "allow",
                None,
                None,
                f"allowed: {what}; {st.label} denies it, but the bucket owner's root user can always get, put and delete the bucket policy",
                denied_by,
                allowed_by,
            )
        return EvaluationResult(
            "explicit-deny", st.index, st.sid, f"explicitly denied by {st.label}: {what}{_because(held)}", denied_by, allowed_by
        )
    return _without_deny(_Outcome(caller, request, what, allows, denied_by, allowed_by), owner_root=owner_root)


@dataclass(frozen=True)
class _Outcome:
    caller: _Caller
    request: RequestContext
    what: str
    allows: list[tuple[_Statement, list[str]]]
    denied_by: tuple[int, ...]
    allowed_by: tuple[int, ...]

    def result(self, decision: Decision, explanation: str, st: _Statement | None = None) -> EvaluationResult:
        index, sid = (st.index, st.sid) if st else (None, None)
        return EvaluationResult(decision, index, sid, explanation, self.denied_by, self.allowed_by)


def _without_deny(out: _Outcome, *, owner_root: bool) -> EvaluationResult:
    """No statement denies: an Allow of the bucket policy, the caller's identity policy, or both decide."""
    caller, request, what, allows = out.caller, out.request, out.what, out.allows
    identity = caller.kind == "aws" and (request.identity_allows or owner_root)
    cross_account = (
        caller.kind == "aws"
        and request.bucket_account is not None
        and caller.account is not None
        and caller.account != request.bucket_account
    )
    direct = [(st, held) for st, held in allows if st.not_principal or not st.principals.delegates(caller)]
    if direct and (identity or not cross_account):
        st, held = direct[0]
        note = " (the caller's identity policy allows it too)" if cross_account else ""
        return out.result("allow", f"allowed by {st.label}: {what}{_because(held)}{note}", st)
    if allows and identity:  # only statements naming the caller's account: delegated to its identity policy
        st, held = allows[0]
        return out.result(
            "allow",
            f"allowed by {st.label}: {what}{_because(held)} (it names the caller's account, which delegates to the account: "
            "the caller's identity policy allows it too)",
            st,
        )
    if allows and cross_account:
        return out.result(
            "implicit-deny",
            f"implicitly denied: {what}; the bucket policy allows it ({allows[0][0].label}) but a caller from another account "
            "also needs an Allow in its own identity policy (identity_allows is false)",
        )
    if allows:
        return out.result(
            "implicit-deny",
            f"implicitly denied: {what}; {allows[0][0].label} names only the caller's account, which delegates to the "
            "account: the caller's own identity policy must allow it too (identity_allows is false)",
        )
    if identity and not cross_account:
        return out.result(
            "allow",
            f"allowed: {what}; no statement of the bucket policy denies it and the caller's identity policy allows it (identity_allows)",
        )
    if caller.kind == "anonymous":
        reason = "anonymous requests need an Allow statement in the bucket policy"
    elif caller.kind in ("service", "canonical"):
        reason = "this principal has no identity policy here, so it needs an Allow statement in the bucket policy"
    elif cross_account:
        reason = "a caller from another account needs an Allow both in the bucket policy and in its identity policy"
    else:
        reason = "no statement allows it and the caller's identity policy does not either (identity_allows is false)"
    return out.result("implicit-deny", f"implicitly denied: {what}; {reason}")
