"""The verified-state cache read in key order (a tree run's planner): windows of rows, one query each, that answer
exactly as one query per key did."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from s3safe.transfer import state
from s3safe.transfer.state import StateCache, Verified

BUCKET = "bkt"


def _entry(n: int) -> Verified:
    return Verified(n, n * 1000, f"etag{n}", f"sha{n}", "ETag = MD5 of the file", n * 1000 + 1)


def _selects(cache: StateCache) -> list[str]:
    seen: list[str] = []
    cache._store.db.set_trace_callback(lambda sql: seen.append(sql) if sql.lstrip().upper().startswith("SELECT") else None)
    return seen


@pytest.fixture
def cache(tmp_path: Path) -> StateCache:
    return StateCache(tmp_path / "verified.sqlite").scoped(endpoint="http://127.0.0.1:1", root=tmp_path)


def test_keys_asked_in_order_get_what_one_query_per_key_got_in_a_query_per_window(
    cache: StateCache, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(state, "WINDOW_ROWS", 4)
    keys = [f"p/{n:03d}" for n in range(20)]
    for n, key in enumerate(keys):
        if n % 3:  # some keys have no entry
            cache.put(BUCKET, key, _entry(n))
    cache.put("other-bucket", "p/005", _entry(99))  # another bucket's row of the same key is not this one
    cache.flush()
    expected = [cache.get(BUCKET, key) for key in keys]
    selects = _selects(cache)
    assert [cache.get_in_order(BUCKET, key) for key in keys] == expected
    assert 1 < len(selects) <= 20 // 4 + 2  # a window per WINDOW_ROWS rows, not a query per key


def test_a_key_out_of_order_or_a_flush_reads_a_new_window(cache: StateCache, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(state, "WINDOW_ROWS", 100)
    for n in range(5):
        cache.put(BUCKET, f"k{n}", _entry(n))
    cache.flush()
    assert cache.get_in_order(BUCKET, "k3") == _entry(3)
    assert cache.get_in_order(BUCKET, "k1") == _entry(1)  # before the window: read again from there
    cache.put(BUCKET, "k4", _entry(44))
    assert cache.get_in_order(BUCKET, "k4") == _entry(44)  # not yet written: the pending entry
    cache.flush()
    assert cache.get_in_order(BUCKET, "k4") == _entry(44)  # written since the window was read: read again
    cache.forget(BUCKET, "k2")
    assert cache.get_in_order(BUCKET, "k2") is None


def test_a_dry_run_without_a_cache_file_reads_nothing_and_creates_nothing(tmp_path: Path) -> None:
    path = tmp_path / "absent" / "verified.sqlite"
    cache = StateCache(path, read_only=True).scoped(endpoint=None, root=tmp_path)
    assert cache.get_in_order(BUCKET, "a") is None and cache.get_in_order(BUCKET, "b") is None
    assert not os.path.exists(path.parent)
