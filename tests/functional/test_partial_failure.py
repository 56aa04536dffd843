"""One file's failed multipart upload is that file's failure, not the end of the run."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from s3safe.core import cancel
from s3safe.core.errors import ServiceError
from s3safe.core.locations import S3Url
from s3safe.core.safety import SafetyGate
from s3safe.storage.base import Part
from s3safe.storage.connection import Connection
from s3safe.storage.s3_upload import S3ChunkWriter
from s3safe.transfer.engine import TreeOptions, TreeSummary, upload_tree
from s3safe.transfer.options import UploadOptions
from s3safe.transfer.state import StateCache


def test_a_failing_multipart_upload_does_not_cancel_the_other_files(
    moto_conn: Connection, moto_client: Any, bucket_name: Callable[[], str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bucket = bucket_name()
    moto_client.create_bucket(Bucket=bucket)
    src = tmp_path / "src"
    src.mkdir()
    (src / "big.bin").write_bytes(os.urandom(11 * 1024 * 1024))  # three 5 MiB parts
    small = {f"s{i:02d}.txt": os.urandom(100) for i in range(40)}
    for name, data in small.items():
        (src / name).write_bytes(data)
    real_write = S3ChunkWriter.write_part

    def failing_write(self: S3ChunkWriter, upload_id: str, number: int, data: bytes, **checksum: Any) -> Part:
        if self.key.endswith("big.bin") and number > 1:
            raise ServiceError("injected: the store dropped this part")
        return real_write(self, upload_id, number, data, **checksum)

    monkeypatch.setattr(S3ChunkWriter, "write_part", failing_write)
    summary = TreeSummary()
    options = TreeOptions(upload=UploadOptions(part_size=5 * 1024 * 1024))
    results = list(upload_tree(moto_conn, src, S3Url(bucket, "t/"), options=options, gate=SafetyGate(), summary=summary,
                               cache=StateCache(tmp_path / "state.sqlite")))  # fmt: skip
    assert not cancel.is_cancelled()
    failed = [r for r in results if not r.ok]
    assert [r.target for r in failed] == [f"s3://{bucket}/t/big.bin"] and "dropped this part" in (failed[0].error or "")
    assert (summary.transferred, summary.failed) == (len(small), 1)
    stored = {o["Key"] for o in moto_client.list_objects_v2(Bucket=bucket).get("Contents", [])}
    assert stored == {f"t/{name}" for name in small}
