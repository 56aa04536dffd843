"""Recursive-descent parser: tokens -> a typed syntax tree (nodes.py), or a QueryError with a caret.

Grammar, loosest binding first (SQL-like; comparisons bind tighter than NOT, NOT tighter than AND)::

    condition  := or_expr END
    or_expr    := and_expr ( OR and_expr )*
    and_expr   := not_expr ( AND not_expr )*
    not_expr   := NOT not_expr | predicate
    predicate  := additive [ cmp_op additive
                           | (isoneof | isnotoneof) '{' item ( (',' | ';') item )* '}'
                           | (contains | starts_with | ends_with) additive
                           | matches TEXT ]
    additive   := term ( ('+' | '-') term )*
    term       := unary ( ('*' | '/' | '%') unary )*
    unary      := '-' unary | primary
    primary    := NUMBER | TEXT | true | false | NAME [ '(' TEXT ')' ] | '(' or_expr ')'

So `NOT size > 5 AND ext = '.txt'` is `(NOT (size > 5)) AND (ext = '.txt')`, and comparisons do not
chain (`1 < size < 5` is an error: write `size > 1 AND size < 5`).
"""

from __future__ import annotations

from dataclasses import replace
from fractions import Fraction
from typing import Literal

from s3safe.query.errors import QueryError, suggest
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
    children,
)
from s3safe.query.pattern import Pattern, PatternError
from s3safe.query.tokens import KEYWORDS, SIZE_UNITS, Kind, Token, tokenize
from s3safe.query.typecheck import Checker
from s3safe.query.values import Number, Type
from s3safe.query.variables import Side, counterpart, lookup, names_for

Scope = Literal["local", "s3", "any"]

MAX_NESTING = 40  # parentheses, NOT and unary minus inside each other
MAX_DEPTH = 64  # depth of the finished tree (long arithmetic chains nest too)

_SIDES: dict[str, frozenset[Side]] = {
    "local": frozenset({"local", "clock"}),
    "s3": frozenset({"s3", "clock"}),
    "any": frozenset({"local", "s3", "clock"}),
}
_CMP = ("=", "<>", "<", "<=", ">", ">=")
_TEXT_TESTS = ("contains", "starts_with", "ends_with")
_PREDICATE_WORDS = ("isoneof", "isnotoneof", *_TEXT_TESTS, "matches")
_OPERATOR_WORDS = ["AND", "OR", "NOT", "isoneof", "isnotoneof", "contains", "starts_with", "ends_with", "matches"]


def parse(text: str, scope: Scope = "any") -> Expr:
    """The typed tree of a condition. Raises QueryError."""
    if scope not in _SIDES:
        raise ValueError(f"scope must be 'local', 's3' or 'any', not {scope!r}")
    return _Parser(text, scope).condition()


