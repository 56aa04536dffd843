"""Everything the user sees: text or JSON lines on stdout, one-line messages on stderr.

Text mode uses rich tables on a terminal, plain columns when piped or when NO_COLOR is set.
This is the only module of the CLI that writes to the terminal (tests/unit/test_output_funnel.py
enforces it): every line passes through `clean` (redaction, then escaping of control characters), so
a key name or a file name can neither hide a secret's leak nor drive the terminal. The two outputs
whose purpose is a secret (a pre-signed URL, credential_process) use `reveal`, escaped but not redacted.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, BinaryIO, TextIO, cast

from s3safe.cli.sizes import human_size as human_size  # re-exported: commands import it from here
from s3safe.core.redact import RedactingFilter, redact

if TYPE_CHECKING:
    from s3safe.cli.live import LiveDisplay
    from s3safe.core.progress import TransferProgress

PROGRESS_RECORD_SECONDS = 1.0




# TAB too: a key with a raw TAB would fake an extra column for cut/awk readers of the output
_CONTROL = {i: f"\\x{i:02x}" for i in [*range(0, 32), *range(127, 160)]}
# invisible characters that reorder or split what is shown (bidi overrides, line separators)
_CONTROL.update({i: f"\\u{i:04x}" for i in [0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F), *range(0x2066, 0x206A), 0x2028, 0x2029]})
# a local name that is not UTF-8 arrives with its bytes as lone surrogates (surrogateescape): shown as \\xNN,
# never written raw (a stray byte breaks every UTF-8 reader, and a strict stream refuses it)
_CONTROL.update({i: f"\\x{i - 0xDC00:02x}" for i in range(0xDC80, 0xDD00)})
_CONTROL.update({i: f"\\u{i:04x}" for i in [*range(0xD800, 0xDC80), *range(0xDD00, 0xE000)]})
# JSON may carry any character inside a string; these are the ones a terminal could obey, and lone
# surrogates, which UTF-8 cannot encode (json.loads gives them back as they were)
_JSON_UNSAFE = {i: f"\\u{i:04x}" for i in [*range(127, 160), 0x061C, 0x200E, 0x200F, *range(0x202A, 0x202F),
                                            *range(0x2066, 0x206A), 0x2028, 0x2029, *range(0xD800, 0xE000)]}  # fmt: skip


def flush_terminal() -> None:
    """Flush what was written to stdout and stderr (before an exit that skips the interpreter's own flush)."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass


def printable(text: str) -> str:
    """Escape control characters so names from a store cannot drive the terminal."""
    return text.translate(_CONTROL)


def clean(text: str) -> str:
    """The one way text reaches the terminal: secrets redacted, then control characters escaped
    (a newline too: one call, one line, so a name cannot forge a line of its own)."""
    return printable(redact(text))


def json_line(value: Any) -> str:
    """One JSON document on one line; still valid JSON with every string recoverable, but with
    nothing a terminal would act on (C0 controls are escaped by json itself, C1 and bidi here)."""
    return json.dumps(value, ensure_ascii=False, default=str).translate(_JSON_UNSAFE)


def redact_value(value: Any) -> Any:
    """Redact every string inside a JSON-ready value before it is encoded."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {k: redact_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact_value(v) for v in value]
    return value


def short_time(when: datetime | None, *, utc: bool = False) -> str:
    """A time as people read it: local time with its offset (`2026-12-06 02:16:52+01:00`, the zone of exec's
    %date%), or UTC marked Z with --utc (`2026-12-06 01:16:52Z`). A time without a zone is UTC (S3's)."""
    if when is None:
        return "-"
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    if utc:
        return when.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%SZ")
    return when.astimezone().isoformat(sep=" ", timespec="seconds")


class OutputClosed(Exception):
    """Standard output's reader went away (`s3safe ls | head`): a command that only reports stops, quietly."""


class _Watched:
    """A standard stream whose reader may go away (`| head`, `2>&1 | head`): then its fd is pointed at /dev/null
    (so no later flush, the interpreter's own at exit included, fails again) and further lines are dropped.
    This base never raises, so the run ends with its own exit code, not a traceback's 1 (what stderr needs)."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.gone = False

    def write(self, text: str) -> int:
        if not self.gone:
            try:
                return self.stream.write(text)
            except BrokenPipeError:
                self._went_away()
        return len(text)

    def flush(self) -> None:
        if not self.gone:
            try:
                self.stream.flush()
            except BrokenPipeError:
                self._went_away()

    def _went_away(self) -> None:
        self.gone = True
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, self.stream.fileno())
            os.close(devnull)
        except (OSError, ValueError):
            pass

    def __getattr__(self, name: str) -> Any:  # isatty, buffer, fileno, encoding …: the real stream's
        return getattr(self.stream, name)


class _Stdout(_Watched):
    """sys.stdout: when its reader goes away, a command that changes things keeps going (`keep_going`), anything
    else stops with OutputClosed (a listing piped to `head` has nothing left to do)."""

    def __init__(self, stream: TextIO | None) -> None:
        # None: the program was started with fd 1 closed (`>&-`); what it would print is dropped
        super().__init__(stream if stream is not None else open(os.devnull, "w"))  # noqa: SIM115 - lives as long as the process
        self.closed_at_start = stream is None
        self.keep_going = False
        self.told = False

    def _went_away(self) -> None:
        super()._went_away()
        if not self.keep_going:
            raise OutputClosed


_STDOUT: _Stdout | None = None
_STDERR: _Watched | None = None


def _watched_stderr() -> TextIO:
    global _STDERR
    if sys.stderr is None:  # started with fd 2 closed: as before, nothing to watch
        return cast(TextIO, sys.stderr)
    if _STDERR is None or _STDERR.stream is not sys.stderr:
        _STDERR = _Watched(sys.stderr)
    return cast(TextIO, _STDERR)


def _watched_stdout() -> TextIO:
    """One watcher per process (exec and shell run many commands on one stdout)."""
    global _STDOUT
    if _STDOUT is None or _STDOUT.stream is not sys.stdout:
        _STDOUT = _Stdout(sys.stdout)
    return cast(TextIO, _STDOUT)


def stdout_gone() -> bool:
    """Whether standard output's reader went away during this process."""
    return _STDOUT is not None and _STDOUT.gone


def went_on_without_reader() -> bool:
    """True once, after a command that changes things finished with standard output's reader gone."""
    if _STDOUT is None or not _STDOUT.gone or not _STDOUT.keep_going or _STDOUT.told:
        return False
    _STDOUT.told = True
    return True


class Renderer:
    def __init__(
        self, *, json_mode: bool, quiet: bool, out: TextIO | None = None, err: TextIO | None = None, utc: bool = False,
        progress: bool | None = None, progress_json: bool = False,
    ) -> None:  # fmt: skip
        self.json_mode = json_mode
        self.quiet = quiet
        self.utc = utc
        self.show_progress = progress  # None: on a terminal only; True/False: --progress/--no-progress
        self.progress_json = progress_json
        self._live: LiveDisplay | None = None  # the live display while one runs: text lines are printed above it
        self._lock = threading.Lock()  # the --progress-json ticker writes from its own thread
        self.out = out or _watched_stdout()
        self.err = err or _watched_stderr()
        if isinstance(self.out, _Stdout):
            self.out.keep_going = False

    def time(self, when: datetime | None) -> str:
        return short_time(when, utc=self.utc)

    def finish_if_stdout_closes(self) -> None:
        """For a command that changes things: a reader of its result lines going away must not stop it half-way;
        the lines are dropped and its summary goes to stderr."""
        if isinstance(self.out, _Stdout):
            self.out.keep_going = True

    def data_out(self) -> BinaryIO:
        """Standard output as raw bytes, for an object's content (`get S3URL -`); from here on, everything else this
        run reports goes to standard error, so the data stream stays exactly the object."""
        if _STDOUT is not None and _STDOUT.closed_at_start:
            from s3safe.core.errors import UsageError

            raise UsageError("standard output is closed: nowhere to write the object", hint="redirect it to a file or a pipe")
        raw: BinaryIO = self.out.buffer
        self.out.flush()
        self.out = self.err
        return raw

    def data_reader_gone(self) -> None:
        """The reader of `get S3URL -` went away (`| head -c 100`): it took what it wanted, as `cat | head` does.
        fd 1 now points at /dev/null (no later flush fails) and the run stops quietly (OutputClosed, exit 0)."""
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, 1)
            os.close(devnull)
        except OSError:
            pass
        raise OutputClosed

    def data_in(self) -> BinaryIO:
        """Standard input as raw bytes, for an upload's content (`put - S3URL`)."""
        if sys.stdin is None:  # started with fd 0 closed (`<&-`)
            from s3safe.core.errors import UsageError

            raise UsageError("standard input is closed: nothing to upload", hint="pipe the data in, or give a file instead of -")
        return sys.stdin.buffer

    @property
    def fancy(self) -> bool:
        """Rich output only for a person at a terminal who has not asked for plain text."""
        return not self.json_mode and self.out.isatty() and not os.environ.get("NO_COLOR") and os.environ.get("TERM") != "dumb"

    # --- stdout ------------------------------------------------------------------------------------
    def record(self, data: dict[str, Any], text: str | None) -> None:
        """One result: a JSON object in JSON mode, else `text` (nothing when text is None)."""
        if self.json_mode:
            encoded = json.loads(json.dumps(data, default=str))  # datetimes etc. become strings first
            with self._lock:
                self._write_line(self.out, json_line(redact_value(encoded)))
        elif text is not None:
            self._out_line(clean(text))

    def _out_line(self, line: str, *, err: bool = False) -> None:
        """A cleaned line; while the live display runs, printed above it (a line written past it would leave pieces
        of the display in the scrollback)."""
        self._write_line(self.err if err else self.out, line)

    def _write_line(self, stream: TextIO, line: str) -> None:
        live = self._live
        if live is None:
            stream.write(line + "\n")
        else:  # the live display (cli/live.py)
            live.above(stream, line)

    def info(self, text: str, *, data: dict[str, Any] | None = None) -> None:
        """A narrative line: stdout in text mode (unless quiet), a JSON record when data is given."""
        gone = isinstance(self.out, _Stdout) and self.out.gone  # a summary still reaches the user, on stderr
        if self.json_mode:
            if data is not None and gone:
                encoded = json.loads(json.dumps(data, default=str))
                with self._lock:
                    self._write_line(self.err, json_line(redact_value(encoded)))
            elif data is not None:
                self.record(data, None)
        elif not self.quiet:
            self._out_line(clean(text), err=gone)

    def line(self, text: str, *, err: bool = False) -> None:
        """One line of text, cleaned, on stdout (or stderr with `err`), in every mode."""
        self._out_line(clean(text), err=err)

    def block(self, text: str, *, err: bool = False) -> None:
        """Several lines (help, a completion script, a traceback): each one cleaned."""
        for line in text.splitlines():
            self.line(line, err=err)

    def reveal(self, text: str) -> None:
        """A line to stdout whose purpose is a secret (a pre-signed URL, credential_process output):
        escaped like every line, but not redacted. Only for output the user asked for by name."""
        self.out.write(printable(text) + "\n")

    def reveal_json(self, data: Any, *, indent: int | None = None) -> None:
        if indent is None:
            self.reveal(json_line(data))
            return
        for line in json.dumps(data, ensure_ascii=False, indent=indent, default=str).translate(_JSON_UNSAFE).splitlines():
            self.reveal(line)

    def flush(self) -> None:
        for stream in (self.out, self.err):
            stream.flush()

    def ask(self, prompt: str) -> str:
        """Read one line from the user after a cleaned prompt (the prompt can hold a hostile prefix)."""
        self.out.flush()
        return input(clean(prompt))

    def progress_wanted(self) -> bool:
        """The live display: forced by --progress/--no-progress (with --json too: stdout stays JSON, the display is
        on stderr), else on when stderr is a terminal (whatever stdout is), never with --json or -q."""
        if self.show_progress is not None:
            return self.show_progress
        return not self.json_mode and not self.quiet and self.err.isatty() and os.environ.get("TERM") != "dumb"

    @contextmanager
    def transfer_progress(self, meter: TransferProgress | None, *, stream: str | None = None) -> Iterator[None]:
        """Show `meter` while the block runs: a live display on stderr, and/or `progress` records with
        --progress-json. `stream` names a transfer of unknown size (standard input) for the display."""
        with ExitStack() as stack:
            if meter is not None and self.json_mode and self.progress_json:
                stack.enter_context(self._progress_records(meter))
            if meter is not None and self.progress_wanted():
                stack.enter_context(self._progress_display(meter, stream=stream))
            yield

    @contextmanager
    def _progress_display(self, meter: TransferProgress, *, stream: str | None) -> Iterator[None]:
        from s3safe.cli.progress_text import RateMeter, file_lines, overall_line, stream_line

        rates = RateMeter()

        def view() -> list[str]:
            snap = meter.snapshot()
            rate = rates.rate(snap.bytes_done)
            if stream is not None and not snap.planned:
                return [stream_line(snap, rate, source=stream)]
            return [overall_line(snap, rate)] + [f"  {clean(name)} {rest}" for name, rest in file_lines(snap)]

        with self.live_display(view):
            yield

    @contextmanager
    def live_display(self, view: Callable[[], list[str]]) -> Iterator[None]:
        """`view()`'s lines (already cleaned) drawn on stderr while the block runs, every other line printed above
        them (cli/live.py): the transfers' display and audit --objects' scan. The caller asks progress_wanted()."""
        from s3safe.cli.live import LiveDisplay, is_pipe

        piped = self.out if self.out is not self.err and is_pipe(self.out) else None
        live = LiveDisplay(self.err, view, piped=piped)
        live.start()
        self._live = live
        try:
            yield
        finally:
            self._live = None
            live.stop()

    @contextmanager
    def _progress_records(self, meter: TransferProgress) -> Iterator[None]:
        from s3safe.cli.progress_text import RateMeter, progress_record

        rates, stop = RateMeter(), threading.Event()

        def emit() -> None:
            snap = meter.snapshot()
            try:
                self.record(progress_record(snap, rates.rate(snap.bytes_done)), None)
                self.out.flush()
            except OutputClosed:  # the reader went away: the command itself notices and decides
                pass

        def tick() -> None:
            while not stop.wait(PROGRESS_RECORD_SECONDS):
                emit()

        ticker = threading.Thread(target=tick, name="s3safe-progress", daemon=True)
        ticker.start()
        try:
            yield
        finally:
            stop.set()
            ticker.join(timeout=5)
            emit()  # the last one: the totals as they ended

    def log_handler(self, fmt: str) -> logging.Handler:
        """The stderr handler for the logging module: records redacted, then escaped line by line."""
        handler = logging.StreamHandler(cast(TextIO, _LogStream(self)))
        handler.addFilter(RedactingFilter())
        handler.setFormatter(_EscapingFormatter(fmt, json_mode=self.json_mode))
        return handler

    def table(self, columns: Sequence[str], rows: Iterable[Sequence[str]], *, title: str | None = None) -> None:
        rows = [[clean(str(cell)) for cell in row] for row in rows]
        columns = [clean(str(c)) for c in columns]  # headers come from data too (a PIVOT names columns after values)
        title = clean(title) if title is not None else None
        if self.fancy:
            from rich.console import Console
            from rich.table import Table
            from rich.text import Text

            # Text, not str: rich would read "[link=…]" in a key name as markup and emit escape codes
            table = Table(title=Text(title) if title is not None else None, show_lines=False)
            for column in columns:
                table.add_column(Text(column))
            for row in rows:
                table.add_row(*(Text(cell) for cell in row))
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
            self._write_line(self.err, json.dumps({"type": "warning", "message": redact(text)}))
        else:
            self._out_line(f"s3safe: warning: {printable(' '.join(redact(text).split()))}", err=True)

    def note(self, text: str) -> None:
        """An informational line on stderr (what -v adds): labelled as information, not as a warning."""
        if self.json_mode:
            self._write_line(self.err, json.dumps({"type": "info", "message": redact(text)}))
        else:
            self._out_line(f"s3safe: info: {printable(' '.join(redact(text).split()))}", err=True)

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


class _LogStream:
    """stderr for the logging module, read at each write: while the live display runs, a log line (a retry at -v,
    a request at --debug) is printed above it through its console instead of through it."""

    def __init__(self, render: Renderer) -> None:
        self._render = render

    def write(self, text: str) -> int:
        for line in text.rstrip("\n").split("\n"):
            self._render._out_line(line, err=True)  # already escaped by the formatter
        return len(text)

    def flush(self) -> None:
        self._render.err.flush()


class _EscapingFormatter(logging.Formatter):
    """Log lines may quote a server's raw response (--debug): escaped so it cannot drive the terminal.

    The library's own warnings read like the CLI's (`s3safe: warning: …`, or one JSON object
    with --json): the user sees one kind of warning line whichever layer noticed the problem."""

    def __init__(self, fmt: str, *, json_mode: bool = False) -> None:
        super().__init__(fmt)
        self._json = json_mode

    def format(self, record: logging.LogRecord) -> str:
        if record.levelno in (logging.WARNING, logging.INFO) and record.name.partition(".")[0] == "s3safe":
            kind = "warning" if record.levelno == logging.WARNING else "info"
            message = " ".join(record.getMessage().split())
            if self._json:
                return json.dumps({"type": kind, "message": message})
            return f"s3safe: {kind}: {printable(message)}"
        return "\n".join(printable(line) for line in super().format(record).splitlines())
