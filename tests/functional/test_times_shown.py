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


def test_lock_until_and_presign_expiry_follow_local_time_and_utc(
    run_cli: Run, moto: MotoServer, moto_client: Any, bucket_name: Callable[[], str]
) -> None:
    # they printed a fixed +00:00 / "UTC" whatever the zone and --utc (rt17 #9)
    import re
    from datetime import datetime

    bucket = bucket_name()
    moto_client.create_bucket(Bucket=bucket, ObjectLockEnabledForBucket=True)
    until = datetime(2031, 5, 17, 12, 0, 0, tzinfo=UTC)
    moto_client.put_object(Bucket=bucket, Key="a.txt", Body=b"x", ObjectLockMode="GOVERNANCE", ObjectLockRetainUntilDate=until)
    base = ("--endpoint-url", moto.endpoint_url, "--allow-http")
    env = {"TZ": "Asia/Kolkata"}
    meta = run_cli(*base, "meta", "get", f"s3://{bucket}/a.txt", env=env)
    assert meta.returncode == 0 and "GOVERNANCE until 2031-05-17 17:30:00+05:30" in meta.stdout, meta.stdout + meta.stderr
    meta_utc = run_cli(*base, "--utc", "meta", "get", f"s3://{bucket}/a.txt", env=env)
    assert "GOVERNANCE until 2031-05-17 12:00:00Z" in meta_utc.stdout, meta_utc.stdout

    signed = run_cli(*base, "presign", f"s3://{bucket}/a.txt", env=env)
    assert signed.returncode == 0, signed.stderr
    assert re.search(r"expires \d{4}-\d\d-\d\d \d\d:\d\d:\d\d\+05:30", signed.stdout + signed.stderr), signed.stdout + signed.stderr
    signed_utc = run_cli(*base, "--utc", "presign", f"s3://{bucket}/a.txt", env=env)
    assert re.search(r"expires \d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ", signed_utc.stdout + signed_utc.stderr), signed_utc.stderr
