"""What the bucket policy means, decided with s3safe's own policy evaluator (the one `policy simulate` uses).

Public policy: every Allow statement is tried on its own (with the policy's Deny statements no stranger escapes)
against requests from an anonymous caller and from a stranger's AWS account. Before trying it, the statement's
conditions that restrict nobody are dropped. Following AWS's definition of a non-public policy ("The meaning of
'public'", S3 User Guide), only a condition pinning one of RESTRICTING_KEYS (aws:PrincipalOrgID,
aws:SourceAccount, aws:SourceArn, aws:SourceVpce, aws:PrincipalAccount …) to fixed values under a positive,
must-be-present operator restricts. A condition on any other key (aws:Referer, aws:SecureTransport, the request's
headers, s3:prefix, aws:PrincipalType, the caller's own tags …) is one a stranger meets at will or with an account,
role or user of the right kind; a wildcard or policy variable in a value, a negated operator, IfExists,
ForAllValues or Null restricts nobody either. What is left is a condition a stranger's request cannot satisfy.

A Deny keeps strangers out only when every one of its conditions holds for all of them: a negated operator on
fixed values of those keys ("not my organization"), an address range, the clock. A Deny with any other condition
("not in any organization", "not through any VPC endpoint", a header) is escaped, so it is left out.

aws:SourceIp under IpAddress/NotIpAddress is kept and probed: without the key, from an address outside every
range the policy lists (per address family; a documentation address when none is listed), and from inside each
range wider than a /8 (IPv4) or a /32 (IPv6), RFC 1918 ranges excepted. A range list covering a whole family has
no outside address, so it is probed from inside. Object actions are probed on PROBE_KEY and on one key per
Resource and NotResource pattern of the policy (so a Deny sparing "public/*" is probed inside public/). A
statement that still allows a probe is public.
"""

from __future__ import annotations

import ipaddress
import re
import shlex
from collections.abc import Iterator, Mapping
from typing import Any

from s3safe.audit.checks._base import PROBE_KEY, bucket_check, own_user, stranger
from s3safe.audit.facts import AuditContext, BucketFacts, Unknown
from s3safe.audit.model import Check, Finding, Severity
from s3safe.security.policy_conditions import PolicyError
from s3safe.security.policy_eval import RequestContext, evaluate, parse_policy, s3_request

