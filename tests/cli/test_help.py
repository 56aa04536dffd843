"""Help as people ask for it: a bare `s3safe` or a group without its subcommand prints the normal help (stdout,
exit 0), the shell's `help` prints real lines, and every command's --help ends with examples that run."""

from __future__ import annotations

import os
import shlex
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from subprocess import CompletedProcess

import click
import pytest

from tests.cli.test_shell_tmux import Terminal
from tests.conftest import S3SAFE

Run = Callable[..., CompletedProcess[str]]


def _assert_help(result: CompletedProcess[str], usage: str) -> None:
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""  # not an "error:" line
    lines = result.stdout.splitlines()
    assert lines[0].startswith(f"Usage: {usage}") and "Commands:" in lines and len(lines) > 8, result.stdout
    assert "Examples:" in result.stdout


@pytest.mark.parametrize("group", ["", "meta", "policy", "auth"])
def test_a_group_without_a_subcommand_prints_its_help(run_cli: Run, group: str) -> None:
    _assert_help(run_cli(*group.split()), f"s3safe {group}".strip())


def _commands() -> Iterator[tuple[str, click.Command]]:
    from s3safe.cli.main import main

    ctx = click.Context(main)

    def walk(command: click.Command, path: str) -> Iterator[tuple[str, click.Command]]:
        yield path, command
        if isinstance(command, click.Group):
            for name in command.list_commands(ctx):
                sub = command.get_command(ctx, name)
                assert sub is not None
                yield from walk(sub, f"{path} {name}".strip())

    yield from walk(main, "")


def test_every_command_help_has_examples_of_itself() -> None:
    from s3safe.cli.main import main

    missing = []
    for path, command in _commands():
        ctx = click.Context(command, info_name=f"s3safe {path}".strip(), parent=click.Context(main) if path else None)
        text = command.get_help(ctx)
        examples = text.split("Examples:\n", 1)[1].splitlines() if "Examples:\n" in text else []
        if not examples:
            missing.append(path or "s3safe")
            continue
        for example in examples:  # each example runs this very command, so it cannot drift to another one
            words = shlex.split(example.strip())
            assert words[0] == "s3safe", example
            assert " ".join(w for w in words[1:] if not w.startswith("-"))[: len(path)] == path, (path, example)
    assert missing == []


def test_bare_s3safe_in_a_terminal_and_the_shell_help(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TMUX")}
    env["TERM"] = "xterm-256color"
    term = Terminal(env)
    try:
        term.start([S3SAFE], cwd=tmp_path)
        screen = term.wait_text("[shell exited: 0]")
        assert screen.lstrip().startswith("Usage: s3safe [OPTIONS] COMMAND")
        assert "error:" not in screen and "\n  ls " in screen and "Examples:" in screen
    finally:
        term.stop()
    shell = subprocess.run([S3SAFE, "shell", "--no-history"], input="help\nexit\n", capture_output=True, text=True,
                           timeout=60, check=False)  # fmt: skip
    assert shell.returncode == 0, shell.stderr
    assert "\\x0a" not in shell.stdout
    assert "\nShell commands:\n  cd [PATH]" in shell.stdout


def test_the_shell_s_own_commands_have_help(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    """Found by an outside tester: `help cd`, `help pwd` and `help exit` answered "No such command". In process:
    the shell reads plain lines from a non-terminal stdin, so no terminal is needed here."""
    import io

    from s3safe.cli.main import invoke

    lines = ["help cd", "help pwd", "help exit", "help quit", "help lcd", "help"]
    monkeypatch.setattr("sys.stdin", io.StringIO("".join(f"{line}\n" for line in lines)))
    code = invoke(["shell", "--no-history"])
    out, err = capsys.readouterr()
    assert code == 0 and "No such command" not in out + err and "error" not in err, err
    for text in ("cd [PATH]: change the current S3 location", "pwd: print the current S3 location",
                 "lcd [DIR]: change the local folder"):  # fmt: skip
        assert text in out, out
    assert out.count("exit (or quit, or Ctrl-D): leave the shell") == 3, out  # help exit, help quit, and the list
    listing = out[out.index("Commands:") :]  # `help` alone: s3safe's commands, then the shell's own
    assert "\n  ls " in listing and "\nShell commands:\n  cd [PATH]" in listing and "\n  pwd: " in listing
