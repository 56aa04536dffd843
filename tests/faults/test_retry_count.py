"""--retries N means N retries, N+1 attempts: `--retries 0` sends a failing request once, `--retries 2` three
times, and the -v line counts attempts against that total (rt17 #6)."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

from tests.faults.conftest import Target
from tests.faults.proxy import FaultPlan, FaultProxy, Request

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
