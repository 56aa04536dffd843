"""A reader that goes away: `s3safe ls … | head` stops quietly (exit 0, nothing on stderr but the plain-HTTP
warning); a transfer whose stdout reader went away finishes every upload and reports on stderr.

The pipe is shrunk to one page (F_SETPIPE_SZ) so a few hundred short lines overflow it: the writer really
meets EPIPE after the reader closed its end."""

from __future__ import annotations

import fcntl
import os
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.conftest import S3SAFE
from tests.servers.moto import MotoServer

FILES = 60
NAME = "n" * 240  # long keys: 60 lines are ~18 KiB, well past the pipe and the stdio buffer


def _run_into_closed_pipe(args: list[str]) -> tuple[int, str]:
    """Run s3safe with stdout into a pipe whose reader takes one line and goes away; (exit code, stderr)."""
    read_end, write_end = os.pipe()
    fcntl.fcntl(write_end, fcntl.F_SETPIPE_SZ, 4096)
    proc = subprocess.Popen([S3SAFE, *args], stdout=write_end, stderr=subprocess.PIPE, text=True)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as reader:
        first = reader.readline()
    assert first  # it had started to write
    _, err = proc.communicate(timeout=120)
    return proc.returncode, err


def _quiet(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if "plain HTTP" not in line]


def test_ls_into_head_and_a_transfer_without_its_reader(
    moto: MotoServer, moto_client: Any, bucket_name: Callable[[], str], tmp_path: Path
) -> None:
    bucket = bucket_name()
    moto_client.create_bucket(Bucket=bucket)
    tree = tmp_path / "tree"
    tree.mkdir()
    for i in range(FILES):
        (tree / f"{NAME}{i:03}.txt").write_text(str(i))
    server = ["--endpoint-url", moto.endpoint_url, "--allow-http"]

    code, err = _run_into_closed_pipe([*server, "put", "-r", str(tree), f"s3://{bucket}/t/"])
    assert code == 0, err
    listed = moto_client.list_objects_v2(Bucket=bucket, Prefix="t/")
    assert listed["KeyCount"] == FILES  # every upload happened although nobody read their lines
    lines = _quiet(err)
    assert any(line.startswith(f"{FILES} transferred") for line in lines), err  # the summary, on stderr
    assert any("standard output was closed during the run" in line for line in lines), err
    assert "Traceback" not in err and "rror" not in err

    code, err = _run_into_closed_pipe([*server, "ls", "-r", f"s3://{bucket}/"])
    assert code == 0, err
    assert _quiet(err) == []  # no "Broken pipe", no traceback, no error line


def test_audit_into_head_keeps_its_findings_exit_code(
    moto: MotoServer, moto_client: Any, bucket_name: Callable[[], str]
) -> None:
    # the exit code carries the result (8: findings): a reader going away must not turn it into 0 (rt17 #2)
    bucket = bucket_name()
    moto_client.create_bucket(Bucket=bucket)
    for i in range(FILES):
        moto_client.put_object(Bucket=bucket, Key=f"{NAME}{i:03}.txt", Body=b"x")
    server = ["--endpoint-url", moto.endpoint_url, "--allow-http"]
    code, err = _run_into_closed_pipe([*server, "audit", "--objects", "--fail-on", "low", f"s3://{bucket}"])
    assert code == 8, err
    assert "Traceback" not in err


def test_a_download_with_both_outputs_into_head_keeps_its_own_exit_code(
    moto: MotoServer, moto_client: Any, bucket_name: Callable[[], str], tmp_path: Path
) -> None:
    # `get -r … 2>&1 | head -3`: stderr's reader goes away too; the run's own code (0) stays (rt17 #2)
    bucket = bucket_name()
    moto_client.create_bucket(Bucket=bucket)
    for i in range(FILES):
        moto_client.put_object(Bucket=bucket, Key=f"t/{NAME[:150]}{i:03}.txt", Body=b"x")  # a temp name beside it must fit 255
    read_end, write_end = os.pipe()
    fcntl.fcntl(write_end, fcntl.F_SETPIPE_SZ, 4096)
    args = ["--endpoint-url", moto.endpoint_url, "--allow-http", "get", "-r", f"s3://{bucket}/t/", str(tmp_path / "d")]
    proc = subprocess.Popen([S3SAFE, *args], stdout=write_end, stderr=write_end)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as reader:
        assert reader.readline()
    code = proc.wait(timeout=120)
    assert len(list((tmp_path / "d").iterdir())) == FILES
    assert code == 0


def test_json_summary_reaches_stderr_when_stdout_closed(
    moto: MotoServer, moto_client: Any, bucket_name: Callable[[], str], tmp_path: Path
) -> None:
    # `--json put -r … | head -1`: the summary record was lost with stdout (rt17 #10)
    import json

    bucket = bucket_name()
    moto_client.create_bucket(Bucket=bucket)
    tree = tmp_path / "tree"
    tree.mkdir()
    for i in range(FILES):
        (tree / f"{NAME}{i:03}.txt").write_text(str(i))
    server = ["--endpoint-url", moto.endpoint_url, "--allow-http"]
    code, err = _run_into_closed_pipe([*server, "--json", "put", "-r", str(tree), f"s3://{bucket}/t/"])
    assert code == 0, err
    records = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    summaries = [r for r in records if r.get("type") == "summary"]
    assert len(summaries) == 1 and summaries[0]["transferred"] == FILES, err
