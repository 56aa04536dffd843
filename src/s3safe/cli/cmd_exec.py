"""exec FILE|-: run a script of s3safe commands in this process, with the global options of the call."""

from __future__ import annotations

import sys

import click

from s3safe.cli.app import App
from s3safe.core.errors import UsageError
from s3safe.core.smallfile import read_small_file

NESTED = frozenset({"exec", "shell"})  # a script or the console must not start another one


def inherited_global_args(ctx: click.Context) -> list[str]:
    """The global options this call was given, as arguments to put in front of every inner command."""
    root = ctx.find_root()
    args: list[str] = []
    for param in root.command.params:
        if not isinstance(param, click.Option) or param.name is None or param.name not in root.params:
            continue
        value = root.params[param.name]
        name = max(param.opts, key=len)
        if param.count:
            args += [name] * int(value or 0)
        elif param.is_flag:
            args += [name] * bool(value)
        elif value is not None:
            args += [name, str(value)]
    return args


def run_inner(ctx: click.Context, argv: list[str]) -> int:
    """Run one s3safe command line in this process through the same group; its exit code."""
    from s3safe.cli.main import invoke
    from s3safe.core import cancel

    cancel.reset()  # a Ctrl-C that stopped the previous command must not cancel this one
    return invoke([*inherited_global_args(ctx), *argv])


_HELP_WORDS = frozenset({"-h", "--help", "--version"})  # their parse-time callbacks print and exit


def check_command_line(argv: list[str]) -> None:
    """Parse one line with the real command parser, invoking nothing: UsageError for an unknown command or
    option, a missing argument or a bad value."""
    parse_command_line(argv)


def parse_command_line(argv: list[str]) -> click.Context | None:
    """The context of the command one line would run, parsed and not invoked (None for help lines)."""
    from s3safe.cli.main import hoist_global_options, main

    if _HELP_WORDS.intersection(argv):
        return None
    command: click.Command = main
    try:
        ctx = main.make_context("s3safe", hoist_global_options(list(argv)))
        while isinstance(command, click.Group):
            rest = [*ctx._protected_args, *ctx.args]
            if not rest:  # only global options (`-v`): resolve_command would index an empty list
                raise UsageError("missing command", hint="see 's3safe --help'")
            name, sub, args = command.resolve_command(ctx, rest)
            if name is None or sub is None:  # resolve_command raises first; this is for the type checker
                break
            ctx = sub.make_context(name, args, parent=ctx)
            command = sub
    except click.exceptions.NoArgsIsHelpError:
        return None  # `meta` alone prints its help, as on the command line
    except click.ClickException as exc:
        where = getattr(exc, "ctx", None)
        hint = f"see '{where.command_path} --help'" if isinstance(where, click.Context) else None
        raise UsageError(exc.format_message(), hint=hint) from None
    return ctx


def reads_stdin(ctx: click.Context | None) -> bool:
    """Whether the parsed line reads standard input (`put - s3://…`)."""
    if ctx is None or ctx.command.name != "put":
        return False
    paths = ctx.params.get("paths") or ()
    return "-" in tuple(paths)[:-1]


class StdinCheck:
    """The pre-check of a script's lines (the parser, then the shared and the command's own checks of
    cli/prechecks.py), plus: standard input can feed at most one line, and none when it holds the script
    itself — the script has consumed it, so `put -` would upload nothing over the object."""

    def __init__(self, *, script_on_stdin: bool) -> None:
        self.script_on_stdin = script_on_stdin
        self.readers = 0

    def __call__(self, argv: list[str]) -> None:
        from s3safe.cli.prechecks import check_parsed

        ctx = parse_command_line(argv)
        if ctx is not None:
            check_parsed(ctx)
        if not reads_stdin(ctx):
            return
        if self.script_on_stdin:
            raise UsageError("put - reads standard input, which holds the script itself",
                             hint="save the script to a file and run 'exec FILE' with the data on standard input")  # fmt: skip
        self.readers += 1
        if self.readers > 1:
            raise UsageError("only one line may read standard input (put -); an earlier line already does",
                             hint="upload the other data from files")  # fmt: skip


def _read_script(source: str) -> str:
    from s3safe.ops.script import MAX_SCRIPT_BYTES

    if source == "-":
        data = sys.stdin.buffer.read(MAX_SCRIPT_BYTES + 1)
        where = "standard input"
    else:
        data = read_small_file(source, what="script", limit=MAX_SCRIPT_BYTES)
        where = source
    if len(data) > MAX_SCRIPT_BYTES:
        raise UsageError(f"script {where} is larger than {MAX_SCRIPT_BYTES:,} bytes")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise UsageError(f"script {where} is not UTF-8 text") from None


@click.command("exec")
@click.argument("script", metavar="FILE|-")
@click.option("--keep-going", is_flag=True, help="Run every command even after one fails.")
@click.pass_context
def exec_(ctx: click.Context, script: str, keep_going: bool) -> None:
    """Run s3safe commands from FILE (or - for stdin), one per line.

    `#` starts a comment, blank lines are skipped, words are quoted as in a shell ('…' or "…").
    %date%, %time%, %datetime% and ${NAME} (environment) expand. Stops at the first failure unless
    --keep-going; the exit code is the highest exit code of the commands that ran.
    """
    from s3safe.cli.main import GLOBAL_VALUED
    from s3safe.ops.script import ScriptError, ScriptLine, StepResult, parse_script, run_script

    app = ctx.find_object(App)
    assert app is not None
    r = app.render
    try:
        check = StdinCheck(script_on_stdin=script == "-")
        lines = parse_script(_read_script(script), refuse=NESTED, valued_options=GLOBAL_VALUED, check=check)
    except ScriptError as exc:
        for problem in exc.problems:
            r.error(f"script not run: {problem}", code=exc.exit_code)
        ctx.exit(exc.exit_code)

    def execute(line: ScriptLine) -> int:
        if not r.json_mode and not r.quiet:
            r.line(f"[line {line.number}] {line.text}", err=True)
            r.flush()
        code = run_inner(ctx, list(line.argv))
        r.record(StepResult(line, code).to_dict(), None)  # JSON mode only
        r.flush()
        return code

    report = run_script(lines, execute, keep_going=keep_going)
    ok, failed = len(report.steps) - len(report.failed), len(report.failed)
    counts = f"{ok} succeeded, {failed} failed" + (f", {report.not_run} not run" if report.not_run else "")
    last = report.steps[-1] if report.steps else None
    if not lines:
        text = "exec: the script has no commands"
    elif report.interrupted and last is not None:
        text = f"exec: interrupted at line {last.line.number}; {counts}"
    elif report.stopped_at is not None:
        stop = report.stopped_at
        text = f"exec: stopped at line {stop.line.number} (exit {stop.exit_code}); {counts} (--keep-going runs the rest)"
    elif failed:
        lines_failed = ", ".join(f"line {s.line.number} (exit {s.exit_code})" for s in report.failed)
        text = f"exec: {counts}: {lines_failed}; exit code {report.exit_code}"
    else:
        text = f"exec: {len(lines)} command(s), all succeeded"
    r.info(text, data=report.to_dict())
    ctx.exit(report.exit_code)
