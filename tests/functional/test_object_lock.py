"""Immutable backups on moto, which keeps versions and enforces Object Lock: mb --object-lock, uploads with a
retention or legal hold, meta get showing them, rm --versions refused with the date, and the audit check."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from s3safe.audit.checks import BY_ID
from s3safe.audit.facts import AuditContext, gather
from s3safe.core.errors import UsageError
from s3safe.core.locations import parse_s3_url
from s3safe.ops.buckets import make_bucket
from s3safe.storage.connection import Connection
from s3safe.storage.s3 import S3Storage
from s3safe.transfer.options import UploadOptions
from s3safe.transfer.single import upload_file
from tests.servers.moto import MotoServer

Run = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def locked_bucket(moto_conn: Connection, bucket_name: Callable[[], str]) -> str:
    name = bucket_name()
    steps = make_bucket(moto_conn, parse_s3_url(f"s3://{name}"), object_lock=True)
    assert any(step.startswith("object lock: enabled") for step in steps)
    return name


def _retained(days: int = 2, **extra: Any) -> UploadOptions:
    return UploadOptions(retain_until=datetime.now(UTC) + timedelta(days=days), lock_mode="GOVERNANCE", **extra)


def test_mb_object_lock_makes_a_versioned_locked_bucket(locked_bucket: str, moto_client: Any) -> None:
    lock = moto_client.get_object_lock_configuration(Bucket=locked_bucket)["ObjectLockConfiguration"]
    assert lock["ObjectLockEnabled"] == "Enabled"
    assert moto_client.get_bucket_versioning(Bucket=locked_bucket)["Status"] == "Enabled"


def test_put_retain_days_and_legal_hold_shown_by_meta_get(locked_bucket: str, tmp_path: Path, moto: MotoServer, run_cli: Run) -> None:
    source = tmp_path / "backup.tar"
    source.write_bytes(b"nightly" * 100)
    url = f"s3://{locked_bucket}/backup.tar"
    put = run_cli("--endpoint-url", moto.endpoint_url, "--allow-http", "put", str(source), url,
                  "--retain-days", "3", "--lock-mode", "compliance", "--legal-hold")  # fmt: skip
    assert put.returncode == 0, put.stderr
    shown = run_cli("--endpoint-url", moto.endpoint_url, "--allow-http", "meta", "get", url)
    assert shown.returncode == 0, shown.stderr
    expected_day = (datetime.now(UTC) + timedelta(days=3)).date().isoformat()
    assert "COMPLIANCE until " + expected_day in shown.stdout
    assert "legal hold" in shown.stdout and "on" in shown.stdout.split("legal hold", 1)[1].splitlines()[0]


def test_rm_versions_of_a_retained_object_is_refused_naming_the_date(
    locked_bucket: str, tmp_path: Path, moto_conn: Connection, moto: MotoServer, moto_client: Any, run_cli: Run
) -> None:  # fmt: skip
    source = tmp_path / "db.dump"
    source.write_bytes(b"precious")
    options = _retained(days=5)
    upload_file(moto_conn, source, parse_s3_url(f"s3://{locked_bucket}/db.dump"), options=options)
    result = run_cli("--endpoint-url", moto.endpoint_url, "--allow-http", "rm", "--versions", f"s3://{locked_bucket}/db.dump")
    assert result.returncode == 4, result.stderr
    assert "protected by Object Lock" in result.stderr
    assert options.retain_until is not None and options.retain_until.date().isoformat() in result.stderr
    assert "Traceback" not in result.stderr
    versions = moto_client.list_object_versions(Bucket=locked_bucket, Prefix="db.dump").get("Versions", [])
    assert len(versions) == 1  # still there
    assert moto_client.get_object(Bucket=locked_bucket, Key="db.dump")["Body"].read() == b"precious"


def test_multipart_upload_gets_its_retention(locked_bucket: str, tmp_path: Path, moto_conn: Connection) -> None:
    """moto ignores Object Lock headers on CreateMultipartUpload: the version must still end up retained."""
    source = tmp_path / "big.bin"
    source.write_bytes(b"\x01" * (5 * 1024**2 + 1))
    options = _retained(part_size=5 * 1024**2, legal_hold=True)
    upload_file(moto_conn, source, parse_s3_url(f"s3://{locked_bucket}/big.bin"), options=options, verify=False)
    details = S3Storage(moto_conn).head(locked_bucket, "big.bin")
    assert details.lock_mode == "GOVERNANCE" and details.locked_until is not None
    assert details.legal_hold is True


def test_retention_on_a_bucket_without_object_lock_is_refused_before_sending(
    moto_conn: Connection, moto_client: Any, bucket_name: Callable[[], str], tmp_path: Path
) -> None:  # fmt: skip
    name = bucket_name()
    moto_client.create_bucket(Bucket=name)
    source = tmp_path / "f.txt"
    source.write_bytes(b"x")
    with pytest.raises(UsageError, match="has no Object Lock"):
        upload_file(moto_conn, source, parse_s3_url(f"s3://{name}/f.txt"), options=_retained())
    assert "Contents" not in moto_client.list_objects_v2(Bucket=name)


def test_audit_flags_a_backup_bucket_without_retention(
    moto_conn: Connection, moto_client: Any, bucket_name: Callable[[], str], locked_bucket: str, tmp_path: Path
) -> None:  # fmt: skip
    source = tmp_path / "f.txt"
    source.write_bytes(b"backup")
    plain = bucket_name()
    moto_client.create_bucket(Bucket=plain)
    moto_client.put_bucket_versioning(Bucket=plain, VersioningConfiguration={"Status": "Enabled"})
    moto_client.put_object(Bucket=plain, Key="not-ours.txt", Body=b"x")  # written by another tool: not a backup
    check = BY_ID["bucket-backup-unretained"]
    ctx = AuditContext(moto_conn)
    assert check.evaluate(gather(moto_conn, plain), ctx) == []
    upload_file(moto_conn, source, parse_s3_url(f"s3://{plain}/f.txt"), options=UploadOptions())
    [finding] = check.evaluate(gather(moto_conn, plain), ctx)
    assert "Object Lock is off" in finding.found and "mb --object-lock" in finding.fix
    # the same backup in a locked bucket, retained: nothing to report; without a retention there, reported
    upload_file(moto_conn, source, parse_s3_url(f"s3://{locked_bucket}/f.txt"), options=UploadOptions())
    [unretained] = check.evaluate(gather(moto_conn, locked_bucket), ctx)
    assert "neither a default retention" in unretained.found
    upload_file(moto_conn, source, parse_s3_url(f"s3://{locked_bucket}/f.txt"), options=_retained())
    assert check.evaluate(gather(moto_conn, locked_bucket), ctx) == []


def test_sync_retain_days_gives_each_version_uploaded_its_retention(locked_bucket: str, tmp_path: Path, moto_conn: Connection) -> None:
    from s3safe.core.safety import SafetyGate
    from s3safe.transfer.engine import TreeOptions, TreeSummary, upload_tree

    root = tmp_path / "tree"
    (root / "sub").mkdir(parents=True)
    (root / "a.txt").write_bytes(b"a")
    (root / "sub" / "b.txt").write_bytes(b"b")
    options = TreeOptions(mode="diff", upload=_retained(days=7))
    results = list(upload_tree(moto_conn, root, parse_s3_url(f"s3://{locked_bucket}/nightly/"), options=options, gate=SafetyGate(),
                               summary=TreeSummary()))  # fmt: skip
    assert [r.ok for r in results if r.action == "upload"] == [True, True]
    storage = S3Storage(moto_conn)
    for key in ("nightly/a.txt", "nightly/sub/b.txt"):
        details = storage.head(locked_bucket, key)
        assert details.lock_mode == "GOVERNANCE" and details.locked_until is not None
