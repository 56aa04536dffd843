"""Transfers through the fault proxy: resets, 503 SlowDown and 500s are retried; total failure ends, not hangs.

The proxy fronts moto over plain HTTP on 127.0.0.1 (it has to read the HTTP framing to fail one request
without disturbing the next). Checks read back through moto directly, bypassing the proxy.
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from pathlib import Path

from tests.faults.conftest import Target, bucket_digests, local_digests, make_tree, open_uploads
from tests.faults.proxy import FaultPlan, FaultProxy, Request
from tests.servers.moto import MotoServer

# 300 small files + 3 multipart files (5 MiB parts): ~40 MiB, a few thousand requests with the retries
SMALL, SMALL_MAX = 300, 64 * 1024
BIG = [12 * 1024 * 1024 + 5, 11 * 1024 * 1024, 6 * 1024 * 1024 + 3]


def _summary(stdout: str) -> dict[str, object]:
    lines = [json.loads(line) for line in stdout.splitlines() if line.startswith("{")]
    found = [line for line in lines if line.get("type") == "summary"]
    assert found, stdout[-1000:]
    return found[-1]


def test_sync_up_and_down_through_resets_and_slowdowns_loses_nothing(
    proxy: FaultProxy, proxied: Target, moto: MotoServer, tmp_path: Path, bucket_name: Callable[[], str]
) -> None:
    """5% of requests reset (half before the server sees them, half after it acted: the answer is lost),
    2% answered 503 SlowDown, in both directions; both syncs finish and every checksum matches."""
    seed = random.SystemRandom().randrange(2**31)
    src = tmp_path / "src"
    expected = make_tree(src, small=SMALL, small_max=SMALL_MAX, big=BIG, seed=seed)
    bucket = bucket_name()
    direct = proxied.client(moto.endpoint_url)
    direct.create_bucket(Bucket=bucket)
    proxy.set_plan(FaultPlan(reset=0.025, reset_after=0.025, slowdown=0.02, seed=seed, max_faults=5000, window_seconds=240))
    up = proxied.run("--json", "sync", "--part-size", "5MiB", str(src), f"s3://{bucket}/t/", timeout=240)
    injected_up = dict(proxy.injected)
    assert up.returncode == 0, f"seed {seed}, faults {injected_up}: {up.stderr[-3000:]}"
    assert sum(injected_up.values()) >= 10, f"seed {seed}: too few faults to prove anything: {injected_up}"
    assert bucket_digests(direct, bucket, "t/") == expected, f"seed {seed}"
    assert open_uploads(direct, bucket) == []
    proxy.set_plan(FaultPlan(reset=0.025, reset_after=0.025, slowdown=0.02, seed=seed + 1, max_faults=5000, window_seconds=240))
    dest = tmp_path / "restore"
    down = proxied.run("--json", "sync", f"s3://{bucket}/t/", str(dest), timeout=240)
    injected_down = dict(proxy.injected)
    assert down.returncode == 0, f"seed {seed}, faults {injected_down}: {down.stderr[-3000:]}"
    assert sum(injected_down.values()) >= 3, f"seed {seed}: too few faults to prove anything: {injected_down}"
    assert local_digests(dest, skip_temp=False) == expected, f"seed {seed}"
    assert _summary(down.stdout)["failed"] == 0


def test_truncated_and_failed_downloads_never_leave_a_file_and_a_rerun_repairs(
    proxy: FaultProxy, proxied: Target, moto: MotoServer, tmp_path: Path, bucket_name: Callable[[], str]
) -> None:
    """Every GET of an object answered with half its body, or a 500: those downloads fail (exit 5), nothing
    is written for them, and a rerun without faults completes."""
    bucket = bucket_name()
    direct = proxied.client(moto.endpoint_url)
    direct.create_bucket(Bucket=bucket)
    expected = make_tree(tmp_path / "src", small=40, small_max=200 * 1024, big=[], seed=7)
    for rel in expected:
        direct.put_object(Bucket=bucket, Key="t/" + rel, Body=(tmp_path / "src" / rel).read_bytes())

    def object_get(r: Request) -> bool:
        return r.method == "GET" and r.target.startswith(f"/{bucket}/t/")

    proxy.set_plan(FaultPlan(truncate=0.5, error=0.5, eligible=object_get, max_faults=10_000, window_seconds=200))
    dest = tmp_path / "restore"
    broken = proxied.run("--json", "--retries", "1", "get", "-r", f"s3://{bucket}/t/", str(dest), timeout=200)
    assert broken.returncode == 5, broken.stderr[-2000:]
    assert proxy.injected["truncate"] > 0 and proxy.injected["error"] > 0
    summary = _summary(broken.stdout)
    assert summary["failed"] == len(expected) and summary["transferred"] == 0, summary
    assert [p for p in dest.rglob("*") if p.is_file()] == []  # no partial file, and no temp file either
    proxy.clear()
    repaired = proxied.run("get", "-r", "--only-diff", f"s3://{bucket}/t/", str(dest), timeout=200)
    assert repaired.returncode == 0, repaired.stderr[-2000:]
    assert local_digests(dest, skip_temp=False) == expected


def test_total_failure_of_uploads_gives_up_with_exit_5_and_a_summary(
    proxy: FaultProxy, proxied: Target, moto: MotoServer, tmp_path: Path, bucket_name: Callable[[], str]
) -> None:
    """Every upload request (PUT object, part, multipart start) fails with 503 SlowDown or 500, forever:
    the sync retries, gives up, exits 5 with a summary that counts every file as failed, and aborts or
    keeps (for a later resume) its multipart uploads, but never hangs (bounded by the subprocess timeout)."""
    bucket = bucket_name()
    direct = proxied.client(moto.endpoint_url)
    direct.create_bucket(Bucket=bucket)
    src = tmp_path / "src"
    expected = make_tree(src, small=30, small_max=8 * 1024, big=[6 * 1024 * 1024], seed=3)

    def uploads(r: Request) -> bool:
        return r.method in ("PUT", "POST") and r.target.startswith(f"/{bucket}/")

    proxy.set_plan(FaultPlan(slowdown=0.7, error=0.3, eligible=uploads, max_faults=100_000, window_seconds=280))
    result = proxied.run("--json", "--retries", "2", "sync", "--part-size", "5MiB", str(src), f"s3://{bucket}/t/", timeout=280)
    assert result.returncode == 5, result.stderr[-2000:]
    summary = _summary(result.stdout)
    assert summary["failed"] == len(expected) and summary["transferred"] == 0, summary
    errors = [json.loads(line) for line in result.stderr.splitlines() if line.startswith("{")]
    assert errors and errors[-1]["exit_code"] == 5 and errors[-1]["type"] == "error", result.stderr[-1000:]
    assert "Traceback" not in result.stderr
    listed = direct.list_objects_v2(Bucket=bucket).get("KeyCount", 0)
    assert listed == 0
    # the same with every request failing: one clear error, the service's exit code (1), no hang
    proxy.set_plan(FaultPlan(slowdown=1.0, max_faults=100_000, window_seconds=280))
    everything = proxied.run("--retries", "2", "sync", str(src), f"s3://{bucket}/t/", timeout=280)
    assert everything.returncode == 1, everything.stderr[-2000:]
    lines = [line for line in everything.stderr.splitlines() if "error" in line]
    assert len(lines) == 1 and ("(503)" in lines[0] or "(SlowDown)" in lines[0]), everything.stderr[-2000:]
    assert "Traceback" not in everything.stderr
    # once the store recovers, a rerun completes and leaves no multipart upload behind
    proxy.clear()
    healed = proxied.run("sync", "--part-size", "5MiB", str(src), f"s3://{bucket}/t/", timeout=200)
    assert healed.returncode == 0, healed.stderr[-2000:]
    assert bucket_digests(direct, bucket, "t/") == expected
    assert open_uploads(direct, bucket) == []
