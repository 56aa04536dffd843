"""The README tells only the truth about options: every option a command's --help lists is documented, and every
`--option` the README names exists on some command (or belongs to a tool the README quotes)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import click

from s3safe.cli.main import main

README = Path(__file__).resolve().parents[2] / "README.md"
# options of other programs the README quotes in recipes and in Performance (aws, age, mypy, py-spy, rclone)
OTHER_TOOLS = {"--only-show-errors", "--decrypt", "--strict", "--gil", "--vfs-cache-mode"}


def _commands() -> Iterator[tuple[str, click.Command]]:
    ctx = click.Context(main)

    def walk(cmd: click.Command, path: str) -> Iterator[tuple[str, click.Command]]:
        yield path, cmd
        if isinstance(cmd, click.Group):
            for name in cmd.list_commands(ctx):
                sub = cmd.get_command(ctx, name)
                if sub is not None and not sub.hidden:
                    yield from walk(sub, f"{path} {name}".strip())

    yield from walk(main, "")


def _options(cmd: click.Command) -> set[str]:
    return {o for p in cmd.params if isinstance(p, click.Option) and not p.hidden for o in p.opts + p.secondary_opts
            if o.startswith("--") and o not in ("--help", "--version")}  # fmt: skip


def _named(text: str, option: str) -> bool:
    return re.search(re.escape(option) + r"(?![\w-])", text) is not None


def test_every_option_in_help_is_in_the_readme() -> None:
    text = README.read_text(encoding="utf-8")
    missing = [f"{path or '(global)'} {o}" for path, cmd in _commands() for o in sorted(_options(cmd)) if not _named(text, o)]
    assert missing == [], "options the README does not mention: " + ", ".join(missing)


def test_every_option_the_readme_names_exists() -> None:
    known = {o for _, cmd in _commands() for o in _options(cmd)} | {"--help", "--version"} | OTHER_TOOLS
    named = set(re.findall(r"(?<![\w-])--[a-z][a-z0-9-]*[a-z0-9]", README.read_text(encoding="utf-8")))
    # `--retain-*` stands for the --retain-until/--retain-days family
    unknown = sorted(o for o in named - known if not (o == "--retain" and "--retain-days" in known))
    assert unknown == [], "the README names options no command has: " + ", ".join(unknown)
