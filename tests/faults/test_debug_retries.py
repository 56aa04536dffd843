"""--debug request lines count retries: a request the server answers 503 SlowDown once is logged once, with
its final status and retries=1 (botocore); an obstore request that never succeeds is logged with the status
it failed with and the number of retries obstore made."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

from tests.faults.conftest import Target
from tests.faults.proxy import FaultPlan, FaultProxy, Request

LINE = re.compile(r"s3safe\.request: (\S+) (\S+) status=(\S+) sent=\S+ received=\S+ time=\S+ retries=(\S+) via=(\S+)")


def test_debug_lines_show_the_retries_of_a_request(proxy: FaultProxy, proxied: Target, tmp_path: Path) -> None:
    bucket = f"retries-{uuid.uuid4().hex[:10]}"
    proxied.client().create_bucket(Bucket=bucket)
    src = tmp_path / "a.txt"
    src.write_bytes(b"x" * 3000)
    target = f"s3://{bucket}/a.txt"

    def head_of_a(request: Request) -> bool:
        return request.method == "HEAD" and request.target.split("?")[0].endswith("/a.txt")

    proxy.set_plan(FaultPlan(slowdown=1.0, max_faults=1, eligible=head_of_a))
    done = proxied.run("--debug", "put", str(src), target, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    heads = [m for m in LINE.findall(done.stderr) if m[0] == "HEAD" and m[1] == target]
    assert heads == [("HEAD", target, "200", "1", "botocore:HeadObject")], LINE.findall(done.stderr)

    def puts(request: Request) -> bool:
        return request.is_upload

    proxy.set_plan(FaultPlan(slowdown=1.0, max_faults=50, eligible=puts))
    failed = proxied.run("--debug", "--retries", "1", "put", str(src), f"s3://{bucket}/b.txt", timeout=120)
    assert failed.returncode == 1, failed.stderr[-2000:]
    lines = [m for m in LINE.findall(failed.stderr) if m[0] == "PUT"]
    assert lines == [("PUT", f"s3://{bucket}/b.txt", "503", "1", "obstore:put")], LINE.findall(failed.stderr)
