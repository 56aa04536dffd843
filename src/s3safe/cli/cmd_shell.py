"""shell: an interactive console with a current S3 location; completion: scripts for bash, zsh and fish."""

from __future__ import annotations

import glob
import os
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import click

from s3safe.cli.app import App
from s3safe.cli.cmd_exec import NESTED, parse_command_line, reads_stdin, run_inner
from s3safe.cli.render import printable
from s3safe.core.errors import EXIT_TERMINATED, S3SafeError, Terminated, UsageError, exit_code_for

BUILTINS = {
    "cd": "cd [PATH]: change the current S3 location (no PATH, or /: the top; ..: up one level; -: the previous one)",
    "pwd": "pwd: print the current S3 location",
    "lcd": "lcd [DIR]: change the local folder (for put/get)",
    "lpwd": "lpwd: print the local folder",
    "help": "help [COMMAND]: this list, or a command's help",
    "exit": "exit (or quit, or Ctrl-D): leave the shell",
    "quit": "",
}
ALIASES = {"quit": "exit"}  # listed once, under exit
HISTORY_NAME = "shell_history"
HISTORY_LENGTH = 2000
LISTING_CACHE_SECONDS = 5.0


class Console:
    """One interactive session: the current location, history, completion, and running commands."""

    def __init__(self, ctx: click.Context, app: App, *, history: bool) -> None:
        from s3safe.ops.console import Location

        self.ctx = ctx
        self.app = app
        self.cwd = Location()
        self.previous: Location | None = None
        self.history_path: Path | None = None
        self.use_history = history
        self._matches: list[str] = []
        self._cache: dict[tuple[str | None, str], tuple[float, list[str]]] = {}
        self.readline: Any = None

    # --- terminal set-up ---------------------------------------------------------------------------
    def setup(self) -> None:
        if not sys.stdin.isatty():
            return
        try:
            import readline
        except ImportError:  # e.g. Windows without pyreadline: plain input() still works
            return
        self.readline = readline
        readline.set_completer_delims(" \t\n\"'")
        readline.set_completer(self.complete)
        if "libedit" in (readline.__doc__ or ""):
            readline.parse_and_bind("bind ^I rl_complete")
        else:
            readline.parse_and_bind("tab: complete")
        if self.use_history:
            self._load_history()

    def _load_history(self) -> None:
        from s3safe.transfer.state import state_dir

        path = state_dir() / HISTORY_NAME
        try:
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600))
            if os.name == "posix":
                os.chmod(path, 0o600)
            self.readline.read_history_file(str(path))
        except OSError as exc:
            self.app.render.warn(f"shell history is off: cannot use {path}: {exc.strerror}")
            return
        self.readline.set_history_length(HISTORY_LENGTH)
        self.history_path = path

    def save_history(self) -> None:
        if self.history_path is None:
            return
        try:
            self.readline.write_history_file(str(self.history_path))
            if os.name == "posix":
                os.chmod(self.history_path, 0o600)
        except OSError as exc:
            self.app.render.warn(f"could not save the shell history: {exc.strerror}")

    # --- the loop ----------------------------------------------------------------------------------
    def loop(self) -> int:
        render = self.app.render
        code = 0
        while True:
            try:
                line = render.ask(self.cwd.prompt)
            except EOFError:
                render.line("")
                break
            except Terminated:  # SIGTERM ends the shell, unlike Ctrl-C
                raise
            except KeyboardInterrupt:  # Ctrl-C at the prompt: drop the line, keep the shell
                render.line("^C")
                continue
            try:
                result = self.handle(line)
            except Terminated:
                raise
            except KeyboardInterrupt:
                render.error("interrupted", code=130)
                result = 130
            except S3SafeError as exc:
                result = exit_code_for(exc)
                render.error(str(exc), code=result)
            except OSError as exc:  # lcd to a missing folder, and the like
                result = 1
                render.error(f"{exc.strerror or exc}: {exc.filename or ''}".rstrip(": "), code=result)
            if result is None:
                break
            if result == EXIT_TERMINATED:  # the command was stopped by SIGTERM: so is the shell
                self.save_history()
                return result
            code = result
            if self.history_path is not None:
                self.save_history()
        self.save_history()
        return code

    def handle(self, line: str) -> int | None:
        """Run one line; None means leave the shell."""
        from s3safe.cli.main import GLOBAL_VALUED
        from s3safe.ops.console import change_dir, rewrite_args
        from s3safe.ops.script import Variables, parse_line

        words = parse_line(line, variables=Variables.current(), refuse=NESTED, valued_options=GLOBAL_VALUED)
        if not words:
            return 0
        name, args = words[0], words[1:]
        if name in ("exit", "quit"):
            return None
        if name == "cd":
            target = "-" if args == ["-"] else (args[0] if args else "/")
            if len(args) > 1:
                raise UsageError("cd takes one path")
            new = (self.previous or self.cwd) if target == "-" else change_dir(self.cwd, target)
            self.previous, self.cwd = self.cwd, new
            return 0
        if name == "pwd":
            self.app.render.record({"type": "location", "url": self.cwd.url}, self.cwd.url)
            return 0
        if name == "lcd":
            os.chdir(os.path.expanduser(args[0] if args else "~"))
            return 0
        if name == "lpwd":
            self.app.render.record({"type": "location", "path": os.getcwd()}, os.getcwd())
            return 0
        if name == "help":
            if args and args[0] in BUILTINS:  # the shell's own commands are not s3safe commands: their text is here
                self.app.render.info(BUILTINS[ALIASES.get(args[0], args[0])])
                return 0
            if args:
                return run_inner(self.ctx, [*args, "--help"])
            code = run_inner(self.ctx, ["--help"])
            for text in ["", "Shell commands:", *(f"  {text}" for text in BUILTINS.values() if text)]:
                self.app.render.info(text)  # one line each: info() escapes a newline inside its text
            return code
        command, start, valued = self.command_spec(words)
        argv = rewrite_args(self.cwd, words, command=command, start=start, valued=valued)
        if reads_stdin(parse_command_line(argv)):  # standard input holds the shell's own commands
            raise UsageError("put - cannot read standard input inside the shell: it holds the shell's commands",
                             hint="run 'put - …' on its own, outside the shell")  # fmt: skip
        return run_inner(self.ctx, argv)

    def command_spec(self, words: list[str]) -> tuple[str, int, set[str]]:
        """The (sub)command a line names ('meta set'), where its arguments start, and its options taking a value."""
        from s3safe.cli.main import GLOBAL_VALUED, main

        command: click.Command = main
        path: list[str] = []
        i = 0
        while i < len(words) and isinstance(command, click.Group):
            word = words[i]
            if word.startswith("-"):
                i += 2 if word in GLOBAL_VALUED else 1
                continue
            sub = command.get_command(self.ctx, word)
            if sub is None:
                break
            path.append(word)
            command = sub
            i += 1
        valued = set(GLOBAL_VALUED)
        for param in command.params:
            if isinstance(param, click.Option) and not param.is_flag and not param.count:
                valued.update(param.opts)
        return " ".join(path), i, valued

    # --- completion --------------------------------------------------------------------------------
    def complete(self, text: str, state: int) -> str | None:
        if state == 0:
            try:
                buffer = self.readline.get_line_buffer()[: self.readline.get_begidx()]
                self._matches = self.candidates(buffer, text)
            except Exception:  # completion must never break the prompt
                self._matches = []
        return self._matches[state] if state < len(self._matches) else None

    def candidates(self, before: str, text: str) -> list[str]:
        from s3safe.cli.main import main
        from s3safe.ops.console import S3_ARGUMENTS, complete_path, positionals
        from s3safe.ops.script import split_line

        words = split_line(before)
        if not words:
            names = [n for n in main.list_commands(self.ctx) if n not in NESTED] + [n for n in BUILTINS if n != "quit"]
            return sorted(n + " " for n in names if n.startswith(text))
        if words[0] == "cd":
            return [c for c in complete_path(self.cwd, text, lister=self._lister) if c.endswith("/")]
        if words[0] in ("lcd", "help"):
            return _local(text, dirs_only=True) if words[0] == "lcd" else []
        command_name, start, valued = self.command_spec(words)
        command = self._command(command_name)
        if isinstance(command, click.Group) and start == len(words):
            return sorted(n + " " for n in command.list_commands(self.ctx) if n.startswith(text))
        if text.startswith("-"):
            opts = {o for p in command.params if isinstance(p, click.Option) for o in p.opts if o.startswith("--")}
            return sorted(o + " " for o in opts | {"--help"} if o.startswith(text))
        if words[-1] in valued:  # completing an option's value
            return _local(text, dirs_only=False)
        index = len(positionals(words, start=start, valued=valued))
        role = S3_ARGUMENTS.get(command_name)
        s3 = role == "all" or (role == "first" and index == 0) or (role == "after-first" and index >= 1)
        if role == "last":  # put LOCAL… S3URL: local files first, the S3 location when none match
            return _local(text, dirs_only=False) or complete_path(self.cwd, text, lister=self._lister)
        return complete_path(self.cwd, text, lister=self._lister) if s3 else _local(text, dirs_only=False)

    def _command(self, path: str) -> click.Command:
        from s3safe.cli.main import main

        command: click.Command = main
        for word in path.split():
            assert isinstance(command, click.Group)
            found = command.get_command(self.ctx, word)
            assert found is not None
            command = found
        return command

    def _lister(self, bucket: str | None, prefix: str) -> Iterable[str]:
        from s3safe.ops.console import s3_lister

        now = time.monotonic()
        cached = self._cache.get((bucket, prefix))
        if cached and now - cached[0] < LISTING_CACHE_SECONDS:
            return cached[1]
        # readline shows candidates as they are: a name with control characters could drive the terminal,
        # and it cannot be typed anyway
        names = [name for name in s3_lister(self.app.conn)(bucket, prefix) if printable(name) == name]
        self._cache[(bucket, prefix)] = (now, names)
        return names


