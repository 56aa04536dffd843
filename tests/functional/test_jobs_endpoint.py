"""rt18 F13: with --endpoint-url, S3 Control requests (Batch Operations jobs) go to that host, not ACCOUNT.host."""

from __future__ import annotations

import contextlib
from typing import Any
from urllib.parse import urlsplit

from s3safe.storage.batch import BatchJobs
from s3safe.storage.connection import Connection
from tests.servers.moto import MotoServer

ACCOUNT = "111122223333"


def test_s3_control_requests_go_to_the_custom_endpoint_as_given(moto: MotoServer, moto_conn: Connection) -> None:
    client = BatchJobs(moto_conn, account=ACCOUNT).client
    sent: list[str] = []

    def seen(request: Any, **_: Any) -> None:
        sent.append(request.url)

    client.meta.events.register("before-send", seen)
    with contextlib.suppress(Exception):  # moto may not implement ListJobs: where the request went is the point
        client.list_jobs(AccountId=ACCOUNT)
    assert sent and {urlsplit(url).netloc for url in sent} == {urlsplit(moto.endpoint_url).netloc}
