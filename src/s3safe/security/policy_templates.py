"""Bucket-policy templates for the S3Express FAQ policies, merged into existing policies safely.

Every template statement is a Deny with ``"Principal": "*"`` and a stable Sid starting with ``S3Safe``:
templates only ever take access away, and applying them twice changes nothing.

Semantics relied on (AWS IAM User Guide, "IAM JSON policy elements: Condition operators"): a negated
operator such as StringNotEquals is TRUE when the key is missing from the request, and so is every
``...IfExists`` operator. A Deny written as the FAQ writes it — ``StringNotEquals s3:x-amz-acl private`` — or
with ``StringNotEqualsIfExists`` therefore also denies every request that sends no x-amz-acl header at all:
uploads to a bucket with ACLs disabled (BucketOwnerEnforced, where sending an ACL header fails), and every
UploadPart of a multipart upload (authorized as s3:PutObject, and it cannot carry the header; see
aws/aws-cli#1674 and boto/botocore#471). So the templates deny only when the header is PRESENT and wrong:

    "Condition": {"StringNotEquals": {"s3:x-amz-acl": "private"}, "Null": {"s3:x-amz-acl": "false"}}

(operators in one block are AND-ed; ``Null: false`` means "the key is present"). A request without the header
gets the default ACL, which is private, so nothing public slips through.

* ``private_acl_only``: deny s3:PutObject / s3:PutObjectAcl / s3:PutBucketAcl when x-amz-acl is present and
  not in the allowed list (default: private). ACL grants sent in an XML body or in x-amz-grant-* headers are
  not covered by this condition key; disabling ACLs (Object Ownership = BucketOwnerEnforced, ``harden``) is
  the complete fix.
* ``require_sse``: deny s3:PutObject when x-amz-server-side-encryption is present and not one of the allowed
  algorithms (default AES256 and aws:kms). Requests without the header are accepted: since January 2023 S3
  encrypts every new object with at least SSE-S3 (bucket default encryption), so "no header" no longer means
  "unencrypted", and multipart UploadPart requests never carry the header. ``strict=True`` adds the classic
  FAQ statement denying requests without the header (``Null: true``) — it also refuses every UploadPart
  (multipart uploads of large files fail), SSE-C uploads, and S3 server access log delivery into the bucket.
* ``require_tls``: deny s3:* on the bucket and its objects when aws:SecureTransport is false (S3 User Guide,
  "Amazon S3 bucket policy examples", managing access based on HTTP or HTTPS requests); optionally also
  when s3:TlsVersion is below a minimum.
* ``ip_restrictions``: deny s3:* unless aws:SourceIp is in the allow-list (NotIpAddress), and deny requests
  from explicitly blocked CIDRs (IpAddress). Written as Denies, never as the old FAQ's ``Allow`` to ``*``
  from an address range, which would make the bucket readable by anyone there. Requests through a VPC
  endpoint carry no aws:SourceIp, and NotIpAddress on a missing key is true: they are denied too.
"""

from __future__ import annotations

import copy
import difflib
import ipaddress
import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from s3safe.core.errors import UsageError
from s3safe.security.policy_conditions import PolicyError, load_policy_json
from s3safe.security.policy_eval import VERSION_2012, parse_policy, s3_request
from s3safe.security.policy_eval import evaluate as evaluate_policy

__all__ = [
    "DEFAULT_SSE_ALGORITHMS",
    "SID_PREFIX",
    "PolicyValidationError",
    "TemplateOptions",
    "bucket_resources",
    "build_statements",
    "diff",
    "dump_policy",
    "ip_restrictions",
    "merge",
    "normalize_cidr",
    "policy_problems",
    "private_acl_only",
    "remove",
    "require_sse",
    "require_tls",
    "validate",
    "would_lock_out",
]

