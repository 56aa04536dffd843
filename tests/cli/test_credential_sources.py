"""A credential source that fails is exit 4 (no usable credentials), one line, like missing credentials (rt21)."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

Run = Callable[..., subprocess.CompletedProcess[str]]
NOWHERE = ("--endpoint-url", "http://127.0.0.1:9", "--allow-http", "--retries", "0", "--timeout", "5")


@pytest.mark.parametrize(
    ("profile", "said"),
    [
        ("credential_process = /bin/false\n", "Error when retrieving credentials from custom-process"),
        ("credential_process = /bin/echo not-json\n", "a credential_process must print its credentials as JSON"),
        ("source_profile = default\nrole_arn = arn:aws:iam::123456789012:role/x\n", "Infinite loop in credential configuration"),
    ],
    ids=["process-fails", "process-prints-no-json", "source-profile-loop"],
)
def test_a_broken_credential_source_is_exit_4_in_one_line(
    profile: str, said: str, run_cli: Run, isolated_env: Path
) -> None:
    config = isolated_env / "aws-config"
    config.write_text("[default]\n" + profile)
    result = run_cli(*NOWHERE, "ls", "s3://some-bucket/")
    lines = [line for line in result.stderr.splitlines() if "plain HTTP" not in line]
    assert result.returncode == 4, result.stderr
    assert len(lines) == 1 and lines[0].startswith("s3safe: error: cannot load AWS credentials: ") and said in lines[0], lines
