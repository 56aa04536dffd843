"""S3 Batch Operations through S3 Control: create a PutObjectAcl job, list and describe jobs.

No local test server implements S3 Control's job API; the requests are built by `acl_job_request` (a pure
function) and validated against botocore's own service model in the tests, which is all that can be
checked without AWS.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from s3safe.core.errors import UsageError
from s3safe.storage.connection import Connection
from s3safe.storage.errors import translated
from s3safe.storage.listing_guard import ListingGuard
from s3safe.storage.services import service_client

MANIFEST_FORMAT = "S3BatchOperations_CSV_20180820"
REPORT_FORMAT = "Report_CSV_20180820"


@dataclass(frozen=True)
class AclJobSpec:
    account: str
    manifest_bucket: str
    manifest_key: str
    manifest_etag: str
    report_bucket: str
    report_prefix: str
    role_arn: str
    token: str  # ClientRequestToken: the same plan submitted twice makes one job
    description: str
    priority: int = 10


def acl_job_request(spec: AclJobSpec) -> dict[str, Any]:
    """CreateJob parameters: canned ACL 'private' on every object of a CSV manifest, report of all tasks."""
    return {
        "AccountId": spec.account,
        "ConfirmationRequired": False,
        "Operation": {"S3PutObjectAcl": {"AccessControlPolicy": {"CannedAccessControlList": "private"}}},
        "Manifest": {
            "Spec": {"Format": MANIFEST_FORMAT, "Fields": ["Bucket", "Key"]},
            "Location": {"ObjectArn": f"arn:aws:s3:::{spec.manifest_bucket}/{spec.manifest_key}", "ETag": spec.manifest_etag},
        },
        "Report": {
            "Bucket": f"arn:aws:s3:::{spec.report_bucket}", "Format": REPORT_FORMAT, "Enabled": True,
            "Prefix": spec.report_prefix.rstrip("/"), "ReportScope": "AllTasks",
        },  # fmt: skip
        "ClientRequestToken": spec.token,
        "Description": spec.description[:256],
        "Priority": spec.priority,
        "RoleArn": spec.role_arn,
    }


class BatchJobs:
    def __init__(self, conn: Connection, *, account: str) -> None:
        if not (account.isdigit() and len(account) == 12):
            raise UsageError(f"{account!r} is not a 12-digit AWS account id", hint="pass --account ID")
        self.conn = conn
        self.account = account
        self._client: Any = None

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = service_client(self.conn, "s3control")
        return self._client

    def create_acl_job(self, spec: AclJobSpec) -> str:
        with translated("create the S3 Batch Operations job"):
            response = self.client.create_job(**acl_job_request(spec))
        return str(response["JobId"])

    def describe(self, job_id: str) -> dict[str, Any]:
        with translated(f"describe S3 Batch Operations job {job_id}"):
            response = self.client.describe_job(AccountId=self.account, JobId=job_id)
        return dict(response.get("Job", {}))

    def list(self, *, limit: int = 1000) -> list[dict[str, Any]]:
        jobs: list[dict[str, Any]] = []
        params: dict[str, Any] = {"AccountId": self.account}
        # `limit` bounds the jobs, not the pages: a NextToken handed back, or empty pages with new ones, would not end
        guard = ListingGuard(f"S3 Batch Operations jobs of account {self.account}")
        with translated("list S3 Batch Operations jobs"):
            while len(jobs) < limit:
                response = self.client.list_jobs(**params)
                page = [dict(j) for j in response.get("Jobs", [])]
                jobs += page
                token = response.get("NextToken")
                guard.page(empty=not page, truncated=bool(token))
                if not token:
                    break
                guard.token(token)
                params["NextToken"] = token
        return jobs[:limit]
