"""`s3safe audit` as a user runs it: usage errors, exit codes, JSON lines, and no tracebacks."""

from __future__ import annotations

import json
from collections.abc import Callable
from subprocess import CompletedProcess
from typing import Any

import boto3
import pytest

from s3safe.audit.checks import ALL_CHECKS
from tests.servers.moto import MotoServer

Run = Callable[..., CompletedProcess[str]]
NOWHERE = ("--endpoint-url", "https://127.0.0.1:9")  # every usage error is caught before any request


def _one_line_error(result: CompletedProcess[str]) -> str:
    assert "Traceback" not in result.stderr and "Traceback" not in result.stdout
    errors = [line for line in result.stderr.splitlines() if line.startswith("s3safe: error:")]
    assert len(errors) == 1, result.stderr
    return errors[0]


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        ((), "say what to audit"),
        (("s3://b-bucket", "--all"), "not both"),
        (("s3://b-bucket/key",), "takes a bucket"),
        (("s3://b-bucket", "--dry-run"), "add --fix"),
        (("s3://b-bucket", "--log-target", "s3://logs/"), "go with --fix"),
        (("s3://b-bucket", "--sample", "10"), "add --objects"),
        (("s3://b-bucket", "--resume"), "add --objects"),
        (("s3://b-bucket", "--objects", "--sample", "0"), "--sample must be 1 or more"),
        (("s3://b-bucket", "--check", "bucket-cors-wildcrd"), "did you mean bucket-cors-wildcard"),
        (("s3://b-bucket", "--fail-on", "severe"), "'severe' is not one of"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(run_cli: Run, args: tuple[str, ...], needle: str) -> None:
    result = run_cli(*NOWHERE, "audit", *args)
    assert result.returncode == 2, result.stderr
    assert needle in _one_line_error(result)


def test_list_checks(run_cli: Run) -> None:
    text = run_cli("audit", "--list-checks")
    assert text.returncode == 0 and all(c.id in text.stdout for c in ALL_CHECKS)
    records = [json.loads(line) for line in run_cli("--json", "audit", "--list-checks").stdout.splitlines()]
    assert [r["id"] for r in records] == [c.id for c in ALL_CHECKS] and all(r["why"] for r in records)


@pytest.fixture
def audit(run_cli: Run, moto: MotoServer) -> Run:
    def run(*args: str) -> CompletedProcess[str]:
        return run_cli("--endpoint-url", moto.endpoint_url, "--allow-http", "audit", *args)

    return run


@pytest.fixture
def plain_bucket(moto: MotoServer, bucket_name: Callable[[], str]) -> str:
    client: Any = boto3.client("s3", endpoint_url=moto.endpoint_url, region_name="us-east-1",
                               aws_access_key_id=moto.access_key, aws_secret_access_key=moto.secret_key)  # fmt: skip
    name = bucket_name("audit-cli")
    client.create_bucket(Bucket=name, ObjectOwnership="ObjectWriter")
    return name


def test_exit_code_follows_fail_on(audit: Run, plain_bucket: str) -> None:
    high = audit(f"s3://{plain_bucket}")  # no Block Public Access: high
    assert high.returncode == 8
    assert "audit found 1 problem(s) of severity high or worse" in _one_line_error(high)
    assert "bucket-public-access-block" in high.stdout and "why these matter:" in high.stdout
    assert audit(f"s3://{plain_bucket}", "--fail-on", "critical").returncode == 0
    only = audit(f"s3://{plain_bucket}", "--check", "bucket-versioning-off", "--fail-on", "medium")
    assert only.returncode == 8 and "bucket-public-access-block" not in only.stdout


def test_json_mode_prints_only_json_lines(audit: Run, plain_bucket: str) -> None:
    result = audit(f"s3://{plain_bucket}", "--json", "--fail-on", "low")
    assert result.returncode == 8
    records = [json.loads(line) for line in result.stdout.splitlines()]  # every line parses
    assert {r["type"] for r in records} == {"bucket", "finding", "summary"}
    errors = [json.loads(line) for line in result.stderr.splitlines() if line.startswith("{")]
    assert errors[-1]["type"] == "error" and errors[-1]["exit_code"] == 8


def test_missing_bucket_is_exit_3(audit: Run, bucket_name: Callable[[], str]) -> None:
    result = audit(f"s3://{bucket_name('missing')}")
    assert result.returncode == 3, result.stderr
    assert "not found" in _one_line_error(result).lower()


def test_fix_dry_run_changes_nothing_and_shows_the_plan(audit: Run, plain_bucket: str, moto: MotoServer) -> None:
    moto.start_recording()
    dry = audit(f"s3://{plain_bucket}", "--fix", "--dry-run", "--fail-on", "critical")
    # STS GetCallerIdentity is a POST too; S3 writes name the bucket
    writes = [r for r in moto.stop_recording() if r["method"] in ("PUT", "POST", "DELETE") and plain_bucket in r["url"]]
    assert dry.returncode == 0, dry.stderr
    assert f"s3safe harden s3://{plain_bucket} --versioning" in dry.stdout
    assert "block public access: not set -> all four settings on" in dry.stdout
    assert "dry run:" in dry.stdout and "nothing was changed" in dry.stdout
    assert writes == []
