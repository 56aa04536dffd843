"""Which log objects `logs` reads: the bucket's logging configuration names the target and its key layout
(here date-partitioned, which moto does not report), and only the objects of the time range are read."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
from typing import Any

from s3safe.core.locations import S3Url
from s3safe.core.settings import ConnectionSettings
from s3safe.ops.logs import LogsRequest, open_logs
from s3safe.storage.base import PutRequest
from s3safe.storage.connection import Connection
from s3safe.storage.memory import MemoryStorage
from tests.access_log_lines import record


class LoggingMemory(MemoryStorage):
    def logging(self, bucket: str) -> dict[str, Any]:
        if bucket != "src":
            return {}
        return {"TargetBucket": "logs", "TargetPrefix": "plogs/",
                "TargetObjectKeyFormat": {"PartitionedPrefix": {"PartitionDateSource": "EventTime"}}}  # fmt: skip


def _put(store: MemoryStorage, key: str, text: str) -> None:
    data = text.encode()
    store.put(PutRequest("logs", key), data, sha256_b64=base64.b64encode(hashlib.sha256(data).digest()).decode())


def _name(folder: str, when: dt.datetime) -> str:
    return f"{folder}{when:%Y/%m/%d}/{when:%Y-%m-%d-%H-%M-%S}-0123456789ABCDEF"


def test_the_partitioned_days_asked_are_read_and_nothing_else() -> None:
    store = LoggingMemory("src", "logs")
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    mine, other = "plogs/123456789012/us-east-1/src/", "plogs/123456789012/us-east-1/another-bucket/"
    wanted = _name(mine, now - dt.timedelta(hours=1))
    unwanted = [_name(mine, now - dt.timedelta(days=10)), _name(other, now - dt.timedelta(hours=1)),
                _name(mine, now + dt.timedelta(days=5)), f"plogs/{now:%Y-%m-%d-%H-%M-%S}-0123456789ABCDEF"]  # fmt: skip
    for key in [wanted, *unwanted]:
        _put(store, key, record(now - dt.timedelta(hours=1), bucket="src", key=key.rsplit("/", 1)[-1]) + "\n")
    conn = Connection(ConnectionSettings(endpoint_url="https://memory.invalid"), objects=store, admin=store)
    request = LogsRequest(url=S3Url("src"), since=now - dt.timedelta(days=2), until=now + dt.timedelta(days=1))
    with open_logs(conn, request) as session:
        assert session.location is not None and session.location.partitioned is True
        assert session.location.url == "s3://logs/plogs/"
        assert session.objects == 1 and session.stats.records == 1
    read = {key for operation, bucket, key in store.requests if operation == "GET" and bucket == "logs"}
    assert read == {wanted}
