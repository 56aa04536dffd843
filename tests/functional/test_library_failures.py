"""Library calls in one process: a failed tree upload leaves nothing behind that breaks the next call (issue 15.1)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from s3safe.core import cancel
from s3safe.core.errors import NotFoundError
from s3safe.core.locations import S3Url
from s3safe.core.safety import SafetyGate
from s3safe.storage.connection import Connection
from s3safe.transfer.engine import TreeOptions, TreeSummary, upload_tree
from s3safe.transfer.state import StateCache


def test_a_failed_tree_upload_does_not_cancel_the_next_call(
    moto_conn: Connection, moto_client: Any, bucket_name: Callable[[], str], tmp_path: Path
) -> None:
    src = tmp_path / "src"
    src.mkdir()
    for i in range(30):
        (src / f"f{i:02d}.txt").write_text(str(i))
    missing, bucket = bucket_name(), bucket_name()
    moto_client.create_bucket(Bucket=bucket)
    cache = StateCache(tmp_path / "state.sqlite")
    with pytest.raises(NotFoundError):
        list(upload_tree(moto_conn, src, S3Url(missing, ""), options=TreeOptions(), gate=SafetyGate(), summary=TreeSummary(),
                         cache=cache))  # fmt: skip
    assert not cancel.is_cancelled()
    summary = TreeSummary()
    results = list(upload_tree(moto_conn, src, S3Url(bucket, ""), options=TreeOptions(), gate=SafetyGate(), summary=summary,
                               cache=cache))  # fmt: skip
    assert all(r.ok for r in results) and summary.transferred == 30
    assert moto_client.list_objects_v2(Bucket=bucket)["KeyCount"] == 30
