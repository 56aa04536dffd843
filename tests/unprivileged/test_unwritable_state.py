"""Issue 15.2: a HOME or state folder that is not writable (cron, systemd DynamicUser, read-only containers).

The verified-state cache is an optimisation: transfers go on with one warning. A resume journal must be
written before a multipart upload starts: that file fails with one line naming S3SAFE_STATE_DIR. `config set`
fails with one line naming S3SAFE_CONFIG_DIR.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import boto3
import pytest

from tests.servers.moto import MotoServer
from tests.unprivileged.helper import Sandbox


@pytest.fixture
def s3(moto: MotoServer) -> Any:
    return boto3.client("s3", endpoint_url=moto.endpoint_url, region_name="us-east-1",
                        aws_access_key_id=moto.access_key, aws_secret_access_key=moto.secret_key)  # fmt: skip


def _lines(stderr: str, word: str) -> list[str]:
    assert "Traceback" not in stderr and "internal error" not in stderr, stderr
    return [line for line in stderr.splitlines() if word in line]


def test_put_and_get_trees_go_on_with_one_warning_when_home_is_read_only(
    unpriv_moto: Sandbox, s3: Any, bucket_name: Callable[[], str]
) -> None:
    bucket = bucket_name()
    s3.create_bucket(Bucket=bucket)
    src = unpriv_moto.root / "src"
    (src / "d").mkdir(parents=True)
    (src / "d" / "one.txt").write_text("one")
    (src / "two.txt").write_text("two")
    unpriv_moto.home.chmod(0o555)
    up = unpriv_moto.run("put", "-r", "--only-diff", str(src), f"s3://{bucket}/")
    assert up.returncode == 0, up.stderr
    assert len(_lines(up.stderr, "S3SAFE_STATE_DIR")) == 1 and "warning" in _lines(up.stderr, "S3SAFE_STATE_DIR")[0]
    assert sorted(o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]) == ["d/one.txt", "two.txt"]
    again = unpriv_moto.run("put", "-r", "--only-diff", str(src), f"s3://{bucket}/")
    assert again.returncode == 0 and "0 transferred" in again.stdout, again.stdout + again.stderr
    out = unpriv_moto.root / "out"
    down = unpriv_moto.run("get", "-r", f"s3://{bucket}/", str(out))
    assert down.returncode == 0, down.stderr
    assert len(_lines(down.stderr, "S3SAFE_STATE_DIR")) == 1
    assert (out / "d" / "one.txt").read_text() == "one" and (out / "two.txt").read_text() == "two"
    assert not (unpriv_moto.home / ".local").exists()


def test_a_multipart_upload_without_a_writable_state_folder_fails_alone_naming_the_variable(
    unpriv_moto: Sandbox, s3: Any, bucket_name: Callable[[], str]
) -> None:
    bucket = bucket_name()
    s3.create_bucket(Bucket=bucket)
    src = unpriv_moto.root / "src"
    src.mkdir()
    (src / "big.bin").write_bytes(os.urandom(6 * 1024 * 1024))  # two parts of 5 MiB: needs a resume journal
    (src / "small.txt").write_text("small")
    state = unpriv_moto.root / "state"
    state.mkdir(mode=0o555)
    done = unpriv_moto.run("put", "-r", "--part-size", "5MiB", str(src), f"s3://{bucket}/", env={"S3SAFE_STATE_DIR": str(state)})
    assert done.returncode == 5, done.stderr
    named = _lines(done.stderr, "big.bin")
    assert len(named) == 1 and "S3SAFE_STATE_DIR" in named[0] and "resume journal" in named[0], done.stderr
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"]] == ["small.txt"]
    assert s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []


def test_config_set_with_a_read_only_home_is_one_line_naming_the_variable(unpriv: Sandbox) -> None:
    unpriv.home.chmod(0o555)
    done = unpriv.run("config", "set", "threads", "4")
    assert done.returncode == 4, done.stderr
    errors = _lines(done.stderr, "error")
    assert len(errors) == 1 and "config.toml" in errors[0] and "S3SAFE_CONFIG_DIR" in errors[0], done.stderr
    assert not (unpriv.home / ".config").exists()


def test_an_object_audit_with_a_read_only_home_scans_with_one_note(
    unpriv_moto: Sandbox, s3: Any, bucket_name: Callable[[], str]
) -> None:
    bucket = bucket_name()
    s3.create_bucket(Bucket=bucket)
    for n in range(501):  # past the scan's first checkpoint (every 500 objects)
        s3.put_object(Bucket=bucket, Key=f"k{n:04}", Body=b"x", ServerSideEncryption="AES256")
    unpriv_moto.home.chmod(0o555)
    done = unpriv_moto.run("audit", "--objects", f"s3://{bucket}")
    assert "Traceback" not in done.stderr and "internal error" not in done.stderr, done.stderr
    assert done.returncode in (0, 8), done.stderr
    assert "501" in done.stdout, done.stdout
    noted = [line for line in (done.stdout + done.stderr).splitlines() if "S3SAFE_STATE_DIR" in line]
    assert len(noted) == 1 and "--resume" in noted[0], done.stdout + done.stderr
