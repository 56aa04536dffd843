"""The `Condition` element of the IAM policy language, evaluated the way AWS documents it.

Sources (AWS IAM User Guide): "IAM JSON policy elements: Condition operators", "Conditions with multiple
context keys or values", "Single-valued vs. multivalued context keys", "IAM policy elements: Variables
and tags". The rules this module implements, in one place:

* Several operators in one block, and several keys under one operator, are AND-ed.
* Several policy values for one key are OR-ed; for a negated operator (StringNotEquals, StringNotLike,
  NumericNotEquals, DateNotEquals, NotIpAddress, ArnNotEquals, ArnNotLike, ...IgnoreCase) they are NOR-ed:
  the request value must match none of them.
* A key missing from the request: a positive operator is false, a negated operator is true,
  `...IfExists` is true (whatever the operator), `Null` tests presence ("true" = must be absent).
* Set operators: `ForAllValues:` is true when the key is missing (or an empty set), otherwise every request
  value must satisfy the operator; `ForAnyValue:` is false when the key is missing, otherwise at least one
  request value must satisfy it. On a missing key the set operator decides and `IfExists` changes nothing
  (observed behaviour documented by the IAM simulator of Cloud Copilot; AWS's own pages are silent).
* A plain (non-set) operator given a multivalued request key: positive operators need one request value to
  match, negated operators need every request value to miss every policy value.
* Condition key names are case-insensitive, the tag key after "/" too (aws:PrincipalTag/TEAM = .../team).
* Policy variables `${key}`, `${key, 'default'}`, `${*}`, `${?}`, `${$}` work in String*, Arn* and Bool
  values (and in Resource) when the policy Version is 2012-10-17. A variable with no value (key absent, or
  multivalued, and no default) matches nothing: positive operators do not match, negated ones do.
"""

from __future__ import annotations

import ipaddress
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any, Literal

from s3safe.core.errors import UsageError

__all__ = [
    "CompiledCondition",
    "ConditionContext",
    "PolicyError",
    "Template",
    "arn_match",
    "compile_conditions",
    "glob_match",
    "load_policy_json",
    "parse_date",
    "parse_template",
    "resolve",
]


class PolicyError(UsageError):
    """A policy document is malformed or uses an element or operator this evaluator does not know."""


class _DuplicateKey(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _no_duplicates(pairs: list[tuple[str, object]]) -> dict[str, object]:
    seen: dict[str, object] = {}
    for key, value in pairs:
        if key in seen:
            raise _DuplicateKey(key)
        seen[key] = value
    return seen


def load_policy_json(text: str, *, what: str = "the policy") -> Any:
    """Parse policy JSON the way IAM does: a key repeated inside one object is an error, not "last wins"."""
    try:
        return json.loads(text, object_pairs_hook=_no_duplicates)
    except _DuplicateKey as dup:
        raise PolicyError(
            f"{what} repeats the key {dup.key!r} inside one JSON object: IAM refuses such a policy "
            "(a JSON reader would silently keep only the last one)",
            hint=f"merge the values of the {dup.key!r} entries into one",
        ) from None
    except json.JSONDecodeError as exc:
        raise PolicyError(f"{what} is not valid JSON: {exc}") from None
    except RecursionError:
        raise PolicyError(f"{what} is nested too deeply to be a policy") from None


# --------------------------------------------------------------------------------------------- context


def normalize_key(key: str) -> str:
    """Condition keys are case-insensitive, the tag key after '/' included: IAM matches
    s3:ExistingObjectTag/Classification against a tag named "classification" ("IAM JSON policy elements:
    Condition", "Condition keys are not case-sensitive")."""
    return key.casefold()


def _scalar_text(value: object, what: str) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, str):
        return value
    raise UsageError(f"{what}: expected a string, number or boolean, got {type(value).__name__}")


def _strings(value: object, what: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, list | tuple):
        return tuple(_scalar_text(v, what) for v in value)
    return (_scalar_text(value, what),)


