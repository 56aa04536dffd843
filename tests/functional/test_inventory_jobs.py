"""`inventory enable|status` on moto; S3 Batch Operations: the CreateJob request checked against botocore's
service model (no local server implements S3 Control jobs), completion reports read back from a moto bucket."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from subprocess import CompletedProcess
from typing import Any

import boto3
import pytest

from s3safe.audit.batch_fix import BatchOptions, manifest_csv, plan_batch, run_batch
from s3safe.audit.checks.objects import OBJECT_ACL_PUBLIC
from s3safe.core.errors import IntegrityError
from s3safe.core.locations import S3Url
from s3safe.storage.batch import AclJobSpec, BatchJobs, acl_job_request
from s3safe.storage.connection import Connection
from tests.functional.inventory_gen import Row, upload_report
from tests.servers.moto import MotoServer

Run = Callable[..., CompletedProcess[str]]
ACCOUNT = "123456789012"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/s3safe-batch"


def _client(moto: MotoServer) -> Any:
    return boto3.client("s3", endpoint_url=moto.endpoint_url, region_name="us-east-1",
                        aws_access_key_id=moto.access_key, aws_secret_access_key=moto.secret_key)  # fmt: skip


def test_inventory_enable_creates_a_hardened_destination_grants_delivery_and_configures_every_audit_field(
    run_cli: Run, moto: MotoServer, moto_conn: Connection, tmp_path: Path
) -> None:
    from s3safe.core.safety import SafetyGate
    from s3safe.ops.inventory import InventoryRequest, inventory_status, plan_enable

    c = _client(moto)
    source, dest = f"inv-src-{uuid.uuid4().hex[:10]}", f"inv-dst-{uuid.uuid4().hex[:10]}"
    c.create_bucket(Bucket=source)
    base = ("--endpoint-url", moto.endpoint_url, "--allow-http")
    dry = run_cli(*base, "inventory", "enable", f"s3://{source}", "--destination", f"s3://{dest}/inv/", "--dry-run")
    assert dry.returncode == 0, dry.stderr
    assert "would apply put-inventory" in dry.stdout and dest not in [b["Name"] for b in c.list_buckets()["Buckets"]]
    request = InventoryRequest(S3Url(dest, "inv/"), "CSV")
    results = list(plan_enable(moto_conn, S3Url(source), request, gate=SafetyGate()).results)
    assert [r.action for r in results] == ["create-bucket", "grant-inventory-delivery", "put-inventory"] and all(r.ok for r in results)
    config = c.get_bucket_inventory_configuration(Bucket=source, Id="s3safe")["InventoryConfiguration"]
    s3dest = config["Destination"]["S3BucketDestination"]
    assert (s3dest["Bucket"], s3dest["Format"], s3dest["Prefix"]) == (f"arn:aws:s3:::{dest}", "CSV", "inv")
    assert set(config["OptionalFields"]) >= {"EncryptionStatus", "ObjectAccessControlList", "ObjectOwner", "ChecksumAlgorithm",
                                             "LastModifiedDate", "Size", "StorageClass"}  # fmt: skip
    policy = json.loads(c.get_bucket_policy(Bucket=dest)["Policy"])
    grant = next(s for s in policy["Statement"] if s["Principal"] == {"Service": "s3.amazonaws.com"})
    assert grant["Resource"] == f"arn:aws:s3:::{dest}/inv/*" and grant["Condition"]["ArnLike"]["aws:SourceArn"] == f"arn:aws:s3:::{source}"
    assert c.get_public_access_block(Bucket=dest)["PublicAccessBlockConfiguration"]["BlockPublicAcls"]  # created hardened
    assert plan_enable(moto_conn, S3Url(source), request, gate=SafetyGate()).steps == []  # the same again changes nothing

    (before,) = inventory_status(moto_conn, S3Url(source))
    assert before.newest_report is None and before.missing_fields == () and before.note and "no inventory report" in before.note
    upload_report(c, source=source, destination=dest, prefix="inv", config_id="s3safe", rows=[Row("a")], fmt="CSV",
                  created=datetime.now(UTC) - timedelta(hours=5), tmp=tmp_path)  # fmt: skip
    status = json.loads(run_cli(*base, "--json", "inventory", "status", f"s3://{source}").stdout.splitlines()[0])
    assert status["newest_report"].endswith("/manifest.json") and 4.9 < status["age_hours"] < 5.2


def _validate_against_model(operation: str, params: dict[str, Any]) -> None:
    import botocore.session
    from botocore.validate import ParamValidator

    model = botocore.session.get_session().get_service_model("s3control").operation_model(operation)
    report = ParamValidator().validate(params, model.input_shape)
    assert not report.has_errors(), report.generate_report()


def test_the_create_job_request_matches_botocores_s3control_model_and_the_manifest_exactly_the_keys(moto: MotoServer,
                                                                                                    moto_conn: Connection) -> None:  # fmt: skip
    """No local server implements CreateJob: the request is checked against the service model, the manifest
    and the rest of the run against moto."""
    from botocore.stub import ANY, Stubber

    c = _client(moto)
    bucket, reports = f"batch-src-{uuid.uuid4().hex[:10]}", f"batch-rep-{uuid.uuid4().hex[:10]}"
    c.create_bucket(Bucket=reports)
    keys = ["b/x.txt", "a b+c,d%.txt", "ü/ñ"]
    findings = [OBJECT_ACL_PUBLIC.finding(bucket, "public", fix="", key=k) for k in keys]
    plan = plan_batch(bucket, findings, BatchOptions(S3Url(reports, "jobs"), ROLE, ACCOUNT), account=None)
    _validate_against_model("CreateJob", acl_job_request(AclJobSpec(ACCOUNT, reports, plan.manifest_key, "0" * 32, reports,
                                                                    plan.report_prefix, ROLE, plan.token, "d")))  # fmt: skip
    jobs = BatchJobs(moto_conn, account=ACCOUNT)
    stub = Stubber(jobs.client)
    stub.add_response("create_job", {"JobId": "a1b2c3d4-job"}, expected_params={
        "AccountId": ACCOUNT, "ConfirmationRequired": False, "Priority": 10, "RoleArn": ROLE, "ClientRequestToken": plan.token,
        "Description": ANY,
        "Operation": {"S3PutObjectAcl": {"AccessControlPolicy": {"CannedAccessControlList": "private"}}},
        "Manifest": {"Spec": {"Format": "S3BatchOperations_CSV_20180820", "Fields": ["Bucket", "Key"]},
                     "Location": {"ObjectArn": f"arn:aws:s3:::{reports}/{plan.manifest_key}", "ETag": ANY}},
        "Report": {"Bucket": f"arn:aws:s3:::{reports}", "Format": "Report_CSV_20180820", "Enabled": True,
                   "Prefix": plan.report_prefix, "ReportScope": "AllTasks"},
    })  # fmt: skip
    with stub:
        results = list(run_batch(moto_conn, plan, jobs=jobs))
    stub.assert_no_pending_responses()
    assert [r.action for r in results] == ["write-manifest", "create-batch-job"] and results[1].target == "a1b2c3d4-job"
    stored = c.get_object(Bucket=reports, Key=plan.manifest_key)
    body = stored["Body"].read().decode()
    assert body == manifest_csv(bucket, plan.keys)
    from urllib.parse import unquote

    assert sorted(unquote(line.split(",", 1)[1]) for line in body.splitlines()) == sorted(keys)
    assert stored["ServerSideEncryption"] == "AES256"


def _report(c: Any, bucket: str, prefix: str, job: str, rows: list[list[str]], *, corrupt: bool = False) -> None:
    text = io.StringIO()
    csv.writer(text, lineterminator="\n").writerows(rows)
    body = text.getvalue().encode()
    key = f"{prefix}/job-{job}/results/{hashlib.sha1(body).hexdigest()}.csv"
    c.put_object(Bucket=bucket, Key=key, Body=body + (b"x" if corrupt else b""))
    manifest = {"Format": "Report_CSV_20180820", "ReportCreationDate": "2026-12-06T01:00:00.000Z",
                "Results": [{"TaskExecutionStatus": "succeeded", "Bucket": bucket, "MD5Checksum": hashlib.md5(body).hexdigest(), "Key": key}],
                "ReportSchema": "Bucket, Key, VersionId, TaskStatus, ErrorCode, HTTPStatusCode, ResultMessage"}  # fmt: skip
    c.put_object(Bucket=bucket, Key=f"{prefix}/job-{job}/manifest.json", Body=json.dumps(manifest).encode())


def test_jobs_report_reads_a_completion_report_into_fixed_and_failed(run_cli: Run, moto: MotoServer) -> None:
    c = _client(moto)
    bucket, job = f"batch-rep-{uuid.uuid4().hex[:10]}", "f8fb9d89-a3aa-461d-bddc-ea6a1b131955"
    c.create_bucket(Bucket=bucket)
    _report(c, bucket, "jobs/src/20261206T010000Z/reports", job, [
        ["src", "data/1.txt", "", "succeeded", "200", "", "Successful"],
        ["src", "odd%20name%2C.txt", "", "succeeded", "200", "", "Successful"],
        ["src", "data/2.txt", "", "failed", "403", "AccessDenied", "Access Denied"],
    ])  # fmt: skip
    result = run_cli("--endpoint-url", moto.endpoint_url, "--allow-http", "--json", "jobs", "report", job, "--from",
                     f"s3://{bucket}/jobs/src/20261206T010000Z/reports/")  # fmt: skip
    assert result.returncode == 5, result.stderr  # a failed task is a partial failure
    records = [json.loads(line) for line in result.stdout.splitlines()]
    summary = next(r for r in records if r["type"] == "job-report")
    assert (summary["fixed"], summary["failed"]) == (2, 1)
    failed = [r for r in records if r["type"] == "task"]
    assert failed == [{"type": "task", "status": "failed", "url": "s3://src/data/2.txt", "error": "403 AccessDenied: Access Denied"}]


def test_a_changed_completion_report_is_refused(moto: MotoServer, moto_conn: Connection) -> None:
    from s3safe.ops.jobs import read_completion_report

    c = _client(moto)
    bucket = f"batch-rep-{uuid.uuid4().hex[:10]}"
    c.create_bucket(Bucket=bucket)
    _report(c, bucket, "r", "job1", [["src", "k", "", "succeeded", "200", "", "Successful"]], corrupt=True)
    with pytest.raises(IntegrityError, match="does not match the MD5"):
        read_completion_report(moto_conn, S3Url(bucket, "r/"), "job1")


def test_jobs_status_and_ls_read_describe_job_and_list_jobs_answers(moto_conn: Connection, monkeypatch: pytest.MonkeyPatch) -> None:
    """No local server implements DescribeJob/ListJobs: botocore's stubber checks the requests and the answers
    against the s3control model, and s3safe's reading of them is what is tested."""
    from botocore.stub import Stubber

    from s3safe.ops.jobs import job_status, list_jobs

    client = BatchJobs(moto_conn, account=ACCOUNT).client
    monkeypatch.setattr(BatchJobs, "client", property(lambda self: client))
    stub = Stubber(client)
    job = {"JobId": "job-1", "Status": "Complete", "Operation": {"S3PutObjectAcl": {"AccessControlPolicy": {"CannedAccessControlList": "private"}}},
           "ProgressSummary": {"TotalNumberOfTasks": 5, "NumberOfTasksSucceeded": 4, "NumberOfTasksFailed": 1},
           "CreationTime": datetime(2026, 12, 6, 1, 0, tzinfo=UTC), "Description": "s3safe",
           "Report": {"Bucket": "arn:aws:s3:::ops", "Format": "Report_CSV_20180820", "Enabled": True, "Prefix": "batch/lake/r", "ReportScope": "AllTasks"},
           "FailureReasons": [{"FailureCode": "AccessDenied", "FailureReason": "role cannot read the manifest"}]}  # fmt: skip
    stub.add_response("describe_job", {"Job": job}, expected_params={"AccountId": ACCOUNT, "JobId": "job-1"})
    stub.add_response("list_jobs", {"Jobs": [{"JobId": "job-1", "Status": "Complete", "Operation": "S3PutObjectAcl"}], "NextToken": "t"},
                      expected_params={"AccountId": ACCOUNT})  # fmt: skip
    stub.add_response("list_jobs", {"Jobs": [{"JobId": "job-0", "Status": "Failed"}]}, expected_params={"AccountId": ACCOUNT, "NextToken": "t"})
    with stub:
        status = job_status(moto_conn, "job-1", account=ACCOUNT)
        listed = list_jobs(moto_conn, account=ACCOUNT)
    assert (status.status, status.operation, status.total, status.succeeded, status.failed) == ("Complete", "S3PutObjectAcl", 5, 4, 1)
    assert status.report == S3Url("ops", "batch/lake/r") and status.reasons == ("AccessDenied: role cannot read the manifest",)
    assert [(j.job_id, j.status, j.operation) for j in listed] == [("job-1", "Complete", "S3PutObjectAcl"), ("job-0", "Failed", "")]
