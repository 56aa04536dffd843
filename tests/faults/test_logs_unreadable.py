"""`s3safe logs` when one log object cannot be read (refused, or cut off midway): it is named, none of its
lines count, the answer covers the others, exit 5."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable

import pytest

from tests.access_log_lines import record
from tests.faults.conftest import Target
from tests.faults.proxy import FaultPlan, FaultProxy, Request, Rewritten, build_response
from tests.servers.moto import MotoServer

DENIED = (b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied</Code><Message>Access Denied</Message>'
          b"<RequestId>r1</RequestId></Error>")  # fmt: skip


@pytest.mark.parametrize("fault", ["refused", "cut"])
def test_an_unreadable_log_object_is_named_and_the_rest_answered(proxy: FaultProxy, proxied: Target, moto: MotoServer,
                                                                 bucket_name: Callable[[], str], fault: str) -> None:  # fmt: skip
    bucket = bucket_name()
    client = proxied.client(moto.endpoint_url)
    client.create_bucket(Bucket=bucket)
    now = dt.datetime.now(dt.UTC)
    names = []
    for minutes, key in ((30, "reports/denied.csv"), (20, "reports/readable.csv")):
        when = now - dt.timedelta(minutes=minutes)
        name = f"logs/{when:%Y-%m-%d-%H-%M-%S}-{minutes:016X}"
        client.put_object(Bucket=bucket, Key=name, Body="".join(record(when, key=key) + "\n" for _ in range(40)).encode())
        names.append(name)
    denied = f"/{bucket}/{names[0]}"

    def chosen(request: Request) -> bool:
        return request.method == "GET" and request.target.split("?")[0] == denied

    def refuse(request: Request, _status: int, _headers: dict[str, str], _body: bytes) -> Rewritten | None:
        return Rewritten(build_response(403, {"Content-Type": "application/xml"}, DENIED)) if chosen(request) else None

    proxy.set_plan(FaultPlan(rewrite_response=refuse) if fault == "refused" else FaultPlan(truncate=1.0, eligible=chosen))
    result = proxied.run("--json", "logs", "s3://source-bucket", "--target", f"s3://{bucket}/logs/", "--show", "top-keys", "--since", "2h")
    assert result.returncode == 5, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(r["row"]["key"], r["row"]["requests"]) for r in rows if r["type"] == "row"] == [("reports/readable.csv", 40)]
    named = [line for line in result.stderr.splitlines() if names[0] in line]
    assert len(named) == 1, result.stderr
    assert "Traceback" not in result.stderr
