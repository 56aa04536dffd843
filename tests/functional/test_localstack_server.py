"""The LocalStack strict test server itself: these prove the guarantees other tests rely on
(loopback only, verified TLS, no traffic off the machine, checksums/SSE-C/KMS/pre-signed URLs
really checked), so that a passing integrity test means the client did the right thing."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import os
import ssl
import urllib.error
import urllib.request
import uuid
from typing import Any

import boto3
import botocore.auth
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError, SSLError

from tests.servers.localstack import (
    LOOPBACK,
    LocalStackServer,
    listening_addresses,
    outbound_addresses,
)

pytestmark = pytest.mark.localstack


@pytest.fixture
def server(localstack_server: LocalStackServer) -> LocalStackServer:
    """The session's server (tests/conftest.py), started under strace when strace is installed."""
    return localstack_server


def _client(server: LocalStackServer, service: str = "s3", **config: Any) -> Any:
    # explicit fake keys and CA: nothing from ~/.aws or the environment decides what is trusted.
    # (boto3-stubs types only literal service names, hence the untyped factory.)
    factory: Any = boto3.client
    return factory(
        service,
        config=Config(request_checksum_calculation="when_required", response_checksum_validation="when_required", **config),
        **server.client_kwargs(),
    )


@pytest.fixture
def s3(server: LocalStackServer) -> Any:
    # SigV4 as s3safe signs; botocore would pre-sign with SigV2 otherwise
    return _client(server, signature_version="s3v4", s3={"addressing_style": "path"})


@pytest.fixture
def bucket(s3: Any) -> str:
    name = f"ls-strict-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=name)
    return name


def _b64(digest: bytes) -> str:
    return base64.b64encode(digest).decode()


def _error_code(error: pytest.ExceptionInfo[ClientError]) -> str:
    return str(error.value.response["Error"]["Code"])


def _absent(s3: Any, bucket: str, key: str) -> bool:
    try:
        s3.head_object(Bucket=bucket, Key=key)
    except ClientError as error:
        return error.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    return False


def test_listens_on_loopback_only(server: LocalStackServer) -> None:
    found = listening_addresses(server.process.pid)
    assert ("127.0.0.1", server.port) in found
    assert {address for address, _ in found} <= LOOPBACK


def test_tls_is_verified_against_our_ca_only(server: LocalStackServer) -> None:
    trusted = ssl.create_default_context(cafile=server.ca_bundle)
    with urllib.request.urlopen(f"{server.endpoint_url}/_localstack/health", context=trusted, timeout=10) as response:
        assert response.status == 200
    # the system trust store must refuse it: proves verification happens, not that it is off
    default_trust = boto3.client(
        "s3", endpoint_url=server.endpoint_url, region_name=server.region,
        aws_access_key_id=server.access_key, aws_secret_access_key=server.secret_key,
        config=Config(retries={"total_max_attempts": 1}),
    )  # fmt: skip
    with pytest.raises(SSLError):
        default_trust.list_buckets()


def test_put_and_get_an_object(s3: Any, bucket: str) -> None:
    data = os.urandom(700_000)  # above LocalStack's 512 KiB in-memory limit, so it spools to disk
    s3.put_object(Bucket=bucket, Key="dir/object.bin", Body=data)
    assert s3.get_object(Bucket=bucket, Key="dir/object.bin")["Body"].read() == data
    assert [item["Key"] for item in s3.list_objects_v2(Bucket=bucket)["Contents"]] == ["dir/object.bin"]


def test_content_md5_is_validated(s3: Any, bucket: str) -> None:
    body = b"payload"
    s3.put_object(Bucket=bucket, Key="good", Body=body, ContentMD5=_b64(hashlib.md5(body).digest()))
    with pytest.raises(ClientError) as error:
        s3.put_object(Bucket=bucket, Key="bad", Body=body, ContentMD5=_b64(hashlib.md5(b"other").digest()))
    assert _error_code(error) in ("BadDigest", "InvalidDigest")
    assert _absent(s3, bucket, "bad")


