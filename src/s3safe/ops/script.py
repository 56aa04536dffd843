"""`exec`: scripts of s3safe commands, one per line, and the word splitting and variables `shell` shares.

Syntax of a line (close to a POSIX shell, with no way to run anything but s3safe commands):
- words are separated by blanks; '…' and "…" quote (no escapes inside either, and a backslash is an
  ordinary character everywhere, so Windows paths such as C:\\data\\ need no doubling);
- `#` at the start of a word starts a comment (`s3://b/a#b` keeps its `#`);
- `%date%` (2026-03-01), `%time%` (13-45-07) and `%datetime%` (2026-03-01_13-45-07) expand to the local time
  the script started, the same in every line; `${NAME}` expands to an environment variable, and an unset
  one is an error (an empty expansion could turn `rm -r s3://b/${DIR}` into a whole-bucket delete); so is
  one set to the empty string, in any word (an empty local path is the current folder, an empty --where no
  filter), unless the script says so with `${NAME:-}` (or gives a default, `${NAME:-tmp/}`); `$${` gives a literal `${`. Expansion happens inside each word after
  splitting, so a value can never add, remove or re-quote words.

The whole script is checked before its first command runs; any bad line means nothing runs.
The exit code of a run is the worst of its commands: the highest exit code, so an interruption (130)
outranks everything, then 8 (audit) … 1 (error), and 0 only when every command that ran succeeded.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from s3safe.core.errors import EXIT_INTERRUPTED, EXIT_TERMINATED, UsageError, exit_code_for
from s3safe.core.locations import is_s3_url

_BLANKS = " \t\r\n\f\v"
_VARIABLE_RE = re.compile(r"\$\$\{|\$\{([^}]*)\}|%(date|time|datetime)%", re.IGNORECASE)
_ENV_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
MAX_SCRIPT_BYTES = 1024 * 1024


def split_line(line: str) -> list[str]:
    """Words of one line (quotes removed, comment dropped); UsageError on an unclosed quote."""
    words: list[str] = []
    current: list[str] = []
    in_word = False
    quote: str | None = None
    for ch in line:
        if quote is not None:
            if ch == quote:
                quote = None
            else:
                current.append(ch)
        elif ch in _BLANKS:
            if in_word:
                words.append("".join(current))
                current, in_word = [], False
        elif ch == "#" and not in_word:
            break
        elif ch in "'\"":
            quote, in_word = ch, True
        else:
            current.append(ch)
            in_word = True
    if quote is not None:
        raise UsageError(f"unclosed {quote} quote", hint="close it, or quote it with the other kind of quote")
    if in_word:
        words.append("".join(current))
    return words


@dataclass(frozen=True, slots=True)
class Variables:
    """What `%date%`, `%time%`, `%datetime%` and `${NAME}` expand to."""

    now: datetime
    environ: Mapping[str, str]

    @classmethod
    def current(cls, environ: Mapping[str, str] | None = None) -> Variables:
        return cls(datetime.now().astimezone(), os.environ if environ is None else environ)

    def expand(self, word: str) -> str:
        empty: list[str] = []  # variables that were set but empty, with no `:-` to say that is intended

        def substitute(match: re.Match[str]) -> str:
            text = match.group(0)
            if text == "$${":
                return "${"
            if match.group(2):
                kind = match.group(2).lower()
                fmt = {"date": "%Y-%m-%d", "time": "%H-%M-%S", "datetime": "%Y-%m-%d_%H-%M-%S"}[kind]
                return self.now.strftime(fmt)
            name, has_default, default = match.group(1).partition(":-")
            if not _ENV_NAME_RE.fullmatch(name):
                raise UsageError(f"invalid variable name ${{{name}}}", hint="names are letters, digits and _")
            value = self.environ.get(name)
            if has_default:
                return value or default  # the script chose what an unset or empty variable means
            if value is None:
                raise UsageError(
                    f"environment variable {name} is not set", hint=f"set it, or write $${{{name}}} for a literal ${{"
                )
            if not value:
                empty.append(name)
            return value

        expanded = _VARIABLE_RE.sub(substitute, word)
        if empty:
            # not only in S3 URLs: an empty local path is the current folder (get -r --purge into it), an empty
            # --where is no filter at all
            where = f"the S3 URL {expanded}" if is_s3_url(expanded) else f"'{word}'"
            raise UsageError(
                f"environment variable {empty[0]} is empty in {where}, which would then name more than meant",
                hint=f"set it, or write ${{{empty[0]}:-}} if an empty value is intended",
            )
        return expanded


@dataclass(frozen=True, slots=True)
class ScriptLine:
    number: int  # 1-based line number in the script
    text: str  # the line as written (shown to the user: expanded values such as secrets are not)
    argv: tuple[str, ...]  # words after expansion


def command_name(argv: Iterable[str], *, valued_options: Collection[str]) -> str | None:
    """The first word that is not a global option or an option's value: the command a line runs."""
    skip = False
    for word in argv:
        if skip:
            skip = False
        elif word.startswith("-"):
            skip = word in valued_options
        else:
            return word
    return None


