"""Two library operations in one process, each in its own run (core/context.py), against a real server:
cancelling one stops only that one, and nothing of it is left half-written."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from s3safe.core import cancel
from s3safe.core.context import RunContext, running
from s3safe.core.locations import parse_s3_url
from s3safe.core.settings import ConnectionSettings
from s3safe.storage.connection import Connection
from s3safe.transfer.options import UploadOptions
from s3safe.transfer.single import upload_file
from tests.servers.moto import MotoServer

WAIT = 60.0  # the throttled upload alone would take 16 s; every wait is bounded


def test_cancelling_one_upload_leaves_the_other_run_alone(
    moto: MotoServer, moto_client: Any, bucket_name: Callable[[], str], tmp_path: Path
) -> None:
    bucket = bucket_name()
    moto_client.create_bucket(Bucket=bucket)
    (tmp_path / "slow.bin").write_bytes(b"s" * (1024 * 1024))  # 16 s at 64 KiB/s: still running when cancelled
    (tmp_path / "quick.txt").write_bytes(b"q" * (300 * 1024))  # throttled too: its run's cancel flag is consulted
    settings = {"endpoint_url": moto.endpoint_url, "allow_http": True, "region": "us-east-1"}
    slow_run = RunContext("slow")
    outcome: dict[str, object] = {}

    def slow() -> None:
        conn = Connection(ConnectionSettings(**settings, max_bandwidth=64 * 1024))
        with running(slow_run):
            try:
                outcome["slow"] = upload_file(conn, tmp_path / "slow.bin", parse_s3_url(f"s3://{bucket}/slow.bin"), options=UploadOptions())
            except cancel.Cancelled as exc:
                outcome["slow"] = exc

    def quick() -> None:
        conn = Connection(ConnectionSettings(**settings, max_bandwidth=1024 * 1024))
        with running(RunContext("quick")):
            for i in range(3):  # the other run's cancel never reaches these
                outcome[f"quick{i}"] = upload_file(conn, tmp_path / "quick.txt", parse_s3_url(f"s3://{bucket}/quick{i}.txt"),
                                                   options=UploadOptions())  # fmt: skip
                if i == 0:
                    with running(slow_run):
                        cancel.cancel()  # what Ctrl-C does inside the slow run, while it is sending

    threads = [threading.Thread(target=slow), threading.Thread(target=quick)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(WAIT)
    assert not any(thread.is_alive() for thread in threads)
    assert isinstance(outcome.get("slow"), cancel.Cancelled), outcome.get("slow")
    assert all(f"quick{i}" in outcome and not isinstance(outcome[f"quick{i}"], BaseException) for i in range(3)), outcome
    keys = {o["Key"] for o in moto_client.list_objects_v2(Bucket=bucket).get("Contents", [])}
    assert keys == {"quick0.txt", "quick1.txt", "quick2.txt"}  # nothing of the cancelled upload was stored
    assert not cancel.is_cancelled()