class ConditionContext:
    """The condition keys of one request. A key mapped to None or to an empty list is absent."""

    def __init__(self, *layers: Mapping[str, object]) -> None:
        self._values: dict[str, tuple[str, ...]] = {}
        for layer in layers:  # later layers override earlier ones
            for key, value in layer.items():
                norm = normalize_key(key)
                values = _strings(value, f"request context key {key!r}")
                if values:
                    self._values[norm] = values
                else:
                    self._values.pop(norm, None)

    def get(self, key: str) -> tuple[str, ...] | None:
        return self._values.get(normalize_key(key))

    def single(self, key: str) -> str | None:
        """The value of a single-valued key; None when absent or multivalued (not usable as a variable)."""
        values = self.get(key)
        return values[0] if values is not None and len(values) == 1 else None

    def as_dict(self) -> dict[str, tuple[str, ...]]:
        return dict(self._values)


# ------------------------------------------------------------------------------- policy variables


@dataclass(frozen=True)
class _Lit:
    """Text written in the policy: '*' and '?' are wildcards where the operator supports them."""

    text: str


@dataclass(frozen=True)
class _Var:
    key: str
    default: str | None


@dataclass(frozen=True)
class _Char:
    """${*}, ${?} or ${$}: always the literal character."""

    char: str


Template = tuple[_Lit | _Var | _Char, ...]
Resolved = tuple[tuple[str, bool], ...]  # (text, wildcards-active)

_VAR_RE = re.compile(r"\$\{([^}]*)\}")
_VAR_BODY_RE = re.compile(r"^\s*([^,\s']+)\s*(?:,\s*'((?:[^']|'')*)'\s*)?$")


def parse_template(value: str, *, variables: bool) -> Template:
    """Split a policy string into literal text and policy variables (only for Version 2012-10-17)."""
    if not variables or "${" not in value:
        return (_Lit(value),)
    parts: list[_Lit | _Var | _Char] = []
    pos = 0
    for m in _VAR_RE.finditer(value):
        if m.start() > pos:
            parts.append(_Lit(value[pos : m.start()]))
        body = m.group(1).strip()
        if body in ("*", "?", "$"):
            parts.append(_Char(body))
        else:
            vm = _VAR_BODY_RE.match(body)
            if vm is None:
                raise PolicyError(f"malformed policy variable {m.group(0)!r} in {value!r}")
            default = vm.group(2).replace("''", "'") if vm.group(2) is not None else None
            parts.append(_Var(vm.group(1), default))
        pos = m.end()
    if pos < len(value):
        parts.append(_Lit(value[pos:]))
    return tuple(parts)


def resolve(template: Template, ctx: ConditionContext) -> Resolved | None:
    """Substitute variables from the request; None when one has no value and no default."""
    out: list[tuple[str, bool]] = []
    for part in template:
        if isinstance(part, _Lit):
            out.append((part.text, True))
        elif isinstance(part, _Char):
            out.append((part.char, False))
        else:
            value = ctx.single(part.key)
            if value is None:
                value = part.default
            if value is None:
                return None
            out.append((value, False))
    return tuple(out)


def literal(resolved: Resolved) -> str:
    return "".join(text for text, _ in resolved)


class StepCounter:
    """Counts the character comparisons of wildcard matching, so tests can bound the work by input size."""

    def __init__(self) -> None:
        self.steps = 0


_Atom = tuple[str, bool]  # (character, is the '?' wildcard)
_Glob = tuple[tuple[_Atom, ...], ...]  # the pattern split at its '*' wildcards


@lru_cache(maxsize=4096)
def _compile_glob(resolved: Resolved) -> _Glob:
    segments: list[tuple[_Atom, ...]] = []
    current: list[_Atom] = []
    for text, wild in resolved:
        for ch in text:
            if wild and ch == "*":
                segments.append(tuple(current))
                current = []
            else:
                current.append((ch, wild and ch == "?"))
    segments.append(tuple(current))
    return tuple(segments)


def _same(a: str, b: str, ignore_case: bool) -> bool:
    return a == b or (ignore_case and a.casefold() == b.casefold())


def _segment_at(segment: tuple[_Atom, ...], value: str, pos: int, ignore_case: bool, counter: StepCounter | None) -> bool:
    for offset, (ch, any_char) in enumerate(segment):
        if counter is not None:
            counter.steps += 1
        if not any_char and not _same(ch, value[pos + offset], ignore_case):
            return False
    return True


