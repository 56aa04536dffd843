"""Pre-signed URLs used with plain curl: rclone serve s3 checks SigV4 (signature, signed headers, expiry);
LocalStack strict checks POST policy conditions (content-length-range)."""

from __future__ import annotations

import base64
import json
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from subprocess import CompletedProcess
from typing import Any

import boto3
import pytest
from botocore.config import Config

from tests.servers.localstack import LocalStackServer
from tests.servers.rclone import RcloneServer

Run = Callable[..., CompletedProcess[str]]


def _curl(ca: str, *args: str) -> tuple[int, str]:
    """(HTTP status, body) of one curl call, as a user would run it."""
    done = subprocess.run(["curl", "--silent", "--show-error", "--cacert", ca, "-w", "\n%{http_code}", *args],
                          capture_output=True, text=True, timeout=30, check=False)  # fmt: skip
    body, _, status = done.stdout.rpartition("\n")
    assert status.isdigit(), done.stderr
    return int(status), body


@pytest.fixture
def rclone_bucket(rclone: RcloneServer, bucket_name: Callable[[], str]) -> str:
    client = boto3.client(
        "s3", endpoint_url=rclone.endpoint_url, region_name="us-east-1", verify=rclone.ca_bundle,
        aws_access_key_id=rclone.access_key, aws_secret_access_key=rclone.secret_key,
        config=Config(s3={"addressing_style": "path"}, request_checksum_calculation="when_required"),
    )  # fmt: skip
    name = bucket_name()
    client.create_bucket(Bucket=name)
    return name


@pytest.fixture
def sign(run_cli: Run, rclone: RcloneServer) -> Callable[..., str]:
    def run(*args: str) -> str:
        result = run_cli("--endpoint-url", rclone.endpoint_url, "--ca-bundle", rclone.ca_bundle, "presign", *args)
        assert result.returncode == 0, result.stderr
        lines = result.stdout.splitlines()
        assert len(lines) == 1 and lines[0].startswith("https://")  # the URL alone on stdout
        return lines[0]

    return run


def test_put_and_get_urls_work_with_curl_and_pin_their_headers(
    sign: Callable[..., str], rclone: RcloneServer, rclone_bucket: str, tmp_path: Path
) -> None:
    payload = tmp_path / "hello.txt"
    payload.write_text("hello from a pre-signed PUT\n")
    url = f"s3://{rclone_bucket}/shared/hello.txt"
    put = sign(url, "--method", "PUT", "--content-type", "text/plain", "--sse", "AES256", "--expires", "15m")
    assert "X-Amz-Expires=900" in put and "content-type%3Bhost%3Bx-amz-server-side-encryption" in put
    # the signed headers are part of the signature: leaving one out is refused
    status, _ = _curl(rclone.ca_bundle, "--upload-file", str(payload), "-H", "Content-Type: text/plain", put)
    assert status == 403
    headers = ("-H", "Content-Type: text/plain", "-H", "x-amz-server-side-encryption: AES256")
    status, body = _curl(rclone.ca_bundle, "--upload-file", str(payload), *headers, put)
    assert status == 200, body

    get = sign(url)
    assert "X-Amz-Expires=3600" in get  # the default is one hour
    status, body = _curl(rclone.ca_bundle, get)
    assert (status, body) == (200, payload.read_text())


def test_expired_and_tampered_urls_are_refused(sign: Callable[..., str], rclone: RcloneServer, rclone_bucket: str, tmp_path: Path) -> None:
    (tmp_path / "f.txt").write_text("x")
    put = sign(f"s3://{rclone_bucket}/f.txt", "--method", "PUT")
    assert _curl(rclone.ca_bundle, "--upload-file", str(tmp_path / "f.txt"), put)[0] == 200
    good = sign(f"s3://{rclone_bucket}/f.txt")
    head, signature = good.rsplit("X-Amz-Signature=", 1)
    flipped = ("0" if signature[5] != "0" else "1").join((signature[:5], signature[6:]))
    assert _curl(rclone.ca_bundle, good)[0] == 200
    assert _curl(rclone.ca_bundle, f"{head}X-Amz-Signature={flipped}")[0] == 403

    short = sign(f"s3://{rclone_bucket}/f.txt", "--expires", "1s")
    longer = sign(f"s3://{rclone_bucket}/f.txt", "--expires", "1m")  # the control: same age, not expired
    time.sleep(2.1)
    status, body = _curl(rclone.ca_bundle, short)
    # rclone (gofakes3) answers an expired URL with AccessDenied but HTTP 400, not AWS's 403
    assert status in (400, 403) and "<Code>AccessDenied</Code>" in body
    assert _curl(rclone.ca_bundle, longer)[0] == 200


def test_post_form_enforces_max_size_on_localstack(
    run_cli: Run, localstack: LocalStackServer, bucket_name: Callable[[], str], tmp_path: Path
) -> None:
    client: Any = boto3.client(
        "s3", endpoint_url=localstack.endpoint_url, region_name="us-east-1", verify=localstack.ca_bundle,
        config=Config(s3={"addressing_style": "path"}),
    )  # fmt: skip
    name = bucket_name()
    client.create_bucket(Bucket=name)
    result = run_cli("--endpoint-url", localstack.endpoint_url, "--ca-bundle", localstack.ca_bundle,
                     "presign", f"s3://{name}/uploads/", "--method", "POST", "--max-size", "1000", "--expires", "10m")  # fmt: skip
    assert result.returncode == 0, result.stderr
    form = json.loads(result.stdout)
    assert form["fields"]["key"] == "uploads/${filename}"
    assert form["fields"]["x-amz-server-side-encryption"] == "AES256"
    policy = json.loads(base64.b64decode(form["fields"]["policy"]))
    assert ["content-length-range", 0, 1000] in policy["conditions"]
    assert ["starts-with", "$key", "uploads/"] in policy["conditions"]

    fields = [arg for name_, value in form["fields"].items() for arg in ("-F", f"{name_}={value}")]
    (tmp_path / "big.bin").write_bytes(b"b" * 1500)
    (tmp_path / "small.bin").write_bytes(b"s" * 500)
    status, body = _curl(localstack.ca_bundle, *fields, "-F", f"file=@{tmp_path / 'big.bin'}", form["url"])
    assert status == 400 and "EntityTooLarge" in body
    status, body = _curl(localstack.ca_bundle, *fields, "-F", f"file=@{tmp_path / 'small.bin'}", form["url"])
    assert status in (200, 201, 204), body
    head = client.head_object(Bucket=name, Key="uploads/small.bin")
    assert head["ContentLength"] == 500
    assert head.get("ServerSideEncryption") == "AES256"
