"""rt18 F1: audit's suggested fix commands are pasted into a shell, so every name in them is one quoted shell word."""

from __future__ import annotations

import subprocess
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from s3safe.audit import AuditRequest, run_audit
from s3safe.core.locations import S3Url
from s3safe.storage.connection import Connection
from tests.functional.inventory_gen import Row, inventory_config, public_acl, upload_report

HOSTILE = "x$(touch {canary});y `touch {canary}` a b+c.txt"


def _argv_of(fix: str, tmp: Path) -> list[str]:
    """Run the fix with `s3safe` standing for a command that prints each argument NUL-terminated."""
    stub = tmp / "s3safe"
    stub.write_text("#!/bin/sh\nprintf '%s\\0' \"$@\"\n")
    stub.chmod(0o755)
    done = subprocess.run(["bash", "-c", fix.split(", then ")[0].removeprefix("upload it again, encrypted: ")],
                          env={"PATH": f"{tmp}:/usr/bin:/bin"}, capture_output=True, check=True, timeout=10)  # fmt: skip
    return done.stdout.decode().split("\0")[:-1]


def _check(fixes: dict[str, str], bucket: str, key: str, canary: Path, tmp: Path) -> None:
    assert set(fixes) == {"object-acl-public", "object-not-encrypted"}
    assert _argv_of(fixes["object-acl-public"], tmp) == ["acl", "set", "private", f"s3://{bucket}/{key}"]
    assert _argv_of(fixes["object-not-encrypted"], tmp) == ["get", f"s3://{bucket}/{key}", "FILE"]
    assert not canary.exists()  # nothing in the key ran


def test_object_scan_fix_commands_quote_a_hostile_key(moto_conn: Connection, moto_client: Any,
                                                      bucket_name: Callable[..., str], tmp_path: Path) -> None:  # fmt: skip
    bucket, canary = bucket_name("fixq"), tmp_path / "pwned"
    key = HOSTILE.format(canary=canary)
    moto_client.create_bucket(Bucket=bucket, ObjectOwnership="ObjectWriter")
    moto_client.put_object(Bucket=bucket, Key=key, Body=b"x", ACL="public-read")
    report = run_audit(moto_conn, AuditRequest((S3Url(bucket),), objects=True))
    _check({f.check_id: f.fix for f in report.findings if f.key == key}, bucket, key, canary, tmp_path)


def test_inventory_fix_commands_quote_a_hostile_key(moto_conn: Connection, moto_client: Any, tmp_path: Path) -> None:
    source, dest, canary = f"inv-src-{uuid.uuid4().hex[:10]}", f"inv-dst-{uuid.uuid4().hex[:10]}", tmp_path / "pwned"
    key = HOSTILE.format(canary=canary)
    moto_client.create_bucket(Bucket=source)
    moto_client.create_bucket(Bucket=dest)
    moto_client.put_bucket_inventory_configuration(Bucket=source, Id="s3safe",
                                                   InventoryConfiguration=inventory_config(dest, "inv", "s3safe", "CSV"))  # fmt: skip
    moto_client.put_object(Bucket=source, Key=key, Body=b"x")  # HEAD confirms it is unencrypted
    upload_report(moto_client, source=source, destination=dest, prefix="inv", config_id="s3safe",
                  rows=[Row(key, encryption="NOT-SSE", acl=public_acl())], fmt="CSV", created=datetime.now(UTC), tmp=tmp_path)  # fmt: skip
    report = run_audit(moto_conn, AuditRequest((S3Url(source),), inventory=True))
    _check({f.check_id: f.fix for f in report.findings if f.key == key}, source, key, canary, tmp_path)
