"""Findings of an outside tester on restores (get -r, sync downloads), through the CLI against moto."""

from __future__ import annotations

import json
import os
import select
import signal
import stat
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import S3SAFE
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


def test_a_fifo_with_no_reader_fails_alone_instead_of_hanging(
    run_cli: Run, moto: MotoServer, moto_client: Any, bucket: str, tmp_path: Path
) -> None:
    moto_client.put_object(Bucket=bucket, Key="p/k10", Body=b"to the fifo\n")
    moto_client.put_object(Bucket=bucket, Key="p/k20", Body=b"a file\n")
    out = tmp_path / "ff"
    out.mkdir()
    os.mkfifo(out / "k10")
    result = _cli(run_cli, moto, "get", "-r", f"s3://{bucket}/p/", str(out))  # run_cli's timeout bounds a hang
    assert result.returncode == 5, result.stdout + result.stderr
    failed = [line for line in (result.stdout + result.stderr).splitlines() if "FAILED" in line]
    assert len(failed) == 1 and "FIFO with no reader" in failed[0] and str(out / "k10") in failed[0], failed
    assert stat.S_ISFIFO((out / "k10").lstat().st_mode) and (out / "k20").read_bytes() == b"a file\n"
    single = _cli(run_cli, moto, "get", f"s3://{bucket}/p/k10", str(out / "k10"))
    assert single.returncode == 1 and "FIFO with no reader" in single.stderr, single.stderr


def test_ctrl_c_ends_a_download_stuck_writing_into_a_fifo(
    moto: MotoServer, moto_client: Any, bucket: str, tmp_path: Path
) -> None:
    moto_client.put_object(Bucket=bucket, Key="p/k10", Body=os.urandom(1024 * 1024))  # far more than a pipe holds
    out = tmp_path / "ff"
    out.mkdir()
    os.mkfifo(out / "k10")
    reader = os.open(out / "k10", os.O_RDONLY | os.O_NONBLOCK)  # a reader that never reads
    env = {**os.environ, "AWS_ACCESS_KEY_ID": moto.access_key, "AWS_SECRET_ACCESS_KEY": moto.secret_key,
           "AWS_DEFAULT_REGION": "us-east-1"}  # fmt: skip
    child = subprocess.Popen([S3SAFE, "--endpoint-url", moto.endpoint_url, "--allow-http", "get", "-r", f"s3://{bucket}/p/", str(out)],
                             env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
    try:
        ready, _, _ = select.select([reader], [], [], 60)
        assert ready, "the download never wrote into the FIFO"
        child.send_signal(signal.SIGINT)
        _, err = child.communicate(timeout=60)
    finally:
        if child.poll() is None:
            child.kill()
            child.communicate()
        os.close(reader)
    assert child.returncode == 130, err
    assert "Traceback" not in err, err


@pytest.mark.parametrize("key", ["h/./dot", "h/a//b", "h/x/."])
def test_a_key_obstore_cannot_parse_is_still_downloaded(
    run_cli: Run, moto: MotoServer, moto_client: Any, bucket: str, tmp_path: Path, key: str
) -> None:
    body = os.urandom(3000)
    moto_client.put_object(Bucket=bucket, Key=key, Body=body)
    result = _cli(run_cli, moto, "get", f"s3://{bucket}/{key}", str(tmp_path / "one"))
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "one").read_bytes() == body
    assert "Could not parse" not in result.stderr and "ValueError" not in result.stderr, result.stderr
    tree = _cli(run_cli, moto, "get", "-r", f"s3://{bucket}/h/", str(tmp_path / "tree"))
    assert "Could not parse" not in tree.stdout + tree.stderr and "internal error" not in tree.stderr, tree.stdout + tree.stderr
    written = [p for p in (tmp_path / "tree").rglob("*") if p.is_file()]
    # written where the key's path leads, or refused by one line naming the key (exit 5)
    assert (tree.returncode == 0 and [p.read_bytes() for p in written] == [body]) or (
        tree.returncode == 5 and key in tree.stdout + tree.stderr and not written), tree.stdout + tree.stderr


@pytest.mark.parametrize("key", ["u/./dot", "u/a//b", "u/x/."])
def test_a_key_obstore_cannot_parse_is_uploaded_listed_and_removed_by_its_exact_name(
    run_cli: Run, moto: MotoServer, moto_client: Any, bucket: str, tmp_path: Path, key: str
) -> None:
    source = tmp_path / "f"
    source.write_bytes(b"exact key\n")
    put = _cli(run_cli, moto, "put", str(source), f"s3://{bucket}/{key}")
    assert put.returncode == 0, put.stderr
    keys = [o["Key"] for o in moto_client.list_objects_v2(Bucket=bucket).get("Contents", [])]
    assert keys == [key]
    assert moto_client.get_object(Bucket=bucket, Key=key)["Body"].read() == b"exact key\n"
    listed = _cli(run_cli, moto, "ls", "-r", f"s3://{bucket}/u/")
    assert listed.returncode == 0 and key in listed.stdout, listed.stdout + listed.stderr
    removed = _cli(run_cli, moto, "rm", f"s3://{bucket}/{key}")
    assert removed.returncode == 0, removed.stderr
    assert not moto_client.list_objects_v2(Bucket=bucket).get("Contents")
