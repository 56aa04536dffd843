"""S3 Batch Operations job listings that never end (issue #19: bound every loop). moto has no ListJobs, so the
fault proxy answers GET /v20180820/jobs itself, as a hostile S3 Control would: a NextToken handed back, or
empty pages each with a new token. `jobs ls` stops with one ListingError instead of paging (its cap of 1,000
jobs bounded only pages that carried jobs). In-process (cheap)."""

from __future__ import annotations

import pytest

from s3safe.core.errors import ListingError
from s3safe.core.settings import ConnectionSettings
from s3safe.storage.batch import BatchJobs
from s3safe.storage.connection import Connection
from tests.faults.proxy import FaultPlan, FaultProxy, Request, Rewritten, build_response
from tests.servers.moto import MotoServer

MAX_PAGES_SERVED = 1000  # past this the hook answers 500: a client without a bound fails instead of hanging
ACCOUNT = "123456789012"


class EndlessJobs:
    def __init__(self, *, fresh: bool) -> None:
        self.fresh = fresh  # empty pages, each with a new token; else one job a page and the same token
        self.served = 0

    def __call__(self, request: Request, code: int, headers: dict[str, str], body: bytes) -> Rewritten | None:
        if request.method != "GET" or not request.target.startswith("/v20180820/jobs"):
            return None
        self.served += 1
        if self.served > MAX_PAGES_SERVED:
            return Rewritten(build_response(500, {"content-type": "application/xml"}, b"<Error><Code>InternalError</Code></Error>"))
        job = "" if self.fresh else f"<member><JobId>job-{self.served}</JobId><Status>Complete</Status></member>"
        token = f"token-{self.served}" if self.fresh else "token-again"
        page = f"<ListJobsResult><NextToken>{token}</NextToken><Jobs>{job}</Jobs></ListJobsResult>"
        return Rewritten(build_response(200, {"content-type": "application/xml"}, page.encode()))


@pytest.mark.parametrize("fresh", [False, True], ids=["same-token", "endless-empty"])
def test_a_job_listing_that_never_ends_is_stopped(proxy: FaultProxy, moto: MotoServer, fresh: bool) -> None:
    """Before: the same token was followed until 1,000 jobs had piled up (1,000 requests), endless empty pages
    until the hook's cap answered 500."""
    conn = Connection(ConnectionSettings(endpoint_url=proxy.endpoint_url, allow_http=True, region="us-east-1", retries=0))
    hook = EndlessJobs(fresh=fresh)
    proxy.set_plan(FaultPlan(rewrite_response=hook))
    with pytest.raises(ListingError) as caught:
        BatchJobs(conn, account=ACCOUNT).list()
    message = str(caught.value)
    expected = "100 empty pages" if fresh else "continuation token it had already given"
    assert expected in message and f"account {ACCOUNT}" in message and "\n" not in message, message
    assert hook.served <= 102, hook.served