def _match_glob(glob: _Glob, value: str, ignore_case: bool, counter: StepCounter | None) -> bool:
    """Greedy leftmost matching of the '*'-separated segments: each segment is placed at the first position
    where it fits, which is never worse than a later one. No backtracking, so the work is at most
    len(pattern) * len(value) comparisons (a regular expression backtracks exponentially in the stars)."""
    first, last = glob[0], glob[-1]
    if len(glob) == 1:
        return len(first) == len(value) and _segment_at(first, value, 0, ignore_case, counter)
    if len(first) + len(last) > len(value) or not _segment_at(first, value, 0, ignore_case, counter):
        return False
    pos, end = len(first), len(value) - len(last)
    for segment in glob[1:-1]:
        while pos + len(segment) <= end and not _segment_at(segment, value, pos, ignore_case, counter):
            pos += 1
        if pos + len(segment) > end:
            return False
        pos += len(segment)
    return _segment_at(last, value, end, ignore_case, counter)


def glob_match(resolved: Resolved, value: str, *, ignore_case: bool = False, counter: StepCounter | None = None) -> bool:
    """'*' and '?' of policy text (not of substituted variables) are wildcards; the whole value must match."""
    return _match_glob(_compile_glob(resolved), value, ignore_case, counter)


def _split_components(resolved: Resolved, count: int) -> list[Resolved]:
    """The pattern cut at its first `count` colons (a colon inside a variable's value counts too)."""
    parts: list[list[tuple[str, bool]]] = [[]]
    for text, wild in resolved:
        for ch in text:
            if ch == ":" and len(parts) <= count:
                parts.append([])
            else:
                parts[-1].append((ch, wild))
    return [tuple(part) for part in parts]


def arn_match(resolved: Resolved, value: str, *, counter: StepCounter | None = None) -> bool:
    """ArnEquals/ArnLike/Resource: six colon-delimited components, each matched with wildcards (a
    wildcard never crosses a colon of the first five; the sixth, the resource part, may contain colons)."""
    text = literal(resolved)
    if text.count(":") < 5:  # not an ARN pattern ("*", or a bare word): plain wildcard match
        return glob_match(resolved, value, counter=counter)
    values = value.split(":", 5)
    if len(values) < 6:
        return False
    patterns = _split_components(resolved, 5)
    return all(glob_match(p, v, counter=counter) for p, v in zip(patterns, values, strict=True))


# --------------------------------------------------------------------------------------- operators

Family = Literal["string", "numeric", "date", "bool", "binary", "ip", "arn", "null"]


@dataclass(frozen=True)
class _Op:
    family: Family
    test: str  # eq, eqi, like, lt, le, gt, ge, in
    negated: bool = False


_CMP = {"Equals": "eq", "LessThan": "lt", "LessThanEquals": "le", "GreaterThan": "gt", "GreaterThanEquals": "ge"}
_OPERATORS: dict[str, _Op] = {
    "StringEquals": _Op("string", "eq"),
    "StringNotEquals": _Op("string", "eq", True),
    "StringEqualsIgnoreCase": _Op("string", "eqi"),
    "StringNotEqualsIgnoreCase": _Op("string", "eqi", True),
    "StringLike": _Op("string", "like"),
    "StringNotLike": _Op("string", "like", True),
    "Bool": _Op("bool", "eq"),
    "BinaryEquals": _Op("binary", "eq"),
    "IpAddress": _Op("ip", "in"),
    "NotIpAddress": _Op("ip", "in", True),
    "ArnEquals": _Op("arn", "like"),
    "ArnLike": _Op("arn", "like"),
    "ArnNotEquals": _Op("arn", "like", True),
    "ArnNotLike": _Op("arn", "like", True),
    "Null": _Op("null", "eq"),
}
_ORDERED_FAMILIES: tuple[tuple[Family, str], ...] = (("numeric", "Numeric"), ("date", "Date"))
for _fam, _prefix in _ORDERED_FAMILIES:
    for _suffix, _test in _CMP.items():
        _OPERATORS[_prefix + _suffix] = _Op(_fam, _test)
    _OPERATORS[_prefix + "NotEquals"] = _Op(_fam, "eq", True)
