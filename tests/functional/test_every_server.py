"""The bucket and transfer commands against every test server (moto, rclone serve s3, LocalStack).

S3-compatible stores lack many bucket sub-resources: rclone answers `GET ?policy` with a bucket listing and
`PUT ?ownershipControls` as a second CreateBucket (409). What a server does not support is reported as
"not supported by this endpoint" and the command goes on with what it can do; nothing crashes.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import S3SAFE

SERVERS = ("moto", "rclone", "localstack")


def _cli(server: Any) -> Callable[..., subprocess.CompletedProcess[str]]:
    base = [S3SAFE, "--endpoint-url", server.endpoint_url]
    if server.endpoint_url.startswith("http://"):
        base.append("--allow-http")
    if getattr(server, "ca_bundle", None):
        base += ["--ca-bundle", server.ca_bundle]

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*base, *args], capture_output=True, text=True, env=dict(os.environ), timeout=180, check=False)

    return run


def _clean(result: subprocess.CompletedProcess[str]) -> None:
    text = result.stdout + result.stderr
    for bad in ("Traceback", "internal error", "JSONDecodeError", "taken by another account"):
        assert bad not in text, text[-3000:]


def _digests(root: Path) -> dict[str, str]:
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest() for p in root.rglob("*") if p.is_file()}


@pytest.mark.parametrize("server_name", SERVERS)
def test_bucket_and_transfer_commands_on_every_server(
    server_name: str, request: pytest.FixtureRequest, tmp_path: Path, bucket_name: Callable[[], str]
) -> None:
    server = request.getfixturevalue(server_name)
    run = _cli(server)
    bucket = bucket_name()
    unsupported = "not supported by this endpoint"

    made = run("mb", f"s3://{bucket}")
    _clean(made)
    assert made.returncode == 0, made.stderr
    assert f"created bucket s3://{bucket}" in made.stdout + made.stderr

    again = run("mb", f"s3://{bucket}")
    _clean(again)
    assert again.returncode == 2 and "already exists and is yours" in again.stderr, again.stderr
    assert "created" not in again.stdout + again.stderr

    info = run("--json", "info", f"s3://{bucket}")
    _clean(info)
    assert info.returncode == 0, info.stderr
    settings = {s["name"]: s for s in map(json.loads, info.stdout.splitlines()) if s.get("type") == "setting"}
    assert {"versioning", "policy", "block public access", "default encryption"} <= set(settings)
    if server_name == "rclone":
        assert settings["policy"]["state"] == "unknown" and unsupported in settings["policy"]["summary"]
        assert unsupported in made.stdout + made.stderr
    else:
        assert settings["block public access"]["summary"] == "all four settings on"

    # before harden: its TLS-only policy denies moto's plain-HTTP requests, as AWS would
    src = tmp_path / "src"
    for rel, size in (("a.txt", 10), ("sub/b.bin", 200_000), ("sub/deeper/c.bin", 0)):
        (src / rel).parent.mkdir(parents=True, exist_ok=True)
        (src / rel).write_bytes(os.urandom(size))
    put = run("put", "-r", str(src), f"s3://{bucket}/t/")
    _clean(put)
    assert put.returncode == 0, put.stderr
    out = tmp_path / "out"
    got = run("get", "-r", f"s3://{bucket}/t/", str(out))
    _clean(got)
    assert got.returncode == 0, got.stderr
    assert _digests(out) == _digests(src)

    hardened = run("harden", f"s3://{bucket}")
    _clean(hardened)
    assert hardened.returncode == 0, hardened.stderr
    if server_name == "rclone":
        assert unsupported in hardened.stdout + hardened.stderr

    audit = run("--json", "audit", f"s3://{bucket}")
    _clean(audit)
    assert audit.returncode in (0, 8), audit.stderr
    assert any(json.loads(line).get("type") == "finding" for line in audit.stdout.splitlines() if line.startswith("{"))


@pytest.mark.parametrize("server_name", SERVERS)
def test_rb_force_empties_and_removes_a_bucket_on_every_server(
    server_name: str, request: pytest.FixtureRequest, tmp_path: Path, bucket_name: Callable[[], str]
) -> None:
    """Where the store cannot list versions (rclone), the bucket is unversioned: its objects are the versions."""
    server = request.getfixturevalue(server_name)
    run = _cli(server)
    bucket = bucket_name()
    assert run("mb", "--plain", f"s3://{bucket}").returncode == 0
    (tmp_path / "a.txt").write_text("a")
    assert run("put", str(tmp_path / "a.txt"), f"s3://{bucket}/d/a.txt").returncode == 0
    refused = run("rb", f"s3://{bucket}")
    _clean(refused)
    assert refused.returncode == 2 and "not empty" in refused.stderr, refused.stderr
    removed = run("rb", "--force", f"s3://{bucket}")
    _clean(removed)
    assert removed.returncode == 0, removed.stderr
    listed = run("ls")
    assert listed.returncode == 0 and bucket not in listed.stdout


def test_a_policy_that_mentions_a_listing_is_still_read_as_a_policy(moto: Any, bucket_name: Callable[[], str]) -> None:
    """Only an XML listing as the whole answer means "not supported": a JSON policy quoting one is a policy."""
    import boto3

    bucket = bucket_name()
    client = boto3.client("s3", endpoint_url=moto.endpoint_url, region_name="us-east-1")
    client.create_bucket(Bucket=bucket)
    policy = {"Version": "2012-10-17", "Statement": [{
        "Sid": "Odd", "Effect": "Deny", "Principal": "*", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{bucket}/*",
        "Condition": {"StringEquals": {"aws:UserAgent": "<ListBucketResult>"}}}]}  # fmt: skip
    client.put_bucket_policy(Bucket=bucket, Policy=json.dumps(policy))
    info = _cli(moto)("--json", "info", f"s3://{bucket}")
    assert info.returncode == 0, info.stderr
    settings = {s["name"]: s for s in map(json.loads, info.stdout.splitlines()) if s.get("type") == "setting"}
    assert settings["policy"]["state"] == "set" and "Odd" in settings["policy"]["summary"], settings["policy"]
