"""rt18 F15: `trail enable` and `inventory enable` check the trail name, --account and the retention options
before anything is written, so a name CloudTrail refuses leaves no grant, rule or bucket behind."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path
from subprocess import CompletedProcess
from typing import Any

import pytest

from s3safe.core.errors import UsageError
from s3safe.core.locations import S3Url
from s3safe.core.safety import SafetyGate
from s3safe.ops.inventory import InventoryRequest
from s3safe.ops.inventory import plan_enable as inventory_enable
from s3safe.ops.trail import TrailRequest
from s3safe.ops.trail import plan_enable as trail_enable
from s3safe.storage.connection import Connection
from tests.servers.moto import MotoServer


def _buckets(moto_client: Any) -> set[str]:
    return {b["Name"] for b in moto_client.list_buckets()["Buckets"]}


def test_bad_trail_names_and_accounts_are_refused_before_any_change(moto_conn: Connection, moto_client: Any) -> None:
    tag = uuid.uuid4().hex[:8]
    source, logs = f"tv-src-{tag}", f"tv-logs-{tag}"
    moto_client.create_bucket(Bucket=source)
    refused = [TrailRequest(S3Url(logs, "ct/"), 30, "bad name!"), TrailRequest(S3Url(logs, "ct/"), 30, "ab"),
               TrailRequest(S3Url(logs, "ct/"), 30, f"ok-{tag}", account="abc")]  # fmt: skip
    for request in refused:
        with pytest.raises(UsageError):
            list(trail_enable(moto_conn, S3Url(source), request, gate=SafetyGate()).results)
    with pytest.raises(UsageError, match="12-digit"):
        list(inventory_enable(moto_conn, S3Url(source), InventoryRequest(S3Url(logs, "inv/"), account="x*"), gate=SafetyGate()).results)
    assert logs not in _buckets(moto_client)  # nothing created, nothing granted


def test_retain_days_with_keep_forever_is_a_usage_error(run_cli: Callable[..., CompletedProcess[str]], moto: MotoServer, tmp_path: Path) -> None:
    result = run_cli("--endpoint-url", moto.endpoint_url, "--allow-http", "trail", "enable", "s3://any-bucket", "--target", "s3://logs/",
                     "--retain-days", "30", "--keep-forever", cwd=tmp_path)  # fmt: skip
    assert (result.returncode, result.stdout) == (2, "") and "contradict" in result.stderr, result.stderr


def test_batch_fix_options_are_checked_before_the_dry_run_plan(run_cli: Callable[..., CompletedProcess[str]], moto: MotoServer,
                                                               tmp_path: Path) -> None:  # fmt: skip
    """rt18 F12: a dry run must not accept a role or account AWS would refuse."""
    base = ("--endpoint-url", moto.endpoint_url, "--allow-http", "audit", "s3://any-bucket", "--inventory", "--fix", "--dry-run",
            "--batch-manifest", "s3://reports/batch/")  # fmt: skip
    for extra, message in ((("--batch-role", "notanarn"), "is not an IAM role ARN"), (("--account", "abc"), "12-digit")):
        result = run_cli(*base, *extra, cwd=tmp_path)
        assert (result.returncode, result.stdout) == (2, ""), result.stderr
        assert message in result.stderr
