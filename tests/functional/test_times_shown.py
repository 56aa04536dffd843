"""Times print in local time with their offset (the zone of exec's %date%), or in UTC marked Z with --utc —
never a bare UTC time that reads as local."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from datetime import UTC, timedelta, timezone
from typing import Any

from tests.servers.moto import MotoServer

Run = Callable[..., subprocess.CompletedProcess[str]]
KOLKATA = timezone(timedelta(hours=5, minutes=30))  # an offset no test machine runs in by accident


def test_ls_and_meta_show_local_time_with_offset_or_utc_with_z(
    run_cli: Run, moto: MotoServer, moto_client: Any, bucket_name: Callable[[], str]
) -> None:
    bucket = bucket_name()
    moto_client.create_bucket(Bucket=bucket)
    moto_client.put_object(Bucket=bucket, Key="a.txt", Body=b"x")
    stamp = moto_client.head_object(Bucket=bucket, Key="a.txt")["LastModified"]
    base = ("--endpoint-url", moto.endpoint_url, "--allow-http")
    env = {"TZ": "Asia/Kolkata"}
    local = stamp.astimezone(KOLKATA).strftime("%Y-%m-%d %H:%M:%S+05:30")
    utc = stamp.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%SZ")

    listed = run_cli(*base, "ls", f"s3://{bucket}/", env=env)
    assert listed.returncode == 0 and listed.stdout.startswith(f"{local}  "), listed.stdout + listed.stderr
    in_utc = run_cli(*base, "ls", f"s3://{bucket}/", "--utc", env=env)
    assert in_utc.returncode == 0 and in_utc.stdout.startswith(f"{utc}  "), in_utc.stdout
    meta = run_cli(*base, "meta", "get", f"s3://{bucket}/a.txt", env=env)
    assert meta.returncode == 0 and local in meta.stdout, meta.stdout
