"""rt18 F7: a manifest is trusted only as far as S3 could have written it: a report dated in the future does not
win as newest, a manifest sending data reads to another bucket or not matching its manifest.checksum is refused."""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from s3safe.audit import AuditRequest, run_audit
from s3safe.core.errors import IntegrityError, UsageError
from s3safe.core.locations import S3Url
from s3safe.storage.connection import Connection
from tests.functional.inventory_gen import Row, _csv_file, inventory_config, public_acl, upload_report

PUBLIC = "public.txt"


def _setup(moto_client: Any, tmp: Path) -> tuple[str, str, Any]:
    source, dest = f"tmp-src-{uuid.uuid4().hex[:10]}", f"tmp-dst-{uuid.uuid4().hex[:10]}"
    moto_client.create_bucket(Bucket=source)
    moto_client.create_bucket(Bucket=dest)
    moto_client.put_bucket_inventory_configuration(Bucket=source, Id="s3safe",
                                                   InventoryConfiguration=inventory_config(dest, "inv", "s3safe", "CSV"))  # fmt: skip
    report = upload_report(moto_client, source=source, destination=dest, prefix="inv", config_id="s3safe",
                           rows=[Row(PUBLIC, acl=public_acl())], fmt="CSV", created=datetime.now(UTC) - timedelta(hours=2), tmp=tmp)  # fmt: skip
    return source, dest, report


def _public(conn: Connection, source: str) -> tuple[list[str | None], list[str]]:
    report = run_audit(conn, AuditRequest((S3Url(source),), inventory=True, checks=("object-acl-public",)))
    return [f.key for f in report.findings], report.buckets[0].notes


def test_a_report_dated_in_the_future_does_not_hide_the_newest_real_one(moto_conn: Connection, moto_client: Any, tmp_path: Path) -> None:
    source, dest, _ = _setup(moto_client, tmp_path)
    upload_report(moto_client, source=source, destination=dest, prefix="inv", config_id="s3safe", rows=[Row("other.txt")], fmt="CSV",
                  created=datetime(2099, 1, 1, tzinfo=UTC), tmp=tmp_path)  # fmt: skip
    keys, notes = _public(moto_conn, source)
    assert keys == [PUBLIC]
    assert any("dated in the future were passed over" in n and "2099-01-01T00-00Z" in n for n in notes)


def test_a_manifest_redirected_or_changed_is_refused(moto_conn: Connection, moto_client: Any, tmp_path: Path) -> None:
    source, dest, report = _setup(moto_client, tmp_path)
    original = moto_client.get_object(Bucket=dest, Key=report.manifest_key)["Body"].read()
    doc = json.loads(original)
    doc["destinationBucket"] = "arn:aws:s3:::someone-elses-bucket"
    redirected = json.dumps(doc).encode()
    moto_client.put_object(Bucket=dest, Key=report.manifest_key, Body=redirected)
    moto_client.put_object(Bucket=dest, Key=report.manifest_key.replace(".json", ".checksum"), Body=hashlib.md5(redirected).hexdigest().encode())
    with pytest.raises(IntegrityError, match="sends its data reads to s3://someone-elses-bucket"):
        _public(moto_conn, source)
    doc["destinationBucket"] = f"arn:aws:s3:::{dest}"
    doc["files"] = []  # an emptied manifest: nothing public would be found
    moto_client.put_object(Bucket=dest, Key=report.manifest_key, Body=json.dumps(doc).encode())
    with pytest.raises(IntegrityError, match=r"does not match the MD5 in its manifest\.checksum"):
        _public(moto_conn, source)


def test_rows_naming_another_bucket_are_left_out_with_a_note(moto_conn: Connection, moto_client: Any, tmp_path: Path) -> None:
    source, dest, report = _setup(moto_client, tmp_path)
    body = _csv_file("someone-elses-bucket", [Row("theirs.txt", acl=public_acl())])
    moto_client.put_object(Bucket=dest, Key="inv/extra.csv.gz", Body=body)
    doc = json.loads(moto_client.get_object(Bucket=dest, Key=report.manifest_key)["Body"].read())
    doc["files"].append({"key": "inv/extra.csv.gz", "size": len(body), "MD5checksum": hashlib.md5(body).hexdigest()})
    text = json.dumps(doc).encode()
    moto_client.put_object(Bucket=dest, Key=report.manifest_key, Body=text)
    moto_client.put_object(Bucket=dest, Key=report.manifest_key.replace(".json", ".checksum"), Body=hashlib.md5(text).hexdigest().encode())
    keys, notes = _public(moto_conn, source)
    assert keys == [PUBLIC]
    assert any(n.startswith("1 row(s) of the report name another bucket") for n in notes)


def test_an_unreadable_data_file_is_named_by_its_s3_key(moto_conn: Connection, moto_client: Any, tmp_path: Path) -> None:
    """rt18 F18: the error names the report's file in S3, not s3safe's scratch copy under /tmp."""
    source, dest, report = _setup(moto_client, tmp_path)
    garbage = b"not gzip at all"
    moto_client.put_object(Bucket=dest, Key=report.data_keys[0], Body=garbage)
    doc = json.loads(moto_client.get_object(Bucket=dest, Key=report.manifest_key)["Body"].read())
    doc["files"][0]["MD5checksum"] = hashlib.md5(garbage).hexdigest()  # consistent: only the content is broken
    text = json.dumps(doc).encode()
    moto_client.put_object(Bucket=dest, Key=report.manifest_key, Body=text)
    moto_client.put_object(Bucket=dest, Key=report.manifest_key.replace(".json", ".checksum"), Body=hashlib.md5(text).hexdigest().encode())
    with pytest.raises(UsageError) as caught:
        _public(moto_conn, source)
    message = str(caught.value)
    assert f"s3://{dest}/{report.data_keys[0]}" in message and "s3safe-inventory-" not in message, message
