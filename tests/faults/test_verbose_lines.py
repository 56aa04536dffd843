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


def test_change_detection_counts_every_request_it_makes(proxy: FaultProxy, proxied: Target, tmp_path: Path) -> None:
    """An object another tool uploaded in parts (no s3safe-sha256): --only-diff HEADs it, then asks for its parts
    (HEAD ?partNumber, GetObjectAttributes); -v counted only the plain HEADs (issue #19, outside tester's item 8).
    The line must match what reached the server, counted at the proxy."""
    bucket = f"verbose-{uuid.uuid4().hex[:10]}"
    client = proxied.client()
    client.create_bucket(Bucket=bucket)
    src = tmp_path / "tree"
    src.mkdir()
    data = uuid.uuid4().bytes * (5 * 1024 * 1024 // 16 + 1)  # two parts: 5 MiB and 16 bytes
    (src / "big.bin").write_bytes(data)
    upload = client.create_multipart_upload(Bucket=bucket, Key="big.bin")["UploadId"]
    parts = [{"PartNumber": n, "ETag": client.upload_part(Bucket=bucket, Key="big.bin", UploadId=upload, PartNumber=n,
                                                          Body=piece)["ETag"]}
             for n, piece in ((1, data[: 5 * 1024 * 1024]), (2, data[5 * 1024 * 1024 :]))]  # fmt: skip
    client.complete_multipart_upload(Bucket=bucket, Key="big.bin", UploadId=upload, MultipartUpload={"Parts": parts})
    proxy.set_plan(FaultPlan())  # from here on, the proxy's log is this run's requests
    synced = proxied.run("-v", "put", "-r", "--only-diff", str(src), f"s3://{bucket}/", timeout=120)
    assert synced.returncode == 0, synced.stderr[-2000:]
    made = re.findall(r"change detection hashed 1 file\(s\) and made (\d+) request\(s\)", synced.stderr)
    beyond_listing = [entry for entry in proxy.log if not (entry[1] == "GET" and "list-type=2" in entry[2])]
    assert made == [str(len(beyond_listing))], (synced.stderr, proxy.log)
    assert int(made[0]) >= 2, proxy.log  # the HEAD, and at least one request about the parts
