"""--identity names a key file: one that cannot be (missing, a folder, a device) is said before anything is asked
of the server, naming the file (rt21: a folder surfaced as "no identity" or as a plaintext object refused)."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

Run = Callable[..., subprocess.CompletedProcess[str]]
NOWHERE = ("--endpoint-url", "http://127.0.0.1:9", "--allow-http", "--retries", "0", "--timeout", "5")


@pytest.mark.parametrize(
    ("name", "code", "said"),
    [("folder", 2, "is a folder, not a file"), ("/dev/zero", 2, "is not a regular file"), ("missing.txt", 3, "identity file not found"),
     ("empty.txt", 2, "is empty"), ("huge.txt", 2, "is larger than 1,048,576 bytes")],
    ids=["folder", "device", "missing", "empty", "too-large"],
)
def test_an_identity_path_that_is_no_key_file_is_refused_up_front(
    name: str, code: int, said: str, run_cli: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "not-a-real-secret")
    (tmp_path / "folder").mkdir()
    (tmp_path / "empty.txt").write_bytes(b"")
    (tmp_path / "huge.txt").write_bytes(b"# comment\n" * 110_000)
    identity = name if name.startswith("/") else str(tmp_path / name)
    for command in (["get", "-r", "--identity", identity, "s3://some-bucket/p/", str(tmp_path / "out")],
                    ["get", "--identity", identity, "s3://some-bucket/p/a.txt", str(tmp_path / "a.txt")]):  # fmt: skip
        result = run_cli(*NOWHERE, *command)
        lines = [line for line in result.stderr.splitlines() if "plain HTTP" not in line]
        assert result.returncode == code, result.stderr
        assert len(lines) == 1 and said in lines[0] and identity in lines[0], lines
    assert not (tmp_path / "out").exists() and not (tmp_path / "a.txt").exists()
