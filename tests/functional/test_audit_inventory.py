"""`audit --inventory`: the object checks answered by DuckDB from an S3 Inventory report in a moto bucket."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from subprocess import CompletedProcess
from typing import Any

import boto3
import pytest

from s3safe.audit import AuditRequest, run_audit
from s3safe.core.errors import IntegrityError, NotFoundError, UsageError
from s3safe.core.locations import S3Url
from s3safe.storage.connection import Connection
from tests.functional.inventory_gen import AUTH_USERS, Row, inventory_config, public_acl, upload_report
from tests.servers.moto import MotoServer

Run = Callable[..., CompletedProcess[str]]
TOTAL = 6_000
PUBLIC = {"data/00017.bin": "READ", "data/01234.bin": "READ", "data/04999.bin": "WRITE_ACP"}
AUTHENTICATED = {"data/03333.bin"}
UNENCRYPTED = {"data/00555.bin", "data/02500.bin", "data/05998.bin"}
SSE_C = {"data/04096.bin"}
ODD = "odd dir/a+b, c%.txt"  # a space, a plus, a comma and a percent sign survive URL-encoding both ways
HOSTILE = 'evil\x1b[2J\nkey"q.txt'  # a terminal escape, a newline and a quote: escaped on screen, encoded in the manifest
CLIENT_SIDE = "data/00700.bin"  # NOT-SSE in the inventory, but s3safe client-side encrypted: HEAD shows the marker
GONE = "data/00800.bin"  # NOT-SSE in the inventory, deleted since


def _client(moto: MotoServer) -> Any:
    return boto3.client("s3", endpoint_url=moto.endpoint_url, region_name="us-east-1",
                        aws_access_key_id=moto.access_key, aws_secret_access_key=moto.secret_key)  # fmt: skip


def _rows() -> list[Row]:
    rows = []
    for i in range(TOTAL):
        key = f"data/{i:05d}.bin"
        row = Row(key)
        if key in PUBLIC:
            row.acl = public_acl(permission=PUBLIC[key])
        if key in AUTHENTICATED:
            row.acl = public_acl(AUTH_USERS)
        if key in UNENCRYPTED:
            row.encryption = "NOT-SSE"
        if key in SSE_C:
            row.encryption = "SSE-C"
        if key in (CLIENT_SIDE, GONE):
            row.encryption = "NOT-SSE"
        rows.append(row)
    rows.append(Row(ODD, encryption="NOT-SSE", acl=public_acl()))
    rows.append(Row(HOSTILE, acl=public_acl()))
    return rows


def _setup(moto: MotoServer, tmp: Path, fmt: str) -> tuple[str, str]:
    c = _client(moto)
    source, dest = f"inv-src-{uuid.uuid4().hex[:10]}", f"inv-dst-{uuid.uuid4().hex[:10]}"
    c.create_bucket(Bucket=source, ObjectOwnership="ObjectWriter")
    c.create_bucket(Bucket=dest)
    c.put_bucket_inventory_configuration(Bucket=source, Id="s3safe", InventoryConfiguration=inventory_config(dest, "inv", "s3safe", fmt))
    for key in [*UNENCRYPTED, ODD]:  # the unencrypted objects exist, as HEAD confirms them
        c.put_object(Bucket=source, Key=key, Body=b"x")
    c.put_object(Bucket=source, Key=CLIENT_SIDE, Body=b"x", Metadata={"s3safe-encryption": "age"})
    now = datetime.now(UTC)
    old = [Row(f"data/{i:05d}.bin", encryption="NOT-SSE") for i in range(50)]  # an older report: must not be read
    upload_report(c, source=source, destination=dest, prefix="inv", config_id="s3safe", rows=old, fmt=fmt,
                  created=now - timedelta(days=1), tmp=tmp)  # fmt: skip
    upload_report(c, source=source, destination=dest, prefix="inv", config_id="s3safe", rows=_rows(), fmt=fmt,
                  created=now - timedelta(hours=3), tmp=tmp, files=3)  # fmt: skip
    return source, dest


@pytest.fixture(scope="module")
def parquet_inventory(moto_server: MotoServer, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    return _setup(moto_server, tmp_path_factory.mktemp("inv"), "Parquet")


@pytest.fixture(scope="module")
def csv_inventory(moto_server: MotoServer, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    return _setup(moto_server, tmp_path_factory.mktemp("inv"), "CSV")


def _findings(records: list[dict[str, Any]], check: str) -> set[str]:
    return {r["key"] for r in records if r["type"] == "finding" and r["check"] == check}


def test_audit_inventory_finds_exactly_the_public_and_unencrypted_rows_among_6000(run_cli: Run, moto: MotoServer, tmp_path: Path,
                                                                                  parquet_inventory: tuple[str, str]) -> None:  # fmt: skip
    source, _ = parquet_inventory
    sarif, html = tmp_path / "a.sarif", tmp_path / "a.html"
    result = run_cli("--endpoint-url", moto.endpoint_url, "--allow-http", "--json", "audit", f"s3://{source}", "--inventory",
                     "--fail-on", "critical", "--sarif", str(sarif), "--html", str(html))  # fmt: skip
    assert result.returncode == 8, result.stderr  # a WRITE_ACP grant to everyone is critical
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert _findings(records, "object-acl-public") == set(PUBLIC) | AUTHENTICATED | {ODD, HOSTILE}
    assert _findings(records, "object-not-encrypted") == UNENCRYPTED | {ODD}
    assert _findings(records, "object-sse-c") == SSE_C
    severity = {r["key"]: r["severity"] for r in records if r["type"] == "finding" and r["check"] == "object-acl-public"}
    assert severity["data/04999.bin"] == "critical" and severity["data/00017.bin"] == "high"
    fix = next(r["fix"] for r in records if r.get("key") == "data/00017.bin")
    assert fix == f"s3safe acl set private s3://{source}/data/00017.bin"  # as audit --objects says it
    bucket = next(r for r in records if r["type"] == "bucket")
    objects = bucket["objects"]
    assert (objects["scanned"], objects["public"], objects["unencrypted"], objects["source"]) == (TOTAL + 2, 6, 4, "inventory")
    results = json.loads(sarif.read_text())["runs"][0]["results"]
    located = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in results if r["ruleId"] == "object-acl-public"}
    assert len(located) == 6 and f"s3://{source}/data/00017.bin" in located  # the same SARIF results as --objects
    assert "from the inventory report" in html.read_text() and "data/04999.bin" in html.read_text()
    assert any("6 object(s) the inventory lists without server-side encryption were checked with HEAD: 4 still unencrypted, "
               "1 s3safe client-side encrypted, 0 encrypted since, 1 deleted since" in n for n in bucket["notes"])
    age = [n for n in bucket["notes"] if "hours old" in n]
    assert age and "3.0 hours old" in age[0] and "HEAD a finding" in age[0]


def test_audit_inventory_reads_csv_reports_with_url_encoded_keys(moto: MotoServer, moto_conn: Connection,
                                                                 csv_inventory: tuple[str, str]) -> None:  # fmt: skip
    source, _ = csv_inventory
    report = run_audit(moto_conn, AuditRequest((S3Url(source),), inventory=True))
    found = {(f.check_id, f.key) for f in report.findings if f.key is not None}
    expected = {("object-acl-public", k) for k in [*PUBLIC, *AUTHENTICATED, ODD, HOSTILE]}
    expected |= {("object-not-encrypted", k) for k in [*UNENCRYPTED, ODD]} | {("object-sse-c", k) for k in SSE_C}
    assert found == expected
    assert report.buckets[0].objects is not None and report.buckets[0].objects.scanned == TOTAL + 2


def test_fix_dry_run_prints_the_batch_plan_with_a_manifest_of_exactly_the_public_keys(
    run_cli: Run, moto: MotoServer, parquet_inventory: tuple[str, str]
) -> None:
    source, dest = parquet_inventory
    result = run_cli("--endpoint-url", moto.endpoint_url, "--allow-http", "audit", f"s3://{source}", "--inventory", "--fix",
                     "--dry-run", "--batch-manifest", f"s3://{dest}/batch/", "--check", "object-acl-public",
                     "--fail-on", "critical")  # fmt: skip
    assert result.returncode == 8, result.stderr
    out = result.stdout
    assert "S3 Batch Operations job: PutObjectAcl (canned ACL private) on 6 object(s)" in out
    assert "cost inputs: 1 job, 6 object operation(s)" in out
    assert "\x1b" not in out + result.stderr  # the hostile key is escaped in the findings table
    rows = [line.strip() for line in out.splitlines() if line.strip().startswith(f"{source},")]
    assert rows == sorted([f"{source},data/00017.bin", f"{source},data/01234.bin", f"{source},data/03333.bin",
                           f"{source},data/04999.bin", f"{source},odd%20dir/a%2Bb%2C%20c%25.txt",
                           f"{source},evil%1B%5B2J%0Akey%22q.txt"])  # fmt: skip
    assert "(dry run) would run" in out
    listed = _client(moto).list_objects_v2(Bucket=dest, Prefix="batch/")
    assert listed.get("KeyCount", 0) == 0  # a dry run writes no manifest


def test_a_report_whose_data_file_was_changed_is_refused(moto: MotoServer, moto_conn: Connection, tmp_path: Path) -> None:
    c = _client(moto)
    source, dest = f"inv-src-{uuid.uuid4().hex[:10]}", f"inv-dst-{uuid.uuid4().hex[:10]}"
    c.create_bucket(Bucket=source)
    c.create_bucket(Bucket=dest)
    c.put_bucket_inventory_configuration(Bucket=source, Id="s3safe", InventoryConfiguration=inventory_config(dest, "", "s3safe", "CSV"))
    report = upload_report(c, source=source, destination=dest, prefix="", config_id="s3safe", rows=[Row("a")], fmt="CSV",
                           created=datetime.now(UTC), tmp=tmp_path)  # fmt: skip
    c.put_object(Bucket=dest, Key=report.data_keys[0], Body=b"not what S3 wrote")
    with pytest.raises(IntegrityError, match="does not match the MD5"):
        run_audit(moto_conn, AuditRequest((S3Url(source),), inventory=True))


def test_no_inventory_and_a_foreign_manifest_are_one_line_errors(moto: MotoServer, moto_conn: Connection,
                                                                  parquet_inventory: tuple[str, str]) -> None:  # fmt: skip
    source, dest = parquet_inventory
    other = f"inv-none-{uuid.uuid4().hex[:10]}"
    _client(moto).create_bucket(Bucket=other)
    with pytest.raises(NotFoundError, match="no inventory configuration"):
        run_audit(moto_conn, AuditRequest((S3Url(other),), inventory=True))
    both = run_audit(moto_conn, AuditRequest((S3Url(source), S3Url(other)), inventory=True, checks=("object-sse-c",)))
    by_bucket = {b.bucket: b for b in both.buckets}  # in a multi-bucket audit the bucket without one gets a note
    assert any(n.startswith("objects not checked: s3://") and "no inventory configuration" in n for n in by_bucket[other].notes)
    assert [f.key for f in both.findings] == sorted(SSE_C)
    manifest = next(k["Key"] for k in _client(moto).list_objects_v2(Bucket=dest)["Contents"] if k["Key"].endswith("manifest.json"))
    with pytest.raises(UsageError, match="is the inventory of"):
        run_audit(moto_conn, AuditRequest((S3Url(other),), inventory=True, inventory_manifest=S3Url(dest, manifest)))
