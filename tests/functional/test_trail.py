"""`trail enable|status|disable` and the audit's bucket-activity-unrecorded check, against moto's CloudTrail."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from subprocess import CompletedProcess
from typing import Any

import boto3

from s3safe.audit import AuditRequest, run_audit
from s3safe.core.locations import S3Url
from s3safe.core.safety import SafetyGate
from s3safe.ops.trail import TrailRequest, plan_disable, plan_enable, trail_status
from s3safe.storage.connection import Connection
from tests.servers.moto import MotoServer

Run = Callable[..., CompletedProcess[str]]


def _clients(moto: MotoServer) -> tuple[Any, Any]:
    kw: dict[str, Any] = {"endpoint_url": moto.endpoint_url, "region_name": "us-east-1", "aws_access_key_id": moto.access_key,
                          "aws_secret_access_key": moto.secret_key}  # fmt: skip
    return boto3.client("s3", **kw), boto3.client("cloudtrail", **kw)


def _names() -> tuple[str, str, str, str]:
    tag = uuid.uuid4().hex[:10]
    return f"tr-a-{tag}", f"tr-b-{tag}", f"tr-logs-{tag}", f"trail-{tag}"


def test_enable_dry_run_shows_the_cost_first_and_creates_nothing(run_cli: Run, moto: MotoServer) -> None:
    s3, ct = _clients(moto)
    a, _, logs, name = _names()
    s3.create_bucket(Bucket=a)
    result = run_cli("--endpoint-url", moto.endpoint_url, "--allow-http", "trail", "enable", f"s3://{a}", "--target", f"s3://{logs}/ct/",
                     "--trail", name, "--dry-run")  # fmt: skip
    assert result.returncode == 0, result.stderr
    err_lines = result.stderr.splitlines()
    assert any("billed per 100,000" in line or "per 100,000 delivered" in line for line in err_lines + result.stdout.splitlines())
    out = result.stdout
    assert "would apply create-trail" in out and "would apply event-selector" in out and "would apply start-logging" in out
    assert name not in [t["Name"] for t in ct.describe_trails()["trailList"]]
    assert logs not in [b["Name"] for b in s3.list_buckets()["Buckets"]]


def test_enable_status_disable_on_one_trail_for_two_buckets(moto: MotoServer, moto_conn: Connection) -> None:
    s3, ct = _clients(moto)
    a, b, logs, name = _names()
    for bucket in (a, b):
        s3.create_bucket(Bucket=bucket)
    request = TrailRequest(S3Url(logs, "ct/"), 90, name)
    results = list(plan_enable(moto_conn, S3Url(a), request, gate=SafetyGate()).results)
    assert [r.action for r in results] == ["create-bucket", "grant-cloudtrail-delivery", "log-retention", "create-trail",
                                           "event-selector", "start-logging"] and all(r.ok for r in results)  # fmt: skip
    trail = ct.get_trail(Name=name)["Trail"]
    assert trail["S3BucketName"] == logs and trail["S3KeyPrefix"] == "ct" and ct.get_trail_status(Name=name)["IsLogging"]
    selectors = ct.get_event_selectors(TrailName=name)["AdvancedEventSelectors"]
    assert selectors == [{"Name": f"s3safe: object events of s3://{a}", "FieldSelectors": [
        {"Field": "eventCategory", "Equals": ["Data"]}, {"Field": "resources.type", "Equals": ["AWS::S3::Object"]},
        {"Field": "resources.ARN", "StartsWith": [f"arn:aws:s3:::{a}/"]}]}]  # fmt: skip
    policy = json.loads(s3.get_bucket_policy(Bucket=logs)["Policy"])
    write = next(s for s in policy["Statement"] if s["Action"] == "s3:PutObject")
    assert write["Principal"] == {"Service": "cloudtrail.amazonaws.com"} and write["Resource"].startswith(f"arn:aws:s3:::{logs}/ct/AWSLogs/")
    assert write["Condition"]["StringEquals"]["aws:SourceArn"].endswith(f":trail/{name}")
    rules = s3.get_bucket_lifecycle_configuration(Bucket=logs)["Rules"]
    assert [r["Expiration"]["Days"] for r in rules] == [90]
    assert s3.get_public_access_block(Bucket=logs)["PublicAccessBlockConfiguration"]["BlockPublicPolicy"]

    list(plan_enable(moto_conn, S3Url(b), TrailRequest(trail=name), gate=SafetyGate()).results)  # the same trail, no --target
    assert len(ct.get_event_selectors(TrailName=name)["AdvancedEventSelectors"]) == 2
    assert plan_enable(moto_conn, S3Url(b), TrailRequest(trail=name), gate=SafetyGate()).steps == []  # already recorded
    assert [c.trail for c in trail_status(moto_conn, S3Url(a)).recorded_by] == [name]

    list(plan_disable(moto_conn, S3Url(a), trail=name, gate=SafetyGate()).results)
    left = ct.get_event_selectors(TrailName=name)["AdvancedEventSelectors"]
    assert [s["Name"] for s in left] == [f"s3safe: object events of s3://{b}"]
    assert trail_status(moto_conn, S3Url(a)).recorded_by == ()
    list(plan_disable(moto_conn, S3Url(b), trail=name, gate=SafetyGate()).results)  # the last bucket: the trail stops
    assert not ct.get_trail_status(Name=name)["IsLogging"]
    status = trail_status(moto_conn, S3Url(b))
    assert status.recorded_by == () and [c.trail for c in status.stopped] == [name]


def test_audit_flags_a_bucket_recorded_by_neither_access_logs_nor_cloudtrail(moto: MotoServer, moto_conn: Connection) -> None:
    s3, _ = _clients(moto)
    a, logged, logs, name = _names()
    for bucket in (a, logged):
        s3.create_bucket(Bucket=bucket)
    s3.create_bucket(Bucket=logs, ObjectOwnership="ObjectWriter")
    s3.put_bucket_acl(Bucket=logs, ACL="log-delivery-write")  # what moto wants before logging may point there
    s3.put_bucket_logging(Bucket=logged, BucketLoggingStatus={"LoggingEnabled": {"TargetBucket": logs, "TargetPrefix": "x/"}})
    request = AuditRequest((S3Url(a), S3Url(logged)), checks=("bucket-activity-unrecorded",))
    fired = [(f.bucket, f.check_id) for f in run_audit(moto_conn, request).findings]
    assert fired == [(a, "bucket-activity-unrecorded")]
    list(plan_enable(moto_conn, S3Url(a), TrailRequest(S3Url(logs, "ct/"), 30, name), gate=SafetyGate()).results)
    assert run_audit(moto_conn, request).findings == []


def test_debug_logs_the_cloudtrail_requests_too(run_cli: Run, moto: MotoServer) -> None:
    s3, _ = _clients(moto)
    a, *_ = _names()
    s3.create_bucket(Bucket=a)
    result = run_cli("--endpoint-url", moto.endpoint_url, "--allow-http", "--debug", "trail", "status", f"s3://{a}")
    assert result.returncode == 0, result.stderr
    assert "via=botocore:DescribeTrails" in result.stderr and "status=200" in result.stderr
