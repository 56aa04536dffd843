"""`meta set` leaves s3safe's own record of an object's bytes alone: a digest set by hand would make --only-diff
call a changed file unchanged (or the reverse), and every download would check the bytes against it."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.servers.moto import MotoServer

Run = Callable[..., subprocess.CompletedProcess[str]]


@pytest.mark.parametrize(
    "change",
    [
        ["--set", "s3safe-sha256=" + "0" * 64],
        ["--set", "S3SAFE-SHA256=" + "0" * 64],  # metadata names are case-insensitive
        ["--unset", "s3safe-sha256"],
        ["--set", "s3safe-crc64nvme=AAAAAAAAAAA="],
        ["--set", "team=ops", "--set", "s3safe-digest=forged"],
        ["--unset", "s3safe-encryption"],
    ],
)
def test_meta_set_refuses_to_change_s3safes_evidence_and_changes_nothing(
    change: list[str], moto: MotoServer, moto_client: Any, bucket_name: Callable[[], str], run_cli: Run, tmp_path: Path
) -> None:
    bucket = bucket_name()
    moto_client.create_bucket(Bucket=bucket)
    (tmp_path / "a.txt").write_text("hello\n")
    base = ("--endpoint-url", moto.endpoint_url, "--allow-http")
    assert run_cli(*base, "put", str(tmp_path / "a.txt"), f"s3://{bucket}/a.txt").returncode == 0
    before = moto_client.head_object(Bucket=bucket, Key="a.txt")

    refused = run_cli(*base, "meta", "set", f"s3://{bucket}/a.txt", *change)
    assert refused.returncode == 2, refused.stderr
    assert "record of the bytes its upload sent" in refused.stderr
    assert len(refused.stderr.strip().splitlines()) <= 2 and "Traceback" not in refused.stderr
    after = moto_client.head_object(Bucket=bucket, Key="a.txt")
    assert after["Metadata"] == before["Metadata"] and after["ETag"] == before["ETag"]


def test_meta_set_of_other_names_keeps_the_evidence(
    moto: MotoServer, moto_client: Any, bucket_name: Callable[[], str], run_cli: Run, tmp_path: Path
) -> None:
    bucket = bucket_name()
    moto_client.create_bucket(Bucket=bucket)
    (tmp_path / "a.txt").write_text("hello\n")
    base = ("--endpoint-url", moto.endpoint_url, "--allow-http")
    assert run_cli(*base, "put", str(tmp_path / "a.txt"), f"s3://{bucket}/a.txt").returncode == 0
    digest = moto_client.head_object(Bucket=bucket, Key="a.txt")["Metadata"]["s3safe-sha256"]
    done = run_cli(*base, "meta", "set", f"s3://{bucket}/a.txt", "--set", "team=ops", "--set", "s3safe-mtime=1700000000")
    assert done.returncode == 0, done.stderr
    metadata = moto_client.head_object(Bucket=bucket, Key="a.txt")["Metadata"]
    assert metadata["team"] == "ops" and metadata["s3safe-sha256"] == digest
