"""--retries N means N retries, N+1 attempts: `--retries 0` sends a failing request once, `--retries 2` three
times, and the -v line counts attempts against that total (rt17 #6)."""

from __future__ import annotations

import contextlib
import re
import uuid
from collections.abc import Callable
from pathlib import Path

from s3safe.core.errors import S3SafeError
from s3safe.core.settings import ConnectionSettings
from s3safe.storage import dataplane
from s3safe.storage.connection import Connection
from s3safe.storage.errors import translated
from s3safe.storage.identity import caller_identity
from tests.faults.conftest import Target
from tests.faults.proxy import FaultPlan, FaultProxy, Request
from tests.servers.moto import MotoServer

RETRY = re.compile(r"retrying HEAD \S+ in [0-9.]+ s, attempt (\d+)/(\d+) \(503\)")


def test_retries_n_means_n_retries(proxy: FaultProxy, proxied: Target, tmp_path: Path) -> None:
    bucket = f"retries-{uuid.uuid4().hex[:10]}"
    proxied.client().create_bucket(Bucket=bucket)
    src = tmp_path / "a.txt"
    src.write_bytes(b"x" * 100)

    def head_of_a(request: Request) -> bool:
        return request.method == "HEAD" and request.target.split("?")[0].endswith("/a.txt")

    proxy.set_plan(FaultPlan(slowdown=1.0, eligible=head_of_a))  # every HEAD of a.txt answers 503
    try:
        none = proxied.run("-v", "--retries", "0", "put", str(src), f"s3://{bucket}/a.txt", timeout=120)
        two = proxied.run("-v", "--retries", "2", "put", str(src), f"s3://{bucket}/a.txt", timeout=120)
    finally:
        proxy.set_plan(FaultPlan())
    assert none.returncode != 0 and RETRY.findall(none.stderr) == [], none.stderr[-2000:]
    assert two.returncode != 0, two.stderr[-2000:]
    assert RETRY.findall(two.stderr) == [("2", "3"), ("3", "3")], two.stderr[-2000:]
    assert "HTTP 503" in two.stderr and "HTTP 503 (503)" not in two.stderr  # the status said once (rt17 #17)


def test_every_client_sends_a_failing_request_exactly_retries_plus_one_times(
    proxy: FaultProxy, proxied: Target, moto: MotoServer
) -> None:
    """One builder (storage/retries.py) for every client: botocore's S3 client, obstore's store and the STS client
    that asks who the caller is (it sent 2 attempts whatever --retries said). Counted at the proxy (issue #19,
    outside tester's item 4)."""
    bucket = f"retries-{uuid.uuid4().hex[:10]}"
    proxied.client(moto.endpoint_url).create_bucket(Bucket=bucket)
    conn = Connection(ConnectionSettings(endpoint_url=proxy.endpoint_url, allow_http=True, region="us-east-1", retries=2))

    def sent(method: str, attempt: Callable[[], object]) -> int:
        proxy.set_plan(FaultPlan(slowdown=1.0, eligible=lambda r: r.method == method))  # every one answers 503
        with contextlib.suppress(S3SafeError, Exception):  # the failure itself is not what is counted
            attempt()
        faulted = [entry for entry in proxy.log if entry[:2] == ("slowdown", method)]
        proxy.set_plan(FaultPlan())
        return len(faulted)

    def head() -> object:
        with translated("read", bucket=bucket, key="k"):
            return conn.client().head_object(Bucket=bucket, Key="k")

    assert sent("HEAD", head) == 3  # botocore, control plane
    assert sent("GET", lambda: dataplane.get(conn.store(bucket), "k", bucket=bucket)) == 3  # obstore, data plane
    assert sent("POST", lambda: caller_identity(conn)) == 3  # STS GetCallerIdentity