def _local(text: str, *, dirs_only: bool) -> list[str]:
    matches = []
    for path in glob.glob(glob.escape(os.path.expanduser(text)) + "*"):
        if os.path.isdir(path):
            matches.append(path + os.sep)
        elif not dirs_only:
            matches.append(path)
    return sorted(matches)


@click.command()
@click.option("--no-history", is_flag=True, help="Neither read nor write the history file.")
@click.pass_context
def shell(ctx: click.Context, no_history: bool) -> None:
    """Interactive console: run s3safe commands with a current S3 location (cd, pwd, relative paths).

    Tab completes commands, options and S3 keys; history is kept (mode 0600) in the state directory.
    Ctrl-C stops the running command, not the shell; exit, quit or Ctrl-D leave it.
    """
    app = ctx.find_object(App)
    assert app is not None
    console = Console(ctx, app, history=not no_history)
    console.setup()
    if sys.stdin.isatty() and not app.render.quiet and not app.render.json_mode:
        app.render.line("s3safe shell: 'help' lists commands, 'exit' leaves; Tab completes commands and keys", err=True)
    ctx.exit(console.loop())


@click.command()
@click.argument("shell_name", metavar="bash|zsh|fish", type=click.Choice(["bash", "zsh", "fish"]))
@click.pass_obj
def completion(app: App, shell_name: str) -> None:
    """Print the shell completion script for bash, zsh or fish.

    \b
    bash:  eval "$(s3safe completion bash)"          (e.g. in ~/.bashrc)
    zsh:   eval "$(s3safe completion zsh)"           (e.g. in ~/.zshrc)
    fish:  s3safe completion fish > ~/.config/fish/completions/s3safe.fish
    """
    from click.shell_completion import get_completion_class

    from s3safe.cli.main import main

    make: Callable[..., Any] | None = get_completion_class(shell_name)
    assert make is not None
    app.render.block(make(main, {}, "s3safe", "_S3SAFE_COMPLETE").source())