SID_PREFIX = "S3Safe"
SID_TLS = "S3SafeDenyInsecureTransport"
SID_TLS_VERSION = "S3SafeDenyOldTlsVersions"
SID_ACL = "S3SafeDenyNonPrivateAcl"
SID_SSE = "S3SafeDenyUnapprovedSse"
SID_SSE_MISSING = "S3SafeDenyMissingSse"
SID_SSE_KMS_KEY = "S3SafeDenyOtherKmsKey"
SID_IP_ALLOW = "S3SafeDenyOutsideAllowedIps"
SID_IP_DENY = "S3SafeDenyBlockedIps"

DEFAULT_SSE_ALGORITHMS = ("AES256", "aws:kms")
KNOWN_SSE_ALGORITHMS = ("AES256", "aws:kms", "aws:kms:dsse")
MAX_POLICY_BYTES = 20 * 1024  # S3 bucket policy size limit
CANNED_ACLS = (
    "private",
    "public-read",
    "public-read-write",
    "aws-exec-read",
    "authenticated-read",
    "bucket-owner-read",
    "bucket-owner-full-control",
    "log-delivery-write",
)

Statement = dict[str, Any]
Policy = dict[str, Any]
_BUCKET_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,254}$")


class PolicyValidationError(PolicyError):
    """Local validation found problems; ``problems`` lists every one of them."""

    def __init__(self, problems: Sequence[str], *, bucket: str) -> None:
        self.problems = list(problems)
        super().__init__(
            f"the policy for bucket {bucket!r} is not valid: " + "; ".join(self.problems),
            hint="fix the policy file or the options and try again",
        )


# --------------------------------------------------------------------------------------- templates


def _check_bucket(bucket: str) -> str:
    if not _BUCKET_RE.match(bucket):
        raise UsageError(f"{bucket!r} is not a bucket name")
    return bucket


