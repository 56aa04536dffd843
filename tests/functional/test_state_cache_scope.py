"""The `--only-diff` cache describes one local file and one object on one server. A different folder whose
files have the same sizes and mtimes (a restore, a second checkout, rsync -t) used to hit the first folder's
entries and be skipped as unchanged, in both directions."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from s3safe.transfer.state import StateCache, Verified
from tests.servers.moto import MotoServer

Run = Callable[..., subprocess.CompletedProcess[str]]
MTIME_NS = 1_700_000_000_123_456_789
ORIGINAL = {"f1.txt": b"aaaa", "sub/f2.txt": b"cccccc"}
OTHER = {"f1.txt": b"bbbb", "sub/f2.txt": b"dddddd"}  # same sizes, other bytes


def _write(root: Path, files: dict[str, bytes]) -> Path:
    for rel, data in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        os.utime(path, ns=(MTIME_NS, MTIME_NS))
    return root


def _read(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


@pytest.fixture
def bucket(moto_client: Any, bucket_name: Callable[[], str]) -> str:
    name = bucket_name()
    moto_client.create_bucket(Bucket=name)
    return name


def test_upload_from_another_folder_with_the_same_sizes_and_mtimes_is_compared(
    moto: MotoServer, moto_client: Any, bucket: str, tmp_path: Path, run_cli: Run
) -> None:
    args = ["--endpoint-url", moto.endpoint_url, "--allow-http"]
    first = run_cli(*args, "sync", str(_write(tmp_path / "a", ORIGINAL)), f"s3://{bucket}/t/")
    assert first.returncode == 0, first.stderr
    second = run_cli(*args, "sync", str(_write(tmp_path / "b", OTHER)), f"s3://{bucket}/t/")
    assert second.returncode == 0, second.stderr
    stored = {rel: moto_client.get_object(Bucket=bucket, Key="t/" + rel)["Body"].read() for rel in OTHER}
    assert stored == OTHER


def test_download_into_another_folder_with_the_same_sizes_and_mtimes_is_compared(
    moto: MotoServer, moto_client: Any, bucket: str, tmp_path: Path, run_cli: Run
) -> None:
    args = ["--endpoint-url", moto.endpoint_url, "--allow-http"]
    for rel, data in ORIGINAL.items():
        moto_client.put_object(Bucket=bucket, Key="t/" + rel, Body=data)
    first = run_cli(*args, "get", "-r", "--only-diff", f"s3://{bucket}/t/", str(tmp_path / "a"))
    assert first.returncode == 0, first.stderr
    for path in (tmp_path / "a").rglob("*"):
        if path.is_file():
            os.utime(path, ns=(MTIME_NS, MTIME_NS))
    # the first restore's cache entries now name the mtime; refresh them with a no-change run
    again = run_cli(*args, "sync", f"s3://{bucket}/t/", str(tmp_path / "a"))
    assert again.returncode == 0, again.stderr
    other = _write(tmp_path / "b", OTHER)
    second = run_cli(*args, "sync", f"s3://{bucket}/t/", str(other))
    assert second.returncode == 0, second.stderr
    assert _read(other) == ORIGINAL


def test_entries_are_kept_apart_by_endpoint_and_folder(tmp_path: Path) -> None:
    cache = StateCache(tmp_path / "state" / "verified.sqlite")
    entry = Verified(4, MTIME_NS, "etag", "sha")
    here = cache.scoped(endpoint="https://one.example", root=tmp_path / "a")
    here.put("b", "k", entry)
    assert here.get("b", "k") == entry
    assert cache.scoped(endpoint="https://two.example", root=tmp_path / "a").get("b", "k") is None
    assert cache.scoped(endpoint="https://one.example", root=tmp_path / "b").get("b", "k") is None
    cache.close()
    reopened = StateCache(tmp_path / "state" / "verified.sqlite")
    assert reopened.scoped(endpoint="https://one.example/", root=tmp_path / "a").get("b", "k") == entry
    reopened.close()
