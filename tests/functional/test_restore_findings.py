"""Findings of an outside tester on restores (get -r, sync downloads), through the CLI against moto."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.servers.moto import MotoServer

Run = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def bucket(moto_client: Any, bucket_name: Callable[[], str]) -> str:
    name = bucket_name()
    moto_client.create_bucket(Bucket=name)
    return name


def _cli(run_cli: Run, moto: MotoServer, *args: str) -> subprocess.CompletedProcess[str]:
    return run_cli("--endpoint-url", moto.endpoint_url, "--allow-http", *args)


def test_a_library_warning_reads_like_the_cli_own_warnings(
    run_cli: Run, moto: MotoServer, moto_client: Any, bucket: str, tmp_path: Path
) -> None:
    moto_client.put_object(Bucket=bucket, Key="m/f", Body=b"x\n", Metadata={"s3safe-mode": "rwx"})
    result = _cli(run_cli, moto, "get", "-r", f"s3://{bucket}/m/", str(tmp_path / "out"))
    assert result.returncode == 0, result.stderr
    expected = f"s3safe: warning: ignoring unusable s3safe-mode metadata on s3://{bucket}/m/f"
    assert expected in result.stderr.splitlines(), result.stderr
    assert "WARNING" not in result.stderr and "s3safe.transfer" not in result.stderr, result.stderr
    # with --json, the same warning is one JSON object like the CLI's own
    result = _cli(run_cli, moto, "--json", "get", "-r", f"s3://{bucket}/m/", str(tmp_path / "out2"))
    assert result.returncode == 0, result.stderr
    warnings = [json.loads(line) for line in result.stderr.splitlines() if line.startswith("{")]
    assert {"type": "warning", "message": expected.removeprefix("s3safe: warning: ")} in warnings, result.stderr
