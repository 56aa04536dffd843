"""`audit --objects`: public object ACLs among thousands, SSE and the client-side marker, --sample and --resume."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from subprocess import CompletedProcess
from typing import Any

import boto3
import pytest

from s3safe.audit import AuditRequest, run_audit
from s3safe.audit.checkpoint import Checkpoint
from s3safe.core import cancel
from s3safe.core.errors import UsageError
from s3safe.core.locations import S3Url
from s3safe.storage.connection import Connection
from tests.servers.moto import MotoServer

Run = Callable[..., CompletedProcess[str]]
TOTAL = 1_500  # two listing pages of up to 1,000 keys; the public ones sit at both ends of each page
PUBLIC = (0, 555, 999, 1000, 1234, 1498, 1499)
AES256 = {"Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]}


def _client(moto: MotoServer) -> Any:
    return boto3.client("s3", endpoint_url=moto.endpoint_url, region_name="us-east-1",
                        aws_access_key_id=moto.access_key, aws_secret_access_key=moto.secret_key)  # fmt: skip


@pytest.fixture(scope="module")
def big_bucket(moto_server: MotoServer) -> str:
    """1,500 objects, 7 of them public-read, in a bucket with ACLs enabled and AES256 by default.

    The 1,493 private objects are written straight into the moto backend that the session's server (running
    in this process) serves: thousands of PUTs over HTTP cost ~5 s a thousand on this 2-core machine. The public ones, and
    everything the audit does, go over HTTP.
    """
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.s3.models import s3_backends

    name = f"audit-objects-{uuid.uuid4().hex[:12]}"
    c = _client(moto_server)
    c.create_bucket(Bucket=name, ObjectOwnership="ObjectWriter")
    c.put_bucket_encryption(Bucket=name, ServerSideEncryptionConfiguration=AES256)
    backend = s3_backends[DEFAULT_ACCOUNT_ID]["aws"]
    for i in range(TOTAL):
        if i not in PUBLIC:
            backend.put_object(name, f"data/{i:05d}.bin", b"x")
    for i in PUBLIC:
        c.put_object(Bucket=name, Key=f"data/{i:05d}.bin", Body=b"x", ACL="public-read")
    listed = sum(p.get("KeyCount", 0) for p in c.get_paginator("list_objects_v2").paginate(Bucket=name))
    assert listed == TOTAL  # the server sees what the backend holds
    return name


def test_audit_objects_finds_exactly_the_seven_public_objects_among_thousands(run_cli: Run, moto: MotoServer, big_bucket: str) -> None:
    result = run_cli("--endpoint-url", moto.endpoint_url, "--allow-http", "-t", "16", "audit", f"s3://{big_bucket}", "--objects",
                     "--json", "--fail-on", "critical")  # fmt: skip
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    public = sorted(r["key"] for r in records if r["type"] == "finding" and r["check"] == "object-acl-public")
    assert public == [f"data/{i:05d}.bin" for i in PUBLIC]
    assert not [r for r in records if r["type"] == "finding" and r["check"] == "object-not-encrypted"]  # all AES256
    objects = next(r for r in records if r["type"] == "bucket")["objects"]
    assert (objects["scanned"], objects["public"], objects["unencrypted"], objects["errors"]) == (TOTAL, 7, 0, 0)
    finding = next(r for r in records if r["type"] == "finding" and r["check"] == "object-acl-public")
    assert finding["severity"] == "high" and finding["fix"] == f"s3safe acl set private s3://{big_bucket}/{finding['key']}"


@pytest.fixture
def small_bucket(moto_client: Any, bucket_name: Callable[[], str]) -> str:
    """120 objects: 3 public, 2 unencrypted (no SSE, no marker), 1 client-side encrypted without SSE."""
    name = bucket_name("audit-small")
    moto_client.create_bucket(Bucket=name, ObjectOwnership="ObjectWriter")
    for i in range(120):
        extra: dict[str, Any] = {"ServerSideEncryption": "AES256"}
        if i in (5, 50, 95):
            extra["ACL"] = "public-read"
        if i in (7, 8):
            extra = {}
        if i == 9:
            extra = {"Metadata": {"s3safe-encryption": "age"}}
        moto_client.put_object(Bucket=name, Key=f"k{i:03d}", Body=b"x", **extra)
    return name


def test_object_checks_report_sse_and_the_client_side_marker(moto_conn: Connection, small_bucket: str) -> None:
    report = run_audit(moto_conn, AuditRequest((S3Url(small_bucket),), objects=True))
    bucket = report.buckets[0]
    assert bucket.objects is not None
    assert (bucket.objects.scanned, bucket.objects.public, bucket.objects.unencrypted, bucket.objects.client_encrypted) == (
        120,
        3,
        2,
        1,
    )
    by_check: dict[str, list[str]] = {}
    for f in bucket.findings:
        if f.key is not None:
            by_check.setdefault(f.check_id, []).append(f.key)
    assert sorted(by_check["object-acl-public"]) == ["k005", "k050", "k095"]
    assert sorted(by_check["object-not-encrypted"]) == ["k007", "k008"]  # k009 is encrypted client-side


def test_sample_checks_only_n_objects(moto_conn: Connection, small_bucket: str) -> None:
    report = run_audit(moto_conn, AuditRequest((S3Url(small_bucket),), objects=True, sample=30))
    scan = report.buckets[0].objects
    assert scan is not None and scan.sampled and scan.scanned == 30
    assert scan.public <= 3 and len([f for f in report.findings if f.check_id == "object-acl-public"]) == scan.public


def test_interrupted_scan_resumes_after_the_last_checked_key(moto_conn: Connection, small_bucket: str) -> None:
    seen: list[tuple[int, int]] = []

    def interrupt(bucket: str, scanned: int, total: int | None, findings: int) -> None:
        seen.append((scanned, findings))
        if scanned == 60:
            raise KeyboardInterrupt

    request = AuditRequest((S3Url(small_bucket),), objects=True, checks=("object-acl-public",))
    try:
        with pytest.raises(KeyboardInterrupt):
            run_audit(moto_conn, request, progress=interrupt)
    finally:
        cancel.reset()  # the bounded pool flags a process-wide cancel when its consumer stops
    checkpoint = Checkpoint(moto_conn.settings.endpoint_url, small_bucket)
    saved = checkpoint.load()
    assert saved is not None and saved.last_key == "k059" and saved.counts["scanned"] == 60
    assert [f["key"] for f in saved.findings] == ["k005", "k050"]
    assert seen[-1] == (60, 2)  # the progress callback is told the findings so far (the live display shows them)

    resumed: list[int] = []
    report = run_audit(moto_conn, AuditRequest((S3Url(small_bucket),), objects=True, resume=True, checks=("object-acl-public",)),
                       progress=lambda b, n, t, f: resumed.append(n))  # fmt: skip
    scan = report.buckets[0].objects
    assert scan is not None and scan.resumed_after == "k059" and scan.scanned == 120
    assert len(resumed) == 60  # only the objects after k059 were checked again
    assert sorted(f.key or "" for f in report.findings if f.check_id == "object-acl-public") == ["k005", "k050", "k095"]
    assert checkpoint.load() is None  # a finished scan leaves no checkpoint


def test_resume_with_other_checks_is_refused_and_misses_no_public_object(moto_conn: Connection, small_bucket: str) -> None:
    """A scan interrupted while it only looked at encryption never read the first 60 ACLs: resuming it with
    --check object-acl-public must not start after them (k005 and k050 are public)."""

    def interrupt(bucket: str, scanned: int, total: int | None, findings: int) -> None:
        if scanned == 60:
            raise KeyboardInterrupt

    url = (S3Url(small_bucket),)
    try:
        with pytest.raises(KeyboardInterrupt):
            run_audit(moto_conn, AuditRequest(url, objects=True, checks=("object-not-encrypted",)), progress=interrupt)
    finally:
        cancel.reset()
    saved = Checkpoint(moto_conn.settings.endpoint_url, small_bucket).load()
    assert saved is not None and saved.last_key == "k059" and saved.scope == {"acls": False, "encryption": True}

    with pytest.raises(UsageError) as refused:
        run_audit(moto_conn, AuditRequest(url, objects=True, resume=True, checks=("object-acl-public",)))
    message = str(refused.value)
    assert "object-not-encrypted" in message and "object-acl-public" in message and "--resume" in message
    assert Checkpoint(moto_conn.settings.endpoint_url, small_bucket).load() is not None  # kept for a matching resume

    report = run_audit(moto_conn, AuditRequest(url, objects=True, checks=("object-acl-public",)))  # from the start
    assert sorted(f.key or "" for f in report.findings if f.check_id == "object-acl-public") == ["k005", "k050", "k095"]


def test_resume_with_the_same_checks_goes_on(moto_conn: Connection, small_bucket: str, run_cli: Run, moto: MotoServer) -> None:
    def interrupt(bucket: str, scanned: int, total: int | None, findings: int) -> None:
        if scanned == 30:
            raise KeyboardInterrupt

    try:
        with pytest.raises(KeyboardInterrupt):
            run_audit(moto_conn, AuditRequest((S3Url(small_bucket),), objects=True), progress=interrupt)
    finally:
        cancel.reset()
    other = run_cli("--endpoint-url", moto.endpoint_url, "--allow-http", "audit", f"s3://{small_bucket}", "--objects",
                    "--resume", "--check", "object-acl-public")  # fmt: skip
    assert other.returncode == 2 and "Traceback" not in other.stderr
    assert f"s3://{small_bucket}" in other.stderr and "leave out --resume" in other.stderr
    same = run_cli("--endpoint-url", moto.endpoint_url, "--allow-http", "audit", f"s3://{small_bucket}", "--objects",
                   "--resume", "--json", "--fail-on", "critical")  # fmt: skip
    assert same.returncode == 0, same.stderr
    records = [json.loads(line) for line in same.stdout.splitlines()]
    objects = next(r for r in records if r["type"] == "bucket")["objects"]
    assert objects["resumed_after"] == "k029" and objects["scanned"] == 120 and objects["public"] == 3
