"""A single PUT says what verified it, and "checked by the server" only where the server showed it checked the
SHA-256 sent. `put -` said "verified by sha256 (checked by the server)" on moto and rclone, which take any
checksum they are sent without a word (a wrong one too: tests/functional/test_localstack.py shows LocalStack
refusing one). There the evidence is the ETag = MD5 of the bytes sent, in the words the multipart path uses."""

from __future__ import annotations

import hashlib
import io
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from s3safe.core.locations import S3Url
from s3safe.core.settings import ConnectionSettings
from s3safe.storage.connection import Connection
from s3safe.storage.s3 import S3Storage
from s3safe.transfer.options import UploadOptions
from s3safe.transfer.pipeline import ETAG_PROOF, NO_PUT_PROOF
from s3safe.transfer.single import upload_file
from s3safe.transfer.streams import upload_stream

SMALL = b"a stream small enough for one PUT\n"
SERVERS = ["moto", "rclone"]


def _target(server: str, request: pytest.FixtureRequest) -> tuple[Connection, list[str]]:
    """The server's connection, and the CLI's arguments to reach it."""
    if server == "moto":
        moto = request.getfixturevalue("moto")
        return request.getfixturevalue("moto_conn"), ["--endpoint-url", moto.endpoint_url, "--allow-http"]
    rclone = request.getfixturevalue("rclone")
    return request.getfixturevalue("rclone_conn"), ["--endpoint-url", rclone.endpoint_url, "--ca-bundle", rclone.ca_bundle]


def _bucket(conn: Connection, bucket_name: Callable[[], str]) -> str:
    name = bucket_name()
    conn.client().create_bucket(Bucket=name)
    return name


@pytest.mark.parametrize("server", SERVERS)
def test_put_stdin_names_the_etag_where_the_server_checks_no_checksum(
    server: str, request: pytest.FixtureRequest, run_cli: Callable[..., Any], bucket_name: Callable[[], str]
) -> None:
    conn, args = _target(server, request)
    bucket = _bucket(conn, bucket_name)
    result = run_cli(*args, "put", "-", f"s3://{bucket}/s.txt", input_text=SMALL.decode())
    assert result.returncode == 0, result.stderr
    assert f"verified by {ETAG_PROOF}" in result.stdout, result.stdout
    assert "checked by the server" not in result.stdout + result.stderr


def test_put_file_does_not_take_a_stored_sha256_it_sent_itself_for_evidence(
    rclone: Any, rclone_conn: Connection, run_cli: Callable[..., Any], bucket_name: Callable[[], str], tmp_path: Path
) -> None:
    """rclone keeps and shows whatever SHA-256 it is sent (a wrong one too): `put FILE` read it back and said
    "verified by sha256", comparing s3safe's own claim with itself. The ETag = MD5 of the file is the evidence."""
    bucket = _bucket(rclone_conn, bucket_name)
    (tmp_path / "f.txt").write_bytes(SMALL)
    args = ["--endpoint-url", rclone.endpoint_url, "--ca-bundle", rclone.ca_bundle]
    result = run_cli(*args, "put", str(tmp_path / "f.txt"), f"s3://{bucket}/")
    assert result.returncode == 0, result.stderr
    # in the words `put -` uses for the same evidence
    assert f"verified by {ETAG_PROOF}" in result.stdout and "sha256" not in result.stdout, result.stdout


@pytest.mark.parametrize("server", SERVERS)
def test_the_library_says_the_same_for_a_stream_and_for_a_file_the_engine_sends(
    server: str, request: pytest.FixtureRequest, bucket_name: Callable[[], str], tmp_path: Path
) -> None:
    """upload_file(verify=False) is the tree engine's: it said "sha256 (checked by the server)" too. Under
    --max-bandwidth a PUT goes through botocore, whose answer is read for the checksum: these servers send none."""
    conn, _ = _target(server, request)
    bucket = _bucket(conn, bucket_name)
    (tmp_path / "f.txt").write_bytes(SMALL)
    throttled = Connection(replace(conn.settings, max_bandwidth=10 * 1024 * 1024))
    assert throttled.limiter is not None
    for via in (conn, throttled):
        streamed = upload_stream(via, io.BytesIO(SMALL), S3Url(bucket, "s.txt"), options=UploadOptions())
        assert (streamed.verified, streamed.proof) == (ETAG_PROOF, ETAG_PROOF), via.limiter
    sent = upload_file(conn, tmp_path / "f.txt", S3Url(bucket, "f.txt"), options=UploadOptions(), verify=False)
    assert (sent.verified, sent.etag) == (ETAG_PROOF, hashlib.md5(SMALL, usedforsecurity=False).hexdigest())


def test_without_an_md5_etag_or_a_checked_checksum_nothing_is_claimed(
    moto_conn: Connection, bucket_name: Callable[[], str]
) -> None:
    """SSE-KMS makes the ETag no MD5, and moto checks no checksum: nothing the server showed vouches for the bytes."""
    bucket = _bucket(moto_conn, bucket_name)
    result = upload_stream(moto_conn, io.BytesIO(SMALL), S3Url(bucket, "k.txt"), options=UploadOptions(sse="aws:kms"))
    assert (result.verified, result.proof) == (NO_PUT_PROOF, None)


def test_only_aws_s3_is_declared_to_check_every_checksum() -> None:
    """obstore's PUT answer carries no checksum header: on AWS S3, which refuses a body that does not match the
    checksum sent (BadDigest), the declaration is what says it was checked; an S3-compatible store must show it."""
    aws = S3Storage(Connection(ConnectionSettings(region="us-east-1")))
    regional = S3Storage(Connection(ConnectionSettings(endpoint_url="https://s3.eu-west-1.amazonaws.com", region="eu-west-1")))
    other = S3Storage(Connection(ConnectionSettings(endpoint_url="https://minio.example", region="us-east-1")))
    assert (aws.features.checksums, regional.features.checksums, other.features.checksums) == (True, True, False)
    assert S3Storage.features.checksums is False
