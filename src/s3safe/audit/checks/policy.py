"""What the bucket policy means, decided with s3safe's own policy evaluator (the one `policy simulate` uses).

Public policy: every Allow statement is tried on its own (with every Deny of the policy kept) against
requests from an anonymous caller and from a stranger's AWS account. Before trying it, the statement's
conditions that restrict nobody are dropped. That is every condition on a key a caller chooses freely
(aws:Referer and aws:UserAgent are headers anyone can send; aws:SecureTransport, the request's ACL/SSE
headers, s3:prefix, tags on the caller's own principal … are picked by the caller), and, following AWS's
definition of a non-public policy ("The meaning of 'public'", S3 User Guide), every condition on the other
keys (aws:PrincipalOrgID, aws:SourceAccount, aws:SourceArn, aws:SourceVpce, aws:PrincipalAccount …) that
does not pin them to fixed values: a wildcard or policy variable in a value, a negated operator, IfExists,
ForAllValues or Null. What is left is a condition a stranger's request cannot satisfy, so the probe, which
carries none of those keys, is not let in.

aws:SourceIp is kept and probed: without the key, from an address outside every range the policy lists (per
address family), and from inside each range wider than a /8 (IPv4) or a /32 (IPv6), RFC 1918 ranges
excepted. A range list covering a whole family has no outside address, so it is probed from inside. A
statement that still allows a probe is public. Its object actions are probed on a key its own Resource
pattern matches.
"""

from __future__ import annotations

import ipaddress
import re
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
FORGEABLE_KEYS = frozenset(
    k.lower()
    for k in (
        "aws:Referer", "aws:UserAgent", "aws:SecureTransport", "aws:CurrentTime", "aws:EpochTime", "aws:RequestedRegion",
        "s3:x-amz-acl", "s3:x-amz-server-side-encryption", "s3:x-amz-storage-class", "s3:x-amz-content-sha256",
        "s3:x-amz-metadata-directive", "s3:prefix", "s3:delimiter", "s3:max-keys", "s3:signatureversion",
        "s3:authType", "s3:TlsVersion", "s3:signatureAge", "s3:object-lock-mode",
    )
)  # fmt: skip
FORGEABLE_PREFIXES = (
    "s3:existingobjecttag/", "s3:requestobjecttag/", "aws:requesttag/", "s3:x-amz-grant-", "aws:principaltag/",
)  # fmt: skip
SOURCE_IP = "aws:sourceip"
# AWS: ranges wider than this are public ("excluding RFC1918 private ranges")
WIDEST_FIXED_PREFIX = {4: 8, 6: 32}
PRIVATE_RANGES = tuple(ipaddress.ip_network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"))
# tried first as "an address outside every listed range": documentation ranges no real policy lists
OUTSIDE_CANDIDATES = tuple(ipaddress.ip_address(a) for a in ("203.0.113.7", "198.51.100.7", "2001:db8::7"))
ROLE_SESSIONS = re.compile(r"AROA[A-Z0-9]+:\*")  # aws:userid of any session of one role: fixed, per AWS
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


def _forgeable(key: str) -> bool:
    lowered = key.lower()
    return lowered in FORGEABLE_KEYS or lowered.startswith(FORGEABLE_PREFIXES)


def _fixed_value(key: str, value: object) -> bool:
    text = str(value)
    if key.lower() == "aws:userid" and ROLE_SESSIONS.fullmatch(text):
        return True
    return not any(c in text for c in ("*", "?", "${"))


def _restricts(operator: str, key: str, values: object) -> bool:
    """A condition a stranger cannot satisfy at will: fixed values under a positive, must-be-present operator."""
    if _forgeable(key):
        return False
    if key.lower() == SOURCE_IP:
        return True  # kept, and probed from addresses a stranger may have (_probe_addresses)
    head, sep, base = operator.lower().partition(":")
    if not sep:
        base = head
    elif head == "forallvalues":
        return False  # true when the key is absent
    if base == "null" or base.endswith("ifexists") or base in NEGATED_OPERATORS:
        return False
    items = values if isinstance(values, list) else [values]
    return bool(items) and all(_fixed_value(key, v) for v in items)


def _without_unrestricting_conditions(statement: dict[str, Any]) -> dict[str, Any]:
    condition = statement.get("Condition")
    if not isinstance(condition, Mapping):
        return statement
    kept: dict[str, Any] = {}
    for operator, keys in condition.items():
        if isinstance(keys, Mapping):
            rest = {k: v for k, v in keys.items() if _restricts(str(operator), str(k), v)}
            if rest:
                kept[operator] = rest
    out = {k: v for k, v in statement.items() if k != "Condition"}
    if kept:
        out["Condition"] = kept
    return out


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
    listed = list(_source_networks(statements))
    if not listed:
        return []
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


def _probe_keys(statement: Mapping[str, Any], bucket: str, *, version: str) -> list[str]:
    """PROBE_KEY plus one key per object pattern of the statement, so "public/*" is probed inside public/.
    Before Version 2012-10-17 "${...}" is literal text, so such a pattern is probed too."""
    keys = [PROBE_KEY]
    resources = statement.get("Resource", [])
    for resource in resources if isinstance(resources, list) else [resources]:
        match = re.fullmatch(rf"arn:aws[a-z-]*:s3:::{re.escape(bucket)}/(.*)", str(resource), re.DOTALL)
        if match and ("${" not in match.group(1) or version != "2012-10-17"):
            keys.append(re.sub(r"[*?]", "x", match.group(1)) or "x")
    return list(dict.fromkeys(keys))


def _public_actions(
    statement: dict[str, Any], denies: list[dict[str, Any]], *, bucket: str, ctx: AuditContext, version: str
) -> list[str]:
    """The probe actions this one Allow statement opens to anonymous callers or any AWS account. The policy
    keeps its own Version: under 2008-10-17 "${aws:username}" is literal text, not a variable."""
    policy = parse_policy({"Version": version, "Statement": [*denies, _without_unrestricting_conditions(statement)]})
    callers = [("anonymous", None), (stranger(ctx), ctx.account or "000000000000")]
    addresses: list[str | None] = [None, *_probe_addresses([statement, *denies])]
    opened = []
    for action, on_object, _ in PUBLIC_PROBES:
        keys = _probe_keys(statement, bucket, version=version) if on_object else [None]
        requests = [
            s3_request(action, bucket, key, principal=principal, bucket_account=bucket_account, source_ip=address)
            for principal, bucket_account in callers
            for key in keys
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
    denies = [s for s in statements if s.get("Effect") == "Deny"]
    version = policy.get("Version", "2008-10-17")  # parse_policy refuses anything else than the two Versions
    offending: list[tuple[str | None, list[str]]] = []
    try:
        for statement in statements:
            if statement.get("Effect") == "Allow":
                actions = _public_actions(statement, denies, bucket=facts.name, ctx=ctx, version=version)
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
        fix = f"s3safe policy remove s3://{facts.name} " + " ".join(f"--sid {sid}" for sid in sids)
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
