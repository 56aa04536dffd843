"""Local file names that no S3 key can carry through the data plane (control characters such as a newline):
`put -r` reports each one on one escaped line naming the file, uploads the rest, and exits 5."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.servers.moto import MotoServer

Run = Callable[..., subprocess.CompletedProcess[str]]


def test_a_file_name_with_a_newline_fails_alone_with_one_clear_line(
    moto: MotoServer, moto_client: Any, bucket_name: Callable[[], str], run_cli: Run, tmp_path: Path
) -> None:
    bucket = bucket_name()
    moto_client.create_bucket(Bucket=bucket)
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "good.txt").write_bytes(b"fine")
    (tree / "new\nline.txt").write_bytes(b"newline")
    (tree / "bell\x07.txt").write_bytes(b"bell")
    result = run_cli("--endpoint-url", moto.endpoint_url, "--allow-http", "put", "-r", str(tree), f"s3://{bucket}/t/")
    assert result.returncode == 5, result.stderr
    assert "Traceback" not in result.stderr and "ValueError" not in result.stderr, result.stderr
    assert "\x07" not in result.stderr + result.stdout
    failed = [line for line in result.stderr.splitlines() if line.startswith("FAILED")]
    assert len(failed) == 2, result.stderr
    assert any("new\\x0aline.txt" in line for line in failed), failed
    assert all("control characters" in line and "rename the file" in line for line in failed), failed
    keys = [o["Key"] for o in moto_client.list_objects_v2(Bucket=bucket).get("Contents", [])]
    assert keys == ["t/good.txt"]


def test_json_mode_names_the_file_and_stays_valid(
    moto: MotoServer, moto_client: Any, bucket_name: Callable[[], str], run_cli: Run, tmp_path: Path
) -> None:
    bucket = bucket_name()
    moto_client.create_bucket(Bucket=bucket)
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "new\nline.txt").write_bytes(b"newline")
    result = run_cli("--endpoint-url", moto.endpoint_url, "--allow-http", "--json", "put", "-r", str(tree), f"s3://{bucket}/")
    assert result.returncode == 5, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines() if line.strip()]
    assert any("new\nline.txt" in json.dumps(r) or "new\\nline.txt" in json.dumps(r) for r in records), records


def test_a_dry_run_refuses_the_same_names_as_the_real_run(
    moto: MotoServer, moto_client: Any, bucket_name: Callable[[], str], run_cli: Run, tmp_path: Path
) -> None:
    bucket = bucket_name()
    moto_client.create_bucket(Bucket=bucket)
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "good.txt").write_bytes(b"fine")
    (tree / "esc\x1b]0;PWN\x07.txt").write_bytes(b"hostile")
    result = run_cli("--endpoint-url", moto.endpoint_url, "--allow-http", "put", "-r", "--dry-run", str(tree), f"s3://{bucket}/")
    assert result.returncode == 5, result.stdout + result.stderr
    assert "\x1b" not in result.stdout + result.stderr
    failed = [line for line in result.stderr.splitlines() if line.startswith("FAILED")]
    assert len(failed) == 1 and "control characters" in failed[0], result.stderr
    assert "good.txt" in result.stdout and "esc" not in result.stdout, result.stdout
    assert moto_client.list_objects_v2(Bucket=bucket).get("KeyCount", 0) == 0
