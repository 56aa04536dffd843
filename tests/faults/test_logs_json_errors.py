"""rt18 F11: with --json, a log object that cannot be read is reported as a JSON error record on stderr."""

from __future__ import annotations

import datetime as dt
import json
import uuid

from tests.access_log_lines import record
from tests.faults.conftest import Target
from tests.faults.proxy import FaultPlan, FaultProxy
from tests.servers.moto import MotoServer


def test_an_unreadable_log_object_is_a_json_error_record(proxy: FaultProxy, proxied: Target, moto: MotoServer) -> None:
    client, logs = proxied.client(moto.endpoint_url), f"lj-logs-{uuid.uuid4().hex[:10]}"
    client.create_bucket(Bucket=logs)
    now = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    for name in ("good", "bad"):
        body = record(now, bucket="lj-src", key=f"{name}.txt") + "\n"
        client.put_object(Bucket=logs, Key=f"p/{now:%Y-%m-%d-%H-%M-%S}-{name.upper()}0000000000", Body=body.encode())
    proxy.set_plan(FaultPlan(error=1.0, eligible=lambda r: r.method == "GET" and "BAD0000" in r.target))
    result = proxied.run("--json", "--retries", "0", "logs", "--target", f"s3://{logs}/p/", "--since", "2h", "--show", "reads", timeout=120)
    assert result.returncode == 5, result.stderr
    records = [json.loads(line) for line in result.stderr.splitlines() if line.strip()]  # every line is JSON
    errors = [r for r in records if r.get("type") == "error"]
    assert any("BAD0000" in r["message"] for r in errors), errors
