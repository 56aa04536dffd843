"""put --no-clobber (If-None-Match: *): atomic on moto, which honours it on PUT and CompleteMultipartUpload; on
rclone serve s3, which ignores conditional headers, detected once and checked by HEAD with a warning."""

from __future__ import annotations

import logging
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from s3safe.core.errors import WriteConflict
from s3safe.core.locations import parse_s3_url
from s3safe.storage.conditional import PROBE_PREFIX
from s3safe.storage.connection import Connection
from s3safe.transfer.options import UploadOptions
from s3safe.transfer.single import upload_file
from tests.servers.moto import MotoServer

Run = Callable[..., subprocess.CompletedProcess[str]]
NO_CLOBBER = UploadOptions(no_clobber=True)


@pytest.fixture
def bucket(moto_client: Any, bucket_name: Callable[[], str]) -> str:
    name = bucket_name()
    moto_client.create_bucket(Bucket=name)
    moto_client.put_object(Bucket=name, Key="kept.txt", Body=b"original")
    return name


def _file(tmp_path: Path, data: bytes, name: str = "new.txt") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_no_clobber_refuses_an_existing_key_and_writes_a_new_one(
    bucket: str, moto_conn: Connection, moto_client: Any, tmp_path: Path
) -> None:  # fmt: skip
    source = _file(tmp_path, b"replacement")
    with pytest.raises(WriteConflict, match=f"s3://{bucket}/kept.txt already exists"):
        upload_file(moto_conn, source, parse_s3_url(f"s3://{bucket}/kept.txt"), options=NO_CLOBBER)
    assert moto_client.get_object(Bucket=bucket, Key="kept.txt")["Body"].read() == b"original"
    upload_file(moto_conn, source, parse_s3_url(f"s3://{bucket}/fresh.txt"), options=NO_CLOBBER)
    assert moto_client.get_object(Bucket=bucket, Key="fresh.txt")["Body"].read() == b"replacement"
    assert moto_conn.honours_conditions is True  # moto refused the probe: nothing was written for it
    assert [o["Key"] for o in moto_client.list_objects_v2(Bucket=bucket)["Contents"]] == ["fresh.txt", "kept.txt"]


def test_no_clobber_multipart_is_refused_at_completion(bucket: str, moto_conn: Connection, moto_client: Any, tmp_path: Path) -> None:
    """The key is created between the check and CompleteMultipartUpload: If-None-Match there refuses it."""
    source = _file(tmp_path, b"\x02" * (5 * 1024**2 + 1))
    options = UploadOptions(no_clobber=True, part_size=5 * 1024**2)
    moto_conn.honours_conditions = True  # as probed; the key is free when the upload starts
    moto_client.put_object(Bucket=bucket, Key="big.bin", Body=b"someone else's")
    with pytest.raises(WriteConflict, match="already exists"):
        upload_file(moto_conn, source, parse_s3_url(f"s3://{bucket}/big.bin"), options=options, verify=False)
    assert moto_client.get_object(Bucket=bucket, Key="big.bin")["Body"].read() == b"someone else's"
    assert not moto_client.list_multipart_uploads(Bucket=bucket).get("Uploads")  # aborted, nothing billed


def test_put_no_clobber_exits_7_naming_the_key(bucket: str, moto: MotoServer, run_cli: Run, tmp_path: Path) -> None:
    source = _file(tmp_path, b"replacement")
    result = run_cli("--endpoint-url", moto.endpoint_url, "--allow-http", "put", "--no-clobber", str(source), f"s3://{bucket}/kept.txt")
    assert result.returncode == 7, result.stderr
    assert f"s3://{bucket}/kept.txt already exists" in result.stderr and "Traceback" not in result.stderr


def test_no_clobber_where_the_server_ignores_it_checks_by_head_and_warns_once(
    rclone_conn: Connection, rclone: Any, tmp_path: Path, bucket_name: Callable[[], str], caplog: pytest.LogCaptureFixture
) -> None:  # fmt: skip
    import boto3
    from botocore.config import Config

    client = boto3.client("s3", endpoint_url=rclone.endpoint_url, verify=rclone.ca_bundle, region_name="us-east-1",
                          aws_access_key_id=rclone.access_key, aws_secret_access_key=rclone.secret_key,
                          config=Config(request_checksum_calculation="when_required", response_checksum_validation="when_required"))  # fmt: skip
    name = bucket_name()
    client.create_bucket(Bucket=name)
    client.put_object(Bucket=name, Key="kept.txt", Body=b"original")
    source = _file(tmp_path, b"replacement")
    with caplog.at_level(logging.WARNING, logger="s3safe"):
        with pytest.raises(WriteConflict, match="already exists"):
            upload_file(rclone_conn, source, parse_s3_url(f"s3://{name}/kept.txt"), options=NO_CLOBBER)
        upload_file(rclone_conn, source, parse_s3_url(f"s3://{name}/fresh.txt"), options=NO_CLOBBER)
    assert rclone_conn.honours_conditions is False
    warnings = [r.getMessage() for r in caplog.records if "ignores conditional writes" in r.getMessage()]
    assert len(warnings) == 1 and "not atomic" in warnings[0]
    assert client.get_object(Bucket=name, Key="kept.txt")["Body"].read() == b"original"
    keys = [o["Key"] for o in client.list_objects_v2(Bucket=name)["Contents"]]
    assert keys == ["fresh.txt", "kept.txt"] and not any(k.startswith(PROBE_PREFIX) for k in keys)  # the probe is gone


