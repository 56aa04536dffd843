"""With --follow-symlinks, a link to a folder is walked as a folder, so it must also be sorted as one
("a" holds "a/x", which sorts after "a-b"). Sorted as a file name, the local listing came out of byte order:
the merge then uploaded a-b and purged it again (before the listing check), or stopped the run (after)."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.servers.moto import MotoServer

Run = Callable[..., subprocess.CompletedProcess[str]]


def test_put_purge_following_a_linked_folder_keeps_everything(
    moto: MotoServer, moto_client: Any, bucket_name: Callable[[], str], tmp_path: Path, run_cli: Run
) -> None:
    bucket = bucket_name()
    moto_client.create_bucket(Bucket=bucket)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "x").write_bytes(b"through the link")
    src = tmp_path / "src"
    src.mkdir()
    (src / "a").symlink_to(outside, target_is_directory=True)
    (src / "a-b").write_bytes(b"dash")
    (src / "c").write_bytes(b"after")
    args = ["--endpoint-url", moto.endpoint_url, "--allow-http", "put", "-r", "--follow-symlinks", "--purge", str(src), f"s3://{bucket}/t/"]
    for attempt in ("first", "again"):  # the second run sees every object already there
        result = run_cli(*args)
        assert result.returncode == 0, (attempt, result.stderr)
        keys = {o["Key"] for o in moto_client.list_objects_v2(Bucket=bucket).get("Contents", [])}
        assert keys == {"t/a/x", "t/a-b", "t/c"}, attempt
