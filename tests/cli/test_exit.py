"""The CLI's exit: the interpreter's last garbage collection is skipped (gc.freeze) only once the command
returned, and the exit code and every line of output are kept."""

from __future__ import annotations

import gc
import subprocess
import sys

import pytest

from s3safe.cli import main as main_mod
from tests.conftest import S3SAFE


def test_the_last_collection_is_skipped_only_after_the_command_returned(monkeypatch: pytest.MonkeyPatch) -> None:
    events: list[str] = []
    monkeypatch.setattr(main_mod, "_terminate_like_interrupt", lambda: None)  # the test process keeps its own handlers
    monkeypatch.setattr("s3safe.core.process.forbid_core_dumps", lambda: None)
    monkeypatch.setattr(main_mod, "invoke", lambda argv: events.append("command") or 3)
    monkeypatch.setattr(gc, "freeze", lambda: events.append("freeze"))
    with pytest.raises(SystemExit) as exited:
        main_mod.run(["ls"])
    assert exited.value.code == 3
    assert events == ["command", "freeze"]


def test_output_and_exit_code_survive_the_exit() -> None:
    helped = subprocess.run([sys.executable, S3SAFE, "get", "--help"], capture_output=True, text=True, timeout=60, check=False)
    assert helped.returncode == 0, helped.stderr
    assert helped.stdout.startswith("Usage: s3safe get")
    assert helped.stdout.rstrip().endswith("s3safe get -r s3://backups/site/ ./site --only-diff")  # the help's last line
    wrong = subprocess.run([sys.executable, S3SAFE, "get"], capture_output=True, text=True, timeout=60, check=False)
    assert wrong.returncode == 2 and "Missing argument" in wrong.stderr, wrong.stderr