def parse_line(
    text: str, *, variables: Variables, refuse: Collection[str] = (), valued_options: Collection[str] = ()
) -> list[str]:
    """Split and expand one command line; UsageError if it is malformed or runs a refused command."""
    words = [variables.expand(word) for word in split_line(text)]
    name = command_name(words, valued_options=valued_options)
    if name in refuse:
        raise UsageError(f"'{name}' cannot run inside a script or the shell", hint="run it on its own")
    return words


def parse_script(
    text: str,
    *,
    variables: Variables | None = None,
    refuse: Collection[str] = (),
    valued_options: Collection[str] = (),
    check: Callable[[list[str]], None] | None = None,
) -> list[ScriptLine]:
    """Every command of a script, checked as a whole: UsageError listing each bad line, before anything runs.

    `check` parses a line's words as the command would (raising UsageError), so a typo in line 9 stops the
    script before line 1 runs."""
    variables = variables or Variables.current()
    if text.startswith("\ufeff"):  # a byte-order mark, as Windows editors write
        text = text[1:]
    lines: list[ScriptLine] = []
    problems: list[str] = []
    for number, raw in enumerate(text.splitlines(), 1):
        try:
            words = parse_line(raw, variables=variables, refuse=refuse, valued_options=valued_options)
            if words and check is not None:
                check(words)
        except UsageError as exc:
            problems.append(f"line {number}: {exc}")
            continue
        if words:
            lines.append(ScriptLine(number, raw.strip(), tuple(words)))
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise ScriptError(f"script not run: {problems[0]}{more}", problems=problems)
    return lines


class ScriptError(UsageError):
    """A script with bad lines; `problems` has one message per line."""

    def __init__(self, message: str, *, problems: list[str]) -> None:
        super().__init__(message)
        self.problems = problems


def worst_exit_code(codes: Iterable[int]) -> int:
    """The highest exit code (130, interrupted, is the highest of all); 0 for none."""
    return max(codes, default=0)


@dataclass(frozen=True, slots=True)
class StepResult:
    line: ScriptLine
    exit_code: int

    @property
    def ok(self) -> bool:
        return self.exit_code == 0

    def to_dict(self) -> dict[str, Any]:
        return {"type": "exec_step", "line": self.line.number, "command": self.line.text, "exit_code": self.exit_code}


@dataclass(slots=True)
class ScriptReport:
    total: int
    steps: list[StepResult] = field(default_factory=list)
    keep_going: bool = False
    interrupted: bool = False

    @property
    def exit_code(self) -> int:
        return worst_exit_code(step.exit_code for step in self.steps)

    @property
    def failed(self) -> list[StepResult]:
        return [step for step in self.steps if not step.ok]

    @property
    def not_run(self) -> int:
        return self.total - len(self.steps)

    @property
    def stopped_at(self) -> StepResult | None:
        """The failure that ended the run early, if one did."""
        if self.not_run and self.steps and not self.steps[-1].ok:
            return self.steps[-1]
        return None

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": "summary", "commands": self.total, "ok": len(self.steps) - len(self.failed),
            "failed": len(self.failed), "not_run": self.not_run, "exit_code": self.exit_code,
            "failures": [{"line": s.line.number, "command": s.line.text, "exit_code": s.exit_code} for s in self.failed],
        }  # fmt: skip


def run_script(lines: list[ScriptLine], execute: Callable[[ScriptLine], int], *, keep_going: bool = False) -> ScriptReport:
    """Run each line through `execute` (which returns the command's exit code) in order.

    Stops after the first failure unless `keep_going`; an interruption (exit 130 or Ctrl-C between
    commands) always stops.
    """
    report = ScriptReport(total=len(lines), keep_going=keep_going)
    for line in lines:
        try:
            code = execute(line)
        except KeyboardInterrupt as exc:  # Ctrl-C 130, SIGTERM 143
            code = exit_code_for(exc)
        report.steps.append(StepResult(line, code))
        if code in (EXIT_INTERRUPTED, EXIT_TERMINATED):
            report.interrupted = True
            break
        if code != 0 and not keep_going:
            break
    return report
