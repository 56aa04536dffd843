"""Issue 15.4: `put -r --follow-symlinks` detects a link back into its own tree by (device, inode) and reports it.

Before, a link to `..` uploaded a dozen junk copies of the tree and then died with "Too many levels of
symbolic links".
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.servers.moto import MotoServer

Run = Callable[..., subprocess.CompletedProcess[str]]


def _put(run_cli: Run, moto: MotoServer, *args: str) -> subprocess.CompletedProcess[str]:
    return run_cli("--endpoint-url", moto.endpoint_url, "--allow-http", "put", "-r", "--follow-symlinks", *args)


def _keys(client: Any, bucket: str) -> list[str]:
    return sorted(o["Key"] for o in client.list_objects_v2(Bucket=bucket).get("Contents", []))


def test_a_link_to_an_enclosing_folder_is_reported_and_not_followed(
    run_cli: Run, moto: MotoServer, moto_client: Any, bucket_name: Callable[[], str], tmp_path: Path
) -> None:
    bucket = bucket_name()
    moto_client.create_bucket(Bucket=bucket)
    src = tmp_path / "src"
    (src / "sub").mkdir(parents=True)
    (src / "a.txt").write_text("a")
    (src / "sub" / "b.txt").write_text("b")
    os.symlink("..", src / "sub" / "loop")
    done = _put(run_cli, moto, str(src), f"s3://{bucket}/")
    assert "Traceback" not in done.stderr and "internal error" not in done.stderr, done.stderr
    assert done.returncode == 5, done.stderr
    named = [line for line in done.stderr.splitlines() if "loop" in line]
    assert len(named) == 1 and "loops back" in named[0] and str(src / "sub" / "loop") in named[0], done.stderr
    assert _keys(moto_client, bucket) == ["a.txt", "sub/b.txt"]


def test_a_link_to_a_folder_outside_that_holds_the_tree_is_reported(
    run_cli: Run, moto: MotoServer, moto_client: Any, bucket_name: Callable[[], str], tmp_path: Path
) -> None:
    """The loop closes one level down: the link leads to the tree's parent, whose child is the tree itself."""
    bucket = bucket_name()
    moto_client.create_bucket(Bucket=bucket)
    outer = tmp_path / "outer"
    src = outer / "src"
    src.mkdir(parents=True)
    (src / "a.txt").write_text("a")
    (outer / "o.txt").write_text("o")
    os.symlink(outer, src / "up")
    done = _put(run_cli, moto, str(src), f"s3://{bucket}/")
    assert "Traceback" not in done.stderr and "internal error" not in done.stderr, done.stderr
    assert done.returncode == 5, done.stderr
    named = [line for line in done.stderr.splitlines() if "loops back" in line]
    assert len(named) == 1 and str(src / "up" / "src") in named[0], done.stderr
    assert _keys(moto_client, bucket) == ["a.txt", "up/o.txt"]


def test_links_to_the_same_folder_twice_are_not_a_loop(
    run_cli: Run, moto: MotoServer, moto_client: Any, bucket_name: Callable[[], str], tmp_path: Path
) -> None:
    bucket = bucket_name()
    moto_client.create_bucket(Bucket=bucket)
    shared = tmp_path / "shared"
    shared.mkdir()
    (shared / "s.txt").write_text("s")
    src = tmp_path / "src"
    src.mkdir()
    os.symlink(shared, src / "one")
    os.symlink(shared, src / "two")
    done = _put(run_cli, moto, str(src), f"s3://{bucket}/")
    assert done.returncode == 0, done.stderr
    assert _keys(moto_client, bucket) == ["one/s.txt", "two/s.txt"]


def test_a_link_that_loops_on_itself_fails_alone(
    run_cli: Run, moto: MotoServer, moto_client: Any, bucket_name: Callable[[], str], tmp_path: Path
) -> None:
    """A link the kernel cannot resolve (ELOOP) used to fail its whole folder: nothing beside it was sent."""
    bucket = bucket_name()
    moto_client.create_bucket(Bucket=bucket)
    src = tmp_path / "sl"
    (src / "a").mkdir(parents=True)
    (src / "a" / "f").write_text("x")
    (src / "top").write_text("y")
    os.symlink("self", src / "self")
    os.symlink("loop1", src / "a" / "loop2")
    os.symlink("loop2", src / "a" / "loop1")
    done = _put(run_cli, moto, str(src), f"s3://{bucket}/")
    assert "Traceback" not in done.stderr and "internal error" not in done.stderr, done.stderr
    assert done.returncode == 5, done.stderr
    failed = [line for line in done.stderr.splitlines() if "FAILED" in line]
    assert len(failed) == 3, done.stderr
    for name in (src / "self", src / "a" / "loop1", src / "a" / "loop2"):
        assert any(str(name) in line and "symbolic link" in line for line in failed), done.stderr
    assert _keys(moto_client, bucket) == ["a/f", "top"]


def test_a_dangling_link_is_reported_as_failed(
    run_cli: Run, moto: MotoServer, moto_client: Any, bucket_name: Callable[[], str], tmp_path: Path
) -> None:
    bucket = bucket_name()
    moto_client.create_bucket(Bucket=bucket)
    src = tmp_path / "src"
    src.mkdir()
    (src / "a.txt").write_text("a")
    os.symlink("nowhere", src / "gone")
    done = _put(run_cli, moto, str(src), f"s3://{bucket}/")
    assert "Traceback" not in done.stderr, done.stderr
    assert done.returncode == 5, done.stderr
    failed = [line for line in done.stderr.splitlines() if "FAILED" in line]
    assert len(failed) == 1 and str(src / "gone") in failed[0] and "points to nothing" in failed[0], done.stderr
    assert _keys(moto_client, bucket) == ["a.txt"]
