"""Athena result pages that never end, served by the fault proxy in front of moto (issue #19: bound every
loop): a NextToken handed back, or empty pages each with a new token. Reading the rows stops with one
ListingError, the wording of the object listing's guard, instead of paging forever. In-process (cheap)."""

from __future__ import annotations

import json

import pytest

from s3safe.core.errors import ListingError
from s3safe.core.settings import ConnectionSettings
from s3safe.storage.athena import Athena, AthenaTarget
from s3safe.storage.connection import Connection
from tests.faults.proxy import FaultPlan, FaultProxy, Request, Rewritten, build_response
from tests.servers.moto import MotoServer

MAX_PAGES_SERVED = 1000  # past this the hook answers 500: a client without a bound fails instead of hanging


class EndlessResults:
    """Every GetQueryResults answer asks for another page: with the same token, or (`fresh`) an empty page
    with a token never given before."""

    def __init__(self, *, fresh: bool) -> None:
        self.fresh = fresh
        self.served = 0

    def __call__(self, request: Request, code: int, headers: dict[str, str], body: bytes) -> Rewritten | None:
        if code != 200 or b'"ResultSet"' not in body:
            return None
        self.served += 1
        if self.served > MAX_PAGES_SERVED:
            return Rewritten(build_response(500, {"content-type": "application/x-amz-json-1.1"}, b'{"__type": "InternalServerException"}'))
        page = json.loads(body)
        if self.fresh and self.served > 1:
            page["ResultSet"]["Rows"] = []
        page["NextToken"] = f"token-{self.served}" if self.fresh else "token-again"
        return Rewritten(build_response(200, {"content-type": "application/x-amz-json-1.1"}, json.dumps(page).encode()))


@pytest.mark.parametrize("fresh", [False, True], ids=["same-token", "endless-empty"])
def test_athena_results_that_never_end_are_stopped(proxy: FaultProxy, moto: MotoServer, fresh: bool) -> None:
    """Before: the row reader followed every NextToken (here until the hook's cap of 1,000 pages, then a 500)."""
    conn = Connection(ConnectionSettings(endpoint_url=proxy.endpoint_url, allow_http=True, region="us-east-1", retries=0))
    athena = Athena(conn)
    execution = athena.start("SELECT 1", AthenaTarget(workgroup=None, output="s3://athena-out/r/", database="default"))
    hook = EndlessResults(fresh=fresh)
    proxy.set_plan(FaultPlan(rewrite_response=hook))
    with pytest.raises(ListingError) as caught:
        list(athena.rows(execution))
    message = str(caught.value)
    expected = "100 empty pages" if fresh else "continuation token it had already given"
    assert expected in message and f"Athena query {execution}" in message and "\n" not in message, message
    assert hook.served <= 102, hook.served