def test_checksum_sha256_is_validated(s3: Any, bucket: str) -> None:
    body = b"payload"
    s3.put_object(Bucket=bucket, Key="good", Body=body, ChecksumSHA256=_b64(hashlib.sha256(body).digest()))
    head = s3.head_object(Bucket=bucket, Key="good", ChecksumMode="ENABLED")
    assert head["ChecksumSHA256"] == _b64(hashlib.sha256(body).digest())
    with pytest.raises(ClientError) as error:
        s3.put_object(Bucket=bucket, Key="bad", Body=body, ChecksumSHA256=_b64(hashlib.sha256(b"other").digest()))
    assert _error_code(error) == "BadDigest"
    assert _absent(s3, bucket, "bad")


def test_sse_c_round_trip_and_the_key_is_required(s3: Any, bucket: str) -> None:
    key, wrong = os.urandom(32), os.urandom(32)
    sse = {"SSECustomerAlgorithm": "AES256", "SSECustomerKey": key}
    s3.put_object(Bucket=bucket, Key="secret", Body=b"sealed", **sse)
    assert s3.get_object(Bucket=bucket, Key="secret", **sse)["Body"].read() == b"sealed"
    with pytest.raises(ClientError) as no_key:
        s3.get_object(Bucket=bucket, Key="secret")
    assert no_key.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400
    with pytest.raises(ClientError) as wrong_key:
        s3.get_object(Bucket=bucket, Key="secret", SSECustomerAlgorithm="AES256", SSECustomerKey=wrong)
    assert wrong_key.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


def test_sse_kms_key_must_exist(server: LocalStackServer, s3: Any, bucket: str) -> None:
    key_id = _client(server, "kms").create_key()["KeyMetadata"]["KeyId"]
    s3.put_object(Bucket=bucket, Key="kms", Body=b"x", ServerSideEncryption="aws:kms", SSEKMSKeyId=key_id)
    assert s3.head_object(Bucket=bucket, Key="kms")["SSEKMSKeyId"].endswith(key_id)
    with pytest.raises(ClientError) as error:
        s3.put_object(Bucket=bucket, Key="nokey", Body=b"x", ServerSideEncryption="aws:kms", SSEKMSKeyId=str(uuid.uuid4()))
    assert _error_code(error) == "KMS.NotFoundException"


def _fetch(url: str, server: LocalStackServer) -> int:
    try:
        with urllib.request.urlopen(url, context=ssl.create_default_context(cafile=server.ca_bundle), timeout=10) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return error.code


def test_presigned_urls_are_checked(server: LocalStackServer, s3: Any, bucket: str, monkeypatch: pytest.MonkeyPatch) -> None:
    s3.put_object(Bucket=bucket, Key="shared", Body=b"x")
    params = {"Bucket": bucket, "Key": "shared"}
    url = s3.generate_presigned_url("get_object", Params=params, ExpiresIn=300)
    assert _fetch(url, server) == 200
    signature = url.rsplit("X-Amz-Signature=", 1)[1]
    tampered = url.replace(signature, ("0" if signature[0] != "0" else "1") + signature[1:])
    assert _fetch(tampered, server) == 403
    # signed correctly an hour ago for 60 s: only the expiry check can refuse it
    an_hour_ago = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda: an_hour_ago)
    expired = s3.generate_presigned_url("get_object", Params=params, ExpiresIn=60)
    assert _fetch(expired, server) == 403


def test_nothing_leaves_the_machine(server: LocalStackServer, s3: Any, bucket: str) -> None:
    if server.trace_file is None:
        pytest.fail(
            "strace is not installed, so LocalStack's connections were not recorded: apt-get install strace", pytrace=False
        )
    # an unimplemented operation makes LocalStack look up its service catalogue online
    with pytest.raises(ClientError):
        s3.select_object_content(
            Bucket=bucket, Key="missing", Expression="select * from s3object", ExpressionType="SQL",
            InputSerialization={"CSV": {}}, OutputSerialization={"CSV": {}},
        )  # fmt: skip
    peers = outbound_addresses(server.trace_file)
    assert ("127.0.0.1", server.port) in peers  # its own readiness probe: the trace works
    assert ("127.0.0.1", 1) in peers  # that lookup was made, and went to the closed loopback port
    assert {address for address, _ in peers} <= LOOPBACK, sorted(peers)
