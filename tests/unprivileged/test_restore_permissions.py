"""Downloads meeting folders the user may not write or enter: one clear line naming the path, the documented
exit code (4 for a single get, 5 for a tree whose other items go on), nothing half-written."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import boto3
import pytest

from tests.servers.moto import MotoServer
from tests.unprivileged.helper import Sandbox


@pytest.fixture
def bucket(moto: MotoServer, bucket_name: Callable[[], str]) -> str:
    client: Any = boto3.client("s3", endpoint_url=moto.endpoint_url, region_name="us-east-1",
                               aws_access_key_id=moto.access_key, aws_secret_access_key=moto.secret_key)  # fmt: skip
    name = bucket_name()
    client.create_bucket(Bucket=name)
    for key in ("t/a.txt", "t/sub/b.txt", "t/z.txt"):
        client.put_object(Bucket=name, Key=key, Body=key.encode())
    return name


def _clean(stderr: str) -> None:
    assert "Traceback" not in stderr and "internal error" not in stderr, stderr


def test_a_download_into_a_read_only_folder_says_permission_denied(unpriv_moto: Sandbox, bucket: str) -> None:
    locked = unpriv_moto.root / "ro"
    locked.mkdir(mode=0o555)
    one = unpriv_moto.run("get", f"s3://{bucket}/t/a.txt", str(locked))
    assert one.returncode == 4, one.stderr
    _clean(one.stderr)
    assert f"{locked / 'a.txt'}: permission denied" in one.stderr, one.stderr
    tree = unpriv_moto.run("get", "-r", f"s3://{bucket}/t/", str(locked))
    assert tree.returncode == 5, tree.stderr
    _clean(tree.stderr)
    assert "permission denied" in tree.stderr and str(locked) in tree.stderr
    assert list(locked.iterdir()) == []


def test_a_folder_that_cannot_be_entered_is_not_reported_as_missing(unpriv_moto: Sandbox, bucket: str) -> None:
    closed = unpriv_moto.root / "closed"
    (closed / "inner").mkdir(parents=True)
    closed.chmod(0o000)
    try:
        result = unpriv_moto.run("get", f"s3://{bucket}/t/a.txt", str(closed / "inner" / "a.txt"))
    finally:
        closed.chmod(0o755)
    assert result.returncode == 4, result.stderr
    _clean(result.stderr)
    assert "permission denied" in result.stderr and str(closed / "inner") in result.stderr
    assert "does not exist" not in result.stderr
    assert list((closed / "inner").iterdir()) == []


def test_a_tree_restore_goes_on_past_a_subfolder_it_cannot_write(unpriv_moto: Sandbox, bucket: str) -> None:
    dest = unpriv_moto.root / "dest"
    (dest / "sub").mkdir(parents=True)
    (dest / "sub").chmod(0o555)
    result = unpriv_moto.run("get", "-r", f"s3://{bucket}/t/", str(dest))
    assert result.returncode == 5, result.stderr
    _clean(result.stderr)
    failed = [line for line in result.stderr.splitlines() if line.startswith("FAILED")]
    assert len(failed) == 1 and "sub/b.txt" in failed[0] and "permission denied" in failed[0], result.stderr
    assert (dest / "a.txt").read_bytes() == b"t/a.txt" and (dest / "z.txt").read_bytes() == b"t/z.txt"
    assert list((dest / "sub").iterdir()) == []
