"""Against LocalStack strict: the server really validates checksums, so these prove s3safe sends them."""

from __future__ import annotations

import base64
import hashlib
import io
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import awscrt.checksums  # type: ignore[import-untyped]
import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from s3safe.core.errors import IntegrityError
from s3safe.core.locations import S3Url
from s3safe.core.settings import ConnectionSettings
from s3safe.storage.connection import Connection
from s3safe.transfer.download import download_file
from s3safe.transfer.options import UploadOptions
from s3safe.transfer.pipeline import ETAG_PROOF
from s3safe.transfer.single import upload_file
from tests.servers.localstack import LocalStackServer
from tests.servers.netcheck import listening_addresses


@pytest.fixture
def ls_client(localstack: LocalStackServer) -> Any:
    return boto3.client(
        "s3", endpoint_url=localstack.endpoint_url, region_name="us-east-1", verify=localstack.ca_bundle,
        aws_access_key_id="LOCALSTACKTEST", aws_secret_access_key="localstack-test-secret",
        config=Config(s3={"addressing_style": "path"}, request_checksum_calculation="when_required",
                      response_checksum_validation="when_required"),
    )  # fmt: skip


@pytest.fixture
def ls_conn(localstack: LocalStackServer) -> Connection:
    return Connection(
        ConnectionSettings(endpoint_url=localstack.endpoint_url, ca_bundle=localstack.ca_bundle, region="us-east-1")
    )


def _b64sha256(data: bytes) -> str:
    return base64.b64encode(hashlib.sha256(data).digest()).decode()


def test_listens_on_loopback_only(localstack: LocalStackServer) -> None:
    found = listening_addresses(localstack.process.pid)
    assert (("127.0.0.1", localstack.port)) in found
    assert {address for address, _ in found} <= {"127.0.0.1", "::1"}


def test_server_rejects_wrong_checksums(ls_client: Any, bucket_name: Callable[[], str]) -> None:
    """Without this, the tests below could not tell a sent checksum from an ignored one."""
    name = bucket_name()
    ls_client.create_bucket(Bucket=name)
    with pytest.raises(ClientError) as bad_sha:
        ls_client.put_object(Bucket=name, Key="x", Body=b"payload", ChecksumSHA256=_b64sha256(b"other"))
    assert bad_sha.value.response["Error"]["Code"] in ("BadDigest", "InvalidRequest", "XAmzContentChecksumMismatch")
    with pytest.raises(ClientError) as bad_md5:
        ls_client.put_object(
            Bucket=name, Key="x", Body=b"payload", ContentMD5=base64.b64encode(hashlib.md5(b"other").digest()).decode()
        )
    assert bad_md5.value.response["Error"]["Code"] in ("BadDigest", "InvalidDigest")


