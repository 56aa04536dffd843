"""The tier itself: commands really run unprivileged, against a real server, with a fake HOME of their own."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import boto3

from tests.servers.moto import MotoServer
from tests.unprivileged.helper import Sandbox


def _client(moto: MotoServer) -> Any:
    return boto3.client("s3", endpoint_url=moto.endpoint_url, region_name="us-east-1",
                        aws_access_key_id=moto.access_key, aws_secret_access_key=moto.secret_key)  # fmt: skip


def test_a_tree_uploads_as_the_unprivileged_user_and_state_lands_in_its_home(
    unpriv_moto: Sandbox, moto: MotoServer, bucket_name: Callable[[], str]
) -> None:
    bucket = bucket_name()
    _client(moto).create_bucket(Bucket=bucket)
    src = unpriv_moto.root / "src"
    (src / "a").mkdir(parents=True)
    (src / "a" / "one.txt").write_text("one")
    (src / "two.txt").write_text("two")
    done = unpriv_moto.run("put", "-r", str(src), f"s3://{bucket}/up/")
    assert done.returncode == 0, done.stderr
    keys = sorted(o["Key"] for o in _client(moto).list_objects_v2(Bucket=bucket)["Contents"])
    assert keys == ["up/a/one.txt", "up/two.txt"]
    # the default state folder derives from the fake HOME, and the unprivileged uid could write it
    assert (unpriv_moto.home / ".local" / "state" / "s3safe").is_dir()


def test_file_modes_bind_the_command(unpriv: Sandbox) -> None:
    """The point of the tier: a mode-000 file cannot be read by the command (root would read it)."""
    secret = unpriv.root / "secret.age"
    secret.write_text("not for you")
    secret.chmod(0)
    done = unpriv.run("decrypt", str(secret), env={"S3SAFE_PASSPHRASE": "x"})
    assert done.returncode == 2, done.stderr
    assert "secret.age" in done.stderr and "not readable" in done.stderr


def test_an_unreadable_passphrase_file_is_one_line_exit_4(unpriv: Sandbox) -> None:
    """Like every other passphrase-source problem (tests/cli/test_passphrase_sources.py): exit 4, one line naming
    the passphrase file and the credentials file it was to unlock; decrypt the same without the latter."""
    secret = unpriv.root / "s3safe.pass"
    secret.write_text("cron passphrase 42\n")
    secret.chmod(0)
    for args in (("auth", "credential-process", "prod"), ("decrypt", str(unpriv.root / "x.age"))):
        done = unpriv.run(*args, "--passphrase-file", str(secret))
        errors = [line for line in done.stderr.splitlines() if line.startswith("s3safe: error:")]
        assert done.returncode == 4 and len(errors) == 1 and "Traceback" not in done.stderr, done.stderr
        assert f"{secret}: permission denied" in errors[0], errors[0]
        assert ("credentials file" in errors[0]) == (args[0] == "auth"), errors[0]
