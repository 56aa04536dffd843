"""Issue 15.6: a --max-delete refusal after uploads in the same run says what did happen.

Deletions run after the transfers, so by the time the cap refuses them, files have been uploaded (some
replacing objects). "nothing was changed" was false; the message must say what changed and what did not.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

from s3safe.transfer import localdest
from tests.servers.moto import MotoServer

Run = Callable[..., subprocess.CompletedProcess[str]]


def test_a_purge_refused_by_max_delete_reports_the_uploads_that_already_happened(
    run_cli: Run, moto: MotoServer, moto_client: Any, bucket_name: Callable[[], str], tmp_path: Path
) -> None:
    bucket = bucket_name()
    moto_client.create_bucket(Bucket=bucket)
    moto_client.put_object(Bucket=bucket, Key="a.txt", Body=b"old")
    for i in range(3):
        moto_client.put_object(Bucket=bucket, Key=f"gone/{i}.txt", Body=b"x")
    src = tmp_path / "src"
    src.mkdir()
    (src / "a.txt").write_text("new content")
    (src / "b.txt").write_text("b")
    done = run_cli("--endpoint-url", moto.endpoint_url, "--allow-http", "put", "-r", "--purge", "--max-delete", "1",
                   str(src), f"s3://{bucket}/")  # fmt: skip
    assert done.returncode == 7, done.stderr
    errors = [line for line in done.stderr.splitlines() if "error" in line]
    assert len(errors) == 1, done.stderr
    assert "nothing was changed" not in errors[0]
    assert "--max-delete" in errors[0] and "none of them was deleted" in errors[0]
    assert "2 file(s)" in errors[0] and "uploaded" in errors[0] and "1 replacing" in errors[0], errors[0]
    # what the message says is what happened
    assert moto_client.get_object(Bucket=bucket, Key="a.txt")["Body"].read() == b"new content"
    keys = sorted(o["Key"] for o in moto_client.list_objects_v2(Bucket=bucket)["Contents"])
    assert keys == ["a.txt", "b.txt", "gone/0.txt", "gone/1.txt", "gone/2.txt"]


def test_a_refusal_with_nothing_transferred_still_says_nothing_was_changed(
    run_cli: Run, moto: MotoServer, moto_client: Any, bucket_name: Callable[[], str], tmp_path: Path
) -> None:
    bucket = bucket_name()
    moto_client.create_bucket(Bucket=bucket)
    moto_client.put_object(Bucket=bucket, Key="a.txt", Body=b"a")
    for i in range(3):
        moto_client.put_object(Bucket=bucket, Key=f"gone/{i}.txt", Body=b"x")
    src = tmp_path / "src"
    src.mkdir()
    (src / "a.txt").write_text("a")
    done = run_cli("--endpoint-url", moto.endpoint_url, "--allow-http", "put", "-r", "--only-diff", "--purge", "--max-delete",
                   "1", str(src), f"s3://{bucket}/")  # fmt: skip
    assert done.returncode == 7, done.stderr
    assert "nothing was changed" in done.stderr
    assert len(moto_client.list_objects_v2(Bucket=bucket)["Contents"]) == 4


def test_a_temp_sweep_refused_by_max_delete_reports_the_downloads_that_already_happened(
    run_cli: Run, moto: MotoServer, moto_client: Any, bucket_name: Callable[[], str], tmp_path: Path
) -> None:
    bucket = bucket_name()
    moto_client.create_bucket(Bucket=bucket)
    for i in range(3):
        moto_client.put_object(Bucket=bucket, Key=f"tmpt/{i}.txt", Body=b"x")
    dest = tmp_path / "tmpd"
    dest.mkdir()
    stale = dest / localdest.temp_name("0.txt")  # left by a killed run: swept, within --max-delete
    stale.write_bytes(b"partial")
    os.utime(stale, (1_500_000_000, 1_500_000_000))
    done = run_cli("--endpoint-url", moto.endpoint_url, "--allow-http", "get", "-r", "--max-delete", "0",
                   f"s3://{bucket}/tmpt/", str(dest))  # fmt: skip
    assert done.returncode == 7, done.stderr
    errors = [line for line in done.stderr.splitlines() if "error" in line]
    assert len(errors) == 1, done.stderr
    assert "nothing was changed" not in errors[0]
    assert "remove-temp" in errors[0] and "downloaded 3 file(s)" in errors[0], errors[0]
    assert sorted(p.name for p in dest.glob("*.txt")) == ["0.txt", "1.txt", "2.txt"] and stale.exists()


def test_a_local_purge_refusal_names_local_files_not_an_action_id(
    run_cli: Run, moto: MotoServer, moto_client: Any, bucket_name: Callable[[], str], tmp_path: Path
) -> None:
    # it said "refusing to delete-local more than 1 object(s)" (rt17 #17)
    bucket = bucket_name()
    moto_client.create_bucket(Bucket=bucket)
    moto_client.put_object(Bucket=bucket, Key="a.txt", Body=b"a")
    dest = tmp_path / "dest"
    dest.mkdir()
    for i in range(3):
        (dest / f"extra{i}.txt").write_text("x")
    done = run_cli("--endpoint-url", moto.endpoint_url, "--allow-http", "get", "-r", "--purge", "--max-delete", "1",
                   f"s3://{bucket}/", str(dest))  # fmt: skip
    assert done.returncode == 7, done.stderr
    assert "refusing to delete more than 1 local file(s) (--max-delete)" in done.stderr, done.stderr
    assert len(list(dest.glob("extra*.txt"))) == 3
