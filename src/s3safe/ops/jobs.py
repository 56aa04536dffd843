"""`jobs ls|status|report`: follow S3 Batch Operations jobs and read their completion reports back.

A completion report (S3 User Guide, "Examples: S3 Batch Operations completion reports") is a top-level
PREFIX/job-JOBID/manifest.json listing result CSV files (one per TaskExecutionStatus) with their MD5; each
CSV row follows the manifest's ReportSchema: Bucket, Key, VersionId, TaskStatus, ErrorCode,
HTTPStatusCode, ResultMessage, the key URL-encoded as in the job's manifest.
"""

from __future__ import annotations

import csv
import hashlib
import json
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import unquote_plus

from s3safe.core.errors import IntegrityError, UsageError
from s3safe.core.locations import S3Url
from s3safe.storage.connection import Connection

MANIFEST_LIMIT = 16 * 1024 * 1024
DEFAULT_SCHEMA = ("Bucket", "Key", "VersionId", "TaskStatus", "ErrorCode", "HTTPStatusCode", "ResultMessage")


@dataclass(frozen=True)
class TaskFailure:
    bucket: str
    key: str
    error: str

    def to_dict(self) -> dict[str, Any]:
        return {"type": "task", "status": "failed", "url": f"s3://{self.bucket}/{self.key}", "error": self.error}


@dataclass
class JobReport:
    job_id: str
    location: str  # s3://bucket/prefix/job-ID/manifest.json
    created: str | None
    fixed: list[tuple[str, str]] = field(default_factory=list)  # (bucket, key) of each succeeded task
    failed: list[TaskFailure] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"type": "job-report", "job": self.job_id, "report": self.location, "created": self.created,
                "fixed": len(self.fixed), "failed": len(self.failed)}  # fmt: skip


@dataclass(frozen=True)
class JobSummary:
    job_id: str
    status: str
    operation: str
    total: int | None
    succeeded: int | None
    failed: int | None
    created: str | None
    description: str
    report: S3Url | None = None
    reasons: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"type": "job", "job": self.job_id, "status": self.status, "operation": self.operation, "total": self.total,
                "succeeded": self.succeeded, "failed": self.failed, "created": self.created, "description": self.description,
                "report": str(self.report) if self.report else None, "reasons": list(self.reasons)}  # fmt: skip


def _summary(job: dict[str, Any]) -> JobSummary:
    progress = job.get("ProgressSummary") or {}
    raw = job.get("Operation") or ""
    operation = raw if isinstance(raw, str) else next(iter(raw), "")  # ListJobs names it, DescribeJob describes it
    report = job.get("Report") or {}
    location = None
    if report.get("Enabled") and report.get("Bucket"):
        location = S3Url(str(report["Bucket"]).removeprefix("arn:aws:s3:::"), str(report.get("Prefix", "") or ""))
    stamp = job.get("CreationTime")
    created = stamp.isoformat() if isinstance(stamp, datetime) else (str(stamp) if stamp else None)
    reasons = tuple(f"{r.get('FailureCode', '')}: {r.get('FailureReason', '')}" for r in job.get("FailureReasons") or [])
    return JobSummary(str(job.get("JobId")), str(job.get("Status", "")), operation, progress.get("TotalNumberOfTasks"),
                      progress.get("NumberOfTasksSucceeded"), progress.get("NumberOfTasksFailed"),
                      created, str(job.get("Description", "")),
                      location, reasons)  # fmt: skip


def _account(conn: Connection, account: str | None) -> str:
    if account:
        return account
    from s3safe.storage.identity import caller_identity

    identity = caller_identity(conn)
    if identity is None or not identity.account:
        raise UsageError("cannot tell the account id from these credentials", hint="pass --account ID")
    return identity.account


def list_jobs(conn: Connection, *, account: str | None) -> list[JobSummary]:
    from s3safe.storage.batch import BatchJobs

    return [_summary(j) for j in BatchJobs(conn, account=_account(conn, account)).list()]


def job_status(conn: Connection, job_id: str, *, account: str | None) -> JobSummary:
    from s3safe.storage.batch import BatchJobs

    return _summary(BatchJobs(conn, account=_account(conn, account)).describe(job_id))


def _rows(path: Path, schema: tuple[str, ...]) -> Iterator[dict[str, str]]:
    with path.open(newline="", encoding="utf-8", errors="replace") as handle:
        for row in csv.reader(handle):
            if row:
                yield dict(zip(schema, row, strict=False))


def _check_md5(path: Path, expected: str | None, where: str) -> None:
    if not expected:
        return
    digest = hashlib.md5(usedforsecurity=False)
    with path.open("rb") as handle:
        while chunk := handle.read(1024 * 1024):
            digest.update(chunk)
    if digest.hexdigest() != expected.lower():
        raise IntegrityError(f"{where} does not match the MD5 its completion report gives", hint="the report was changed after S3 wrote it")


def read_completion_report(conn: Connection, location: S3Url, job_id: str) -> JobReport:
    """Every task of a job's completion report at `location` (the job's report bucket and prefix), as fixed / failed."""
    from s3safe.storage.reports import download, read_small

    prefix = location.key.strip("/")
    key = f"{prefix}/job-{job_id}/manifest.json" if prefix else f"job-{job_id}/manifest.json"
    where = f"s3://{location.bucket}/{key}"
    try:
        doc = json.loads(read_small(conn, location.bucket, key, limit=MANIFEST_LIMIT))
        results = [(str(r["Bucket"]), str(r["Key"]), r.get("MD5Checksum")) for r in doc["Results"]]
        schema = tuple(s.strip() for s in str(doc.get("ReportSchema") or ", ".join(DEFAULT_SCHEMA)).split(","))
    except (ValueError, KeyError, TypeError) as exc:
        raise UsageError(f"{where} is not a Batch Operations completion report ({type(exc).__name__}: {exc})") from None
    report = JobReport(job_id, where, doc.get("ReportCreationDate"))
    with tempfile.TemporaryDirectory(prefix="s3safe-job-report-") as tmp:
        for n, (bucket, result_key, md5) in enumerate(results):
            path = Path(tmp) / f"{n:06d}.csv"
            download(conn, bucket, result_key, path)
            _check_md5(path, md5, f"s3://{bucket}/{result_key}")
            for row in _rows(path, schema):
                _task(report, row)
    return report


def _task(report: JobReport, row: dict[str, str]) -> None:
    bucket, key = row.get("Bucket", ""), unquote_plus(row.get("Key", ""))
    if row.get("TaskStatus", "").lower() == "succeeded":
        report.fixed.append((bucket, key))
        return
    # AWS's own examples put the HTTP status under ErrorCode and the code under HTTPStatusCode: the number goes first either way
    codes = " ".join(sorted((v for v in (row.get("ErrorCode", ""), row.get("HTTPStatusCode", "")) if v), key=lambda v: not v.isdigit()))
    message = row.get("ResultMessage", "")
    report.failed.append(TaskFailure(bucket, key, f"{codes}: {message}" if codes else message or "failed"))


def job_report(conn: Connection, job_id: str, *, account: str | None, location: S3Url | None) -> JobReport:
    """The job's completion report; its location comes from the job (DescribeJob) unless given."""
    if location is None:
        summary = job_status(conn, job_id, account=account)
        if summary.report is None:
            raise UsageError(f"job {job_id} was created without a completion report")
        location = summary.report
    return read_completion_report(conn, location, job_id)

