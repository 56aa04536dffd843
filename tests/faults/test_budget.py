"""One budget per run: `-t 8` means at most 8 requests in flight, files and their parts together.

Counted at the fault proxy in front of moto (tests/faults/inflight.py), for a tree upload with multipart files and
a tree download whose objects arrive as parallel ranged GETs.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from s3safe.core.locations import S3Url
from s3safe.core.safety import SafetyGate
from s3safe.core.settings import ConnectionSettings
from s3safe.storage.connection import Connection
from s3safe.transfer import download
from s3safe.transfer.engine import TreeOptions, TreeSummary, download_tree, upload_tree
from s3safe.transfer.options import UploadOptions
from s3safe.transfer.state import StateCache
from tests.faults.conftest import Target
from tests.faults.inflight import InFlight
from tests.faults.proxy import FaultProxy, Request

MiB = 1024 * 1024
THREADS = 8


def _conn(proxy: FaultProxy) -> Connection:
    return Connection(ConnectionSettings(endpoint_url=proxy.endpoint_url, allow_http=True, region="us-east-1", threads=THREADS))


def _is_part(request: Request) -> bool:
    return "uploadId=" in request.target and request.method == "PUT"


def _is_range(request: Request) -> bool:
    return request.method == "GET" and "range" in request.headers


def test_a_tree_upload_with_multipart_files_keeps_within_t(
    proxy: FaultProxy, moto_target: Target, bucket_name: Callable[[], str], tmp_path: Path
) -> None:
    bucket = bucket_name()
    moto_client = moto_target.client()
    moto_client.create_bucket(Bucket=bucket)
    src = tmp_path / "src"
    src.mkdir()
    for i in range(5):  # two parts each (5 MiB and 1 byte): ten parts that could all be sent at once
        (src / f"big{i}.bin").write_bytes(os.urandom(5 * MiB + 1))
    for i in range(6):
        (src / f"small{i}.txt").write_bytes(os.urandom(100))
    counter = InFlight(limit=THREADS, selected=_is_part)
    proxy.set_plan(counter.plan())
    summary = TreeSummary()
    results = list(upload_tree(_conn(proxy), src, S3Url(bucket, "t/"), options=TreeOptions(upload=UploadOptions(part_size=5 * MiB)),
                               gate=SafetyGate(), summary=summary, cache=StateCache(tmp_path / "state.sqlite")))  # fmt: skip
    assert all(r.ok for r in results), [r.error for r in results if not r.ok]
    assert summary.transferred == 11
    assert sum(_is_part(r) for r in counter.seen) == 10
    assert counter.peak_selected >= 2  # the parts did go out in parallel
    assert counter.peak <= THREADS, f"{counter.peak} requests were in flight with -t {THREADS}"


def test_a_tree_download_in_ranges_keeps_within_t(
    proxy: FaultProxy, moto_target: Target, bucket_name: Callable[[], str], tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    bucket = bucket_name()
    moto_client = moto_target.client()
    moto_client.create_bucket(Bucket=bucket)
    blobs = {f"t/big{i}.bin": os.urandom(256 * 1024 + 1 + i) for i in range(4)}
    for key, data in blobs.items():
        moto_client.put_object(Bucket=bucket, Key=key, Body=data)
    # small ranges, so that KiB-sized objects take the ranged path: 5 ranges each, 20 in all
    monkeypatch.setattr(download, "RANGE_PART", 64 * 1024)
    monkeypatch.setattr(download, "RANGED_MIN", 128 * 1024)
    counter = InFlight(limit=THREADS, selected=_is_range)
    proxy.set_plan(counter.plan())
    summary = TreeSummary()
    dest = tmp_path / "dest"
    results = list(download_tree(_conn(proxy), S3Url(bucket, "t/"), dest, options=TreeOptions(), gate=SafetyGate(),
                                 summary=summary, cache=StateCache(tmp_path / "state.sqlite")))  # fmt: skip
    assert all(r.ok for r in results), [r.error for r in results if not r.ok]
    assert {f"t/{p.name}": p.read_bytes() for p in dest.iterdir()} == blobs
    assert sum(_is_range(r) for r in counter.seen) >= 20
    assert counter.peak_selected >= 2
    assert counter.peak <= THREADS, f"{counter.peak} requests were in flight with -t {THREADS}"
