"""`rclone serve s3` lacks multipart-upload listings and ACLs: an empty bucket has no uploads to list
(not "multipart upload does not exist", exit 3), and an ACL it cannot serve is "not supported by this
endpoint", not "Internal Server Error (500)"."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.functional.test_every_server import _cli


def test_uploads_ls_of_a_bucket_without_uploads_lists_nothing(rclone: Any, bucket_name: Callable[[], str]) -> None:
    run = _cli(rclone)
    bucket = bucket_name()
    assert run("mb", "--plain", f"s3://{bucket}").returncode == 0
    listed = run("uploads", "ls", f"s3://{bucket}")
    assert "does not exist" not in listed.stderr, listed.stderr
    assert listed.returncode == 0, listed.stderr
    assert "Traceback" not in listed.stderr


def test_acl_get_on_rclone_is_not_supported(rclone: Any, bucket_name: Callable[[], str], tmp_path: Path) -> None:
    run = _cli(rclone)
    bucket = bucket_name()
    assert run("mb", "--plain", f"s3://{bucket}").returncode == 0
    (tmp_path / "f").write_text("x")
    assert run("put", str(tmp_path / "f"), f"s3://{bucket}/f").returncode == 0
    for url in (f"s3://{bucket}", f"s3://{bucket}/f"):
        got = run("acl", "get", url)
        assert got.returncode == 1, (url, got.stdout, got.stderr)
        assert "not supported by this endpoint" in got.stderr and not re.search(r"\b500\b", got.stderr), (url, got.stderr)
