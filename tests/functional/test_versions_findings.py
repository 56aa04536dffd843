"""Findings of the outside test of the point-in-time features (issue #16): unusable mtimes, repairs that
must compare content, empty version ids, and the refusals that must come before anything is sent."""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from s3safe.core.locations import S3Url
from s3safe.core.safety import SafetyGate
from s3safe.core.settings import ConnectionSettings
from s3safe.storage.connection import Connection
from s3safe.transfer.engine import TreeOptions, TreeSummary, download_tree, upload_tree
from s3safe.transfer.state import StateCache
from tests.servers.moto import MotoServer

FAR_FUTURE = 10_413_792_000  # 2300-01-01: past what a signed 64-bit count of nanoseconds can hold


def _conn(moto: MotoServer) -> Connection:
    return Connection(ConnectionSettings(endpoint_url=moto.endpoint_url, allow_http=True, region="us-east-1"))


def _tree(conn: Connection, *, up: bool, local: Path, url: S3Url, cache: StateCache, options: TreeOptions) -> TreeSummary:
    summary = TreeSummary()
    try:
        if up:
            results = list(upload_tree(conn, local, url, options=options, gate=SafetyGate(), summary=summary, cache=cache))
        else:
            results = list(download_tree(conn, url, local, options=options, gate=SafetyGate(), summary=summary, cache=cache))
    finally:
        cache.close()
    assert summary.failed == 0, [r for r in results if not r.ok]
    return summary


# --- 1: mtimes out of range --------------------------------------------------------------------------


@pytest.mark.parametrize("stored", ["1e300", "inf", "nan", "1e18"])
def test_an_unusable_stored_mtime_is_ignored_and_the_tree_restores(
    moto: MotoServer, moto_client: Any, bucket_name: Callable[[], str], tmp_path: Path, stored: str
) -> None:
    bucket = bucket_name()
    moto_client.create_bucket(Bucket=bucket)
    moto_client.put_object(Bucket=bucket, Key="t/bad.txt", Body=b"bad\n", Metadata={"s3safe-mtime": stored})
    moto_client.put_object(Bucket=bucket, Key="t/good.txt", Body=b"good\n", Metadata={"s3safe-mtime": "1600000000.5"})
    out = tmp_path / "out"
    _tree(_conn(moto), up=False, local=out, url=S3Url(bucket, "t/"), cache=StateCache(tmp_path / "v.sqlite"), options=TreeOptions())
    assert (out / "bad.txt").read_bytes() == b"bad\n"
    assert math.isclose((out / "bad.txt").stat().st_mtime, os.stat(tmp_path).st_mtime, abs_tol=600)  # now, not 1e300
    assert (out / "good.txt").stat().st_mtime == 1600000000.5


def test_a_file_dated_after_2262_is_backed_up_and_restored_again_and_again(
    moto: MotoServer, moto_client: Any, bucket_name: Callable[[], str], tmp_path: Path
) -> None:
    bucket = bucket_name()
    moto_client.create_bucket(Bucket=bucket)
    src = tmp_path / "src"
    src.mkdir()
    (src / "ok.txt").write_bytes(b"ok\n")
    (src / "future.txt").write_bytes(b"future\n")
    os.utime(src / "future.txt", (FAR_FUTURE, FAR_FUTURE))
    conn, url, state = _conn(moto), S3Url(bucket, "d/"), tmp_path / "v.sqlite"
    for _ in range(2):  # the second run reads the cache the first one wrote
        _tree(conn, up=True, local=src, url=url, cache=StateCache(state), options=TreeOptions(mode="diff", purge=True))
        _tree(conn, up=False, local=tmp_path / "out", url=url, cache=StateCache(state), options=TreeOptions(mode="diff"))
    assert (tmp_path / "out" / "future.txt").read_bytes() == b"future\n"
    assert (tmp_path / "out" / "future.txt").stat().st_mtime == FAR_FUTURE
