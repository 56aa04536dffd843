"""`logging enable|status|disable` and `harden` against moto, read back with an independent boto3 client."""

from __future__ import annotations

import json
from collections.abc import Callable
from subprocess import CompletedProcess
from typing import Any

import pytest
from botocore.exceptions import ClientError

from s3safe.core.errors import UsageError
from s3safe.core.locations import S3Url
from s3safe.core.safety import SafetyGate
from s3safe.ops.access_logging import plan_enable
from s3safe.security.log_delivery import retention_rule_id
from s3safe.storage.connection import Connection
from tests.servers.moto import MotoServer

Run = Callable[..., CompletedProcess[str]]
BLOCK_ALL = {"BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True, "RestrictPublicBuckets": True}
OLD_RULE = {"ID": "expire-scratch", "Status": "Enabled", "Filter": {"Prefix": "scratch/"}, "Expiration": {"Days": 3}}


@pytest.fixture
def cli(run_cli: Run, moto: MotoServer) -> Run:
    def run(*args: str) -> CompletedProcess[str]:
        return run_cli("--endpoint-url", moto.endpoint_url, "--allow-http", *args)

    return run


@pytest.fixture
def make(moto_client: Any, bucket_name: Callable[[], str]) -> Callable[..., str]:
    def create(**params: Any) -> str:
        name = bucket_name()
        moto_client.create_bucket(Bucket=name, **params)
        return name

    return create


def _requests(moto: MotoServer, method: str) -> list[dict[str, Any]]:
    return [r for r in moto.stop_recording() if r["method"] == method]


# ------------------------------------------------------------------------------------------ logging


def test_logging_enable_points_at_the_target_keeps_lifecycle_and_grants_the_service(
    cli: Run, moto: MotoServer, moto_client: Any, make: Callable[..., str]
) -> None:
    source, target = make(), make()
    moto_client.put_bucket_lifecycle_configuration(Bucket=target, LifecycleConfiguration={"Rules": [OLD_RULE]})
    result = cli("logging", "enable", f"s3://{source}", "--target", f"s3://{target}/logs/", "--retain-days", "30")
    assert result.returncode == 0, result.stderr

    enabled = moto_client.get_bucket_logging(Bucket=source)["LoggingEnabled"]
    assert (enabled["TargetBucket"], enabled["TargetPrefix"]) == (target, "logs/")
    rules = {r["ID"]: r for r in moto_client.get_bucket_lifecycle_configuration(Bucket=target)["Rules"]}
    assert rules["expire-scratch"] == OLD_RULE  # merged, never replaced
    retention = rules[retention_rule_id("logs/")]  # one rule per exact prefix
    assert (retention["Filter"], retention["Expiration"], retention["Status"]) == ({"Prefix": "logs/"}, {"Days": 30}, "Enabled")
    grant = json.loads(moto_client.get_bucket_policy(Bucket=target)["Policy"])["Statement"][0]
    assert grant["Principal"] == {"Service": "logging.s3.amazonaws.com"}
    assert grant["Resource"] == f"arn:aws:s3:::{target}/logs/*"
    assert grant["Condition"] == {
        "ArnLike": {"aws:SourceArn": f"arn:aws:s3:::{source}"},
        "StringEquals": {"aws:SourceAccount": "123456789012"},  # moto's account, from STS GetCallerIdentity
    }

    moto.start_recording()
    again = cli("logging", "enable", f"s3://{source}", "--target", f"s3://{target}/logs/", "--retain-days", "30")
    assert _requests(moto, "PUT") == []
    assert again.returncode == 0 and "no change" in again.stdout

    status = json.loads(cli("logging", "status", f"s3://{source}", "--json").stdout)
    assert (status["enabled"], status["target_bucket"], status["retention_days"], status["delivery_allowed"]) == (True, target, 30, True)


def test_logging_enable_creates_a_hardened_target_and_disable_turns_it_off(
    cli: Run, moto_client: Any, make: Callable[..., str], bucket_name: Callable[[], str]
) -> None:
    source, target = make(), bucket_name("logs")
    dry = cli("logging", "enable", f"s3://{source}", "--target", f"s3://{target}", "--dry-run")
    assert dry.returncode == 0 and "(dry run) would apply create-bucket" in dry.stdout
    with pytest.raises(ClientError):
        moto_client.head_bucket(Bucket=target)

    assert cli("logging", "enable", f"s3://{source}", "--target", f"s3://{target}").returncode == 0
    assert moto_client.get_public_access_block(Bucket=target)["PublicAccessBlockConfiguration"] == BLOCK_ALL
    assert moto_client.get_bucket_ownership_controls(Bucket=target)["OwnershipControls"]["Rules"][0]["ObjectOwnership"] == "BucketOwnerEnforced"
    assert moto_client.get_bucket_logging(Bucket=source)["LoggingEnabled"]["TargetPrefix"] == f"{source}/"

    off = cli("logging", "disable", f"s3://{source}")
    assert off.returncode == 0, off.stderr
    assert "LoggingEnabled" not in moto_client.get_bucket_logging(Bucket=source)
    assert "logging is off" in cli("logging", "status", f"s3://{source}").stdout


def test_logging_refuses_a_target_whose_policy_would_block_delivery(moto_conn: Connection, moto_client: Any, make: Callable[..., str]) -> None:
    source, target = make(), make()
    allow_list = {
        "Sid": "OfficeOnly", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
        "Resource": [f"arn:aws:s3:::{target}", f"arn:aws:s3:::{target}/*"],
        "Condition": {"NotIpAddress": {"aws:SourceIp": "192.0.2.0/24"}},
    }  # fmt: skip
    moto_client.put_bucket_policy(Bucket=target, Policy=json.dumps({"Version": "2012-10-17", "Statement": [allow_list]}))
    with pytest.raises(UsageError, match="would still refuse log delivery: OfficeOnly"):
        plan_enable(moto_conn, S3Url(source), S3Url(target, "logs/"), gate=SafetyGate())
    assert "LoggingEnabled" not in moto_client.get_bucket_logging(Bucket=source)


# ------------------------------------------------------------------------------------------- harden


def test_harden_applies_every_setting_and_reports_before_and_after(cli: Run, moto_client: Any, make: Callable[..., str]) -> None:
    name = make(ObjectOwnership="ObjectWriter")
    moto_client.put_object(Bucket=name, Key="private.txt", Body=b"x")  # owner-only ACL: nothing changes meaning
    dry = cli("harden", f"s3://{name}", "--versioning", "--dry-run")
    assert dry.returncode == 0 and "dry run: 5 change(s) planned" in dry.stdout
    with pytest.raises(ClientError):
        moto_client.get_public_access_block(Bucket=name)

    result = cli("harden", f"s3://{name}", "--versioning")
    assert result.returncode == 0, result.stderr
    assert "object ownership: ObjectWriter -> BucketOwnerEnforced (ACLs disabled)" in result.stdout  # shown before
    report = {line.split("  ")[0]: line for line in result.stdout.splitlines()}
    assert "all four settings on" in report["block public access"] and "not set" in report["block public access"]
    assert moto_client.get_public_access_block(Bucket=name)["PublicAccessBlockConfiguration"] == BLOCK_ALL
    assert moto_client.get_bucket_ownership_controls(Bucket=name)["OwnershipControls"]["Rules"][0]["ObjectOwnership"] == "BucketOwnerEnforced"
    encryption = moto_client.get_bucket_encryption(Bucket=name)["ServerSideEncryptionConfiguration"]["Rules"][0]
    assert encryption["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    statement = json.loads(moto_client.get_bucket_policy(Bucket=name)["Policy"])["Statement"][0]
    assert (statement["Sid"], statement["Condition"]) == ("S3SafeDenyInsecureTransport", {"Bool": {"aws:SecureTransport": "false"}})
    assert moto_client.get_bucket_versioning(Bucket=name)["Status"] == "Enabled"

    again = cli("harden", f"s3://{name}", "--versioning")
    assert again.returncode == 0 and "already hardened" in again.stdout


def test_harden_keeps_kms_default_encryption(cli: Run, moto_client: Any, make: Callable[..., str]) -> None:
    name = make()
    kms = {"Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": "alias/backups"}}]}
    moto_client.put_bucket_encryption(Bucket=name, ServerSideEncryptionConfiguration=kms)
    result = cli("harden", f"s3://{name}")
    assert result.returncode == 0, result.stderr
    assert "already uses KMS; kept" in result.stdout
    rule = moto_client.get_bucket_encryption(Bucket=name)["ServerSideEncryptionConfiguration"]["Rules"][0]
    assert rule["ApplyServerSideEncryptionByDefault"] == kms["Rules"][0]["ApplyServerSideEncryptionByDefault"]


def test_harden_refuses_to_disable_acls_that_objects_rely_on(cli: Run, moto_client: Any, make: Callable[..., str]) -> None:
    name = make(ObjectOwnership="ObjectWriter")
    moto_client.put_object(Bucket=name, Key="shared/report.pdf", Body=b"x", ACL="public-read")
    refused = cli("harden", f"s3://{name}")
    assert refused.returncode == 7, refused.stderr
    assert f"s3://{name}/shared/report.pdf grants READ to AllUsers" in refused.stderr
    assert "Traceback" not in refused.stderr
    with pytest.raises(ClientError):  # refused before any change
        moto_client.get_public_access_block(Bucket=name)

    kept = cli("harden", f"s3://{name}", "--keep-acls")
    assert kept.returncode == 0, kept.stderr
    assert moto_client.get_public_access_block(Bucket=name)["PublicAccessBlockConfiguration"] == BLOCK_ALL
    rules = moto_client.get_bucket_ownership_controls(Bucket=name)["OwnershipControls"]["Rules"]
    assert rules[0]["ObjectOwnership"] == "ObjectWriter"  # ACLs stay enabled
