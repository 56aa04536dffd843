"""sync replaces only the object it planned against: If-Match with the listed ETag, so an object another client
wrote between planning and transfer is reported as a conflict (exit 5, naming the key) and kept."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.faults.concurrent_writer import ConcurrentWriter
from tests.faults.conftest import Target
from tests.faults.proxy import FaultPlan, FaultProxy, Request
from tests.servers.moto import MotoServer


def test_sync_reports_an_object_changed_after_planning_as_a_conflict(
    proxy: FaultProxy, proxied: Target, moto: MotoServer, bucket_name: Callable[[], str], tmp_path: Path
) -> None:  # fmt: skip
    direct = proxied.client(moto.endpoint_url)
    bucket = bucket_name()
    direct.create_bucket(Bucket=bucket)
    root = tmp_path / "src"
    root.mkdir()
    (root / "a.txt").write_bytes(b"mine v1")
    (root / "b.txt").write_bytes(b"other v1")
    first = proxied.run("sync", str(root), f"s3://{bucket}/docs/")
    assert first.returncode == 0, first.stderr
    (root / "a.txt").write_bytes(b"mine v2, longer")
    (root / "b.txt").write_bytes(b"other v2, longer")
    writer = ConcurrentWriter(direct, bucket, "docs/a.txt", b"theirs, written meanwhile")
    proxy.set_plan(FaultPlan(rewrite_request=writer))
    second = proxied.run("sync", str(root), f"s3://{bucket}/docs/")
    assert writer.written
    assert second.returncode == 5, second.stderr
    assert "conflict" in second.stderr and f"s3://{bucket}/docs/a.txt" in second.stderr
    assert "Traceback" not in second.stderr
    # the concurrent writer's object is kept; the file nobody else touched is updated
    assert direct.get_object(Bucket=bucket, Key="docs/a.txt")["Body"].read() == b"theirs, written meanwhile"
    assert direct.get_object(Bucket=bucket, Key="docs/b.txt")["Body"].read() == b"other v2, longer"


@pytest.mark.parametrize(("command", "big"), [("put", False), ("sync", False), ("sync", True)], ids=["put -r", "sync", "sync multipart"])
def test_a_key_created_after_listing_is_a_conflict_and_kept(
    proxy: FaultProxy, proxied: Target, moto: MotoServer, bucket_name: Callable[[], str], tmp_path: Path, command: str, big: bool
) -> None:  # fmt: skip
    """Before: a key listed as absent was sent with no If-None-Match, so another client's object created meanwhile
    was silently replaced (exit 0)."""
    direct = proxied.client(moto.endpoint_url)
    bucket = bucket_name()
    direct.create_bucket(Bucket=bucket)
    root = tmp_path / "src"
    root.mkdir()
    (root / "mine.txt").write_bytes(b"mine")
    (root / "new.bin").write_bytes(b"n" * (6 * 1024 * 1024 if big else 100))  # two parts of --part-size 5MiB
    writer = ConcurrentWriter(direct, bucket, "docs/new.bin", b"theirs, created meanwhile", parts=big)
    proxy.set_plan(FaultPlan(rewrite_request=writer))
    args = [command, *(["-r"] if command == "put" else []), *(["--part-size", "5MiB"] if big else []), str(root), f"s3://{bucket}/docs/"]
    result = proxied.run(*args)
    assert writer.written
    assert result.returncode == 5, result.stderr[-2000:]
    lines = [line for line in result.stderr.splitlines() if f"s3://{bucket}/docs/new.bin" in line]
    assert any("conflict" in line and "created by another writer" in line for line in lines), result.stderr[-2000:]
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr
    assert direct.get_object(Bucket=bucket, Key="docs/new.bin")["Body"].read() == b"theirs, created meanwhile"
    assert direct.get_object(Bucket=bucket, Key="docs/mine.txt")["Body"].read() == b"mine"


@pytest.mark.parametrize("big", [False, True], ids=["put", "complete"])
def test_a_create_whose_answer_was_lost_is_retried_and_not_a_conflict(
    proxy: FaultProxy, proxied: Target, moto: MotoServer, bucket_name: Callable[[], str], tmp_path: Path, big: bool
) -> None:  # fmt: skip
    """The server wrote the key, the answer was lost (reset after the server acted): the repeat, sent with
    If-None-Match: *, is refused by the write it repeats. Before: obstore never retried a conditional PUT ("the
    connection was cut", exit 5), and a refused repeat would have read as another writer's object."""
    direct = proxied.client(moto.endpoint_url)
    bucket = bucket_name()
    direct.create_bucket(Bucket=bucket)
    root = tmp_path / "src"
    root.mkdir()
    data = b"n" * (6 * 1024 * 1024 if big else 100)  # two parts of --part-size 5MiB
    (root / "new.bin").write_bytes(data)

    def the_write(request: Request) -> bool:
        if not request.target.startswith(f"/{bucket}/t/new.bin"):
            return False
        return (request.method == "POST" and "uploadId=" in request.target) if big else request.method == "PUT"

    proxy.set_plan(FaultPlan(reset_after=1.0, eligible=the_write, max_faults=1))
    result = proxied.run("put", "-r", *(["--part-size", "5MiB"] if big else []), str(root), f"s3://{bucket}/t/")
    assert proxy.injected["reset_after"] == 1
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert direct.get_object(Bucket=bucket, Key="t/new.bin")["Body"].read() == data
