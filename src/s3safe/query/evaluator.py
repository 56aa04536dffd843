"""Evaluation: the typed tree is compiled once into closures, then run per object, three-valued.

Truth values inside are True, False, UNKNOWN (not fetched yet) and NULL (no value). AND, OR and NOT
follow Kleene's logic: FALSE AND x = FALSE, TRUE OR x = TRUE, NOT keeps UNKNOWN/NULL. A combination
of the two kinds of 'neither' is UNKNOWN when fetching could still decide it. At the end TRUE selects
the object, FALSE and NULL do not, and UNKNOWN asks the caller to fetch more (see `Verdict.pending`).

Division or modulo by zero gives NULL (no value), like a missing variable: the object is not
selected, whatever NOT surrounds it. It is not an error, so one odd object cannot stop a bulk run.
A regular expression runs on RE2 (query/pattern.py): time linear in the text, so no time limit.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from datetime import UTC, datetime, tzinfo
from fractions import Fraction
from typing import Any

from s3safe.query.nodes import (
    And,
    Arith,
    Compare,
    Const,
    DateConst,
    Expr,
    Matches,
    Neg,
    Not,
    OneOf,
    Or,
    TextTest,
    Var,
)
from s3safe.query.values import NULL, UNKNOWN, Cost, DateLiteral, Number, Special, Type, Value, normalize
from s3safe.query.variables import Variable
from s3safe.query.wildcard import has_wildcards, wildcard_match

Fn = Callable[["Run"], Value]


class Run:
    """One evaluation: the source of values and the cost classes found missing on the way."""

    __slots__ = ("pending", "source", "zone")

    def __init__(self, source: Any) -> None:
        self.source = source
        self.zone: tzinfo | None = source.time_zone
        self.pending: set[Cost] = set()

    def get(self, var: Variable, arg: str | None) -> Value:
        value: Value = self.source.value(var, arg)
        if value is UNKNOWN and var.cost is not None:
            self.pending.add(var.cost)
        return value


_CMP: dict[str, Callable[[Any, Any], bool]] = {
    "=": operator.eq,
    "<>": operator.ne,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}
_MIRROR = {"=": "=", "<>": "<>", "<": ">", "<=": ">=", ">": "<", ">=": "<="}


def _neither(a: Value, b: Value) -> Special:
    return NULL if (a is NULL or b is NULL) else UNKNOWN


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _divide(a: Number, b: Number) -> Value:
    return NULL if b == 0 else normalize(Fraction(a) / Fraction(b))


def _modulo(a: Number, b: Number) -> Value:
    return NULL if b == 0 else normalize(a % b)


_ARITH: dict[str, Callable[[Number, Number], Value]] = {
    "+": lambda a, b: normalize(a + b),
    "-": lambda a, b: normalize(a - b),
    "*": lambda a, b: normalize(a * b),
    "/": _divide,
    "%": _modulo,
}


class Compiler:
    def __init__(self, expression: str) -> None:
        self.expression = expression

    def compile(self, node: Expr) -> Fn:
        method: Callable[[Any], Fn] = getattr(self, "_" + type(node).__name__.lower())
        return method(node)

    def _const(self, node: Const) -> Fn:
        value = node.value
        return lambda _run: value

    def _dateconst(self, node: DateConst) -> Fn:  # pragma: no cover - dates are only compared, never evaluated alone
        raise AssertionError("a date literal is evaluated only inside a comparison")

    def _var(self, node: Var) -> Fn:
        var, arg = node.var, node.arg
        return lambda run: run.get(var, arg)

    def _neg(self, node: Neg) -> Fn:
        inner = self.compile(node.operand)

        def neg(run: Run) -> Value:
            v = inner(run)
            return v if isinstance(v, Special) else normalize(-v)  # type: ignore[operator]

        return neg

    def _arith(self, node: Arith) -> Fn:
        left, right, op = self.compile(node.left), self.compile(node.right), _ARITH[node.op]

        def arith(run: Run) -> Value:
            a = left(run)
            if a is NULL:
                return NULL
            b = right(run)
            if isinstance(a, Special) or isinstance(b, Special):
                return _neither(a, b)
            return op(a, b)  # type: ignore[arg-type]

        return arith

    def _compare(self, node: Compare) -> Fn:
        op = node.op
        if isinstance(node.left, DateConst):  # '2024-01-01' < mtime  ->  mtime > '2024-01-01'
            return self._date_compare(_MIRROR[op], node.right, node.left.value)
        if isinstance(node.right, DateConst):
            return self._date_compare(op, node.left, node.right.value)
        left, right, test = self.compile(node.left), self.compile(node.right), _CMP[op]
        kind = node.left.type

        def compare(run: Run) -> Value:
            a = left(run)
            if a is NULL:
                return NULL
            b = right(run)
            if isinstance(a, Special) or isinstance(b, Special):
                return _neither(a, b)
            if kind is Type.TEXT:
                return test(a.casefold(), b.casefold())  # type: ignore[union-attr]
            if kind is Type.DATE:
                return test(_aware(a), _aware(b))  # type: ignore[arg-type]
            return test(a, b)

        return compare

    def _date_compare(self, op: str, side: Expr, literal: DateLiteral) -> Fn:
        inner, test, wall = self.compile(side), _CMP[op], literal.wall

        def date_compare(run: Run) -> Value:
            v = inner(run)
            if isinstance(v, Special):
                return v
            return test(literal.view(v, run.zone), wall)  # type: ignore[arg-type]

        return date_compare

    def _texttest(self, node: TextTest) -> Fn:
        left, right = self.compile(node.left), self.compile(node.right)
        test: Callable[[str, str], bool] = {
            "contains": str.__contains__,
            "starts_with": str.startswith,
            "ends_with": str.endswith,
        }[node.op]

        def text_test(run: Run) -> Value:
            a = left(run)
            if a is NULL:
                return NULL
            b = right(run)
            if isinstance(a, Special) or isinstance(b, Special):
                return _neither(a, b)
            return test(a.casefold(), b.casefold())  # type: ignore[union-attr]

        return text_test

    def _matches(self, node: Matches) -> Fn:
        inner, pattern = self.compile(node.left), node.compiled

        def matches(run: Run) -> Value:
            v = inner(run)
            if isinstance(v, Special):
                return v
            return pattern.search(str(v))  # RE2: linear in the text, no timeout needed

        return matches

    def _oneof(self, node: OneOf) -> Fn:
        inner, negated = self.compile(node.left), node.negated
        member: Callable[[Any, tzinfo | None], bool]
        if node.left.type is Type.TEXT:
            texts = [str(i.value).casefold() for i in node.items if isinstance(i, Const)]
            exact = frozenset(t for t in texts if not has_wildcards(t))
            globs = tuple(t for t in texts if has_wildcards(t))

            def member(v: Any, _zone: tzinfo | None) -> bool:
                folded = v.casefold()
                return folded in exact or any(wildcard_match(g, folded) for g in globs)

        elif node.left.type is Type.DATE:
            dates = tuple(i.value for i in node.items if isinstance(i, DateConst))

            def member(v: Any, zone: tzinfo | None) -> bool:
                return any(d.view(v, zone) == d.wall for d in dates)

        else:
            values = frozenset(i.value for i in node.items if isinstance(i, Const))

            def member(v: Any, _zone: tzinfo | None) -> bool:
                return v in values

        def one_of(run: Run) -> Value:
            v = inner(run)
            if isinstance(v, Special):
                return v
            return member(v, run.zone) != negated

        return one_of

    def _not(self, node: Not) -> Fn:
        inner = self.compile(node.operand)

        def not_(run: Run) -> Value:
            v = inner(run)
            return v if isinstance(v, Special) else not v

        return not_

    def _and(self, node: And) -> Fn:
        items = tuple(self.compile(i) for i in node.items)

        def and_(run: Run) -> Value:
            result: Value = True
            for item in items:
                v = item(run)
                if v is False:
                    return False
                if v is not True:
                    result = v if result is True or v is UNKNOWN else result
            return result

        return and_

    def _or(self, node: Or) -> Fn:
        items = tuple(self.compile(i) for i in node.items)

        def or_(run: Run) -> Value:
            result: Value = False
            for item in items:
                v = item(run)
                if v is True:
                    return True
                if v is not False:
                    result = v if result is False or v is UNKNOWN else result
            return result

        return or_
