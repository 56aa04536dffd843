"""A mismatch that --local-delete proves is remembered: the next --only-diff run uploads the file.

An outside tester edited an uploaded file to the same size and reset its mtime. The verified-state record
(size, mtime, ETag; it now keeps the ctime too) still matched, so --only-diff skipped it; --local-delete then checked the server's MD5,
refused the deletion — and every later --only-diff run still skipped the file, which was never uploaded.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
from collections.abc import Callable
from contextlib import closing
from pathlib import Path
from typing import Any

from tests.servers.moto import MotoServer

Run = Callable[..., subprocess.CompletedProcess[str]]


def test_a_mismatch_proven_by_local_delete_makes_the_next_only_diff_run_upload_the_file(
    run_cli: Run, moto: MotoServer, moto_client: Any, bucket_name: Callable[[], str], tmp_path: Path
) -> None:
    bucket = bucket_name()
    moto_client.create_bucket(Bucket=bucket)
    src = tmp_path / "ld"
    src.mkdir()
    path = src / "a.txt"
    path.write_bytes(b"version one\n")
    base = ("--endpoint-url", moto.endpoint_url, "--allow-http")
    first = run_cli(*base, "put", "-r", "--only-diff", str(src), f"s3://{bucket}/ld/")
    assert first.returncode == 0, first.stderr
    stamp = path.stat().st_mtime_ns
    path.write_bytes(b"version TWO\n")  # same size, same mtime
    os.utime(path, ns=(stamp, stamp))
    # the write moved the ctime, which the record now keeps too; a record that still matches (a filesystem whose
    # ctime does not move, or a clock set back) is made by hand, so that only the server can tell
    with closing(sqlite3.connect(Path(os.environ["S3SAFE_STATE_DIR"]) / "verified.sqlite")) as db, db:
        assert db.execute("UPDATE verified_v3 SET ctime_ns = ? WHERE key = 'ld/a.txt'", (path.stat().st_ctime_ns,)).rowcount == 1
    dry = run_cli(*base, "put", "-r", "--local-delete", "--only-diff", "--dry-run", str(src), f"s3://{bucket}/ld/")
    assert dry.returncode == 0, dry.stderr
    planned = [line for line in dry.stdout.splitlines() if "local-delete" in line]
    # a candidate, not a promise: the dry run has not asked the server for evidence
    assert len(planned) == 1 and "if the server's copy proves it holds these bytes" in planned[0], dry.stdout
    refused = run_cli(*base, "put", "-r", "--local-delete", "--only-diff", str(src), f"s3://{bucket}/ld/")
    assert refused.returncode == 5, refused.stdout + refused.stderr
    assert "differs" in refused.stdout + refused.stderr and path.exists()
    again = run_cli(*base, "put", "-r", "--only-diff", str(src), f"s3://{bucket}/ld/")
    assert again.returncode == 0, again.stderr
    assert "1 transferred" in again.stdout + again.stderr, again.stdout + again.stderr
    assert moto_client.get_object(Bucket=bucket, Key="ld/a.txt")["Body"].read() == b"version TWO\n"
