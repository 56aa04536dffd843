"""rt18 F4: two buckets logging to one prefix: `logs s3://A` answers about A only and says how many of B's records it left out."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from s3safe.core.locations import S3Url
from s3safe.core.safety import SafetyGate
from s3safe.ops.access_logging import plan_enable
from s3safe.ops.logs import LogsRequest, open_logs
from s3safe.storage.connection import Connection
from tests.access_log_lines import record


def test_logs_of_one_bucket_leave_out_the_other_buckets_records(moto_conn: Connection, moto_client: Any,
                                                                bucket_name: Callable[[str], str]) -> None:  # fmt: skip
    src, src2, logs = bucket_name("lgsrc"), bucket_name("lgsrc2"), bucket_name("lglogs")
    for bucket in (src, src2):
        moto_client.create_bucket(Bucket=bucket)
    assert all(r.ok for r in plan_enable(moto_conn, S3Url(src), S3Url(logs, "shared/"), gate=SafetyGate()).results)
    when = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
    lines = [record(when, bucket=src, key="mine.txt"), record(when, bucket=src2, key="theirs.txt"),
             record(when, bucket=src2, key="theirs2.txt")]  # fmt: skip
    moto_client.put_object(Bucket=logs, Key=f"shared/{when:%Y-%m-%d-%H-%M-%S}-0A1B2C3D4E5F6789", Body=("\n".join(lines) + "\n").encode())
    with open_logs(moto_conn, LogsRequest(url=S3Url(src), since=when - dt.timedelta(hours=1))) as session:
        answer = session.ask(sql="SELECT bucket, key FROM logs WHERE key LIKE '%.txt'")
        assert list(answer.rows) == [(src, "mine.txt")]
        assert session.stats.other_buckets >= 2 and session.summary()["other_buckets"] == session.stats.other_buckets