# (action, acts on an object, writes or changes access)
PUBLIC_PROBES: tuple[tuple[str, bool, bool], ...] = (
    ("s3:GetObject", True, False),
    ("s3:ListBucket", False, False),
    ("s3:PutObject", True, True),
    ("s3:DeleteObject", True, True),
    ("s3:PutObjectAcl", True, True),
    ("s3:GetBucketPolicy", False, False),
    ("s3:PutBucketPolicy", False, True),
    ("s3:PutBucketAcl", False, True),
    ("s3:DeleteBucket", False, True),
)
# AWS's definition of a non-public policy: a fixed value of one of these keys keeps strangers out. Any other key
# (the request's headers, s3:prefix, aws:PrincipalType, aws:username, the caller's own tags …) is one a stranger
# satisfies at will or by making an account, a role or a user of the right kind.
RESTRICTING_KEYS = frozenset(
    k.lower()
    for k in (
        "aws:SourceArn", "aws:SourceVpc", "aws:SourceVpce", "aws:SourceOwner", "aws:SourceAccount", "aws:SourceOrgID",
        "aws:SourceOrgPaths", "aws:userid", "aws:PrincipalArn", "aws:PrincipalAccount", "aws:PrincipalOrgID",
        "aws:PrincipalOrgPaths", "aws:PrincipalServiceName", "s3:DataAccessPointArn", "s3:DataAccessPointAccount",
        "s3:x-amz-server-side-encryption-aws-kms-key-id",
    )
)  # fmt: skip
CLOCK_KEYS = frozenset(("aws:currenttime", "aws:epochtime"))  # no caller picks the time: a Deny on it is evaluated
IP_OPERATORS = frozenset(("ipaddress", "notipaddress"))
SOURCE_IP = "aws:sourceip"
# AWS: ranges wider than this are public ("excluding RFC1918 private ranges")
WIDEST_FIXED_PREFIX = {4: 8, 6: 32}
PRIVATE_RANGES = tuple(ipaddress.ip_network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"))
# tried first as "an address outside every listed range": documentation ranges no real policy lists
OUTSIDE_CANDIDATES = tuple(ipaddress.ip_address(a) for a in ("203.0.113.7", "198.51.100.7", "2001:db8::7"))
ROLE_SESSIONS = re.compile(r"AROA[A-Z0-9]+:\*")  # aws:userid of any session of one role: fixed, per AWS
# the bucket's own account or organization: as fixed as writing its id
RESOURCE_VARIABLES = re.compile(r"\$\{aws:Resource(?:Account|OrgID|OrgPaths)\}", re.IGNORECASE)
ARN_KEYS = frozenset(("aws:principalarn", "aws:sourcearn"))
# an ARN naming one account, wildcards only in its resource part ("arn:aws:iam::111122223333:role/*")
ONE_ACCOUNT_ARN = re.compile(r"arn:[a-z-]+:[a-z0-9-]+:[a-z0-9-]*:\d{12}:[^${]*")
NEGATED_OPERATORS = frozenset(
    o.lower() for o in ("StringNotEquals", "StringNotEqualsIgnoreCase", "StringNotLike", "NumericNotEquals",
                        "DateNotEquals", "NotIpAddress", "ArnNotEquals", "ArnNotLike", "BinaryNotEquals")
)  # fmt: skip
Network = ipaddress.IPv4Network | ipaddress.IPv6Network
SSE_C_KEY = "s3:x-amz-server-side-encryption-customer-algorithm"
TLS_PROBES: tuple[tuple[str, bool], ...] = (
    ("s3:GetObject", True),
    ("s3:PutObject", True),
    ("s3:ListBucket", False),
    ("s3:DeleteObject", True),
)


def _statements(policy: Mapping[str, Any]) -> list[dict[str, Any]]:
    raw = policy.get("Statement", [])
    items = [raw] if isinstance(raw, Mapping) else raw if isinstance(raw, list) else []
    return [dict(s) for s in items if isinstance(s, Mapping)]


def _operator(operator: str) -> tuple[str | None, str, bool]:
    """(set qualifier or None, base operator without IfExists, IfExists), all lower case."""
    head, sep, base = operator.lower().partition(":")
    qualifier = head if sep else None
    base = base if sep else head
    if_exists = base.endswith("ifexists")
    return qualifier, base.removesuffix("ifexists") if if_exists else base, if_exists


def _fixed_value(key: str, value: object, *, version: str) -> bool:
    """No wildcard, and no policy variable (before Version 2012-10-17 "${...}" is literal text)."""
    text = str(value)
    if version == "2012-10-17":
        text = RESOURCE_VARIABLES.sub("0", text)
    if key.lower() == "aws:userid" and ROLE_SESSIONS.fullmatch(text):
        return True
    if key.lower() in ARN_KEYS and ONE_ACCOUNT_ARN.fullmatch(text):
        return True
    return not any(c in text for c in ("*", "?")) and ("${" not in text or version != "2012-10-17")


def _all_fixed(key: str, values: object, *, version: str) -> bool:
    items = values if isinstance(values, list) else [values]
    return bool(items) and all(_fixed_value(key, v, version=version) for v in items)


def _identity_key(key: str) -> bool:
    return key in RESTRICTING_KEYS or key == SOURCE_IP


def _restricts(operator: str, key: str, values: object, *, version: str) -> bool:
    """An Allow's condition a stranger cannot satisfy at will: fixed values under a positive, must-be-present
    operator on a key of AWS's definition."""
    qualifier, base, if_exists = _operator(operator)
    lowered = key.lower()
    if lowered == SOURCE_IP and base in IP_OPERATORS:
        return True  # kept, and probed from addresses a stranger may have (_probe_addresses)
    if not _identity_key(lowered) or qualifier == "forallvalues":  # ForAllValues: true when the key is absent
        return False
    if base == "null" or if_exists or base in NEGATED_OPERATORS:
        return False
    return _all_fixed(key, values, version=version)


def _shuts_out(operator: str, key: str, values: object, *, version: str) -> bool:
    """A Deny's condition that holds for every stranger, so none escapes the Deny by making it false: a negated
    operator on fixed values of a key of AWS's definition ("not my organization"). Conditions on the source
    address and the clock are kept for the evaluator, the address being probed."""
    qualifier, base, _ = _operator(operator)
    lowered = key.lower()
    if (lowered == SOURCE_IP and base in IP_OPERATORS) or lowered in CLOCK_KEYS:
        return True
    if not _identity_key(lowered) or qualifier is not None or base == "null":
        return False  # the caller picks the value, or has or lacks the key as it likes (any org, any endpoint)
    return base in NEGATED_OPERATORS and _all_fixed(key, values, version=version)


def _conditions(statement: Mapping[str, Any]) -> Iterator[tuple[str, str, object]]:
    condition = statement.get("Condition")
    for operator, keys in condition.items() if isinstance(condition, Mapping) else ():
        for key, values in keys.items() if isinstance(keys, Mapping) else ():
            yield str(operator), str(key), values


def _without_unrestricting_conditions(statement: dict[str, Any], *, version: str) -> dict[str, Any]:
    kept: dict[str, dict[str, Any]] = {}
    for operator, key, values in _conditions(statement):
        if _restricts(operator, key, values, version=version):
            kept.setdefault(operator, {})[key] = values
    out = {k: v for k, v in statement.items() if k != "Condition"}
    if kept:
        out["Condition"] = kept
    return out


def _inescapable(denies: list[dict[str, Any]], *, version: str) -> list[dict[str, Any]]:
    """The Deny statements no stranger escapes: one condition a stranger can make false lifts the whole Deny."""
    return [d for d in denies if all(_shuts_out(o, k, v, version=version) for o, k, v in _conditions(d))]


def _source_networks(statements: list[dict[str, Any]]) -> Iterator[Network]:
    for statement in statements:
        condition = statement.get("Condition")
        for keys in condition.values() if isinstance(condition, Mapping) else ():
            for key, values in keys.items() if isinstance(keys, Mapping) else ():
                if str(key).lower() != SOURCE_IP:
                    continue
                for value in values if isinstance(values, list) else [values]:
                    try:
                        yield ipaddress.ip_network(str(value).strip(), strict=False)
                    except ValueError:
                        continue  # the evaluator reports a malformed range


def _address(number: int, version: int) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    return ipaddress.IPv4Address(number) if version == 4 else ipaddress.IPv6Address(number)


def _collapsed(listed: list[Network], version: int) -> list[Network]:
    if version == 4:
        return list(ipaddress.collapse_addresses(n for n in listed if isinstance(n, ipaddress.IPv4Network)))
    return list(ipaddress.collapse_addresses(n for n in listed if isinstance(n, ipaddress.IPv6Network)))


def _outside(networks: list[Network], version: int) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """An address of this family in none of `networks` (collapsed, sorted), or None when they cover it all."""
    for candidate in OUTSIDE_CANDIDATES:
        if candidate.version == version and not any(candidate in n for n in networks):
            return candidate
    number = 0
    for network in networks:
        if number < int(network.network_address):
            return _address(number, version)
        number = max(number, int(network.broadcast_address) + 1)
    return _address(number, version) if number < 2 ** (32 if version == 4 else 128) else None


def _probe_addresses(statements: list[dict[str, Any]]) -> list[str]:
    """Source addresses a stranger may call from, chosen to slip past the statements' aws:SourceIp conditions."""
    listed = list(_source_networks(statements))  # none listed: still probed from a public address of each family
    out: list[str] = []
    for version in (4, 6):
        networks = _collapsed(listed, version)
        outside = _outside(networks, version)
        if outside is None:
            networks = [*networks, ipaddress.ip_network("0.0.0.0/0" if version == 4 else "::/0")]  # probe from inside
        else:
            out.append(str(outside))
        for network in networks:
            wide = network.prefixlen < WIDEST_FIXED_PREFIX[version]
            if wide and not any(network.version == p.version and network.subnet_of(p) for p in PRIVATE_RANGES):  # type: ignore[arg-type]
                out.append(str(network.network_address + network.num_addresses // 2))
    return list(dict.fromkeys(out))


def _instance_key(pattern: str, bucket: str, *, version: str) -> str | None:
    """A key of `bucket` that the object pattern matches, wildcards filled in ("public/*" -> "public/x"), or None."""
    match = re.fullmatch(r"arn:aws[a-z-]*:s3:::([^/]*)/(.*)", pattern, re.DOTALL)
    if not match or ("${" in match.group(2) and version == "2012-10-17"):
        return None
    bucket_glob = re.escape(match.group(1)).replace(r"\*", ".*").replace(r"\?", ".")
    if not re.fullmatch(bucket_glob, bucket, re.DOTALL):
        return None
    return re.sub(r"[*?]", "x", match.group(2)) or "x"


def _probe_keys(statements: list[dict[str, Any]], bucket: str, *, version: str) -> list[str]:
    """PROBE_KEY plus one key per object pattern of every Resource and NotResource of the policy, so "public/*"
    is probed inside public/ whether an Allow names it or a Deny spares it. Before Version 2012-10-17 "${...}"
    is literal text, so such a pattern is probed too."""
    keys = [PROBE_KEY]
    for statement in statements:
        for element in ("Resource", "NotResource"):
            patterns = statement.get(element, [])
            for pattern in patterns if isinstance(patterns, list) else [patterns]:
                key = _instance_key(str(pattern), bucket, version=version)
                if key is not None:
                    keys.append(key)
    return list(dict.fromkeys(keys))


def _public_actions(
    statement: dict[str, Any], statements: list[dict[str, Any]], *, bucket: str, ctx: AuditContext, version: str
) -> list[str]:
    """The probe actions this one Allow statement opens to anonymous callers or any AWS account, past the Denies
    of `statements` that no stranger escapes. The policy keeps its own Version: under 2008-10-17
    "${aws:username}" is literal text, not a variable."""
    denies = _inescapable([s for s in statements if s.get("Effect") == "Deny"], version=version)
    allow = _without_unrestricting_conditions(statement, version=version)
    policy = parse_policy({"Version": version, "Statement": [*denies, allow]})
    callers = [("anonymous", None), (stranger(ctx), ctx.account or "000000000000")]
    addresses: list[str | None] = [None, *_probe_addresses([allow, *denies])]
    object_keys = _probe_keys(statements, bucket, version=version)
    opened = []
    for action, on_object, _ in PUBLIC_PROBES:
        requests = [
            s3_request(action, bucket, key, principal=principal, bucket_account=bucket_account, source_ip=address)
            for principal, bucket_account in callers
            for key in (object_keys if on_object else [None])
            for address in addresses
        ]
        if any(_allowed_by_statement(policy, r) for r in requests):
            opened.append(action)
    return opened


def _allowed_by_statement(policy: Any, request: RequestContext) -> bool:
    result = evaluate(policy, request)
    return result.allowed and result.statement_index is not None  # an Allow statement decided it, not identity


@bucket_check(
    "bucket-policy-public", "Bucket policy allows public access", severity=Severity.HIGH,
    why="A bucket policy statement that lets anyone (Principal \"*\") in without a condition that really restricts who "
    "can call (source IP, VPC endpoint, organization, account) makes the bucket public: strangers scanning for "
    "open buckets find it and read, or with write access fill, overwrite or delete it.",
    fixable=True,
)  # fmt: skip
def policy_public(check: Check, facts: BucketFacts, ctx: AuditContext) -> list[Finding]:
    policy = facts.policy
    if not policy:
        return []
    statements = _statements(policy)
    version = policy.get("Version", "2008-10-17")  # parse_policy refuses anything else than the two Versions
    offending: list[tuple[str | None, list[str]]] = []
    try:
        parse_policy(policy)  # a malformed statement is reported even where the probes would leave it out
        for statement in statements:
            if statement.get("Effect") == "Allow":
                actions = _public_actions(statement, statements, bucket=facts.name, ctx=ctx, version=version)
                if actions:
                    offending.append((statement.get("Sid") if isinstance(statement.get("Sid"), str) else None, actions))
    except PolicyError as exc:
        raise Unknown(f"policy: cannot be evaluated ({exc})") from None
    if not offending:
        return []
    writes = {a for a, _, w in PUBLIC_PROBES if w}
    severity = Severity.CRITICAL if any(writes & set(actions) for _, actions in offending) else Severity.HIGH
    parts = [f"statement {sid or '(no Sid)'} allows {', '.join(actions)} to anyone" for sid, actions in offending]
    found = "; ".join(parts)
    if facts.settings.get("block public access") is not None:
        from s3safe.audit.checks.access import block_settings

        if block_settings(facts)["RestrictPublicBuckets"]:
            found += " (limited to AWS services and the owner while Block Public Access RestrictPublicBuckets is on)"
    sids = [sid for sid, _ in offending if sid]
    if len(sids) == len(offending):
        fix = f"s3safe policy remove s3://{facts.name} " + " ".join(f"--sid {shlex.quote(sid)}" for sid in sids)
        return [check.finding(facts.name, found, fix=fix, severity=severity, data={"sids": sids})]
    fix = f"edit the statements without a Sid (s3safe policy show s3://{facts.name}), then s3safe policy apply --from-file"
    return [check.finding(facts.name, found, fix=fix, severity=severity, fixable=False)]


def _decide(facts: BucketFacts, requests: list[RequestContext]) -> list[str]:
    """The actions of `requests` that the policy does not explicitly deny."""
    policy = facts.policy
    try:
        compiled = parse_policy(policy) if policy else None
        return [r.action for r in requests if evaluate(compiled, r).decision != "explicit-deny"]
    except PolicyError as exc:
        raise Unknown(f"policy: cannot be evaluated ({exc})") from None


@bucket_check(
    "bucket-tls-not-required", "Plain-HTTP requests are not denied", severity=Severity.MEDIUM,
    why="Without a policy statement denying aws:SecureTransport = false, a misconfigured client or SDK can send "
    "credentials-signed requests and data over plain HTTP, readable and alterable by anyone on the path.",
    fixable=True,
)  # fmt: skip
def tls_not_required(check: Check, facts: BucketFacts, ctx: AuditContext) -> list[Finding]:
    user, account = own_user(ctx)
    requests = [s3_request(action, facts.name, PROBE_KEY if on_object else None, principal=user, secure_transport=False,
                           bucket_account=account) for action, on_object in TLS_PROBES]  # fmt: skip
    open_actions = _decide(facts, requests)
    if not open_actions:
        return []
    found = "no bucket policy" if not facts.policy else "the policy does not deny plain HTTP for " + ", ".join(open_actions)
    return [check.finding(facts.name, found, fix=f"s3safe policy apply s3://{facts.name} --require-tls")]


def _encryption_rules(facts: BucketFacts) -> list[dict[str, Any]]:
    rules = facts.value("default encryption").get("ServerSideEncryptionConfiguration", {}).get("Rules", [])
    return [r for r in rules if isinstance(r, dict)]


@bucket_check(
    "bucket-sse-c-not-blocked", "SSE-C uploads are not blocked", severity=Severity.LOW,
    why="With SSE-C the client holds the only key: an attacker with write access can re-encrypt your objects under a key "
    "only they know (ransomware without touching KMS). A bucket that never uses SSE-C should refuse it.",
    fixable=True,
)  # fmt: skip
def sse_c_not_blocked(check: Check, facts: BucketFacts, ctx: AuditContext) -> list[Finding]:
    for rule in _encryption_rules(facts):
        if "SSE-C" in rule.get("BlockedEncryptionTypes", {}).get("EncryptionType", []):
            return []
    user, account = own_user(ctx)
    request = s3_request("s3:PutObject", facts.name, PROBE_KEY, principal=user, bucket_account=account,
                         extra={SSE_C_KEY: "AES256"})  # fmt: skip
    if not _decide(facts, [request]):
        return []
    fix = f"s3safe audit s3://{facts.name} --check {check.id} --fix"
    return [check.finding(facts.name, "uploads with SSE-C (customer-provided keys) are accepted", fix=fix)]


CHECKS = [policy_public, tls_not_required, sse_c_not_blocked]
