"""`audit --inventory --fix`: public object ACLs found in an inventory are fixed by one S3 Batch Operations job.

The plan (what `--dry-run` prints) is the manifest itself, row by row, the job's parameters and its cost
inputs. Running it writes the manifest CSV (Bucket,Key with URL-encoded keys, as Batch Operations reads
it) and creates a PutObjectAcl job (canned ACL private) with a completion report of every task.
The objects are fixed when the job has run: `s3safe jobs report JOB` reads the report back.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING
from urllib.parse import quote

from s3safe.audit.model import Finding
from s3safe.core.errors import UsageError
from s3safe.core.locations import S3Url
from s3safe.core.models import ActionResult
from s3safe.storage.connection import Connection

if TYPE_CHECKING:
    from s3safe.storage.batch import BatchJobs

# AWS list prices (us-east-1, S3 pricing page "Batch Operations" and "Requests"); a guide, not a bill
PRICE_PER_JOB = 0.25
PRICE_PER_MILLION_OBJECTS = 1.00
PRICE_PER_THOUSAND_PUTS = 0.005


@dataclass(frozen=True)
class BatchOptions:
    location: S3Url  # s3://bucket/prefix/ for the manifest and the completion report
    role_arn: str | None = None  # the IAM role Batch Operations assumes (needed to create the job)
    account: str | None = None  # default: the credentials' account (STS)
    priority: int = 10

    def __post_init__(self) -> None:
        # checked before anything is planned or written: a dry run that accepts them would promise a job AWS refuses
        if self.role_arn is not None and not re.fullmatch(r"arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]{1,512}", self.role_arn):
            raise UsageError(f"--batch-role {self.role_arn!r} is not an IAM role ARN", hint="arn:aws:iam::ACCOUNT:role/NAME")
        if self.account is not None and not re.fullmatch(r"\d{12}", self.account):
            raise UsageError(f"--account {self.account!r} is not a 12-digit AWS account id")


@dataclass(frozen=True)
class BatchPlan:
    bucket: str
    keys: tuple[str, ...]
    manifest_bucket: str
    manifest_key: str
    report_prefix: str
    account: str | None
    role_arn: str | None
    token: str

    @property
    def manifest_text(self) -> str:
        return manifest_csv(self.bucket, self.keys)

    def cost_lines(self) -> list[str]:
        n = len(self.keys)
        estimate = PRICE_PER_JOB + n / 1e6 * PRICE_PER_MILLION_OBJECTS + (n + 1) / 1000 * PRICE_PER_THOUSAND_PUTS
        return [
            f"cost inputs: 1 job, {n} object operation(s), {n} PutObjectAcl request(s), 1 manifest PUT, 1 completion report",
            f"  at us-east-1 list prices (${PRICE_PER_JOB:.2f} per job, ${PRICE_PER_MILLION_OBJECTS:.2f} per million objects, "
            f"${PRICE_PER_THOUSAND_PUTS} per 1,000 PUT requests) about ${estimate:.2f}; check your region's S3 pricing",
        ]

    def lines(self) -> list[str]:
        role = self.role_arn or "none given (--batch-role ARN is needed to create the job)"
        out = [
            f"S3 Batch Operations job: PutObjectAcl (canned ACL private) on {len(self.keys)} object(s) of s3://{self.bucket}",
            f"manifest: s3://{self.manifest_bucket}/{self.manifest_key} (CSV Bucket,Key, keys URL-encoded, SSE-S3)",
            f"completion report: s3://{self.manifest_bucket}/{self.report_prefix}/job-JOBID/ (all tasks)",
            f"account: {self.account or 'unknown (pass --account ID)'}; role: {role}",
            *self.cost_lines(),
            "the inventory is eventually consistent: HEAD an object whose state matters before the job runs",
            f"manifest rows ({len(self.keys)}):",
        ]
        return out + [f"  {row}" for row in self.manifest_text.splitlines()]


def manifest_csv(bucket: str, keys: tuple[str, ...]) -> str:
    """Batch Operations CSV: one 'bucket,key' row per object, the key URL-encoded (a comma or newline in a key is safe)."""
    return "".join(f"{bucket},{quote(key, safe='/')}\n" for key in keys)


def plan_batch(bucket: str, findings: list[Finding], options: BatchOptions, *, account: str | None,
               now: datetime | None = None) -> BatchPlan:  # fmt: skip
    keys = tuple(sorted({f.key for f in findings if f.key is not None}, key=lambda k: k.encode("utf-8")))
    if not keys:
        raise UsageError("no object to fix")
    base = options.location.key
    base = base if not base or base.endswith("/") else base + "/"
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
    folder = f"{base}{bucket}/{stamp}"
    digest = hashlib.sha256(f"{bucket}\0{folder}\0".encode() + manifest_csv(bucket, keys).encode()).digest()
    token = str(uuid.UUID(bytes=digest[:16]))
    return BatchPlan(bucket, keys, options.location.bucket, f"{folder}/manifest.csv", f"{folder}/reports",
                     options.account or account, options.role_arn, token)  # fmt: skip


def run_batch(conn: Connection, plan: BatchPlan, *, jobs: BatchJobs | None = None) -> Iterator[ActionResult]:
    """Write the manifest, then create the job; one result per step."""
    from s3safe.storage.batch import AclJobSpec, BatchJobs
    from s3safe.storage.reports import put_small

    if not plan.role_arn:
        raise UsageError("creating a Batch Operations job needs the IAM role it runs as", hint="pass --batch-role ARN")
    if not plan.account:
        raise UsageError("the account id is unknown", hint="pass --account ID")
    jobs = jobs or BatchJobs(conn, account=plan.account)
    url = f"s3://{plan.manifest_bucket}/{plan.manifest_key}"
    etag = put_small(conn, plan.manifest_bucket, plan.manifest_key, plan.manifest_text.encode("utf-8"), content_type="text/csv")
    yield ActionResult("write-manifest", url, detail=f"{len(plan.keys)} row(s)")
    spec = AclJobSpec(plan.account, plan.manifest_bucket, plan.manifest_key, etag, plan.manifest_bucket, plan.report_prefix,
                      plan.role_arn, plan.token, f"s3safe audit --inventory --fix: private ACLs for s3://{plan.bucket}")  # fmt: skip
    job = jobs.create_acl_job(spec)
    yield ActionResult("create-batch-job", job, detail=f"follow it: s3safe jobs status {job}; outcome: s3safe jobs report {job}")