def test_overwrite_where_the_server_ignores_if_match_is_checked_by_head(
    rclone_conn: Connection, rclone: Any, tmp_path: Path, bucket_name: Callable[[], str]
) -> None:  # fmt: skip
    """What sync sends for an overwrite (If-Match: the listed ETag), on a server that would ignore the header."""
    import boto3
    from botocore.config import Config

    client = boto3.client("s3", endpoint_url=rclone.endpoint_url, verify=rclone.ca_bundle, region_name="us-east-1",
                          aws_access_key_id=rclone.access_key, aws_secret_access_key=rclone.secret_key,
                          config=Config(request_checksum_calculation="when_required", response_checksum_validation="when_required"))  # fmt: skip
    name = bucket_name()
    client.create_bucket(Bucket=name)
    planned = client.put_object(Bucket=name, Key="k.txt", Body=b"as planned")["ETag"].strip('"')
    client.put_object(Bucket=name, Key="k.txt", Body=b"a concurrent writer's")
    source = _file(tmp_path, b"mine")
    with pytest.raises(WriteConflict, match="changed by another writer"):
        upload_file(rclone_conn, source, parse_s3_url(f"s3://{name}/k.txt"), options=UploadOptions(if_match=planned))
    assert client.get_object(Bucket=name, Key="k.txt")["Body"].read() == b"a concurrent writer's"
    current = client.head_object(Bucket=name, Key="k.txt")["ETag"].strip('"')
    upload_file(rclone_conn, source, parse_s3_url(f"s3://{name}/k.txt"), options=UploadOptions(if_match=current))
    assert client.get_object(Bucket=name, Key="k.txt")["Body"].read() == b"mine"


def test_the_check_before_each_tree_create_is_an_obstore_head(
    rclone_conn: Connection, rclone: Any, tmp_path: Path, bucket_name: Callable[[], str], caplog: pytest.LogCaptureFixture
) -> None:  # fmt: skip
    """Where the server ignores If-None-Match, each key a tree run listed as absent is HEADed just before its
    PUT. Through botocore that HEAD (a 404, parsed into a ClientError) cost more CPU than the 4 KiB PUT it
    guards and doubled put -r's CPU for 2,000 small files; it goes through obstore, and still catches the
    object another writer created."""
    import boto3
    from botocore.config import Config

    client = boto3.client("s3", endpoint_url=rclone.endpoint_url, verify=rclone.ca_bundle, region_name="us-east-1",
                          aws_access_key_id=rclone.access_key, aws_secret_access_key=rclone.secret_key,
                          config=Config(request_checksum_calculation="when_required", response_checksum_validation="when_required"))  # fmt: skip
    name = bucket_name()
    client.create_bucket(Bucket=name)
    client.put_object(Bucket=name, Key="raced.txt", Body=b"another writer's")  # created after the (imagined) listing
    source = _file(tmp_path, b"mine")
    listed_absent = UploadOptions(if_absent=True)
    with caplog.at_level(logging.DEBUG, logger="s3safe.request"):
        upload_file(rclone_conn, source, parse_s3_url(f"s3://{name}/fresh.txt"), options=listed_absent)
        with pytest.raises(WriteConflict, match="created by another writer"):
            upload_file(rclone_conn, source, parse_s3_url(f"s3://{name}/raced.txt"), options=listed_absent)
    sent = [r.getMessage() for r in caplog.records if r.name == "s3safe.request"]
    fresh, raced = f"s3://{name}/fresh.txt", f"s3://{name}/raced.txt"
    put = next(i for i, line in enumerate(sent) if line.startswith(f"PUT {fresh} "))
    assert sent[put - 1].startswith(f"HEAD {fresh} status=404 ") and "via=obstore:head" in sent[put - 1], sent
    assert sent[-1].startswith(f"HEAD {raced} status=200 ") and "via=obstore:head" in sent[-1], sent  # and no PUT
    assert client.get_object(Bucket=name, Key="raced.txt")["Body"].read() == b"another writer's"
    assert client.get_object(Bucket=name, Key="fresh.txt")["Body"].read() == b"mine"
