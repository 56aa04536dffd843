"""S3 Inventory reports in AWS's documented format, generated for tests and uploaded to a moto bucket.

Layout (S3 User Guide, "Locating your inventory list"): destination-prefix/source-bucket/config-ID/
YYYY-MM-DDTHH-MMZ/manifest.json and manifest.checksum, data files under .../config-ID/data/. CSV data files
are gzipped rows with every field quoted and the key URL-encoded; Parquet files have snake_case columns.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote_plus

from s3safe.audit.inventory import acl_field

OWNER = "75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a"
ALL_USERS = "http://acs.amazonaws.com/groups/global/AllUsers"
AUTH_USERS = "http://acs.amazonaws.com/groups/global/AuthenticatedUsers"
PRIVATE_ACL = acl_field([{"canonicalId": OWNER, "type": "CanonicalUser", "permission": "FULL_CONTROL"}])
CSV_SCHEMA = ("Bucket, Key, Size, LastModifiedDate, StorageClass, EncryptionStatus, ObjectAccessControlList, ObjectOwner, "
              "ChecksumAlgorithm")  # fmt: skip
PARQUET_SCHEMA = ("message s3.inventory { required binary bucket (STRING); required binary key (STRING); optional int64 size; "
                  "optional int64 last_modified_date (TIMESTAMP(MILLIS,true)); optional binary storage_class (STRING); "
                  "optional binary encryption_status (STRING); optional binary object_access_control_list (STRING); "
                  "optional binary object_owner (STRING); optional binary checksum_algorithm (STRING);}")  # fmt: skip


def public_acl(group: str = ALL_USERS, permission: str = "READ") -> str:
    return acl_field([{"canonicalId": OWNER, "type": "CanonicalUser", "permission": "FULL_CONTROL"},
                      {"uri": group, "type": "Group", "permission": permission}])  # fmt: skip


@dataclass
class Row:
    key: str
    encryption: str = "SSE-S3"
    acl: str = PRIVATE_ACL


@dataclass
class Report:
    destination: str
    manifest_key: str
    data_keys: list[str] = field(default_factory=list)


def _csv_file(bucket: str, rows: Sequence[Row]) -> bytes:
    text = io.StringIO()
    writer = csv.writer(text, quoting=csv.QUOTE_ALL, lineterminator="\n")
    for r in rows:
        writer.writerow([bucket, quote_plus(r.key, safe="/"), "1", "2026-12-01T10:00:00.000Z", "STANDARD", r.encryption, r.acl, OWNER, "CRC64NVME"])
    return gzip.compress(text.getvalue().encode())


def _parquet_file(bucket: str, rows: Sequence[Row], tmp: Path) -> bytes:
    import duckdb

    path, staged = tmp / "inventory.parquet", tmp / "rows.csv"
    with staged.open("w", newline="") as handle:  # staged as CSV: DuckDB loads it in one statement
        csv.writer(handle).writerows([bucket, r.key, r.encryption, r.acl] for r in rows)
    db = duckdb.connect()
    db.execute(
        f"COPY (SELECT bucket, key, 1::BIGINT AS size, TIMESTAMP '2026-12-01 10:00:00' AS last_modified_date, 'STANDARD' AS storage_class, "  # noqa: S608 (test paths only)
        f"encryption_status, object_access_control_list, '{OWNER}' AS object_owner, 'CRC64NVME' AS checksum_algorithm "
        f"FROM read_csv('{staged}', header = false, columns = {{'bucket': 'VARCHAR', 'key': 'VARCHAR', 'encryption_status': 'VARCHAR', "
        f"'object_access_control_list': 'VARCHAR'}})) TO '{path}' (FORMAT PARQUET)"
    )
    db.close()
    data = path.read_bytes()
    path.unlink()
    staged.unlink()
    return data


def upload_report(client: Any, *, source: str, destination: str, prefix: str, config_id: str, rows: Sequence[Row],
                  fmt: str, created: datetime, tmp: Path, files: int = 1) -> Report:  # fmt: skip
    """Write one delivered report (data files, manifest.json, manifest.checksum) into the destination bucket."""
    base = "/".join(p for p in (prefix.strip("/"), source, config_id) if p)
    report = Report(destination, f"{base}/{created:%Y-%m-%dT%H-%MZ}/manifest.json")
    entries = []
    for n in range(files):
        part = rows[n::files]
        body = _csv_file(source, part) if fmt == "CSV" else _parquet_file(source, part, tmp)
        key = f"{base}/data/{n:04d}-{created:%H%M}.{'csv.gz' if fmt == 'CSV' else 'parquet'}"
        client.put_object(Bucket=destination, Key=key, Body=body)
        entries.append({"key": key, "size": len(body), "MD5checksum": hashlib.md5(body).hexdigest()})
        report.data_keys.append(key)
    manifest = {
        "sourceBucket": source, "destinationBucket": f"arn:aws:s3:::{destination}", "version": "2016-11-30",
        "creationTimestamp": str(int(created.timestamp() * 1000)), "fileFormat": fmt,
        "fileSchema": CSV_SCHEMA if fmt == "CSV" else PARQUET_SCHEMA, "files": entries,
    }  # fmt: skip
    text = json.dumps(manifest).encode()
    client.put_object(Bucket=destination, Key=report.manifest_key, Body=text)
    client.put_object(Bucket=destination, Key=report.manifest_key.replace(".json", ".checksum"), Body=hashlib.md5(text).hexdigest().encode())
    return report


def inventory_config(destination: str, prefix: str, config_id: str, fmt: str) -> dict[str, Any]:
    return {
        "Id": config_id, "IsEnabled": True, "IncludedObjectVersions": "Current", "Schedule": {"Frequency": "Daily"},
        "Destination": {"S3BucketDestination": {"Bucket": f"arn:aws:s3:::{destination}", "Format": fmt, "Prefix": prefix}},
        "OptionalFields": ["Size", "LastModifiedDate", "StorageClass", "EncryptionStatus", "ObjectAccessControlList", "ObjectOwner"],
    }  # fmt: skip
