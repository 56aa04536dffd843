"""Everything the user sees: text or JSON lines on stdout, one-line messages on stderr.

Text mode uses rich tables on a terminal, plain columns when piped or when NO_COLOR is set.
All output passes through redaction.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, TextIO

from s3safe.core.redact import redact


def human_size(size: int) -> str:
    if size < 1024:
        return f"{size} B"
    value = float(size)
    for unit in ("KiB", "MiB", "GiB", "TiB"):
        value /= 1024
        # choose the unit after rounding, so 1048575 reads 1.0 MiB, not 1024.0 KiB
        if round(value, 1) < 1024 or unit == "TiB":
            return f"{value:.1f} {unit}"
    raise AssertionError("unreachable")


_CONTROL = {i: f"\\x{i:02x}" for i in [*range(0, 32), *range(127, 160)] if chr(i) not in "\t"}


def printable(text: str) -> str:
    """Escape control characters so names from a store cannot drive the terminal."""
    return text.translate(_CONTROL)


def redact_value(value: Any) -> Any:
    """Redact every string inside a JSON-ready value before it is encoded."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {k: redact_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact_value(v) for v in value]
    return value


def short_time(when: datetime | None) -> str:
    return when.strftime("%Y-%m-%d %H:%M:%S") if when else "-"


class Renderer:
    def __init__(self, *, json_mode: bool, quiet: bool, out: TextIO | None = None, err: TextIO | None = None) -> None:
        self.json_mode = json_mode
        self.quiet = quiet
        self.out = out or sys.stdout
        self.err = err or sys.stderr

    @property
    def fancy(self) -> bool:
        """Rich output only for a person at a terminal who has not asked for plain text."""
        return not self.json_mode and self.out.isatty() and not os.environ.get("NO_COLOR") and os.environ.get("TERM") != "dumb"

    # --- stdout ------------------------------------------------------------------------------------
    def record(self, data: dict[str, Any], text: str | None) -> None:
        """One result: a JSON object in JSON mode, else `text` (nothing when text is None)."""
        if self.json_mode:
            encoded = json.loads(json.dumps(data, default=str))  # datetimes etc. become strings first
            self.out.write(json.dumps(redact_value(encoded), ensure_ascii=False) + "\n")
        elif text is not None:
            self.out.write(printable(redact(text)) + "\n")

    def info(self, text: str, *, data: dict[str, Any] | None = None) -> None:
        """A narrative line: stdout in text mode (unless quiet), a JSON record when data is given."""
        if self.json_mode:
            if data is not None:
                self.record(data, None)
        elif not self.quiet:
            self.out.write(printable(redact(text)) + "\n")

    def table(self, columns: Sequence[str], rows: Iterable[Sequence[str]], *, title: str | None = None) -> None:
        rows = [[printable(redact(str(cell))) for cell in row] for row in rows]
        if self.fancy:
            from rich.console import Console
            from rich.table import Table

            table = Table(title=title, show_lines=False)
            for column in columns:
                table.add_column(column)
            for row in rows:
                table.add_row(*row)
            Console(file=self.out).print(table)
            return
        if title and not self.quiet:
            self.out.write(title + "\n")
        widths = [max([len(c)] + [len(r[i]) for r in rows]) for i, c in enumerate(columns)]
        self.out.write("  ".join(c.ljust(w) for c, w in zip(columns, widths, strict=True)).rstrip() + "\n")
        for row in rows:
            self.out.write("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() + "\n")

    # --- stderr ------------------------------------------------------------------------------------
    def warn(self, text: str) -> None:
        if self.json_mode:
            self.err.write(json.dumps({"type": "warning", "message": redact(text)}) + "\n")
        else:
            self.err.write(f"s3safe: warning: {printable(' '.join(redact(text).split()))}\n")

    def error(self, text: str, *, code: int, context: Sequence[str] = ()) -> None:
        """One line, always; `context` lines (e.g. an expression with a caret under it) follow verbatim."""
        line = printable(" ".join(redact(text).split()))
        context = [printable(redact(extra)) for extra in context]
        if self.json_mode:
            record: dict[str, Any] = {"type": "error", "message": line, "exit_code": code}
            if context:
                record["context"] = context
            self.err.write(json.dumps(record) + "\n")
        else:
            self.err.write(f"s3safe: error: {line}\n" + "".join(f"{extra}\n" for extra in context))
