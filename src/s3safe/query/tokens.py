"""The lexer: condition text -> tokens with their positions (character offsets into the text)."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from fractions import Fraction

from s3safe.query.errors import QueryError, suggest
from s3safe.query.values import Number, normalize

MAX_LENGTH = 20_000  # characters of condition text
MAX_NUMBER_DIGITS = 40


class Kind(enum.Enum):
    NUMBER = "number"
    TEXT = "text"
    NAME = "name"  # a variable or function name
    KEYWORD = "keyword"
    OP = "operator"
    LPAREN = "'('"
    RPAREN = "')'"
    LBRACE = "'{'"
    RBRACE = "'}'"
    SEP = "',' or ';'"
    END = "end of the condition"


KEYWORDS = frozenset(
    {"and", "or", "not", "isoneof", "isnotoneof", "contains", "starts_with", "ends_with", "matches", "true", "false"}
)

# size suffixes: S3Express counted KB, MB, GB in units of 1024; KiB … TiB are the same, spelled exactly
SIZE_UNITS: dict[str, int] = {
    "b": 1,
    "kb": 1024,
    "mb": 1024**2,
    "gb": 1024**3,
    "tb": 1024**4,
    "kib": 1024,
    "mib": 1024**2,
    "gib": 1024**3,
    "tib": 1024**4,
}

_OPERATORS = ("<>", "!=", "<=", ">=", "=", "<", ">", "+", "-", "*", "/", "%")
# things people type from other languages, with what to write instead
_FOREIGN = {
    "==": "use = to compare",
    "&&": "use AND",
    "||": "use OR",
    "!": "use NOT, or != for 'not equal'",
    "&": "use AND",
    "|": "use OR",
    '"': "text is written in single quotes: 'like this'",
    "`": "text is written in single quotes: 'like this'",
    "[": "lists are written in braces: {'a', 'b'}",
    "]": "lists are written in braces: {'a', 'b'}",
}


@dataclass(frozen=True, slots=True)
class Token:
    kind: Kind
    text: str  # as written
    start: int
    end: int
    value: str | Number | None = None  # decoded text, number, or lowercased keyword/operator/name


def tokenize(source: str) -> list[Token]:
    """Every token of `source`, ending with one END token. Raises QueryError at the first bad character."""
    if len(source) > MAX_LENGTH:
        raise QueryError(
            f"the condition is too long ({len(source)} characters; at most {MAX_LENGTH})",
            expression=source,
            position=MAX_LENGTH,
        )
    tokens: list[Token] = []
    i, n = 0, len(source)
    while i < n:
        ch = source[i]
        if ch.isspace():
            i += 1
        elif ch == "'":
            i = _text(source, i, tokens)
        elif ch.isascii() and ch.isdigit():
            i = _number(source, i, tokens)
        elif ch.isascii() and (ch.isalpha() or ch == "_"):
            j = i + 1
            while j < n and source[j].isascii() and (source[j].isalnum() or source[j] == "_"):
                j += 1
            word = source[i:j]
            low = word.lower()
            tokens.append(Token(Kind.KEYWORD if low in KEYWORDS else Kind.NAME, word, i, j, low))
            i = j
        elif ch in "(){},;":
            kind = {"(": Kind.LPAREN, ")": Kind.RPAREN, "{": Kind.LBRACE, "}": Kind.RBRACE}.get(ch, Kind.SEP)
            tokens.append(Token(kind, ch, i, i + 1, ch))
            i += 1
        else:
            for foreign, hint in _FOREIGN.items():
                if source.startswith(foreign, i) and not (foreign == "!" and source.startswith("!=", i)):
                    raise QueryError(
                        f"unexpected '{foreign}'", expression=source, position=i, end=i + len(foreign), hint=hint
                    )
            op = next((o for o in _OPERATORS if source.startswith(o, i)), None)
            if op is None:
                raise QueryError(f"unexpected character {ch!r}", expression=source, position=i)
            tokens.append(Token(Kind.OP, op, i, i + len(op), "<>" if op == "!=" else op))
            i += len(op)
    tokens.append(Token(Kind.END, "", n, n))
    return tokens


def _text(source: str, start: int, tokens: list[Token]) -> int:
    """A single-quoted text; '' inside stands for one quote."""
    parts: list[str] = []
    i, n = start + 1, len(source)
    while True:
        j = source.find("'", i)
        if j < 0:
            raise QueryError(
                "text is not closed",
                expression=source,
                position=start,
                hint="end it with a single quote; write '' for a quote inside text",
            )
        parts.append(source[i:j])
        if j + 1 < n and source[j + 1] == "'":
            parts.append("'")
            i = j + 2
            continue
        tokens.append(Token(Kind.TEXT, source[start : j + 1], start, j + 1, "".join(parts)))
        return j + 1


def _number(source: str, start: int, tokens: list[Token]) -> int:
    """Digits, optional .digits, optional size unit (10MB, 1.5GiB; case-insensitive)."""
    n = len(source)
    i = start
    while i < n and source[i].isascii() and source[i].isdigit():
        i += 1
    if i + 1 < n and source[i] == "." and source[i + 1].isascii() and source[i + 1].isdigit():
        i += 1
        while i < n and source[i].isascii() and source[i].isdigit():
            i += 1
    digits = source[start:i]
    if len(digits) > MAX_NUMBER_DIGITS:
        raise QueryError(
            f"number too long (at most {MAX_NUMBER_DIGITS} digits)", expression=source, position=start, end=i
        )
    value: Number = Fraction(digits) if "." in digits else int(digits)
    j = i
    while j < n and source[j].isascii() and (source[j].isalnum() or source[j] == "_"):
        j += 1
    unit = source[i:j]
    if unit:
        factor = SIZE_UNITS.get(unit.lower())
        if factor is None:
            raise QueryError(
                f"unknown size unit '{unit}'",
                expression=source,
                position=i,
                end=j,
                hint=suggest(unit, ["KB", "MB", "GB", "TB", "KiB", "MiB", "GiB", "TiB"])
                or "use B, KB, MB, GB, TB (1024-based) or KiB, MiB, GiB, TiB",
            )
        value = value * factor
    tokens.append(Token(Kind.NUMBER, source[start:j], start, j, normalize(value)))
    return j
