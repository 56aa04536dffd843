"""The data plane goes where s3safe resolved and checked the endpoint, whatever AWS_* variables obstore would read
(rt22: AWS_ENDPOINT_URL_S3 in the environment took obstore's PUTs and GETs to another server than --endpoint-url)."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from s3safe.storage.connection import Connection
from tests.servers.moto import MotoServer
from tests.servers.rclone import RcloneServer

Run = Callable[..., subprocess.CompletedProcess[str]]


def test_aws_endpoint_url_s3_in_the_environment_does_not_move_the_data_plane(
    rclone: RcloneServer, rclone_conn: Connection, moto_server: MotoServer, run_cli: Run, tmp_path: Path,
    bucket_name: Callable[[], str],
) -> None:  # fmt: skip
    bucket = bucket_name()
    rclone_conn.client().create_bucket(Bucket=bucket)
    import boto3

    trap = boto3.client("s3", endpoint_url=moto_server.endpoint_url, region_name="us-east-1",
                        aws_access_key_id=moto_server.access_key, aws_secret_access_key=moto_server.secret_key)  # fmt: skip
    trap.create_bucket(Bucket=bucket)  # a misdirected PUT would land here
    (tmp_path / "a.txt").write_text("where it belongs\n")
    env = {"AWS_ENDPOINT_URL_S3": moto_server.endpoint_url}
    args = ("--endpoint-url", rclone.endpoint_url, "--ca-bundle", rclone.ca_bundle)
    put = run_cli(*args, "put", str(tmp_path / "a.txt"), f"s3://{bucket}/a.txt", env=env)
    assert put.returncode == 0, put.stderr
    got = run_cli(*args, "get", f"s3://{bucket}/a.txt", str(tmp_path / "back.txt"), env=env)
    assert got.returncode == 0, got.stderr
    assert (tmp_path / "back.txt").read_text() == "where it belongs\n"
    assert rclone_conn.client().get_object(Bucket=bucket, Key="a.txt")["Body"].read() == b"where it belongs\n"
    assert trap.list_objects_v2(Bucket=bucket).get("KeyCount", 0) == 0


@pytest.mark.parametrize("name", ["AWS_SSE_CUSTOMER_KEY_BASE64", "AWS_SERVER_SIDE_ENCRYPTION", "AWS_SSE_KMS_KEY_ID"])
def test_encryption_settings_only_obstore_would_read_are_refused(
    name: str, rclone: RcloneServer, rclone_conn: Connection, run_cli: Run, tmp_path: Path, bucket_name: Callable[[], str]
) -> None:
    bucket = bucket_name()
    rclone_conn.client().create_bucket(Bucket=bucket)
    (tmp_path / "a.txt").write_text("x\n")
    result = run_cli("--endpoint-url", rclone.endpoint_url, "--ca-bundle", rclone.ca_bundle, "put", str(tmp_path / "a.txt"),
                     f"s3://{bucket}/a.txt", env={name: "aws:kms" if "ENCRYPTION" in name else "c2VjcmV0"})  # fmt: skip
    assert result.returncode == 2, result.stderr
    assert f"{name} is set in the environment, which s3safe does not take" in result.stderr
    assert "c2VjcmV0" not in result.stderr
    listed: Any = rclone_conn.client().list_objects_v2(Bucket=bucket)
    assert listed.get("KeyCount", 0) == 0
