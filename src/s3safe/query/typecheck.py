"""Static types, checked while parsing: every mistake that can be known before the first object is.

Rules:
* arithmetic (`+ - * / %`, unary `-`) takes numbers and gives a number;
* `= <> < <= > >=` compare two values of the same type: number, text (case-insensitive), date, or
  true/false (only `=` and `<>`);
* a text literal next to a date variable is read as a date (`mtime > '2024-01-31'`); one that is not a
  valid date is an error;
* `contains`, `starts_with`, `ends_with`, `matches` take text on both sides;
* `isoneof`/`isnotoneof` lists hold literals of the left side's type;
* AND, OR, NOT and the whole condition take true/false.
"""

from __future__ import annotations

from s3safe.query.errors import QueryError
from s3safe.query.nodes import Const, DateConst, Expr
from s3safe.query.values import DateLiteral, Type

_ARTICLE = {Type.TEXT: "text", Type.NUMBER: "a number", Type.BOOL: "true/false", Type.DATE: "a date"}
DATE_FORMATS = "write dates as 'YYYY-MM-DD', 'YYYY-MM-DD HH:MM' or 'YYYY-MM-DD HH:MM:SS' (optionally with Z or +HH:MM)"


class Checker:
    """Type rules bound to the condition text (for error messages with carets)."""

    def __init__(self, text: str) -> None:
        self.text = text

    def shown(self, node: Expr) -> str:
        raw = " ".join(self.text[node.span[0] : node.span[1]].split())
        return raw if len(raw) <= 40 else raw[:37] + "..."

    def fail(self, message: str, node: Expr, hint: str | None = None) -> QueryError:
        return QueryError(message, expression=self.text, position=node.span[0], end=node.span[1], hint=hint)

    def is_a(self, node: Expr) -> str:
        return f"{self.shown(node)} is {_ARTICLE[node.type]}"

    def require(self, node: Expr, wanted: Type, where: str) -> None:
        if node.type is wanted:
            return
        hint = None
        if wanted is Type.TEXT and node.type is Type.NUMBER and isinstance(node, Const):
            hint = f"write text in single quotes: '{self.shown(node)}'"
        elif wanted is Type.BOOL and node.type is not Type.BOOL:
            hint = f"compare it with something, e.g. {self.shown(node)} = …"
        elif node.type is Type.DATE and wanted is Type.NUMBER:
            hint = "dates do not take arithmetic; use age_days, age_hours or age_mins, or compare with a date"
        raise self.fail(f"{where} needs {_ARTICLE[wanted]}, but {self.is_a(node)}", node, hint)

    def to_date(self, node: Const) -> DateConst:
        assert isinstance(node.value, str)
        literal = DateLiteral.parse(node.value)
        if literal is None:
            raise self.fail(f"'{node.value}' is not a date", node, DATE_FORMATS)
        return DateConst(literal, span=node.span)

    def coerce_pair(self, left: Expr, right: Expr) -> tuple[Expr, Expr]:
        """A text literal facing a date becomes a date literal."""
        if left.type is Type.DATE and right.type is Type.TEXT and isinstance(right, Const):
            return left, self.to_date(right)
        if right.type is Type.DATE and left.type is Type.TEXT and isinstance(left, Const):
            return self.to_date(left), right
        return left, right

    def compare(self, op: str, left: Expr, right: Expr) -> tuple[Expr, Expr]:
        left, right = self.coerce_pair(left, right)
        if left.type is not right.type:
            hint = None
            if isinstance(right, Const) and right.type is Type.NUMBER and left.type is Type.TEXT:
                hint = f"write text in single quotes: '{self.shown(right)}'"
            elif isinstance(right, Const) and right.type is Type.TEXT and left.type is Type.NUMBER:
                hint = "write numbers without quotes" if _numeric(str(right.value)) else None
            elif left.type is Type.BOOL or right.type is Type.BOOL:
                hint = "true/false values compare only with true or false"
            raise self.fail(
                f"cannot compare {_ARTICLE[left.type]} with {_ARTICLE[right.type]}: "
                f"{self.is_a(left)}, {self.is_a(right)}",
                right,
                hint,
            )
        if left.type is Type.BOOL and op not in ("=", "<>"):
            raise self.fail(f"true/false values compare only with = or <>, not {op}", right)
        return left, right

    def list_item(self, left: Expr, item: Const) -> Const | DateConst:
        if left.type is Type.DATE and item.type is Type.TEXT:
            return self.to_date(item)
        if item.type is not left.type:
            hint = None
            if left.type is Type.TEXT and item.type is Type.NUMBER:
                hint = f"write text in single quotes: '{self.shown(item)}'"
            raise self.fail(
                f"list item {self.shown(item)} is {_ARTICLE[item.type]}, but {self.is_a(left)}", item, hint
            )
        return item



def _numeric(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
