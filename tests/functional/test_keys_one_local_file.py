"""Distinct keys that name one local file (`a/b`, `a//b`, `a/./b`: another tool wrote them) on `get -r` and
`sync` down, on a real (moto) server: the first in listing order is written, the others are refused (exit 5)
and never replace it, whichever thread runs first; a sync then settles, and --purge keeps the written file."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from s3safe.core.errors import PartialFailure
from s3safe.core.locations import S3Url
from s3safe.core.models import ActionResult
from s3safe.core.safety import SafetyGate
from s3safe.storage.connection import Connection
from s3safe.transfer.engine import TreeOptions, TreeSummary, download_tree
from s3safe.transfer.state import StateCache

KEYS = {"a/b": b"ONE", "a//b": b"TWO", "a/./b": b"THREE", "-c": b"dash", "./-c": b"dot dash", "d/.": b"folder", "e": b"plain"}


def _down(conn: Connection, url: S3Url, root: Path, cache: StateCache, **options: Any) -> tuple[list[ActionResult], TreeSummary]:
    summary = TreeSummary()
    results = list(download_tree(conn, url, root, options=TreeOptions(**options), gate=SafetyGate(), summary=summary, cache=cache))
    return results, summary


def _refused(results: list[ActionResult]) -> dict[str, str]:
    return {r.target.rsplit("/t/", 1)[1]: r.error or "" for r in results if r.action == "refuse"}


def test_keys_naming_one_local_file_write_the_first_listed_and_report_the_others(
    moto_conn: Connection, moto_client: Any, bucket_name: Callable[[], str], tmp_path: Path
) -> None:
    bucket = bucket_name()
    moto_client.create_bucket(Bucket=bucket)
    for key, body in KEYS.items():
        moto_client.put_object(Bucket=bucket, Key=f"t/{key}", Body=body)
    assert sorted(o["Key"] for o in moto_client.list_objects_v2(Bucket=bucket)["Contents"]) == sorted(f"t/{k}" for k in KEYS)
    cache = StateCache(read_only=True)
    root = tmp_path / "restore"
    expected = {"a//b": "key names the same local file as 'a/./b'; not written",
                "a/b": "key names the same local file as 'a/./b'; not written",
                "./-c": "key names the same local file as '-c'; not written",
                "d/.": "key ends in '.' and names a folder, not a file; not written"}  # fmt: skip
    results, summary = _down(moto_conn, S3Url(bucket, "t/"), root, cache)
    assert _refused(results) == expected
    assert isinstance(summary.failure(), PartialFailure) and (summary.failed, summary.refused, summary.transferred) == (4, 4, 3)
    files = {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}
    assert files == {"a/b": b"THREE", "-c": b"dash", "e": b"plain"}  # `a/./b` lists first, `-c` before `./-c`
    for _ in range(2):  # sync settles: nothing transferred, the same keys reported
        results, summary = _down(moto_conn, S3Url(bucket, "t/"), root, cache, mode="diff", purge=True)
        assert _refused(results) == expected and (summary.transferred, summary.skipped, summary.deleted) == (0, 3, 0)
    assert (root / "a" / "b").read_bytes() == b"THREE"


def test_purge_keeps_a_file_only_folded_keys_name(
    moto_conn: Connection, moto_client: Any, bucket_name: Callable[[], str], tmp_path: Path
) -> None:
    bucket = bucket_name()
    moto_client.create_bucket(Bucket=bucket)
    moto_client.put_object(Bucket=bucket, Key="t/x//y", Body=b"slashes")
    moto_client.put_object(Bucket=bucket, Key="t/x/./y", Body=b"dot")
    root, cache = tmp_path / "restore", StateCache(read_only=True)
    for _ in range(2):
        results, summary = _down(moto_conn, S3Url(bucket, "t/"), root, cache, mode="diff", purge=True)
        assert _refused(results) == {"x//y": "key names the same local file as 'x/./y'; not written"}
        assert (root / "x" / "y").read_bytes() == b"dot" and summary.deleted == 0
