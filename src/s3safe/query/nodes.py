"""The syntax tree: frozen dataclasses. Spans (start, end offsets) are for error carets and are not
part of equality, so two trees parsed from differently spaced text compare equal."""

from __future__ import annotations

from dataclasses import dataclass, field

from s3safe.query.pattern import Pattern
from s3safe.query.values import DateLiteral, Number, Type
from s3safe.query.variables import Variable

Span = tuple[int, int]


@dataclass(frozen=True, slots=True)
class Const:
    """A literal: text, number or true/false."""

    value: str | Number | bool
    type: Type
    span: Span = field(default=(0, 0), compare=False)


@dataclass(frozen=True, slots=True)
class DateConst:
    """A text literal used where a date is expected."""

    value: DateLiteral
    span: Span = field(default=(0, 0), compare=False)

    @property
    def type(self) -> Type:
        return Type.DATE


@dataclass(frozen=True, slots=True)
class Var:
    """A variable, or a function call with its text argument (s3_meta('owner'))."""

    var: Variable
    arg: str | None = None
    span: Span = field(default=(0, 0), compare=False)

    @property
    def type(self) -> Type:
        return self.var.type


@dataclass(frozen=True, slots=True)
class Neg:
    operand: Expr
    span: Span = field(default=(0, 0), compare=False)

    @property
    def type(self) -> Type:
        return Type.NUMBER


@dataclass(frozen=True, slots=True)
class Arith:
    op: str  # + - * / %
    left: Expr
    right: Expr
    span: Span = field(default=(0, 0), compare=False)

    @property
    def type(self) -> Type:
        return Type.NUMBER


@dataclass(frozen=True, slots=True)
class Compare:
    op: str  # = <> < <= > >=
    left: Expr
    right: Expr
    span: Span = field(default=(0, 0), compare=False)

    @property
    def type(self) -> Type:
        return Type.BOOL


@dataclass(frozen=True, slots=True)
class TextTest:
    op: str  # contains starts_with ends_with
    left: Expr
    right: Expr
    span: Span = field(default=(0, 0), compare=False)

    @property
    def type(self) -> Type:
        return Type.BOOL


@dataclass(frozen=True, slots=True)
class Matches:
    left: Expr
    pattern: str
    compiled: Pattern = field(compare=False, repr=False)
    span: Span = field(default=(0, 0), compare=False)

    @property
    def type(self) -> Type:
        return Type.BOOL


@dataclass(frozen=True, slots=True)
class OneOf:
    left: Expr
    items: tuple[Const | DateConst, ...]
    negated: bool = False
    span: Span = field(default=(0, 0), compare=False)

    @property
    def type(self) -> Type:
        return Type.BOOL


@dataclass(frozen=True, slots=True)
class Not:
    operand: Expr
    span: Span = field(default=(0, 0), compare=False)

    @property
    def type(self) -> Type:
        return Type.BOOL


@dataclass(frozen=True, slots=True)
class And:
    items: tuple[Expr, ...]
    span: Span = field(default=(0, 0), compare=False)

    @property
    def type(self) -> Type:
        return Type.BOOL


@dataclass(frozen=True, slots=True)
class Or:
    items: tuple[Expr, ...]
    span: Span = field(default=(0, 0), compare=False)

    @property
    def type(self) -> Type:
        return Type.BOOL


Expr = Const | DateConst | Var | Neg | Arith | Compare | TextTest | Matches | OneOf | Not | And | Or


def children(node: Expr) -> tuple[Expr, ...]:
    if isinstance(node, Neg | Not):
        return (node.operand,)
    if isinstance(node, Arith | Compare | TextTest):
        return (node.left, node.right)
    if isinstance(node, Matches):
        return (node.left,)
    if isinstance(node, OneOf):
        return (node.left, *node.items)
    if isinstance(node, And | Or):
        return node.items
    return ()


def walk(node: Expr) -> list[Expr]:
    """Every node of the tree, iteratively (trees are depth-limited, but walking need not recurse)."""
    out: list[Expr] = []
    stack = [node]
    while stack:
        current = stack.pop()
        out.append(current)
        stack.extend(children(current))
    return out
