"""`inventory enable|status`: S3 Inventory reports with every field `audit --inventory` reads.

enable: the destination bucket is created hardened (the `mb` code path) when missing, S3's inventory
delivery (s3.amazonaws.com) is granted PutObject under the destination prefix by a bucket-policy statement
limited to this source bucket and account (merged, as AWS documents for inventory destinations), and the
configuration is written last. Every change is a step through the SafetyGate (`--dry-run`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from s3safe.core.errors import NotFoundError, S3SafeError, UsageError
from s3safe.core.locations import S3Url
from s3safe.core.safety import SafetyGate
from s3safe.ops.access_logging import LoggingPlan, LogStep, _run_steps
from s3safe.ops.buckets import make_bucket
from s3safe.ops.policy import bucket_of, read_policy, write_policy
from s3safe.security.log_delivery import unique_name
from s3safe.security.policy_templates import SID_PREFIX, diff, merge, validate
from s3safe.storage.buckets import BucketAdmin
from s3safe.storage.connection import Connection
from s3safe.storage.identity import caller_identity
from s3safe.storage.inventory import get_inventory, list_inventories, put_inventory

INVENTORY_SERVICE = "s3.amazonaws.com"
# what `audit --inventory` reads, and what a security review of a listing wants beside it
AUDIT_FIELDS = ("EncryptionStatus", "ObjectAccessControlList", "ObjectOwner", "ChecksumAlgorithm", "LastModifiedDate", "Size",
                "StorageClass")  # fmt: skip
FORMATS = ("Parquet", "CSV")
FREQUENCIES = ("Daily", "Weekly")


@dataclass(frozen=True)
class InventoryRequest:
    destination: S3Url
    file_format: str = "Parquet"
    frequency: str = "Daily"
    config_id: str = "s3safe"
    account: str | None = None


def delivery_statement(destination: str, prefix: str, source: str, account: str | None) -> dict[str, Any]:
    """Allow S3 inventory delivery into destination/prefix for this source bucket only (S3 User Guide,
    "Configuring Amazon S3 Inventory": destination bucket policy)."""
    # one Sid per source bucket and exact destination: a second configuration or a look-alike bucket name
    # (my-lake, mylake) adds its own grant and never replaces another's
    alnum = re.sub(r"[^A-Za-z0-9]", "", source)[:40] + unique_name(f"{source}\n{destination}/{prefix}", limit=0)
    condition: dict[str, Any] = {"ArnLike": {"aws:SourceArn": f"arn:aws:s3:::{source}"},
                                 "StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control"}}  # fmt: skip
    if account:
        condition["StringEquals"]["aws:SourceAccount"] = account
    return {
        "Sid": f"{SID_PREFIX}InventoryDelivery{alnum}", "Effect": "Allow", "Principal": {"Service": INVENTORY_SERVICE},
        "Action": "s3:PutObject", "Resource": f"arn:aws:s3:::{destination}/{prefix}*", "Condition": condition,
    }  # fmt: skip


def _older_grant(current: Mapping[str, Any], statement: dict[str, Any]) -> bool:
    """The same grant under the earlier Sid scheme (Sid without the hash): same source, same destination prefix."""
    if not str(current.get("Sid") or "").startswith(f"{SID_PREFIX}InventoryDelivery"):
        return False
    source = ((current.get("Condition") or {}).get("ArnLike") or {}).get("aws:SourceArn")
    return bool(current.get("Resource") == statement["Resource"]) and source == statement["Condition"]["ArnLike"]["aws:SourceArn"]


def inventory_config(request: InventoryRequest, *, account: str | None) -> dict[str, Any]:
    dest: dict[str, Any] = {"Bucket": f"arn:aws:s3:::{request.destination.bucket}", "Format": request.file_format,
                            "Encryption": {"SSES3": {}}}  # fmt: skip
    prefix = request.destination.key.strip("/")
    if prefix:
        dest["Prefix"] = prefix
    if account:
        dest["AccountId"] = account
    return {"Id": request.config_id, "IsEnabled": True, "IncludedObjectVersions": "Current",
            "Schedule": {"Frequency": request.frequency}, "Destination": {"S3BucketDestination": dest},
            "OptionalFields": list(AUDIT_FIELDS)}  # fmt: skip


def _validate(request: InventoryRequest, source: str) -> None:
    if request.file_format not in FORMATS:
        raise UsageError(f"unknown inventory format {request.file_format!r}", hint="Parquet or CSV")
    if request.frequency not in FREQUENCIES:
        raise UsageError(f"unknown frequency {request.frequency!r}", hint="Daily or Weekly")
    if not re.fullmatch(r"[A-Za-z0-9._-]{1,64}", request.config_id):
        raise UsageError(f"inventory id {request.config_id!r}: up to 64 letters, digits, '.', '_' or '-'")
    if request.account is not None and not re.fullmatch(r"\d{12}", request.account):
        raise UsageError(f"--account {request.account!r} is not a 12-digit AWS account id")
    if request.destination.bucket == source:
        raise UsageError(f"s3://{source} should not hold its own inventory", hint="each report would list the reports before it")


def plan_enable(conn: Connection, url: S3Url, request: InventoryRequest, *, gate: SafetyGate) -> LoggingPlan:
    source = bucket_of(url, "inventory enable")
    _validate(request, source)
    target = request.destination.bucket
    admin = BucketAdmin(conn)
    admin.exists(source)
    steps: list[LogStep] = []
    notes: list[str] = []
    try:
        admin.exists(target)
        exists = True
    except NotFoundError:
        exists = False
    if exists and conn.bucket_region(target) != conn.bucket_region(source):
        raise UsageError(f"s3://{target} is in {conn.bucket_region(target)}, s3://{source} in {conn.bucket_region(source)}",
                         hint="S3 delivers inventory reports only to a bucket in the source bucket's region")  # fmt: skip
    if not exists:
        region = conn.bucket_region(source)
        steps.append(LogStep("create-bucket", f"s3://{target} in {region}, hardened (mb)", lambda: make_bucket(conn, S3Url(target), region=region)))
    account = request.account or (identity.account if (identity := caller_identity(conn)) else None)
    if account is None:
        notes.append("could not tell the account id; the grant is limited by the source bucket ARN only (pass --account)")
    prefix = request.destination.key.strip("/")
    statement = delivery_statement(target, f"{prefix}/" if prefix else "", source, account)
    current = read_policy(conn, target) if exists else None
    proposed = merge(current, [statement], supersedes=lambda st: _older_grant(st, statement))
    validate(proposed, target)
    if diff(current, proposed):
        steps.append(LogStep("grant-inventory-delivery", f"s3://{target} policy allows {INVENTORY_SERVICE} to write {prefix or ''}* "
                             f"for s3://{source} only", lambda: write_policy(conn, target, proposed)))  # fmt: skip
    config = inventory_config(request, account=account)
    existing = get_inventory(conn, source, request.config_id)
    if _same(existing, config):
        return LoggingPlan(source, target, prefix, steps, notes, _run_steps(steps, gate))
    was = " (replaces the configuration of that id)" if existing is not None else ""
    detail = (f"s3://{source} inventory {request.config_id!r}: {request.frequency} {request.file_format} to s3://{target}/{prefix}, "
              f"fields {', '.join(AUDIT_FIELDS)}{was}")  # fmt: skip
    steps.append(LogStep("put-inventory", detail, lambda: put_inventory(conn, source, config)))
    notes.append("S3 delivers the first report within 48 hours; 'audit --inventory' reads the newest one")
    return LoggingPlan(source, target, prefix, steps, notes, _run_steps(steps, gate))


def _same(current: dict[str, Any] | None, wanted: dict[str, Any]) -> bool:
    if current is None:
        return False
    dest, want = current.get("Destination", {}).get("S3BucketDestination", {}), wanted["Destination"]["S3BucketDestination"]
    return (str(current.get("IsEnabled")).lower() == "true" and dest.get("Bucket") == want["Bucket"] and dest.get("Format") == want["Format"]
            and (dest.get("Prefix") or "") == want.get("Prefix", "") and set(current.get("OptionalFields", [])) >= set(AUDIT_FIELDS)
            and current.get("Schedule", {}).get("Frequency") == wanted["Schedule"]["Frequency"])  # fmt: skip


@dataclass(frozen=True)
class InventoryStatus:
    bucket: str
    config_id: str
    enabled: bool
    destination: str
    file_format: str
    frequency: str
    missing_fields: tuple[str, ...]
    newest_report: str | None
    age_hours: float | None
    note: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"type": "inventory", "bucket": self.bucket, "id": self.config_id, "enabled": self.enabled,
                "destination": self.destination, "format": self.file_format, "frequency": self.frequency,
                "missing_fields": list(self.missing_fields), "newest_report": self.newest_report,
                "age_hours": None if self.age_hours is None else round(self.age_hours, 1), "note": self.note}  # fmt: skip


def inventory_status(conn: Connection, url: S3Url) -> list[InventoryStatus]:
    from s3safe.audit.inventory import locate_manifest, parse_manifest
    from s3safe.storage.reports import read_small

    source = bucket_of(url, "inventory status")
    out = []
    for listed in list_inventories(conn, source):
        config = get_inventory(conn, source, str(listed.get("Id", ""))) or listed
        dest = config.get("Destination", {}).get("S3BucketDestination", {})
        bucket = str(dest.get("Bucket", "")).removeprefix("arn:aws:s3:::")
        config_id = str(config.get("Id", ""))
        missing = tuple(f for f in AUDIT_FIELDS if f not in config.get("OptionalFields", []))
        newest = age = note = None
        try:
            dest_bucket, key = locate_manifest(conn, source, config_id=config_id)
            manifest = parse_manifest(read_small(conn, dest_bucket, key, limit=64 * 1024 * 1024), bucket=dest_bucket, key=key)
            newest, age = f"s3://{dest_bucket}/{key}", manifest.age_hours(datetime.now(UTC))
        except S3SafeError as exc:
            note = exc.message
        out.append(InventoryStatus(source, config_id, str(config.get("IsEnabled")).lower() == "true", f"s3://{bucket}/{dest.get('Prefix', '') or ''}",
                                   str(dest.get("Format", "")), str(config.get("Schedule", {}).get("Frequency", "")), missing,
                                   newest, age, note))  # fmt: skip
    return out
