"""A tree upload given a file says the file is no folder (exit 2), not that the folder is missing (exit 3)."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

Run = Callable[..., subprocess.CompletedProcess[str]]
# nothing listens there: the check comes before any request
NOWHERE = ("--endpoint-url", "http://127.0.0.1:9", "--allow-http", "--retries", "0")


@pytest.mark.parametrize("command", [["put", "-r"], ["sync"]], ids=["put-r", "sync"])
def test_a_file_given_to_a_tree_upload_is_a_usage_error(
    command: list[str], run_cli: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "not-a-real-secret")
    (tmp_path / "f.txt").write_text("x\n")
    result = run_cli(*NOWHERE, *command, str(tmp_path / "f.txt"), "s3://some-bucket/p/")
    assert result.returncode == 2, result.stderr
    lines = [line for line in result.stderr.splitlines() if "plain HTTP" not in line]
    assert lines == [f"s3safe: error: {tmp_path / 'f.txt'} is not a folder (to upload one file, use put without -r)"]


def test_a_missing_folder_is_still_not_found(run_cli: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "not-a-real-secret")
    result = run_cli(*NOWHERE, "put", "-r", str(tmp_path / "gone"), "s3://some-bucket/p/")
    assert result.returncode == 3, result.stderr
    assert "local folder not found" in result.stderr
