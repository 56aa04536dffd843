"""-v says what it adds as information (`s3safe: info: …`), never as a warning; a botocore retry is one such line
("retrying HEAD s3://b/k in 0.4 s, attempt 2/6 (503)"), so a slow endpoint is not minutes of silence;
-vv turns on debug logging (the per-request lines)."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

from tests.faults.conftest import Target
from tests.faults.proxy import FaultPlan, FaultProxy, Request

RETRY = re.compile(r"^s3safe: info: retrying HEAD (\S+) in [0-9.]+ s, attempt 2/\d+ \(503\)$", re.MULTILINE)


def test_verbose_lines_are_information_and_show_retries(proxy: FaultProxy, proxied: Target, tmp_path: Path) -> None:
    bucket = f"verbose-{uuid.uuid4().hex[:10]}"
    proxied.client().create_bucket(Bucket=bucket)
    src = tmp_path / "a.txt"
    src.write_bytes(b"x" * 3000)
    target = f"s3://{bucket}/a.txt"

    def head_of_a(request: Request) -> bool:
        return request.method == "HEAD" and request.target.split("?")[0].endswith("/a.txt")

    proxy.set_plan(FaultPlan(slowdown=1.0, max_faults=1, eligible=head_of_a))
    done = proxied.run("-v", "put", str(src), target, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert RETRY.findall(done.stderr) == [target], done.stderr
    proxy.set_plan(FaultPlan())

    synced = proxied.run("-v", "put", "-r", "--only-diff", str(tmp_path), f"s3://{bucket}/", timeout=120)
    listed = proxied.run("-v", "ls", "--long", f"s3://{bucket}/", timeout=120)
    for result in (synced, listed):
        assert result.returncode == 0, result.stderr[-2000:]
        warnings = [line for line in result.stderr.splitlines() if "warning" in line and "plain HTTP" not in line]
        assert warnings == [], result.stderr
    assert "s3safe: info: change detection hashed" in synced.stderr
    assert "s3safe: info: --long made 2 extra request(s)" in listed.stderr

    debug = proxied.run("-vv", "ls", f"s3://{bucket}/", timeout=120)
    assert debug.returncode == 0 and re.search(r"DEBUG s3safe\.request: GET s3://", debug.stderr), debug.stderr[-2000:]
