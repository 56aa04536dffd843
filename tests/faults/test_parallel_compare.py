"""--only-diff compares in parallel: the HEADs (and file hashing) of many files overlap, within -t, and the
outcome is the one a comparison in turn gives: unchanged files skipped, changed ones sent."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from s3safe.core.locations import S3Url
from s3safe.core.safety import SafetyGate
from s3safe.core.settings import ConnectionSettings
from s3safe.storage.connection import Connection
from s3safe.transfer.engine import TreeOptions, TreeSummary, download_tree, upload_tree
from s3safe.transfer.state import StateCache
from tests.faults.conftest import Target
from tests.faults.inflight import InFlight
from tests.faults.proxy import FaultProxy, Request

THREADS = 8


def _is_head(request: Request) -> bool:
    """A HEAD of one of the compared objects (not the bucket HEAD an upload makes once)."""
    return request.method == "HEAD" and "/t/" in request.target


def _arrange(moto_target: Target, bucket: str, local: Path) -> tuple[dict[str, bytes], set[str]]:
    """Twelve objects; the local copies of half of them have the same size and other bytes (their MD5 differs,
    so only a HEAD can tell whether s3safe's metadata vouches for them: it does not)."""
    client = moto_target.client()
    client.create_bucket(Bucket=bucket)
    stored = {f"f{i:02d}.bin": os.urandom(1000 + i) for i in range(12)}
    changed = {name for i, name in enumerate(sorted(stored)) if i % 2}
    local.mkdir()
    for name, data in stored.items():
        client.put_object(Bucket=bucket, Key=f"t/{name}", Body=data)
        (local / name).write_bytes(os.urandom(len(data)) if name in changed else data)
    return stored, changed


def _run_counted(proxy: FaultProxy, counter: InFlight) -> Connection:
    proxy.set_plan(counter.plan())
    return Connection(ConnectionSettings(endpoint_url=proxy.endpoint_url, allow_http=True, region="us-east-1", threads=THREADS))


def test_only_diff_upload_compares_in_parallel(
    proxy: FaultProxy, moto_target: Target, bucket_name: Callable[[], str], tmp_path: Path
) -> None:
    bucket = bucket_name()
    src = tmp_path / "src"
    _stored, changed = _arrange(moto_target, bucket, src)
    counter = InFlight(limit=THREADS, selected=_is_head)
    summary = TreeSummary()
    results = list(upload_tree(_run_counted(proxy, counter), src, S3Url(bucket, "t/"), options=TreeOptions(mode="diff"),
                               gate=SafetyGate(), summary=summary, cache=StateCache(tmp_path / "state.sqlite")))  # fmt: skip
    assert all(r.ok for r in results), [r.error for r in results if not r.ok]
    assert (summary.transferred, summary.skipped) == (len(changed), 12 - len(changed))
    assert {r.target.rsplit("/", 1)[-1] for r in results if r.action == "upload"} == changed
    client = moto_target.client()
    for name in changed:
        assert client.get_object(Bucket=bucket, Key=f"t/{name}")["Body"].read() == (src / name).read_bytes()
    assert summary.requests == len(changed)
    assert counter.peak_selected >= 2, "the HEADs of --only-diff went out one at a time"
    assert counter.peak <= THREADS


def test_only_diff_download_compares_in_parallel(
    proxy: FaultProxy, moto_target: Target, bucket_name: Callable[[], str], tmp_path: Path
) -> None:
    bucket = bucket_name()
    dest = tmp_path / "dest"
    stored, changed = _arrange(moto_target, bucket, dest)
    counter = InFlight(limit=THREADS, selected=_is_head)
    summary = TreeSummary()
    results = list(download_tree(_run_counted(proxy, counter), S3Url(bucket, "t/"), dest, options=TreeOptions(mode="diff"),
                                 gate=SafetyGate(), summary=summary, cache=StateCache(tmp_path / "state.sqlite")))  # fmt: skip
    assert all(r.ok for r in results), [r.error for r in results if not r.ok]
    assert (summary.transferred, summary.skipped) == (len(changed), 12 - len(changed))
    assert {p.name: p.read_bytes() for p in dest.iterdir()} == stored
    assert counter.peak_selected >= 2, "the HEADs of --only-diff went out one at a time"
    assert counter.peak <= THREADS
