"""Issue 15.1: an unreadable file or folder fails alone; the rest of `put -r` goes on and the run exits 5."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import pytest

from tests.servers.moto import MotoServer
from tests.unprivileged.helper import Sandbox


@pytest.fixture
def s3(moto: MotoServer) -> Any:
    return boto3.client("s3", endpoint_url=moto.endpoint_url, region_name="us-east-1",
                        aws_access_key_id=moto.access_key, aws_secret_access_key=moto.secret_key)  # fmt: skip


def _keys(s3: Any, bucket: str) -> list[str]:
    return sorted(o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", []))


def _tree(root: Path) -> Path:
    src = root / "src"
    for rel in ("a/one.txt", "m/locked/inner.txt", "m/secret.txt", "z/two.txt"):
        (src / rel).parent.mkdir(parents=True, exist_ok=True)
        (src / rel).write_text(rel)
    return src


def _error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if "error" in line.lower()]


def _assert_clean(stderr: str) -> None:
    assert "Traceback" not in stderr and "internal error" not in stderr, stderr


def test_an_unreadable_file_fails_alone_and_the_rest_uploads(
    unpriv_moto: Sandbox, s3: Any, bucket_name: Callable[[], str]
) -> None:
    bucket = bucket_name()
    s3.create_bucket(Bucket=bucket)
    src = _tree(unpriv_moto.root)
    (src / "m" / "secret.txt").chmod(0)
    done = unpriv_moto.run("put", "-r", str(src), f"s3://{bucket}/")
    _assert_clean(done.stderr)
    assert done.returncode == 5, done.stderr
    named = [line for line in done.stderr.splitlines() if "secret.txt" in line]
    assert len(named) == 1 and "permission denied" in named[0], done.stderr
    assert _keys(s3, bucket) == ["a/one.txt", "m/locked/inner.txt", "z/two.txt"]


def test_an_unreadable_folder_fails_alone_and_the_rest_uploads(
    unpriv_moto: Sandbox, s3: Any, bucket_name: Callable[[], str]
) -> None:
    bucket = bucket_name()
    s3.create_bucket(Bucket=bucket)
    src = _tree(unpriv_moto.root)
    (src / "m" / "locked").chmod(0)
    done = unpriv_moto.run("put", "-r", str(src), f"s3://{bucket}/")
    _assert_clean(done.stderr)
    assert done.returncode == 5, done.stderr
    named = [line for line in done.stderr.splitlines() if "locked" in line]
    assert len(named) == 1 and "permission denied" in named[0], done.stderr
    assert _keys(s3, bucket) == ["a/one.txt", "m/secret.txt", "z/two.txt"]


def test_an_unreadable_folder_keeps_purge_from_deleting_its_objects(
    unpriv_moto: Sandbox, s3: Any, bucket_name: Callable[[], str]
) -> None:
    """The folder's files are unknown, not gone: a mirror must not delete their copies on S3."""
    bucket = bucket_name()
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="m/locked/inner.txt", Body=b"kept")
    src = _tree(unpriv_moto.root)
    (src / "m" / "locked").chmod(0)
    done = unpriv_moto.run("put", "-r", "--purge", str(src), f"s3://{bucket}/")
    _assert_clean(done.stderr)
    assert done.returncode == 5, done.stderr
    assert s3.get_object(Bucket=bucket, Key="m/locked/inner.txt")["Body"].read() == b"kept"
    assert _keys(s3, bucket) == ["a/one.txt", "m/locked/inner.txt", "m/secret.txt", "z/two.txt"]


def test_only_diff_with_an_unreadable_file_reports_it_and_goes_on(
    unpriv_moto: Sandbox, s3: Any, bucket_name: Callable[[], str]
) -> None:
    """The comparison must read the file to hash it: that read fails alone too."""
    bucket = bucket_name()
    s3.create_bucket(Bucket=bucket)
    src = _tree(unpriv_moto.root)
    s3.put_object(Bucket=bucket, Key="m/secret.txt", Body=b"m/secret.tx_")  # same size, other bytes
    (src / "m" / "secret.txt").chmod(0)
    done = unpriv_moto.run("put", "-r", "--only-diff", str(src), f"s3://{bucket}/")
    _assert_clean(done.stderr)
    assert done.returncode == 5, done.stderr
    named = [line for line in done.stderr.splitlines() if "secret.txt" in line]
    assert len(named) == 1 and "permission denied" in named[0], done.stderr
    assert _keys(s3, bucket) == ["a/one.txt", "m/locked/inner.txt", "m/secret.txt", "z/two.txt"]
    assert s3.get_object(Bucket=bucket, Key="m/secret.txt")["Body"].read() == b"m/secret.tx_"


def test_put_of_one_unreadable_file_is_one_line_and_exit_4(unpriv_moto: Sandbox, s3: Any, bucket_name: Callable[[], str]) -> None:
    bucket = bucket_name()
    s3.create_bucket(Bucket=bucket)
    secret = unpriv_moto.root / "secret.txt"
    secret.write_text("x")
    secret.chmod(0)
    done = unpriv_moto.run("put", str(secret), f"s3://{bucket}/")
    _assert_clean(done.stderr)
    assert done.returncode == 4, done.stderr
    assert _error_lines(done.stderr) == [f"s3safe: error: cannot read {secret}: permission denied (fix its permissions or leave it out with --exclude)"]
    assert _keys(s3, bucket) == []


@pytest.mark.parametrize("purge", [False, True], ids=["plain", "purge"])
def test_an_unreadable_source_folder_is_one_line_and_exit_4(
    unpriv_moto: Sandbox, s3: Any, bucket_name: Callable[[], str], purge: bool
) -> None:
    """Not "the source is empty" (which --purge would say) and not a tree of failures: the folder itself is refused."""
    bucket = bucket_name()
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="kept.txt", Body=b"kept")
    src = _tree(unpriv_moto.root)
    src.chmod(0o311)  # enterable, not listable
    done = unpriv_moto.run("put", "-r", *(["--purge"] if purge else []), str(src), f"s3://{bucket}/")
    _assert_clean(done.stderr)
    assert done.returncode == 4, done.stderr
    assert _error_lines(done.stderr) == [f"s3safe: error: cannot read folder {src}: permission denied (fix its permissions)"]
    assert _keys(s3, bucket) == ["kept.txt"]


def test_a_source_whose_only_content_is_an_unreadable_folder_fails_it_and_purges_nothing(
    unpriv_moto: Sandbox, s3: Any, bucket_name: Callable[[], str]
) -> None:
    """Not "the source folder is empty or missing" (exit 7): the folder is named as unreadable, exit 5."""
    bucket = bucket_name()
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="locked/inner.txt", Body=b"kept")
    s3.put_object(Bucket=bucket, Key="other.txt", Body=b"kept too")
    src = unpriv_moto.root / "src"
    (src / "locked").mkdir(parents=True)
    (src / "locked" / "inner.txt").write_text("inner")
    (src / "locked").chmod(0)
    done = unpriv_moto.run("sync", "--delete", str(src), f"s3://{bucket}/")
    _assert_clean(done.stderr)
    assert done.returncode == 5, done.stderr
    assert "empty or missing" not in done.stderr
    named = [line for line in done.stderr.splitlines() if "locked" in line]
    assert len(named) == 1 and "FAILED" in named[0] and "permission denied" in named[0], done.stderr
    assert _keys(s3, bucket) == ["locked/inner.txt", "other.txt"]