class _Parser:
    def __init__(self, text: str, scope: Scope) -> None:
        self.text = text
        self.tokens = tokenize(text)
        self.pos = 0
        self.scope = scope
        self.sides = _SIDES[scope]
        self.nesting = 0
        self.depths: dict[int, int] = {}
        self.check = Checker(text)

    # ---- helpers -----------------------------------------------------------------------------------

    def peek(self, ahead: int = 0) -> Token:
        return self.tokens[min(self.pos + ahead, len(self.tokens) - 1)]

    def advance(self) -> Token:
        tok = self.tokens[self.pos]
        if tok.kind is not Kind.END:
            self.pos += 1
        return tok

    def at(self, kind: Kind, *values: str) -> bool:
        tok = self.peek()
        return tok.kind is kind and (not values or tok.value in values)

    def error(self, message: str, tok: Token, hint: str | None = None) -> QueryError:
        return QueryError(message, expression=self.text, position=tok.start, end=tok.end, hint=hint)

    def unexpected(self, tok: Token, expected: str, *, operator_position: bool) -> QueryError:
        if tok.kind is Kind.END:
            return self.error(f"the condition ends too early: expected {expected}", tok)
        hint = None
        after_number = self.pos > 0 and self.tokens[self.pos - 1].kind is Kind.NUMBER
        if tok.kind is Kind.NAME and after_number and tok.text.lower() in SIZE_UNITS:
            hint = f"write size units right after the number, without a space: {self.tokens[self.pos - 1].text}{tok.text}"
        elif tok.kind is Kind.NAME and operator_position:
            hint = suggest(tok.text, _OPERATOR_WORDS)
        return self.error(f"unexpected {_describe(tok)}: expected {expected}", tok, hint)

    def expect(self, kind: Kind, expected: str) -> Token:
        if self.peek().kind is not kind:
            raise self.unexpected(self.peek(), expected, operator_position=False)
        return self.advance()

    def enter(self, tok: Token) -> None:
        self.nesting += 1
        if self.nesting > MAX_NESTING:
            raise self.error(f"the condition is nested too deeply (more than {MAX_NESTING} levels)", tok)

    def node(self, made: Expr) -> Expr:
        """Record the depth of a new node; refuse trees too deep to evaluate safely."""
        depth = 1 + max((self.depths.get(id(c), 1) for c in children(made)), default=0)
        if depth > MAX_DEPTH:
            raise self.check.fail(f"the condition is too complex (deeper than {MAX_DEPTH} levels)", made)
        self.depths[id(made)] = depth
        return made

    # ---- grammar -----------------------------------------------------------------------------------

    def condition(self) -> Expr:
        if self.peek().kind is Kind.END:
            raise self.error("the condition is empty", self.peek(), "e.g. s3_size_mb > 100 AND s3_age_days > 30")
        tree = self.or_expr()
        if self.peek().kind is not Kind.END:
            if self.at(Kind.RPAREN):
                raise self.error("unexpected ')': there is no '(' to close", self.peek())
            raise self.unexpected(self.peek(), "AND, OR or the end of the condition", operator_position=True)
        self.check.require(tree, Type.BOOL, "a condition")
        return tree

    def or_expr(self) -> Expr:
        items = [self.and_expr()]
        while self.at(Kind.KEYWORD, "or"):
            self.advance()
            items.append(self.and_expr())
        if len(items) == 1:
            return items[0]
        for item in items:
            self.check.require(item, Type.BOOL, "OR")
        return self.node(Or(tuple(items), span=(items[0].span[0], items[-1].span[1])))

    def and_expr(self) -> Expr:
        items = [self.not_expr()]
        while self.at(Kind.KEYWORD, "and"):
            self.advance()
            items.append(self.not_expr())
        if len(items) == 1:
            return items[0]
        for item in items:
            self.check.require(item, Type.BOOL, "AND")
        return self.node(And(tuple(items), span=(items[0].span[0], items[-1].span[1])))

    def not_expr(self) -> Expr:
        if not self.at(Kind.KEYWORD, "not"):
            return self.predicate()
        tok = self.advance()
        self.enter(tok)
        operand = self.not_expr()
        self.nesting -= 1
        self.check.require(operand, Type.BOOL, "NOT")
        return self.node(Not(operand, span=(tok.start, operand.span[1])))

    def predicate(self) -> Expr:
        left = self.additive()
        tok = self.peek()
        made: Expr
        if tok.kind is Kind.OP and tok.value in _CMP:
            self.advance()
            right = self.additive()
            op = str(tok.value)
            left, right = self.check.compare(op, left, right)
            made = Compare(op, left, right, span=(left.span[0], right.span[1]))
        elif tok.kind is Kind.KEYWORD and tok.value in ("isoneof", "isnotoneof"):
            self.advance()
            made = self.one_of(left, negated=tok.value == "isnotoneof")
        elif tok.kind is Kind.KEYWORD and tok.value in _TEXT_TESTS:
            self.advance()
            right = self.additive()
            self.check.require(left, Type.TEXT, str(tok.value))
            self.check.require(right, Type.TEXT, str(tok.value))
            made = TextTest(str(tok.value), left, right, span=(left.span[0], right.span[1]))
        elif tok.kind is Kind.KEYWORD and tok.value == "matches":
            self.advance()
            made = self.matches(left)
        else:
            return left
        after = self.peek()
        if (after.kind is Kind.OP and after.value in _CMP) or (after.kind is Kind.KEYWORD and after.value in _PREDICATE_WORDS):
            raise self.error(
                f"comparisons do not chain: unexpected {_describe(after)}",
                after,
                "combine comparisons with AND, e.g. size > 1 AND size < 5",
            )
        return self.node(made)

    def one_of(self, left: Expr, *, negated: bool) -> Expr:
        self.expect(Kind.LBRACE, "'{' and a list of values, e.g. {'.jpg', '.png'}")
        items: list[Const | DateConst] = []
        while True:
            item = self.list_literal()
            items.append(self.check.list_item(left, item))
            if self.at(Kind.SEP):
                self.advance()
                continue
            close = self.expect(Kind.RBRACE, "',' or ';' and another value, or '}'")
            return OneOf(left, tuple(items), negated, span=(left.span[0], close.end))

    def list_literal(self) -> Const:
        tok = self.peek()
        if tok.kind is Kind.OP and tok.value == "-" and self.peek(1).kind is Kind.NUMBER:
            self.advance()
            num = self.advance()
            return Const(-_number(num), Type.NUMBER, span=(tok.start, num.end))
        if tok.kind is Kind.NUMBER:
            self.advance()
            return Const(_number(tok), Type.NUMBER, span=(tok.start, tok.end))
        if tok.kind is Kind.TEXT:
            self.advance()
            return Const(str(tok.value), Type.TEXT, span=(tok.start, tok.end))
        if tok.kind is Kind.KEYWORD and tok.value in ("true", "false"):
            self.advance()
            return Const(tok.value == "true", Type.BOOL, span=(tok.start, tok.end))
        if tok.kind is Kind.RBRACE:
            raise self.error("the list is empty or ends with a separator", tok, "e.g. {'.jpg', '.png'}")
        raise self.unexpected(tok, "a number, 'text', true or false (lists hold literal values)", operator_position=False)

    def matches(self, left: Expr) -> Expr:
        self.check.require(left, Type.TEXT, "matches")
        tok = self.peek()
        if tok.kind is not Kind.TEXT:
            raise self.unexpected(tok, "a regular expression in single quotes, e.g. '^logs/.*\\.gz$'", operator_position=False)
        self.advance()
        source = str(tok.value)
        try:
            compiled = Pattern(source)
        except PatternError as exc:
            exact = tok.text == f"'{source}'"  # no '' escapes: pattern index maps straight onto the text
            at = tok.start + 1 + exc.index if exact else tok.start
            raise QueryError(
                f"invalid regular expression: {exc.message}",
                expression=self.text,
                position=at,
                end=at + 1 if exact else tok.end,
            ) from None
        return Matches(left, source, compiled, span=(left.span[0], tok.end))

    def additive(self) -> Expr:
        made = self.term()
        while self.at(Kind.OP, "+", "-"):
            op = str(self.advance().value)
            right = self.term()
            made = self.arith(op, made, right)
        return made

    def term(self) -> Expr:
        made = self.unary()
        while self.at(Kind.OP, "*", "/", "%"):
            op = str(self.advance().value)
            right = self.unary()
            made = self.arith(op, made, right)
        return made

    def arith(self, op: str, left: Expr, right: Expr) -> Expr:
        self.check.require(left, Type.NUMBER, f"'{op}'")
        self.check.require(right, Type.NUMBER, f"'{op}'")
        return self.node(Arith(op, left, right, span=(left.span[0], right.span[1])))

    def unary(self) -> Expr:
        if not self.at(Kind.OP, "-"):
            return self.primary()
        tok = self.advance()
        self.enter(tok)
        operand = self.unary()
        self.nesting -= 1
        self.check.require(operand, Type.NUMBER, "'-'")
        span = (tok.start, operand.span[1])
        if isinstance(operand, Const) and not isinstance(operand.value, str | bool):
            return Const(-operand.value, Type.NUMBER, span=span)
        return self.node(Neg(operand, span=span))

    def primary(self) -> Expr:
        tok = self.peek()
        if tok.kind is Kind.NUMBER:
            self.advance()
            return Const(_number(tok), Type.NUMBER, span=(tok.start, tok.end))
        if tok.kind is Kind.TEXT:
            self.advance()
            return Const(str(tok.value), Type.TEXT, span=(tok.start, tok.end))
        if tok.kind is Kind.KEYWORD and tok.value in ("true", "false"):
            self.advance()
            return Const(tok.value == "true", Type.BOOL, span=(tok.start, tok.end))
        if tok.kind is Kind.NAME:
            return self.variable()
        if tok.kind is Kind.LPAREN:
            self.advance()
            self.enter(tok)
            inner = self.or_expr()
            self.nesting -= 1
            if not self.at(Kind.RPAREN):
                raise self.unexpected(self.peek(), f"')' to close the '(' at character {tok.start + 1}", operator_position=True)
            close = self.advance()
            return replace(inner, span=(tok.start, close.end))
        raise self.unexpected(tok, "a value, a variable or '('", operator_position=False)

    def variable(self) -> Expr:
        tok = self.advance()
        name = str(tok.value)
        is_call = self.at(Kind.LPAREN)
        var = lookup(name)
        if var is None:
            what = "function" if is_call else "variable"
            pool = names_for(self.sides, functions=is_call)
            hint = suggest(name, pool)
            if hint is None and not is_call:
                hint = suggest(name, sorted(KEYWORDS))
            raise self.error(f"unknown {what} '{tok.text}'", tok, hint or "see 'Variables' in the README")
        if var.side not in self.sides:
            other = counterpart(var)
            hint = f"did you mean '{other.name}'?" if other is not None and other.side in self.sides else None
            if var.side == "local":
                message = f"'{tok.text}' describes a local file, but this condition looks only at S3 objects"
            else:
                message = f"'{tok.text}' describes an S3 object, but this condition looks only at local files"
            raise self.error(message, tok, hint)
        if not var.takes_arg:
            if is_call:
                raise self.error(f"'{tok.text}' is a variable, not a function", self.peek())
            return Var(var, None, span=(tok.start, tok.end))
        usage = f"{var.name}('name')"
        if not is_call:
            raise self.error(f"'{tok.text}' needs a name in parentheses: {usage}", tok)
        self.advance()
        arg = self.peek()
        if arg.kind is not Kind.TEXT:
            raise self.unexpected(arg, f"a name in single quotes: {usage}", operator_position=False)
        self.advance()
        if not str(arg.value).strip():
            raise self.error(f"{var.name}() needs a non-empty name", arg)
        close = self.expect(Kind.RPAREN, f"')' after the name: {usage}")
        return Var(var, str(arg.value), span=(tok.start, close.end))


def _number(tok: Token) -> Number:
    assert isinstance(tok.value, int | Fraction)
    return tok.value


def _describe(tok: Token) -> str:
    if tok.kind is Kind.END:
        return "end of the condition"
    if tok.kind is Kind.KEYWORD:
        return tok.text.upper() if tok.value in ("and", "or", "not") else f"'{tok.text}'"
    if tok.kind is Kind.TEXT:
        return f"text {tok.text}" if len(tok.text) <= 30 else "text"
    return f"'{tok.text}'"
