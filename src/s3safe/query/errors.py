"""Errors of the condition language: what went wrong, where, and a caret under it.

`QueryError` is a `UsageError` (exit code 2). Its `str()` is three lines::

    unknown variable 'sizmb' (did you mean 'sizemb'?)
      sizmb > 5
      ^^^^^

`summary` is the first line alone and `pointer` the two display lines, for renderers that
print one line per message (the CLI's error renderer collapses whitespace).
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

from s3safe.core.errors import UsageError

# how much of a long expression is shown around the offending token
_WINDOW_BEFORE = 50
_WINDOW_AFTER = 50


class QueryError(UsageError):
    """A --where condition is malformed, badly typed, or cannot be evaluated."""

    def __init__(
        self,
        message: str,
        *,
        expression: str,
        position: int,
        end: int | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message, hint=hint)
        self.expression = expression
        self.position = max(0, min(position, len(expression)))
        self.end = max(self.position + 1, end if end is not None else self.position + 1)

    @property
    def summary(self) -> str:
        """The error on one line, with the suggestion if there is one."""
        return super().__str__()

    @property
    def pointer(self) -> tuple[str, str]:
        """The expression (trimmed around the error when long) and a caret line under the offending token."""
        return caret_lines(self.expression, self.position, self.end)

    def __str__(self) -> str:
        shown, caret = self.pointer
        return f"{self.summary}\n  {shown}\n  {caret}"

    def to_dict(self) -> dict[str, object]:
        return {
            "message": self.message,
            "hint": self.hint,
            "expression": self.expression,
            "position": self.position,
            "end": self.end,
        }


class QueryEvaluationError(QueryError):
    """A well-formed condition could not be evaluated for one object (e.g. a regular expression ran out of time)."""


def caret_lines(expression: str, start: int, end: int) -> tuple[str, str]:
    """The expression as displayed (control characters as spaces, long text windowed) and the caret line."""
    start = max(0, min(start, len(expression)))
    end = max(start + 1, min(end, len(expression) + 1))
    lo = max(0, start - _WINDOW_BEFORE)
    hi = min(len(expression), max(end, start + 1) + _WINDOW_AFTER)
    prefix = "…" if lo > 0 else ""
    suffix = "…" if hi < len(expression) else ""
    shown = "".join(ch if ch.isprintable() else " " for ch in expression[lo:hi])
    width = min(end, hi + 1) - start
    caret = " " * (len(prefix) + start - lo) + "^" * max(1, width)
    return prefix + shown + suffix, caret


def suggest(word: str, candidates: Iterable[str]) -> str | None:
    """`did you mean 'x'?` for a misspelled name, or None when nothing is close."""
    pool: dict[str, str] = {}
    for candidate in sorted(set(candidates)):
        pool.setdefault(candidate.lower(), candidate)
    found = difflib.get_close_matches(word.lower(), list(pool), n=1, cutoff=0.7)
    if not found:
        return None
    return f"did you mean '{pool[found[0]]}'?"