_BY_LOWER = {name.lower(): name for name in _OPERATORS}

KNOWN_OPERATORS = frozenset(_OPERATORS)

PolicyValue = Template | Decimal | datetime | bool | str | ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class CompiledCondition:
    operator: str  # as written in the policy
    key: str
    base: str  # canonical base operator name, e.g. "StringNotEquals"
    op: _Op
    set_op: Literal["any", "all"] | None
    if_exists: bool
    values: tuple[PolicyValue, ...]
    raw: tuple[str, ...]

    def describe(self, ctx: ConditionContext) -> str:
        present = ctx.get(self.key)
        shown = ", ".join(present) if present else "absent"
        policy = self.raw[0] if len(self.raw) == 1 else "[" + ", ".join(self.raw) + "]"
        return f"{self.operator} {self.key} {policy} (request: {shown})"


def parse_date(text: str) -> datetime | None:
    """ISO 8601 (date, date-time, 'Z' or offset; naive means UTC) or epoch seconds."""
    t = text.strip()
    try:
        if re.fullmatch(r"-?\d+(\.\d+)?", t):
            return datetime.fromtimestamp(float(t), UTC)
        d = datetime.fromisoformat(t.replace("z", "Z").replace("Z", "+00:00"))
    except (ValueError, OverflowError, OSError):
        return None
    return d if d.tzinfo is not None else d.replace(tzinfo=UTC)


def _split_operator(name: str) -> tuple[str, _Op, Literal["any", "all"] | None, bool]:
    rest = name
    set_op: Literal["any", "all"] | None = None
    head, sep, tail = name.partition(":")
    if sep:
        if head.lower() == "foranyvalue":
            set_op = "any"
        elif head.lower() == "forallvalues":
            set_op = "all"
        else:
            raise PolicyError(f"unknown condition set operator {head!r} in {name!r} (use ForAnyValue: or ForAllValues:)")
        rest = tail
    if_exists = False
    base = _BY_LOWER.get(rest.lower())
    if base is None and rest.lower().endswith("ifexists"):
        base = _BY_LOWER.get(rest[: -len("IfExists")].lower())
        if_exists = True
    if base is None:
        raise PolicyError(f"unknown condition operator {name!r}", hint="see 'IAM JSON policy elements: Condition operators'")
    op = _OPERATORS[base]
    if op.family == "null" and (if_exists or set_op):
        raise PolicyError(f"condition operator {name!r} is not valid: Null takes neither IfExists nor a set operator")
    return base, op, set_op, if_exists


def _compile_value(op: _Op, raw: str, *, variables: bool, where: str) -> PolicyValue:
    if op.family in ("string", "arn"):
        return parse_template(raw, variables=variables)
    if op.family == "numeric":
        try:
            number = Decimal(raw.strip())
        except InvalidOperation:
            number = Decimal("NaN")
        if not number.is_finite():
            raise PolicyError(f"{where}: {raw!r} is not a number")
        return number
    if op.family == "date":
        d = parse_date(raw)
        if d is None:
            raise PolicyError(f"{where}: {raw!r} is not an ISO 8601 date or epoch time")
        return d
    if op.family == "bool" and variables and "${" in raw:  # valid per "Variables and tags": resolved per request
        return parse_template(raw, variables=True)
    if op.family in ("bool", "null"):
        if raw.lower() not in ("true", "false"):
            raise PolicyError(f"{where}: {raw!r} must be true or false")
        return raw.lower() == "true"
    if op.family == "ip":
        try:
            return ipaddress.ip_network(raw.strip(), strict=False)
        except ValueError:
            raise PolicyError(f"{where}: {raw!r} is not an IPv4 or IPv6 address or CIDR block") from None
    return raw  # binary: base64 text compared as written


