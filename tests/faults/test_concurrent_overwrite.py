"""sync replaces only the object it planned against: If-Match with the listed ETag, so an object another client
wrote between planning and transfer is reported as a conflict (exit 5, naming the key) and kept."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from tests.faults.concurrent_writer import ConcurrentWriter
from tests.faults.conftest import Target
from tests.faults.proxy import FaultPlan, FaultProxy
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
