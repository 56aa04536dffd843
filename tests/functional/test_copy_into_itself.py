"""`cp -r` into a prefix inside its own source used to list its own copies and never stop
(26,000 objects in 120 s). It is refused up front, as `cp -r dir dir/sub` is refused by cp(1)."""

from __future__ import annotations

import subprocess
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from tests.conftest import S3SAFE
from tests.servers.moto import MotoServer

KEYS = ["src/a", "src/b/c", "src/zz/old", "src-sibling/x"]
# more than one listing page (1,000 keys): a lazy listing then reaches the copies made from the first page
FILLER = [f"src/k{i:04d}" for i in range(1001)]
RUN_TIMEOUT = 60  # without the check the copy feeds itself for hours; a run that times out fails


@pytest.fixture
def bucket(moto_client: Any, bucket_name: Callable[[], str]) -> str:
    name = bucket_name()
    moto_client.create_bucket(Bucket=name)
    for key in KEYS:
        moto_client.put_object(Bucket=name, Key=key, Body=key.encode())
    return name


def _cp(moto: MotoServer, *args: str) -> subprocess.CompletedProcess[str]:
    argv = [S3SAFE, "--endpoint-url", moto.endpoint_url, "--allow-http", "cp", *args]
    try:
        return subprocess.run(argv, capture_output=True, text=True, timeout=RUN_TIMEOUT, check=False)
    except subprocess.TimeoutExpired:
        pytest.fail(f"cp {' '.join(args)} did not stop within {RUN_TIMEOUT} s")


def _keys(client: Any, bucket: str) -> set[str]:
    found: set[str] = set()
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        found |= {o["Key"] for o in page.get("Contents", [])}
    return found


@pytest.fixture(scope="module")
def big_bucket(moto_server: MotoServer) -> str:
    """Filled once for the module: every test that uses it is refused before it copies anything (and checks
    that nothing was copied), so the 1,005 objects need not be written again per test."""
    import boto3

    client = boto3.client("s3", endpoint_url=moto_server.endpoint_url, region_name="us-east-1",
                          aws_access_key_id=moto_server.access_key, aws_secret_access_key=moto_server.secret_key)  # fmt: skip
    name = f"s3safe-test-{uuid.uuid4().hex[:12]}"
    client.create_bucket(Bucket=name)
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda key: client.put_object(Bucket=name, Key=key, Body=key.encode() if key in KEYS else b"f"), KEYS + FILLER))
    return name


@pytest.mark.parametrize(("source", "destination"), [("src/", "src/zz/"), ("src", "src/zz"), ("", "backup/")])
def test_copy_into_its_own_source_is_refused(
    moto: MotoServer, moto_client: Any, big_bucket: str, source: str, destination: str
) -> None:
    bucket = big_bucket
    result = _cp(moto, "-r", f"s3://{bucket}/{source}", f"s3://{bucket}/{destination}")
    assert result.returncode == 2, (result.stdout[-2000:], result.stderr[-2000:])
    error = result.stderr.strip().splitlines()[-1]
    assert "inside" in error and f"s3://{bucket}/{destination.rstrip('/')}/" in error, error
    assert _keys(moto_client, bucket) == set(KEYS) | set(FILLER)  # nothing copied


def test_copy_to_a_sibling_or_onto_itself_still_runs(moto: MotoServer, moto_client: Any, bucket: str) -> None:
    # "src-copy/" starts with "src" but is not inside "src/"
    result = _cp(moto, "-r", f"s3://{bucket}/src/", f"s3://{bucket}/src-copy/")
    assert result.returncode == 0, result.stderr
    assert _keys(moto_client, bucket) == set(KEYS) | {"src-copy/a", "src-copy/b/c", "src-copy/zz/old"}
    # a file-to-file copy inside the same folder is not a tree copy
    single = _cp(moto, f"s3://{bucket}/src/a", f"s3://{bucket}/src/zz/a2")
    assert single.returncode == 0, single.stderr
    assert moto_client.get_object(Bucket=bucket, Key="src/zz/a2")["Body"].read() == b"src/a"
