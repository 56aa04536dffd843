"""Keys a --purge deletes go through a spool on disk; every key must come back from it byte for byte.

`docs\\new.txt` (a backslash, then "new") used to come back as `docs\\<LF>ew.txt`: S3 answers a delete of a
missing key with success, so the object stayed and the run said it was deleted.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.servers.moto import MotoServer

Run = Callable[..., subprocess.CompletedProcess[str]]

# moto refuses a key with a newline in it; a local file name may hold one
REMOTE_ORPHANS = ["docs\\new.txt", "back\\\\slashes\\", "carriage\rreturn", "tab\tand \\n", "üñï\\nicode"]
LOCAL_ORPHANS = [*REMOTE_ORPHANS, "line\nfeed", "crlf\r\nname", "both\\\nkinds"]


def _args(moto: MotoServer) -> list[str]:
    return ["--endpoint-url", moto.endpoint_url, "--allow-http"]


@pytest.fixture
def bucket(moto_client: Any, bucket_name: Callable[[], str]) -> str:
    name = bucket_name()
    moto_client.create_bucket(Bucket=name)
    return name


def test_upload_purge_deletes_keys_with_backslashes_and_line_breaks(
    moto: MotoServer, moto_client: Any, bucket: str, tmp_path: Path, run_cli: Run
) -> None:
    src = tmp_path / "src"
    src.mkdir()
    (src / "keep").write_bytes(b"kept")
    for key in REMOTE_ORPHANS:
        moto_client.put_object(Bucket=bucket, Key="t/" + key, Body=b"orphan")
    result = run_cli(*_args(moto), "put", "-r", "--purge", str(src), f"s3://{bucket}/t/")
    assert result.returncode == 0, result.stderr
    left = {o["Key"] for o in moto_client.list_objects_v2(Bucket=bucket).get("Contents", [])}
    assert left == {"t/keep"}


def test_download_purge_deletes_local_files_with_backslashes_and_line_breaks(
    moto: MotoServer, moto_client: Any, bucket: str, tmp_path: Path, run_cli: Run
) -> None:
    moto_client.put_object(Bucket=bucket, Key="t/keep", Body=b"kept")
    dest = tmp_path / "dest"
    dest.mkdir()
    for name in LOCAL_ORPHANS:
        (dest / name).write_bytes(b"orphan")
    result = run_cli(*_args(moto), "get", "-r", "--purge", f"s3://{bucket}/t/", str(dest))
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in dest.iterdir()) == ["keep"]