def compile_conditions(block: object, *, variables: bool, where: str = "Condition") -> tuple[CompiledCondition, ...]:
    """Validate and compile a Condition element; raises PolicyError with the offending operator or key."""
    if block is None:
        return ()
    if not isinstance(block, Mapping):
        raise PolicyError(f"{where} must be an object of operator -> {{key: value(s)}}")
    out: list[CompiledCondition] = []
    for operator, keys in block.items():
        if not isinstance(operator, str):
            raise PolicyError(f"{where}: operator names must be strings")
        base, op, set_op, if_exists = _split_operator(operator)
        if not isinstance(keys, Mapping) or not keys:
            raise PolicyError(f"{where}.{operator} must be a non-empty object of condition key -> value(s)")
        for key, value in keys.items():
            here = f"{where}.{operator}.{key}"
            if not isinstance(key, str) or not key:
                raise PolicyError(f"{where}.{operator}: condition keys must be non-empty strings")
            try:
                raw = _strings(value, here)
            except UsageError as exc:
                raise PolicyError(str(exc)) from None
            if not raw:
                raise PolicyError(f"{here} needs at least one value")
            values = tuple(_compile_value(op, r, variables=variables, where=here) for r in raw)
            out.append(CompiledCondition(operator, key, base, op, set_op, if_exists, values, raw))
    return tuple(out)


# -------------------------------------------------------------------------------------- evaluation


def _ordered(test: str, sign: int) -> bool:
    """`sign` is -1, 0 or 1 as the request value is below, equal to or above the policy value."""
    return {"eq": sign == 0, "lt": sign < 0, "le": sign <= 0, "gt": sign > 0, "ge": sign >= 0}[test]


def _matches(cond: CompiledCondition, request: str, policy: PolicyValue, ctx: ConditionContext) -> bool:
    """The positive test of one request value against one policy value."""
    op = cond.op
    if op.family in ("string", "arn"):
        assert isinstance(policy, tuple)
        resolved = resolve(policy, ctx)
        if resolved is None:  # a policy variable without a value: nothing equals or is like it
            return False
        if op.family == "arn":
            return arn_match(resolved, request)
        if op.test == "like":
            return glob_match(resolved, request)
        if op.test == "eqi":
            return literal(resolved).casefold() == request.casefold()
        return literal(resolved) == request
    if op.family == "numeric":
        assert isinstance(policy, Decimal)
        try:
            number = Decimal(request.strip())
        except InvalidOperation:
            return False
        return number.is_finite() and _ordered(op.test, (number > policy) - (number < policy))
    if op.family == "date":
        assert isinstance(policy, datetime)
        when = parse_date(request)
        return when is not None and _ordered(op.test, (when > policy) - (when < policy))
    if op.family == "bool":
        if isinstance(policy, tuple):
            resolved = resolve(policy, ctx)
            return resolved is not None and request.lower() == literal(resolved).lower()
        return request.lower() == ("true" if policy else "false")
    if op.family == "ip":
        assert isinstance(policy, ipaddress.IPv4Network | ipaddress.IPv6Network)
        try:
            return ipaddress.ip_address(request.strip()) in policy
        except ValueError:
            return False
    return request == policy  # binary


def evaluate_condition(cond: CompiledCondition, ctx: ConditionContext) -> bool:
    present = ctx.get(cond.key)
    if cond.op.family == "null":
        return any((present is None) == want_absent for want_absent in cond.values)
    if present is None:
        if cond.set_op == "all":
            return True
        if cond.set_op == "any":
            return False
        if cond.if_exists:
            return True
        return cond.op.negated

    def satisfied(value: str) -> bool:
        hit = any(_matches(cond, value, pv, ctx) for pv in cond.values)
        return not hit if cond.op.negated else hit

    if cond.set_op == "all":
        return all(satisfied(v) for v in present)
    if cond.set_op == "any":
        return any(satisfied(v) for v in present)
    if cond.op.negated:
        return all(satisfied(v) for v in present)
    return any(satisfied(v) for v in present)


def evaluate_conditions(conditions: Sequence[CompiledCondition], ctx: ConditionContext) -> tuple[bool, list[str]]:
    """AND over the block; returns the outcome and a description of each condition that held."""
    held: list[str] = []
    for cond in conditions:
        if not evaluate_condition(cond, ctx):
            return False, []
        held.append(cond.describe(ctx))
    return True, held
