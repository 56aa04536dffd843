"""Whole-tree put/get/sync against moto: round trips, change detection, purge safety, traversal."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from s3safe.core.errors import SafetyRefusal
from s3safe.core.locations import S3Url
from s3safe.core.models import ActionResult
from s3safe.core.safety import SafetyGate
from s3safe.ops.buckets import make_bucket
from s3safe.storage.connection import Connection
from s3safe.transfer.engine import TreeOptions, TreeSummary, download_tree, upload_tree
from s3safe.transfer.state import StateCache
from tests.servers.moto import MotoServer


def _tree(root: Path) -> dict[str, bytes]:
    files = {
        "a/one.txt": b"one\n",
        "a/b/two.txt": b"two two\n",
        "a/b/c/deep.txt": b"deep",
        "empty": b"",
        "ünïcödé/naïve café.txt": "ünïcödé".encode(),
        "z-last.txt": b"last",
    }
    for rel, data in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    return files


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def _up(conn: Connection, root: Path, url: S3Url, cache: StateCache, gate: SafetyGate | None = None, **options: Any) -> tuple[list[ActionResult], TreeSummary]:
    summary = TreeSummary()
    results = list(upload_tree(conn, root, url, options=TreeOptions(**options), gate=gate or SafetyGate(), summary=summary, cache=cache))
    return results, summary


def _down(conn: Connection, url: S3Url, root: Path, cache: StateCache, gate: SafetyGate | None = None, **options: Any) -> tuple[list[ActionResult], TreeSummary]:
    summary = TreeSummary()
    results = list(download_tree(conn, url, root, options=TreeOptions(**options), gate=gate or SafetyGate(), summary=summary, cache=cache))
    return results, summary


@pytest.fixture
def cache(tmp_path: Path) -> StateCache:
    return StateCache(tmp_path / "state" / "verified.sqlite")


@pytest.fixture
def bucket(moto_conn: Connection, bucket_name: Callable[[], str]) -> str:
    name = bucket_name()
    make_bucket(moto_conn, S3Url(name))
    return name


def test_tree_round_trip_is_byte_identical_with_mtimes(moto_conn: Connection, bucket: str, tmp_path: Path, cache: StateCache) -> None:
    src = tmp_path / "src"
    files = _tree(src)
    big = os.urandom(50 * 1024 * 1024)
    (src / "big.bin").write_bytes(big)
    files["big.bin"] = big
    stamp = 1_600_000_000.25
    os.utime(src / "a" / "one.txt", (stamp, stamp))
    _, summary = _up(moto_conn, src, S3Url(bucket, "backup/"), cache)
    assert summary.transferred == len(files) and summary.failed == 0
    assert summary.transferred_bytes == sum(len(v) for v in files.values())
    dst = tmp_path / "dst"
    _, down = _down(moto_conn, S3Url(bucket, "backup/"), dst, cache)
    assert down.transferred == len(files) and down.failed == 0
    assert _files(dst) == files
    assert (dst / "a" / "one.txt").stat().st_mtime == pytest.approx(stamp, abs=1e-3)
    assert not list(dst.rglob("*.s3safe-tmp"))


def test_only_diff_skips_unchanged_and_detects_same_size_edit(moto_conn: Connection, bucket: str, tmp_path: Path, cache: StateCache) -> None:
    src = tmp_path / "src"
    _tree(src)
    _up(moto_conn, src, S3Url(bucket, "b/"), cache, mode="diff")
    _, again = _up(moto_conn, src, S3Url(bucket, "b/"), cache, mode="diff")
    assert (again.transferred, again.skipped, again.hashed, again.requests) == (0, 6, 0, 0)
    # same size, different bytes
    (src / "a" / "one.txt").write_bytes(b"ONE\n")
    results, changed = _up(moto_conn, src, S3Url(bucket, "b/"), cache, mode="diff")
    assert changed.transferred == 1
    assert [r.target for r in results if r.action == "upload"] == [f"s3://{bucket}/b/a/one.txt"]


def test_only_diff_without_cache_uses_content_not_time(moto_conn: Connection, bucket: str, tmp_path: Path) -> None:
    src = tmp_path / "src"
    _tree(src)
    _up(moto_conn, src, S3Url(bucket, "c/"), StateCache(tmp_path / "s1.sqlite"))
    for path in src.rglob("*"):
        os.utime(path, (1_700_000_000, 1_700_000_000))  # every mtime changes, no content does
    _, summary = _up(moto_conn, src, S3Url(bucket, "c/"), StateCache(tmp_path / "s2.sqlite"), mode="diff")
    assert summary.transferred == 0 and summary.skipped == 6 and summary.hashed == 6


def test_purge_deletes_exactly_the_orphans_after_transfers(moto_conn: Connection, moto_client: Any, bucket: str, tmp_path: Path, cache: StateCache) -> None:
    src = tmp_path / "src"
    _tree(src)
    moto_client.put_object(Bucket=bucket, Key="m/orphan-1", Body=b"x")
    moto_client.put_object(Bucket=bucket, Key="m/a/orphan-2", Body=b"x")
    moto_client.put_object(Bucket=bucket, Key="outside/keep", Body=b"x")
    results, summary = _up(moto_conn, src, S3Url(bucket, "m/"), cache, purge=True)
    assert summary.deleted == 2
    actions = [r.action for r in results]
    assert actions.index("delete") > max(i for i, a in enumerate(actions) if a == "upload")
    keys = sorted(o["Key"] for o in moto_client.list_objects_v2(Bucket=bucket)["Contents"])
    assert keys == sorted([f"m/{k}" for k in _tree(tmp_path / "again")] + ["outside/keep"])


def test_purge_is_skipped_when_an_upload_fails(moto_conn: Connection, moto_client: Any, bucket: str, tmp_path: Path, cache: StateCache) -> None:
    src = tmp_path / "src"
    _tree(src)
    # a key over S3's 1,024-byte limit makes this one upload fail (refused before sending)
    long_dir = src / ("d" * 250) / ("e" * 250) / ("f" * 250) / ("g" * 250) / ("h" * 250)
    long_dir.mkdir(parents=True)
    (long_dir / "too-long.txt").write_bytes(b"x")
    moto_client.put_object(Bucket=bucket, Key="p/orphan", Body=b"x")
    results, summary = _up(moto_conn, src, S3Url(bucket, "p/"), cache, purge=True)
    assert summary.failed >= 1 and summary.deleted == 0
    assert any(r.action == "skip" and not r.ok and "deletion(s) skipped" in (r.error or "") for r in results)
    assert moto_client.head_object(Bucket=bucket, Key="p/orphan")["ContentLength"] == 1


def test_max_delete_and_empty_source_refusals(moto_conn: Connection, moto_client: Any, bucket: str, tmp_path: Path, cache: StateCache) -> None:
    src = tmp_path / "src"
    src.mkdir()
    (src / "keep.txt").write_text("k")
    for i in range(3):
        moto_client.put_object(Bucket=bucket, Key=f"q/orphan{i}", Body=b"x")
    with pytest.raises(SafetyRefusal):
        _up(moto_conn, src, S3Url(bucket, "q/"), cache, gate=SafetyGate(max_delete=2), purge=True)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(SafetyRefusal, match="empty or missing"):
        _up(moto_conn, empty, S3Url(bucket, "q/"), cache, purge=True)
    keys = [o["Key"] for o in moto_client.list_objects_v2(Bucket=bucket, Prefix="q/")["Contents"]]
    assert sorted(keys) == ["q/keep.txt", "q/orphan0", "q/orphan1", "q/orphan2"]


def test_dry_run_prints_the_plan_and_changes_nothing(moto_conn: Connection, moto_client: Any, bucket: str, tmp_path: Path, cache: StateCache) -> None:
    src = tmp_path / "src"
    files = _tree(src)
    results, summary = _up(moto_conn, src, S3Url(bucket, "d/"), cache, gate=SafetyGate(dry_run=True))
    assert summary.planned == len(files) and all(r.dry_run for r in results)
    assert "Contents" not in moto_client.list_objects_v2(Bucket=bucket, Prefix="d/")


def test_move_removes_local_files_only_after_upload(moto_conn: Connection, moto_client: Any, bucket: str, tmp_path: Path, cache: StateCache) -> None:
    src = tmp_path / "src"
    files = _tree(src)
    _, summary = _up(moto_conn, src, S3Url(bucket, "mv/"), cache, move=True)
    assert summary.transferred == len(files)
    assert _files(src) == {}
    assert len(moto_client.list_objects_v2(Bucket=bucket, Prefix="mv/")["Contents"]) == len(files)


def test_download_refuses_keys_that_escape_and_writes_nothing_outside(
    moto_conn: Connection, moto_client: Any, bucket: str, tmp_path: Path, cache: StateCache
) -> None:
    for key in ("t/ok.txt", "t/../../x", "t/../escape.txt", "t/a/\x01ctrl"):
        moto_client.put_object(Bucket=bucket, Key=key, Body=b"data")
    dst = tmp_path / "deep" / "dst"
    results, summary = _down(moto_conn, S3Url(bucket, "t/"), dst, cache)
    assert _files(dst) == {"ok.txt": b"data"}
    assert summary.refused == 3 and summary.transferred == 1
    assert not (tmp_path / "x").exists() and not (tmp_path / "deep" / "escape.txt").exists()
    assert sum(r.action == "refuse" for r in results) == 3


def test_download_purge_and_only_newer(moto_conn: Connection, moto_client: Any, bucket: str, tmp_path: Path, cache: StateCache) -> None:
    moto_client.put_object(Bucket=bucket, Key="g/new.txt", Body=b"new")
    dst = tmp_path / "dst"
    dst.mkdir()
    (dst / "stale.txt").write_text("stale")
    (dst / "new.txt").write_text("old")
    os.utime(dst / "new.txt", (2_000_000_000, 2_000_000_000))  # local copy is "newer" than the object
    _, newer = _down(moto_conn, S3Url(bucket, "g/"), dst, cache, mode="newer", purge=True)
    assert (dst / "new.txt").read_text() == "old"
    assert not (dst / "stale.txt").exists()
    assert (newer.transferred, newer.deleted, newer.skipped) == (0, 1, 1)


def test_sync_cli_end_to_end(run_cli: Callable[..., Any], moto: MotoServer, tmp_path: Path, bucket_name: Callable[[], str]) -> None:
    import json

    name = bucket_name()
    base = ("--endpoint-url", moto.endpoint_url, "--allow-http")
    assert run_cli(*base, "mb", f"s3://{name}").returncode == 0
    src = tmp_path / "src"
    files = _tree(src)
    first = run_cli(*base, "--json", "sync", str(src), f"s3://{name}/s/")
    assert first.returncode == 0, first.stderr
    assert json.loads(first.stdout.splitlines()[-1])["transferred"] == len(files)
    second = run_cli(*base, "--json", "sync", str(src), f"s3://{name}/s/")
    assert json.loads(second.stdout.splitlines()[-1])["skipped"] == len(files)
    out = tmp_path / "out"
    back = run_cli(*base, "sync", f"s3://{name}/s/", str(out))
    assert back.returncode == 0, back.stderr
    assert _files(out) == files


def test_put_where_selects_files_and_local_delete_removes_verified_matches(
    moto_conn: Connection, moto_client: Any, bucket: str, tmp_path: Path, cache: StateCache
) -> None:
    from s3safe.query import compile_where

    src = tmp_path / "src"
    files = _tree(src)
    _, first = _up(moto_conn, src, S3Url(bucket, "w/"), cache, mode="diff", where=compile_where("ext = '.txt' AND size > 3", scope="any"))
    uploaded = sorted(o["Key"] for o in moto_client.list_objects_v2(Bucket=bucket, Prefix="w/")["Contents"])
    expected = sorted(f"w/{k}" for k, v in files.items() if k.endswith(".txt") and len(v) > 3)
    assert uploaded == expected and first.transferred == len(expected)
    # a later run: files already on S3 with the same content are deleted locally when they match EXPR
    (src / "a" / "one.txt").write_bytes(b"changed!")  # differs from S3 now: must survive
    _, second = _up(moto_conn, src, S3Url(bucket, "w/"), cache, mode="diff",
                    where=compile_where("ext = '.txt' AND size > 3", scope="any"),
                    local_delete=compile_where("path starts_with 'a/'", scope="any"))  # fmt: skip
    remaining = _files(src)
    assert "a/b/two.txt" not in remaining and "a/b/c/deep.txt" not in remaining  # matched on S3, under a/: deleted
    assert remaining["a/one.txt"] == b"changed!"  # re-uploaded this run, not a prior match
    assert "z-last.txt" in remaining  # matches on S3 but not the condition
    assert second.deleted == 2


def test_local_delete_needs_only_diff(moto_conn: Connection, bucket: str, tmp_path: Path, cache: StateCache) -> None:
    from s3safe.core.errors import UsageError
    from s3safe.query import compile_where

    with pytest.raises(UsageError, match="--only-diff"):
        _up(moto_conn, tmp_path, S3Url(bucket, "x/"), cache, local_delete=compile_where("true", scope="any"))
