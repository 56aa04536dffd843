"""--debug logs every request through the storage seam, data plane included: method, object, status, bytes,
time and retries, one line each (s3safe.request), with no secret of the run on any line.

On rclone serve s3 (SigV4 checked on every request): a small object goes through obstore, a multipart one
through botocore's chunk requests; both come back through GET.
"""

from __future__ import annotations

import os
import re
import subprocess
import uuid
from collections.abc import Callable
from pathlib import Path

from tests.servers.rclone import RcloneServer

Run = Callable[..., subprocess.CompletedProcess[str]]
MIB = 1024 * 1024
LINE = re.compile(
    r"s3safe\.request: (?P<method>[A-Z?]+) (?P<target>\S+) status=(?P<status>\S+) sent=(?P<sent>\S+) "
    r"received=(?P<received>\S+) time=(?P<ms>[0-9.]+)ms retries=(?P<retries>\S+) via=(?P<via>\S+)"
)


def _requests(stderr: str) -> list[dict[str, str]]:
    return [m.groupdict() for m in LINE.finditer(stderr)]


def _one(lines: list[dict[str, str]], **want: str) -> dict[str, str]:
    found = [line for line in lines if all(line[k] == v for k, v in want.items())]
    assert len(found) == 1, (want, lines)
    return found[0]


def _make_bucket(rclone: RcloneServer, bucket: str) -> None:
    """Through the S3 API: a folder made under the server's root may not be seen (rclone caches its listing)."""
    import boto3

    boto3.client("s3", endpoint_url=rclone.endpoint_url, region_name="us-east-1", verify=rclone.ca_bundle,
                 aws_access_key_id=rclone.access_key, aws_secret_access_key=rclone.secret_key).create_bucket(Bucket=bucket)  # fmt: skip


def test_debug_logs_each_request_with_status_bytes_time_and_retries_and_no_secret(
    run_cli: Run, rclone: RcloneServer, tmp_path: Path
) -> None:
    bucket = f"debug-{uuid.uuid4().hex[:10]}"
    _make_bucket(rclone, bucket)
    base = ["--endpoint-url", rclone.endpoint_url, "--ca-bundle", rclone.ca_bundle, "--debug"]
    src = tmp_path / "src"
    src.mkdir()
    small, big = src / "small.bin", src / "big.bin"
    small.write_bytes(os.urandom(4096))
    big.write_bytes(os.urandom(5 * MIB + 1000))  # two parts at the smallest part size
    outputs: list[str] = []

    def run(*args: str, expect: int = 0) -> list[dict[str, str]]:
        result = run_cli(*base, *args)
        assert result.returncode == expect, (args, result.stderr[-2000:])
        outputs.append(result.stdout + result.stderr)
        return _requests(result.stderr)

    put = run("put", "-r", "--part-size", "5MiB", str(src), f"s3://{bucket}/d/")
    line = _one(put, method="PUT", target=f"s3://{bucket}/d/small.bin", via="obstore:put")
    assert (line["status"], line["sent"]) == ("200", "4096")
    target = f"s3://{bucket}/d/big.bin"
    assert _one(put, via="botocore:CreateMultipartUpload", target=target)["status"] == "200"
    parts = sorted(int(p["sent"]) for p in put if p["via"] == "botocore:UploadPart" and p["target"] == target)
    assert parts == [1000, 5 * MIB]
    assert all(p["status"] == "200" and p["retries"] == "0" for p in put if p["via"] == "botocore:UploadPart")
    assert _one(put, via="botocore:CompleteMultipartUpload", target=target)["status"] == "200"

    got = run("get", "-r", f"s3://{bucket}/d/", str(tmp_path / "tree"))
    assert any(r["method"] == "LIST" and r["status"] == "200" for r in got), got
    line = _one(got, method="GET", target=f"s3://{bucket}/d/small.bin", via="obstore:get")
    assert (line["status"], line["received"]) == ("200", "4096")
    received = sum(int(g["received"]) for g in got if g["method"] == "GET" and g["target"] == target)
    assert received == big.stat().st_size
    assert (tmp_path / "tree" / "big.bin").read_bytes() == big.read_bytes()
    missing = run("get", f"s3://{bucket}/d/none.bin", str(tmp_path / "none.bin"), expect=3)
    assert any(r["target"] == f"s3://{bucket}/d/none.bin" and r["status"] == "404" for r in missing), missing

    for lines in (put, got, missing):
        assert all(float(r["ms"]) >= 0 for r in lines)
    text = "\n".join(outputs)
    assert rclone.secret_key not in text
    assert not re.search(r"Signature=[0-9a-f]{16}", text), "a SigV4 signature reached the output"


def test_a_request_that_never_got_an_answer_names_its_method_and_operation(run_cli: Run) -> None:
    # nothing listens on port 9: the failure line said `? s3://… status=failed:…` (rt17 #13)
    args = ("--endpoint-url", "http://127.0.0.1:9", "--allow-http", "--retries", "0", "-vv", "meta", "get", "s3://bkt/k.txt")
    result = run_cli(*args, env={"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"})
    assert result.returncode != 0
    failed = [r for r in _requests(result.stderr) if r["status"].startswith("failed:")]
    assert failed, result.stderr
    assert all(r["method"] == "HEAD" and r["via"] == "botocore:HeadObject" for r in failed), result.stderr
