"""Folder markers are not content: a source whose listing holds only markers is empty, in both directions.

An outside tester found `sync --delete s3://b/reports/ rep` wiped rep/ when the prefix held only the
0-byte "reports/" marker that `mkdir` creates, and `get -r` of it "succeeded" with an empty folder.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

from s3safe.core.models import ObjectInfo
from s3safe.storage.connection import Connection
from s3safe.storage.s3 import S3Storage
from tests.servers.moto import MotoServer

Run = Callable[..., subprocess.CompletedProcess[str]]


def _markers(client: Any, bucket: str) -> None:
    client.create_bucket(Bucket=bucket)
    for key in ("reports/", "reports/sub/", "reports/sub/deeper/"):
        client.put_object(Bucket=bucket, Key=key, Body=b"")


def test_a_prefix_of_only_folder_markers_is_an_empty_source_for_sync_delete(
    run_cli: Run, moto: MotoServer, moto_client: Any, bucket_name: Callable[[], str], tmp_path: Path
) -> None:
    bucket = bucket_name()
    _markers(moto_client, bucket)
    rep = tmp_path / "rep"
    rep.mkdir()
    (rep / "q1.txt").write_text("only copy")
    (rep / "q2.txt").write_text("q2")
    done = run_cli("--endpoint-url", moto.endpoint_url, "--allow-http", "sync", "--delete", f"s3://{bucket}/reports/", str(rep))
    assert done.returncode == 7, done.stdout + done.stderr
    assert "empty or missing" in done.stderr
    assert sorted(p.name for p in rep.iterdir()) == ["q1.txt", "q2.txt"]
    assert (rep / "q1.txt").read_text() == "only copy"


def test_get_r_of_a_prefix_of_only_folder_markers_is_not_found(
    run_cli: Run, moto: MotoServer, moto_client: Any, bucket_name: Callable[[], str], tmp_path: Path
) -> None:
    bucket = bucket_name()
    _markers(moto_client, bucket)
    done = run_cli("--endpoint-url", moto.endpoint_url, "--allow-http", "get", "-r", f"s3://{bucket}/reports/",
                   str(tmp_path / "newrep"))  # fmt: skip
    assert done.returncode == 3, done.stdout + done.stderr
    assert "nothing to download" in done.stderr
    assert not (tmp_path / "newrep").exists()
    # --as-of names the moment as every time is shown (here --utc), not as raw ISO with microseconds (rt17 #9)
    asof = run_cli("--endpoint-url", moto.endpoint_url, "--allow-http", "--utc", "get", "-r", "--as-of",
                   "2026-01-01T00:00:00.123456+01:00", f"s3://{bucket}/reports/", str(tmp_path / "newrep"))  # fmt: skip
    assert asof.returncode == 3, asof.stderr
    assert f"under s3://{bucket}/reports/ at 2025-12-31 23:00:00Z (check the URL" in asof.stderr, asof.stderr


def test_a_local_folder_of_only_empty_folders_is_an_empty_source_for_put_purge(
    run_cli: Run, moto: MotoServer, moto_client: Any, bucket_name: Callable[[], str], tmp_path: Path
) -> None:
    bucket = bucket_name()
    moto_client.create_bucket(Bucket=bucket)
    moto_client.put_object(Bucket=bucket, Key="data/a.txt", Body=b"only copy")
    src = tmp_path / "src"
    (src / "empty" / "nested").mkdir(parents=True)
    (src / "other").mkdir()
    done = run_cli("--endpoint-url", moto.endpoint_url, "--allow-http", "put", "-r", "--purge", str(src), f"s3://{bucket}/data/")
    assert done.returncode == 7, done.stdout + done.stderr
    assert "empty or missing" in done.stderr
    assert moto_client.get_object(Bucket=bucket, Key="data/a.txt")["Body"].read() == b"only copy"


def test_a_tree_with_folder_markers_downloads_its_files_and_nothing_for_the_markers(
    run_cli: Run, moto: MotoServer, moto_client: Any, bucket_name: Callable[[], str], tmp_path: Path
) -> None:
    """The markers the S3 console and `mkdir` create beside real objects are neither files nor failures."""
    bucket = bucket_name()
    _markers(moto_client, bucket)
    moto_client.put_object(Bucket=bucket, Key="reports/sub/q1.txt", Body=b"q1")
    moto_client.put_object(Bucket=bucket, Key="reports/empty.txt", Body=b"")  # a real empty file stays one
    out = tmp_path / "out"
    done = run_cli("--endpoint-url", moto.endpoint_url, "--allow-http", "get", "-r", f"s3://{bucket}/reports/", str(out))
    assert done.returncode == 0, done.stdout + done.stderr
    files = sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file())
    assert files == ["empty.txt", "sub/q1.txt"], files
    assert (out / "sub" / "q1.txt").read_bytes() == b"q1" and (out / "empty.txt").read_bytes() == b""


def test_the_fast_listing_keeps_a_marker_s_trailing_slash(
    moto_conn: Connection, moto_client: Any, bucket_name: Callable[[], str]
) -> None:
    bucket = bucket_name()
    _markers(moto_client, bucket)
    moto_client.put_object(Bucket=bucket, Key="reports/a.txt", Body=b"a")
    storage = S3Storage(moto_conn)
    reference = [(o.key, o.size) for o in storage.iter_entries(bucket, "reports/", recursive=True) if isinstance(o, ObjectInfo)]
    fast = [(o.key, o.size) for o in storage.iter_objects_fast(bucket, "reports/")]
    assert fast == reference
    assert ("reports/sub/", 0) in fast and ("reports/sub", 0) not in fast
