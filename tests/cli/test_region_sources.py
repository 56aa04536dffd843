"""A region from the environment or the AWS config file is held to the same rule as --region, whichever path the
command takes (rt21: `../../x` failed `ls` with exit 1 but `get -r` and a no-change sync took it)."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

Run = Callable[..., subprocess.CompletedProcess[str]]
NOWHERE = ("--endpoint-url", "http://127.0.0.1:9", "--allow-http", "--retries", "0", "--timeout", "5")


@pytest.mark.parametrize("source", ["environment", "config-file"])
@pytest.mark.parametrize("command", [["ls", "s3://some-bucket/"], ["get", "-r", "s3://some-bucket/p/", "{out}"],
                                     ["sync", "{src}", "s3://some-bucket/p/"]], ids=["ls", "get-r", "sync-up"])  # fmt: skip
def test_an_invalid_region_is_exit_2_on_every_path(
    source: str, command: list[str], run_cli: Run, isolated_env: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "not-a-real-secret")
    if source == "environment":
        monkeypatch.setenv("AWS_DEFAULT_REGION", "../../x")
    else:
        (isolated_env / "aws-config").write_text("[default]\nregion = ../../x\n")
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "a.txt").write_text("x\n")
    argv = [part.format(out=tmp_path / "out", src=tmp_path / "src") for part in command]
    result = run_cli(*NOWHERE, *argv)
    lines = [line for line in result.stderr.splitlines() if "plain HTTP" not in line]
    assert result.returncode == 2, result.stderr
    assert len(lines) == 1 and "invalid region '../../x'" in lines[0], lines
    assert not (tmp_path / "out").exists()