@pytest.mark.parametrize("acl_bucket", [False, True], ids=["owner-enforced-obstore", "acl-enabled-boto3"])
def test_every_upload_carries_a_checksum_the_server_verified(
    ls_conn: Connection, ls_client: Any, tmp_path: Path, bucket_name: Callable[[], str], acl_bucket: bool
) -> None:
    name = bucket_name()
    if acl_bucket:
        ls_client.create_bucket(Bucket=name, ObjectOwnership="ObjectWriter")
    else:
        ls_client.create_bucket(Bucket=name)
        ls_client.put_bucket_ownership_controls(
            Bucket=name, OwnershipControls={"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
        )
    data = os.urandom(300_000)
    (tmp_path / "f.bin").write_bytes(data)
    result = upload_file(ls_conn, tmp_path / "f.bin", S3Url(name, "f.bin"), options=UploadOptions())
    head = ls_client.head_object(Bucket=name, Key="f.bin", ChecksumMode="ENABLED")
    assert head["ChecksumSHA256"] == _b64sha256(data)
    # obstore's PUT answer does not show the checksum LocalStack checked, and a stored SHA-256 alone may be the
    # claim sent (rclone keeps any): the HEAD's ETag = MD5 of the file is what is named
    assert result.verified == ETAG_PROOF
    out = tmp_path / "out"
    out.mkdir()
    assert download_file(ls_conn, S3Url(name, "f.bin"), out).verified == "sha256"
    assert (out / "f.bin").read_bytes() == data


def test_multipart_parts_carry_checksums(
    ls_conn: Connection, ls_client: Any, tmp_path: Path, bucket_name: Callable[[], str]
) -> None:
    name = bucket_name()
    ls_client.create_bucket(Bucket=name)
    data = os.urandom(11 * 1024 * 1024)
    (tmp_path / "big.bin").write_bytes(data)
    result = upload_file(ls_conn, tmp_path / "big.bin", S3Url(name, "big.bin"), options=UploadOptions(part_size=5 * 1024 * 1024))
    head = ls_client.head_object(Bucket=name, Key="big.bin", ChecksumMode="ENABLED")
    # CRC64NVME parts, combined into the whole object's value (which LocalStack checks at the completion)
    crc = base64.b64encode(awscrt.checksums.crc64nvme(data).to_bytes(8, "big")).decode()
    assert (head.get("ChecksumType"), head.get("ChecksumCRC64NVME")) == ("FULL_OBJECT", crc)
    assert head["Metadata"]["s3safe-sha256"] == hashlib.sha256(data).hexdigest()
    # LocalStack checks each part's checksum and answers with it: that is the evidence, no MD5 needed
    assert result.proof == "part checksums checked by the server"


def test_a_single_put_says_the_server_checked_its_sha256_only_where_its_answer_shows_it(
    ls_conn: Connection, ls_client: Any, bucket_name: Callable[[], str], tmp_path: Path
) -> None:
    """LocalStack checks the SHA-256 sent and answers with it: botocore's answer (under --max-bandwidth) shows
    it. obstore's PUT answer carries no checksum header, so there the evidence named is the ETag = MD5."""
    from dataclasses import replace

    from s3safe.transfer.pipeline import CHECKSUM_PUT_PROOF, ETAG_PROOF
    from s3safe.transfer.streams import upload_stream

    name = bucket_name()
    ls_client.create_bucket(Bucket=name)
    throttled = Connection(replace(ls_conn.settings, max_bandwidth=10 * 1024 * 1024))
    shown = upload_stream(throttled, io.BytesIO(b"one PUT"), S3Url(name, "throttled"), options=UploadOptions())
    # the checked SHA-256 is also the evidence --move acts on (no ETag needed, none read back)
    assert (shown.verified, shown.proof) == (CHECKSUM_PUT_PROOF, CHECKSUM_PUT_PROOF)
    unseen = upload_stream(ls_conn, io.BytesIO(b"one PUT"), S3Url(name, "fast"), options=UploadOptions())
    assert (unseen.verified, unseen.proof) == (ETAG_PROOF, ETAG_PROOF)
    (tmp_path / "f.txt").write_bytes(b"one PUT")
    headed = upload_file(throttled, tmp_path / "f.txt", S3Url(name, "f.txt"), options=UploadOptions())
    assert headed.verified == "sha256"  # the HEAD's SHA-256, which the answer showed LocalStack had checked


def test_a_wrong_checksum_is_rejected_and_reported_as_integrity_failure(
    ls_conn: Connection, ls_client: Any, tmp_path: Path, bucket_name: Callable[[], str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import s3safe.transfer.single as single

    name = bucket_name()
    ls_client.create_bucket(Bucket=name, ObjectOwnership="ObjectWriter")
    (tmp_path / "f.txt").write_bytes(b"the real content")
    # a checksum sent that does not describe the body (a stale digest; the bytes sent are the bytes hashed, so
    # only a bug or a body damaged on its way could do this) is refused by a server that checks it. The bandwidth
    # cap takes the botocore path, which sends x-amz-checksum-sha256 with the body
    throttled = Connection(ConnectionSettings(endpoint_url=ls_conn.settings.endpoint_url, ca_bundle=ls_conn.settings.ca_bundle,
                                              region="us-east-1", max_bandwidth=10**9))  # fmt: skip
    stale = single._Digests(_b64sha256(b"stale content"), hashlib.md5(b"x").hexdigest())
    monkeypatch.setattr(single, "_digests_of", lambda data, **_: stale)
    with pytest.raises(IntegrityError):
        upload_file(throttled, tmp_path / "f.txt", S3Url(name, "f.txt"), options=UploadOptions())
    with pytest.raises(ClientError):
        ls_client.head_object(Bucket=name, Key="f.txt")


def test_move_of_a_kms_encrypted_file_takes_the_checked_sha256_and_reads_nothing_back(
    localstack: LocalStackServer, ls_client: Any, bucket_name: Callable[[], str], tmp_path: Path,
    run_cli: Callable[..., Any],
) -> None:  # fmt: skip
    """With SSE-KMS an ETag is no MD5: --move read each object back to prove it before deleting the file, although
    the server had checked the SHA-256 sent with the PUT (and said so in its answer)."""
    name = bucket_name()
    ls_client.create_bucket(Bucket=name)
    folder = tmp_path / "out"
    folder.mkdir()
    (folder / "f.txt").write_bytes(b"moved once its checksum was checked\n")
    # --max-bandwidth: the PUT goes through botocore, whose answer shows the checksum LocalStack checked
    result = run_cli("--endpoint-url", localstack.endpoint_url, "--ca-bundle", localstack.ca_bundle, "--debug",
                     "--max-bandwidth", "10MiB", "put", "-r", "--move", "--sse", "aws:kms", str(folder), f"s3://{name}/m/")  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert not (folder / "f.txt").exists()
    assert ls_client.head_object(Bucket=name, Key="m/f.txt")["ServerSideEncryption"] == "aws:kms"
    requests = [line for line in result.stderr.splitlines() if "s3safe.request" in line and "m/f.txt" in line]
    assert requests and not [line for line in requests if " GET " in line], result.stderr
