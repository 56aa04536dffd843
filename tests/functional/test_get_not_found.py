"""`get` of one object that is not there says which part of the name is wrong (rt21 L4: a missing bucket was
reported as a missing object, and a folder's name gave no hint): a HEAD's 404 has no body to tell them apart."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.servers.moto import MotoServer

Run = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def base(moto: MotoServer) -> tuple[str, ...]:
    return ("--endpoint-url", moto.endpoint_url, "--allow-http")


def _error(result: subprocess.CompletedProcess[str]) -> str:
    lines = [line for line in result.stderr.splitlines() if "plain HTTP" not in line]
    assert len(lines) == 1, result.stderr
    return lines[0]


def test_a_missing_bucket_is_named_as_the_missing_part(base: tuple[str, ...], run_cli: Run, bucket_name: Callable[[], str],
                                                      tmp_path: Path) -> None:  # fmt: skip
    missing = bucket_name()
    result = run_cli(*base, "get", f"s3://{missing}/x.txt", str(tmp_path / "x.txt"))
    assert result.returncode == 3
    assert f"bucket s3://{missing} does not exist" in _error(result)
    assert not (tmp_path / "x.txt").exists()


def test_a_folder_name_given_as_an_object_gets_the_hint_to_add_r(
    base: tuple[str, ...], run_cli: Run, moto_client: Any, bucket_name: Callable[[], str], tmp_path: Path
) -> None:
    bucket = bucket_name()
    moto_client.create_bucket(Bucket=bucket)
    moto_client.put_object(Bucket=bucket, Key="docs/a.txt", Body=b"a")
    result = run_cli(*base, "get", f"s3://{bucket}/docs", str(tmp_path / "out"))
    assert result.returncode == 3
    line = _error(result)
    assert f"s3://{bucket}/docs/ is a folder" in line and f"get -r s3://{bucket}/docs/" in line, line
    plain = run_cli(*base, "get", f"s3://{bucket}/nothing.txt", str(tmp_path / "out"))
    assert plain.returncode == 3
    assert f"object s3://{bucket}/nothing.txt does not exist" in _error(plain) and "folder" not in plain.stderr
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("command", [["put", "-r", "{src}", "s3://{b}/x/"], ["sync", "{src}", "s3://{b}/x/"], ["ls", "s3://{b}/x/"],
                                     ["get", "-r", "s3://{b}/x/", "{out}"]], ids=["put-r", "sync", "ls", "get-r"])  # fmt: skip
def test_a_missing_bucket_is_named_alone_not_with_the_prefix(
    command: list[str], base: tuple[str, ...], run_cli: Run, bucket_name: Callable[[], str], tmp_path: Path
) -> None:
    """rt23: `put -r` to a missing bucket said "bucket s3://b/x/ does not exist"."""
    missing = bucket_name()
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "a.txt").write_text("a")
    argv = [part.format(b=missing, src=tmp_path / "src", out=tmp_path / "out") for part in command]
    result = run_cli(*base, *argv)
    assert result.returncode == 3, result.stderr
    assert _error(result) == f"s3safe: error: not found: bucket s3://{missing} does not exist"
