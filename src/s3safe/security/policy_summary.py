"""One plain-language line per bucket-policy statement (for `policy show`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["summarize_policy", "summarize_statement"]

_PHRASES = {
    "StringEquals": "is",
    "StringNotEquals": "is not",
    "StringEqualsIgnoreCase": "is (ignoring case)",
    "StringNotEqualsIgnoreCase": "is not (ignoring case)",
    "StringLike": "matches",
    "StringNotLike": "does not match",
    "NumericEquals": "=",
    "NumericNotEquals": "!=",
    "NumericLessThan": "<",
    "NumericLessThanEquals": "<=",
    "NumericGreaterThan": ">",
    "NumericGreaterThanEquals": ">=",
    "DateEquals": "is",
    "DateNotEquals": "is not",
    "DateLessThan": "is before",
    "DateLessThanEquals": "is at or before",
    "DateGreaterThan": "is after",
    "DateGreaterThanEquals": "is at or after",
    "Bool": "is",
    "BinaryEquals": "is",
    "IpAddress": "is in",
    "NotIpAddress": "is not in",
    "ArnEquals": "matches",
    "ArnLike": "matches",
    "ArnNotEquals": "does not match",
    "ArnNotLike": "does not match",
}
_LOWER = {k.lower(): k for k in _PHRASES}
_NONE_OF = {  # negated operators with several values: the request value must match none of them
    "is not": "is none of",
    "is not (ignoring case)": "is none of (ignoring case)",
    "!=": "is none of",
    "is not in": "is in none of",
    "does not match": "matches none of",
}


def _items(value: Any) -> list[str]:
    return [str(v) for v in (value if isinstance(value, list) else [value])]


def _short(resource: str) -> str:
    return resource.removeprefix("arn:aws:s3:::")


def _principal(value: Any) -> str:
    if value == "*":
        return "everyone"
    if not isinstance(value, Mapping):
        return str(value)
    parts: list[str] = []
    for kind, raw in value.items():
        names = _items(raw)
        if kind == "AWS" and names == ["*"]:
            return "everyone"
        label = {"AWS": "", "Service": "service ", "CanonicalUser": "canonical user ", "Federated": "federated "}.get(
            kind, f"{kind} "
        )
        parts += [label + n for n in names]
    return ", ".join(parts)


def _condition(operator: str, key: str, values: Any) -> str:
    vals = _items(values)
    if operator.lower() == "null":
        return f"{key} is {'absent' if vals and vals[0].lower() == 'true' else 'present'}"
    head, sep, base = operator.partition(":")
    prefix = ""
    if sep:
        prefix = "any value of " if head.lower() == "foranyvalue" else "every value of "
    else:
        base = operator
    suffix = ""
    if base.lower().endswith("ifexists") and base.lower() not in _LOWER:
        base, suffix = base[: -len("IfExists")], " (or is absent)"
    phrase = _PHRASES.get(_LOWER.get(base.lower(), ""), base)
    none_of = _NONE_OF.get(phrase)
    if len(vals) > 1 and none_of:
        return f"{prefix}{key} {none_of} {', '.join(vals)}{suffix}"
    return f"{prefix}{key} {phrase} {' or '.join(vals)}{suffix}"


def summarize_statement(statement: Mapping[str, Any]) -> str:
    """E.g. 'S3SafeDenyInsecureTransport: Deny everyone s3:* on b, b/* when aws:SecureTransport is false'."""
    sid = statement.get("Sid")
    effect = str(statement.get("Effect", "?"))
    if "NotPrincipal" in statement:
        who = "everyone except " + _principal(statement["NotPrincipal"])
    else:
        who = _principal(statement.get("Principal", "?"))
    if "NotAction" in statement:
        what = "every action except " + ", ".join(_items(statement["NotAction"]))
    else:
        what = ", ".join(_items(statement.get("Action", "?")))
    if "NotResource" in statement:
        where = "everything except " + ", ".join(_short(r) for r in _items(statement["NotResource"]))
    else:
        where = ", ".join(_short(r) for r in _items(statement.get("Resource", "?")))
    text = f"{effect} {who} {what} on {where}"
    condition = statement.get("Condition")
    if isinstance(condition, Mapping) and condition:
        clauses = [
            _condition(str(op), str(key), values)
            for op, keys in condition.items()
            if isinstance(keys, Mapping)
            for key, values in keys.items()
        ]
        text += " when " + " and ".join(clauses)
    return f"{sid}: {text}" if isinstance(sid, str) and sid else text


def summarize_policy(policy: Mapping[str, Any]) -> list[str]:
    statements = policy.get("Statement", [])
    statements = [statements] if isinstance(statements, Mapping) else statements
    if not isinstance(statements, list):  # a malformed stored policy is shown as JSON, not summarized
        return []
    return [summarize_statement(st) for st in statements if isinstance(st, Mapping)]
