"""The audit's public-policy check against policies stored on a real server (moto keeps them, enforces none):
conditions that look restrictive but let anyone in must be reported, the way `policy simulate` decides them."""

from __future__ import annotations

import json
from collections.abc import Callable
from subprocess import CompletedProcess
from typing import Any

import pytest

from tests.servers.moto import MotoServer

Run = Callable[..., CompletedProcess[str]]


def _policy(bucket: str, condition: dict[str, Any]) -> str:
    statement = {"Sid": "Office", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
                 "Resource": f"arn:aws:s3:::{bucket}/*", "Condition": condition}  # fmt: skip
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


def _audit(run_cli: Run, moto: MotoServer, bucket: str) -> CompletedProcess[str]:
    return run_cli("--endpoint-url", moto.endpoint_url, "--allow-http", "audit", f"s3://{bucket}", "--check",
                   "bucket-policy-public", "--json")  # fmt: skip


@pytest.mark.parametrize(
    "condition",
    [
        {"IpAddress": {"aws:SourceIp": "0.0.0.0/0"}},
        {"IpAddress": {"aws:SourceIp": ["0.0.0.0/1", "128.0.0.0/1"]}},
        {"IpAddress": {"aws:SourceIp": "::/0"}},
        {"StringLike": {"aws:SourceAccount": "*"}},
        {"StringLike": {"aws:PrincipalOrgID": "*"}},
    ],
    ids=["all-ipv4", "two-halves", "all-ipv6", "any-source-account", "any-org"],
)
def test_policies_that_only_look_restricted_are_reported_public(
    run_cli: Run, moto: MotoServer, moto_client: Any, bucket_name: Callable[[str], str], condition: dict[str, Any]
) -> None:
    bucket = bucket_name("pubcond")
    moto_client.create_bucket(Bucket=bucket)
    moto_client.put_bucket_policy(Bucket=bucket, Policy=_policy(bucket, condition))
    result = _audit(run_cli, moto, bucket)
    assert result.returncode == 8, (result.stdout, result.stderr)
    findings = [json.loads(line) for line in result.stdout.splitlines() if '"finding"' in line]
    assert [(f["check"], f["bucket"]) for f in findings] == [("bucket-policy-public", bucket)]
    assert "Office" in findings[0]["found"] and "s3:GetObject" in findings[0]["found"]


def test_the_audit_agrees_with_policy_simulate(run_cli: Run, moto: MotoServer, moto_client: Any,
                                               bucket_name: Callable[[str], str]) -> None:  # fmt: skip
    """0.0.0.0/0: `policy simulate` lets an anonymous caller from any address in, so the audit must not pass it;
    a /24 office range keeps the caller out, and the audit passes it (exit 0)."""
    bucket = bucket_name("pubcond")
    moto_client.create_bucket(Bucket=bucket)
    base = ("--endpoint-url", moto.endpoint_url, "--allow-http", "--json", "policy", "simulate", f"s3://{bucket}",
            "--action", "s3:GetObject", "--key", "report.pdf", "--source-ip", "198.51.100.7")  # fmt: skip
    moto_client.put_bucket_policy(Bucket=bucket, Policy=_policy(bucket, {"IpAddress": {"aws:SourceIp": "0.0.0.0/0"}}))
    simulated = run_cli(*base)
    assert simulated.returncode == 0, simulated.stderr
    assert json.loads(simulated.stdout)["decision"] == "allow"
    assert _audit(run_cli, moto, bucket).returncode == 8

    moto_client.put_bucket_policy(Bucket=bucket, Policy=_policy(bucket, {"IpAddress": {"aws:SourceIp": "192.0.2.0/24"}}))
    simulated = run_cli(*base)
    assert json.loads(simulated.stdout)["decision"] == "implicit-deny"
    passed = _audit(run_cli, moto, bucket)
    assert passed.returncode == 0, (passed.stdout, passed.stderr)
    assert '"finding"' not in passed.stdout


def _get_statement(bucket: str, **rest: Any) -> dict[str, Any]:
    return {"Sid": "Open", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
            "Resource": f"arn:aws:s3:::{bucket}/*", **rest}  # fmt: skip


@pytest.mark.parametrize(
    ("extra", "key"),
    [
        ({"Condition": {"Null": {"aws:SourceIp": "false"}}}, "report.pdf"),  # the key is always present
        ({"Condition": {"StringLike": {"aws:SourceIp": "*"}}}, "report.pdf"),
        (None, "public/x"),  # with a Deny on everything outside public/: GetObject inside it is open
    ],
    ids=["null-source-ip", "any-source-ip", "deny-not-resource"],
)
def test_what_simulate_allows_an_anonymous_caller_the_audit_reports(
    run_cli: Run, moto: MotoServer, moto_client: Any, bucket_name: Callable[[str], str], extra: dict[str, Any] | None,
    key: str,
) -> None:  # fmt: skip
    bucket = bucket_name("pubgap")
    moto_client.create_bucket(Bucket=bucket)
    statements = [_get_statement(bucket, **(extra or {}))]
    if extra is None:
        statements.append({"Sid": "Fence", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
                           "NotResource": f"arn:aws:s3:::{bucket}/public/*"})  # fmt: skip
    moto_client.put_bucket_policy(Bucket=bucket, Policy=json.dumps({"Version": "2012-10-17", "Statement": statements}))
    simulated = run_cli("--endpoint-url", moto.endpoint_url, "--allow-http", "--json", "policy", "simulate",
                        f"s3://{bucket}", "--action", "s3:GetObject", "--key", key, "--source-ip", "198.51.100.7")  # fmt: skip
    assert simulated.returncode == 0, simulated.stderr
    assert json.loads(simulated.stdout)["decision"] == "allow"
    result = _audit(run_cli, moto, bucket)
    assert result.returncode == 8, (result.stdout, result.stderr)
    findings = [json.loads(line) for line in result.stdout.splitlines() if '"finding"' in line]
    assert [(f["check"], f["bucket"]) for f in findings] == [("bucket-policy-public", bucket)]
    assert "statement Open allows s3:GetObject" in findings[0]["found"]
