"""Tree -> condition text. Every compound part is parenthesized, so the text parses back to the same tree."""

from __future__ import annotations

from s3safe.query.nodes import And, Arith, Compare, Const, DateConst, Expr, Matches, Neg, Not, OneOf, Or, TextTest, Var
from s3safe.query.values import format_number


def quote(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def unparse(node: Expr) -> str:
    if isinstance(node, Const):
        if isinstance(node.value, bool):
            return "true" if node.value else "false"
        if isinstance(node.value, str):
            return quote(node.value)
        return format_number(node.value)
    if isinstance(node, DateConst):
        return quote(node.value.text)
    if isinstance(node, Var):
        return node.var.name if node.arg is None else f"{node.var.name}({quote(node.arg)})"
    if isinstance(node, Neg):
        return f"(-{unparse(node.operand)})"
    if isinstance(node, Arith | Compare | TextTest):
        return f"({unparse(node.left)} {node.op} {unparse(node.right)})"
    if isinstance(node, Matches):
        return f"({unparse(node.left)} matches {quote(node.pattern)})"
    if isinstance(node, OneOf):
        items = ", ".join(unparse(i) for i in node.items)
        return f"({unparse(node.left)} {'isnotoneof' if node.negated else 'isoneof'} {{{items}}})"
    if isinstance(node, Not):
        return f"(NOT {unparse(node.operand)})"
    if isinstance(node, And | Or):
        word = " AND " if isinstance(node, And) else " OR "
        return "(" + word.join(unparse(i) for i in node.items) + ")"
    raise TypeError(f"not a condition node: {node!r}")  # pragma: no cover