def bucket_resources(bucket: str) -> list[str]:
    """The bucket itself and every object in it."""
    _check_bucket(bucket)
    return [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"]


def _one_or_list(values: Sequence[str]) -> str | list[str]:
    return values[0] if len(values) == 1 else list(values)


def _deny(sid: str, actions: Sequence[str], resources: Sequence[str], condition: dict[str, Any]) -> Statement:
    return {
        "Sid": sid,
        "Effect": "Deny",
        "Principal": "*",
        "Action": _one_or_list(actions),
        "Resource": _one_or_list(resources),
        "Condition": condition,
    }


def require_tls(bucket: str, *, min_tls_version: str | None = None) -> list[Statement]:
    """Deny every request over plain HTTP (and, optionally, over TLS older than min_tls_version)."""
    out = [_deny(SID_TLS, ["s3:*"], bucket_resources(bucket), {"Bool": {"aws:SecureTransport": "false"}})]
    if min_tls_version is not None:
        if min_tls_version not in ("1.2", "1.3"):
            raise UsageError(f"minimum TLS version must be 1.2 or 1.3, not {min_tls_version!r}")
        condition = {"NumericLessThan": {"s3:TlsVersion": min_tls_version}}
        out.append(_deny(SID_TLS_VERSION, ["s3:*"], bucket_resources(bucket), condition))
    return out


def private_acl_only(bucket: str, *, allowed_acls: Sequence[str] = ("private",)) -> list[Statement]:
    """Deny setting any canned ACL other than the allowed ones; requests without an ACL header pass."""
    acls = list(dict.fromkeys(allowed_acls))
    unknown = [a for a in acls if a not in CANNED_ACLS]
    if not acls or unknown:
        raise UsageError(f"allowed ACLs must be canned ACLs ({', '.join(CANNED_ACLS)}); got {', '.join(unknown) or 'none'}")
    condition = {"StringNotEquals": {"s3:x-amz-acl": _one_or_list(acls)}, "Null": {"s3:x-amz-acl": "false"}}
    actions = ["s3:PutBucketAcl", "s3:PutObject", "s3:PutObjectAcl"]
    return [_deny(SID_ACL, actions, bucket_resources(bucket), condition)]


def require_sse(
    bucket: str,
    algorithms: Sequence[str] = DEFAULT_SSE_ALGORITHMS,
    *,
    strict: bool = False,
    kms_key_arn: str | None = None,
) -> list[Statement]:
    """Deny uploads that ask for another server-side encryption than the allowed ones.

    strict: also deny uploads that send no x-amz-server-side-encryption header (breaks multipart uploads,
    SSE-C and access-log delivery; see the module docstring). kms_key_arn: deny SSE-KMS uploads that name
    another key (uploads naming no key use the bucket's default key and pass).
    """
    algs = list(dict.fromkeys(algorithms or DEFAULT_SSE_ALGORITHMS))
    unknown = [a for a in algs if a not in KNOWN_SSE_ALGORITHMS]
    if unknown:
        raise UsageError(f"unknown server-side encryption {', '.join(unknown)}", hint=f"use {' or '.join(KNOWN_SSE_ALGORITHMS)}")
    objects = [f"arn:aws:s3:::{_check_bucket(bucket)}/*"]
    key = "s3:x-amz-server-side-encryption"
    out = [_deny(SID_SSE, ["s3:PutObject"], objects, {"StringNotEquals": {key: _one_or_list(algs)}, "Null": {key: "false"}})]
    if strict:
        out.append(_deny(SID_SSE_MISSING, ["s3:PutObject"], objects, {"Null": {key: "true"}}))
    if kms_key_arn is not None:
        if not kms_key_arn.startswith("arn:") or ":kms:" not in kms_key_arn:
            raise UsageError(f"{kms_key_arn!r} is not a KMS key ARN", hint="give arn:aws:kms:REGION:ACCOUNT:key/ID")
        kms = "s3:x-amz-server-side-encryption-aws-kms-key-id"
        condition = {"StringNotEquals": {kms: kms_key_arn}, "Null": {kms: "false"}}
        out.append(_deny(SID_SSE_KMS_KEY, ["s3:PutObject"], objects, condition))
    return out


def normalize_cidr(text: str) -> str:
    """'192.168.143.188' -> '192.168.143.188/32'; a block with host bits set is refused with a hint."""
    raw = text.strip()
    try:
        return str(ipaddress.ip_network(raw, strict=True))
    except ValueError:
        try:
            loose = ipaddress.ip_network(raw, strict=False)
        except ValueError:
            raise UsageError(f"{text!r} is not an IPv4 or IPv6 address or CIDR block") from None
        raise UsageError(f"{text!r} has host bits set", hint=f"did you mean {loose}?") from None


def ip_restrictions(
    bucket: str,
    *,
    allow: Sequence[str] = (),
    deny: Sequence[str] = (),
    exempt_aws_services: bool = False,
) -> list[Statement]:
    """Deny requests from outside the allowed CIDRs, and from the blocked ones (exceptions inside them).

    exempt_aws_services: let AWS service principals (e.g. S3 log delivery) through the allow-list; they
    connect from AWS addresses. BoolIfExists, so anonymous requests (which lack the key) stay denied.
    """
    resources = bucket_resources(bucket)
    out: list[Statement] = []
    allowed = list(dict.fromkeys(normalize_cidr(c) for c in allow))
    blocked = list(dict.fromkeys(normalize_cidr(c) for c in deny))
    if allowed:
        condition: dict[str, Any] = {"NotIpAddress": {"aws:SourceIp": _one_or_list(allowed)}}
        if exempt_aws_services:
            condition["BoolIfExists"] = {"aws:PrincipalIsAWSService": "false"}
        out.append(_deny(SID_IP_ALLOW, ["s3:*"], resources, condition))
    if blocked:
        out.append(_deny(SID_IP_DENY, ["s3:*"], resources, {"IpAddress": {"aws:SourceIp": _one_or_list(blocked)}}))
    return out


@dataclass(frozen=True)
class TemplateOptions:
    """The `policy apply` switches. require_sse: None = off, () = the defaults (AES256, aws:kms)."""

    private_acl_only: bool = False
    allowed_acls: tuple[str, ...] = ("private",)
    require_sse: tuple[str, ...] | None = None
    sse_strict: bool = False
    sse_kms_key_arn: str | None = None
    require_tls: bool = False
    min_tls_version: str | None = None
    allow_ips: tuple[str, ...] = ()
    deny_ips: tuple[str, ...] = ()
    exempt_aws_services: bool = False


def build_statements(bucket: str, options: TemplateOptions) -> list[Statement]:
    """The template statements the options ask for, in a stable order."""
    out: list[Statement] = []
    if options.require_tls:
        out += require_tls(bucket, min_tls_version=options.min_tls_version)
    if options.private_acl_only:
        out += private_acl_only(bucket, allowed_acls=options.allowed_acls)
    if options.require_sse is not None:
        out += require_sse(bucket, options.require_sse, strict=options.sse_strict, kms_key_arn=options.sse_kms_key_arn)
    if options.allow_ips or options.deny_ips:
        out += ip_restrictions(
            bucket, allow=options.allow_ips, deny=options.deny_ips, exempt_aws_services=options.exempt_aws_services
        )
    return out


# ------------------------------------------------------------------------- canonical form and merge

_TOP_ORDER = ("Version", "Id", "Statement")
_STATEMENT_ORDER = ("Sid", "Effect", "Principal", "NotPrincipal", "Action", "NotAction", "Resource", "NotResource", "Condition")


def _ordered(obj: Mapping[str, Any], first: Sequence[str]) -> dict[str, Any]:
    keys = [k for k in first if k in obj] + sorted(k for k in obj if k not in first)
    return {k: obj[k] for k in keys}


def _sorted_deep(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _sorted_deep(value[k]) for k in sorted(value)}
    if isinstance(value, list):
        return [_sorted_deep(v) for v in value]
    return value


def _canonical_statement(st: Any) -> Any:
    if not isinstance(st, Mapping):
        return st
    out = _ordered(st, _STATEMENT_ORDER)
    for key in ("Principal", "NotPrincipal", "Condition"):
        if isinstance(out.get(key), Mapping):
            out[key] = _sorted_deep(out[key])  # order inside these objects carries no meaning
    return out


def dump_policy(policy: Mapping[str, Any]) -> str:
    """The one serialization s3safe writes and diffs: fixed element order, sorted Principal/Condition
    objects, list order kept, two-space indent, trailing newline. Same policy in, same bytes out."""
    top = _ordered(policy, _TOP_ORDER)
    statements = top.get("Statement")
    if isinstance(statements, list):
        top["Statement"] = [_canonical_statement(s) for s in statements]
    elif isinstance(statements, Mapping):
        top["Statement"] = _canonical_statement(statements)
    return json.dumps(top, indent=2, ensure_ascii=False) + "\n"


def _load(policy: Mapping[str, Any] | str | None) -> Policy | None:
    if policy is None:
        return None
    if isinstance(policy, str):
        if not policy.strip():
            return None
        loaded = load_policy_json(policy, what="the existing policy")
        if not isinstance(loaded, dict):
            raise PolicyError("the existing policy is not a JSON object")
        return loaded
    return copy.deepcopy(dict(policy))


def _statements_of(policy: Policy) -> list[Any]:
    raw = policy.get("Statement", [])
    if isinstance(raw, Mapping):
        return [raw]
    if not isinstance(raw, list):
        raise PolicyError("the existing policy's Statement is neither an object nor a list")
    return raw


def merge(existing: Mapping[str, Any] | str | None, new_statements: Iterable[Mapping[str, Any]], *,
          supersedes: Callable[[Mapping[str, Any]], bool] | None = None) -> Policy:  # fmt: skip
    """Put new_statements into existing: a statement whose Sid already exists replaces it in place (later
    duplicates of that Sid are dropped), others are appended; unrelated statements keep their order.
    `supersedes` marks older forms of the new statements (an earlier Sid scheme for the very same grant): dropped.
    Idempotent: merge(merge(p, s), s) == merge(p, s). The Version becomes 2012-10-17 unless the existing
    policy contains "${" (which that upgrade would turn from literal text into policy variables)."""
    new = [copy.deepcopy(dict(s)) for s in new_statements]
    sids = [s.get("Sid") for s in new]
    if not all(isinstance(sid, str) and sid for sid in sids):
        raise UsageError("every statement to merge needs a Sid (that is how merging stays idempotent)")
    if len(set(sids)) != len(sids):
        raise UsageError("the statements to merge repeat a Sid")
    policy = _load(existing) or {"Version": VERSION_2012, "Statement": []}
    if policy.get("Version") != VERSION_2012 and "${" not in json.dumps(policy):
        policy["Version"] = VERSION_2012
    by_sid = {s["Sid"]: s for s in new}
    placed: set[str] = set()
    out: list[Any] = []
    for st in _statements_of(policy):
        sid = st.get("Sid") if isinstance(st, Mapping) else None
        if isinstance(sid, str) and sid in by_sid:
            if sid not in placed:
                out.append(by_sid[sid])
                placed.add(sid)
            continue
        if supersedes is not None and isinstance(st, Mapping) and supersedes(st):
            continue
        out.append(st)
    out += [s for s in new if s["Sid"] not in placed]
    policy["Statement"] = out
    return _ordered(policy, _TOP_ORDER)


def remove(existing: Mapping[str, Any] | str | None, sids: Iterable[str] = (), *, all_s3safe: bool = False) -> Policy | None:
    """Drop the statements with the given Sids (or every S3Safe* statement). None means no statement is
    left: delete the bucket policy (S3 refuses a policy with an empty Statement list)."""
    wanted = set(sids)
    if not wanted and not all_s3safe:
        raise UsageError("say which statements to remove: --sid SID or --all-s3safe")
    policy = _load(existing)
    if policy is None:
        return None

    def doomed(st: Any) -> bool:
        sid = st.get("Sid") if isinstance(st, Mapping) else None
        return isinstance(sid, str) and (sid in wanted or (all_s3safe and sid.startswith(SID_PREFIX)))

    kept = [st for st in _statements_of(policy) if not doomed(st)]
    if not kept:
        return None
    policy["Statement"] = kept
    return policy


def diff(old: Mapping[str, Any] | None, new: Mapping[str, Any] | None) -> list[str]:
    """Unified diff (lines without newlines) of the canonical JSON; [] when nothing changes."""
    a = dump_policy(old).splitlines() if old else []
    b = dump_policy(new).splitlines() if new else []
    return list(difflib.unified_diff(a, b, "current policy", "proposed policy", lineterm=""))


# -------------------------------------------------------------------------------------- validation


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _inside(resource: Any, bucket: str) -> bool:
    pattern = rf"arn:aws(-[a-z-]+)?:s3:::{re.escape(bucket)}(/.*)?"
    return isinstance(resource, str) and re.fullmatch(pattern, resource, re.DOTALL) is not None


def policy_problems(policy: Mapping[str, Any] | str, bucket: str) -> list[str]:
    """Everything local validation finds wrong with a bucket policy for `bucket` ([] = valid)."""
    problems: list[str] = []
    if isinstance(policy, str):
        try:
            policy = load_policy_json(policy, what="it")
        except PolicyError as exc:
            return [str(exc).removeprefix("it is ").removeprefix("it ")]
    if not isinstance(policy, Mapping):
        return ["a policy must be a JSON object"]
    if policy.get("Version") != VERSION_2012:
        problems.append(f'Version must be "{VERSION_2012}" (found {policy.get("Version")!r})')
    try:
        parse_policy(policy)
    except PolicyError as exc:
        problems.append(exc.message)
    statements = policy.get("Statement")
    statements = [statements] if isinstance(statements, Mapping) else statements
    seen: set[str] = set()
    for i, st in enumerate(statements if isinstance(statements, list) else []):
        if not isinstance(st, Mapping):
            continue
        where = f"Statement[{i}]" + (f" ({st['Sid']})" if isinstance(st.get("Sid"), str) else "")
        sid = st.get("Sid")
        if isinstance(sid, str):
            if sid in seen:
                problems.append(f"{where}: Sid {sid!r} is used twice")
            seen.add(sid)
        for key in ("Action", "NotAction"):
            for action in _as_list(st.get(key, [])):
                if not (isinstance(action, str) and (action == "*" or re.fullmatch(r"(?i)s3:[a-z0-9*?]+", action))):
                    problems.append(f"{where}: action {action!r} is not an S3 action (s3:Name or *)")
        for key in ("Resource", "NotResource"):
            for resource in _as_list(st.get(key, [])):
                if not _inside(resource, bucket):
                    problems.append(
                        f"{where}: resource {resource!r} is outside bucket {bucket!r} (use arn:aws:s3:::{bucket} or arn:aws:s3:::{bucket}/...)"
                    )
        condition = st.get("Condition")
        for operator, keys in condition.items() if isinstance(condition, Mapping) else ():
            if not (isinstance(operator, str) and "ipaddress" in operator.lower() and isinstance(keys, Mapping)):
                continue
            for key, values in keys.items():
                for value in _as_list(values):
                    try:
                        normalize_cidr(str(value))
                    except UsageError as exc:
                        problems.append(f"{where}: {operator} {key}: {exc}")
    size = len(json.dumps(policy, separators=(",", ":")).encode())
    if size > MAX_POLICY_BYTES:
        problems.append(f"the policy is {size} bytes; S3 accepts at most {MAX_POLICY_BYTES}")
    return list(dict.fromkeys(problems))


def validate(policy: Mapping[str, Any] | str, bucket: str) -> None:
    """Raise PolicyValidationError (a UsageError) listing every problem policy_problems finds."""
    problems = policy_problems(policy, _check_bucket(bucket))
    if problems:
        raise PolicyValidationError(problems, bucket=bucket)


# ------------------------------------------------------------------------------------------ lock-out

# (action, on an object?) — policy management first: losing it means only the root user can undo the policy
LOCKOUT_CHECKS: tuple[tuple[str, bool], ...] = (
    ("s3:PutBucketPolicy", False),
    ("s3:DeleteBucketPolicy", False),
    ("s3:GetBucketPolicy", False),
    ("s3:ListBucket", False),
    ("s3:GetObject", True),
    ("s3:PutObject", True),
)


def _bucket_of(policy: Mapping[str, Any]) -> str | None:
    statements = policy.get("Statement")
    for st in [statements] if isinstance(statements, Mapping) else statements or []:
        for key in ("Resource", "NotResource"):
            for resource in _as_list(st.get(key, [])) if isinstance(st, Mapping) else []:
                m = re.match(r"arn:aws[a-z-]*:s3:::([^/*?]+)", str(resource))
                if m:
                    return m.group(1)
    return None


def would_lock_out(
    policy: Mapping[str, Any] | str,
    caller_ip: str | None,
    caller_arn: str,
    *,
    bucket: str | None = None,
    checks: Sequence[tuple[str, bool]] = LOCKOUT_CHECKS,
) -> str | None:
    """A sentence saying how `policy` would lock the caller out, or None when it would not.

    The caller is simulated the way s3safe itself talks to S3 (HTTPS, SSE AES256, no ACL header) with an
    identity policy that allows everything, so only an explicit Deny counts. caller_ip None means the
    address is unknown: aws:SourceIp is absent, which an IP allow-list (NotIpAddress) denies.
    """
    loaded = _load(policy)
    if loaded is None:  # no policy at all cannot lock anyone out
        return None
    name = bucket or _bucket_of(loaded)
    if name is None:
        raise UsageError("cannot tell which bucket the policy is for; pass bucket=")
    compiled = parse_policy(loaded)
    denied: list[str] = []
    first = ""
    for action, on_object in checks:
        key = "s3safe-lockout-probe" if on_object else None
        request = s3_request(action, name, key, principal=caller_arn, source_ip=caller_ip, sse="AES256" if on_object else None)
        result = evaluate_policy(compiled, request)
        if not result.allowed:
            denied.append(action)
            first = first or result.explanation
    if not denied:
        return None
    where = f"from {caller_ip}" if caller_ip else "from an unknown address"
    message = f"this policy would deny you ({caller_arn} {where}) {', '.join(denied)} on bucket {name!r}: {first}"
    if any(a.endswith("BucketPolicy") for a in denied):
        message += "; afterwards only the account's root user could change or delete the policy"
    return message
