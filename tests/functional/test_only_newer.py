"""--only-newer compares the local mtime with the mtime s3safe stored at upload (s3safe-mtime, the same clock),
not with the server's LastModified (another clock): a client 30 s behind the server must still send its edits."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.servers.moto import MotoServer

Run = Callable[..., Any]


def _body(client: Any, bucket: str, key: str) -> bytes:
    return bytes(client.get_object(Bucket=bucket, Key=key)["Body"].read())


def test_only_newer_sends_an_edit_made_on_a_clock_behind_the_server(
    moto: MotoServer, moto_client: Any, bucket_name: Callable[[], str], tmp_path: Path, run_cli: Run
) -> None:
    bucket = bucket_name()
    moto_client.create_bucket(Bucket=bucket)
    base = ("--endpoint-url", moto.endpoint_url, "--allow-http")
    src = tmp_path / "src"
    src.mkdir()
    start = time.time()
    for name in ("edited.txt", "same.txt"):
        (src / name).write_bytes(b"version 1\n")
        os.utime(src / name, (start - 100, start - 100))
    assert run_cli(*base, "put", "-r", str(src), f"s3://{bucket}/n/").returncode == 0
    server_time = moto_client.head_object(Bucket=bucket, Key="n/edited.txt")["LastModified"].timestamp()
    for run, state in enumerate((str(tmp_path / "fresh-state"), None), start=2):
        # edited now, on a client clock 30 s behind the server: its mtime is before the object's LastModified
        (src / "edited.txt").write_bytes(f"version {run}\n".encode())
        behind = server_time - 30 + run
        os.utime(src / "edited.txt", (behind, behind))
        env = {"S3SAFE_STATE_DIR": state} if state else None  # a fresh state folder: s3safe-mtime read by HEAD
        result = run_cli(*base, "--json", "put", "-r", "--only-newer", str(src), f"s3://{bucket}/n/", env=env)
        assert result.returncode == 0, result.stderr
        assert _body(moto_client, bucket, "n/edited.txt") == f"version {run}\n".encode(), (run, result.stdout)
        lines = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
        assert [line["target"] for line in lines if line.get("action") == "upload"] == [f"s3://{bucket}/n/edited.txt"]
    assert _body(moto_client, bucket, "n/same.txt") == b"version 1\n"


def test_get_only_newer_does_not_fetch_again_what_it_restored(
    moto: MotoServer, moto_client: Any, bucket_name: Callable[[], str], tmp_path: Path, run_cli: Run
) -> None:
    """A restored file takes the mtime stored with the object, which is older than the server's LastModified:
    compared with LastModified it would look stale forever and be downloaded on every run."""
    bucket = bucket_name()
    moto_client.create_bucket(Bucket=bucket)
    base = ("--endpoint-url", moto.endpoint_url, "--allow-http")
    src = tmp_path / "src"
    src.mkdir()
    (src / "f.txt").write_bytes(b"data\n")
    os.utime(src / "f.txt", (time.time() - 100, time.time() - 100))
    assert run_cli(*base, "put", "-r", str(src), f"s3://{bucket}/g/").returncode == 0
    for state in (None, str(tmp_path / "fresh-state")):  # the cache's record, then s3safe-mtime by HEAD
        env = {"S3SAFE_STATE_DIR": state} if state else None
        first = run_cli(*base, "--json", "get", "-r", "--only-newer", f"s3://{bucket}/g/", str(tmp_path / "out"))
        assert first.returncode == 0, first.stderr
        again = run_cli(*base, "--json", "get", "-r", "--only-newer", f"s3://{bucket}/g/", str(tmp_path / "out"), env=env)
        assert again.returncode == 0, again.stderr
        summary = [json.loads(line) for line in again.stdout.splitlines() if line.startswith('{"type": "summary"')][-1]
        assert (summary["transferred"], summary["skipped"]) == (0, 1), again.stdout
