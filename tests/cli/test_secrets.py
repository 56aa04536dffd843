"""Secrets never reach output: run real commands with --debug against real servers and grep."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from subprocess import CompletedProcess

from tests.servers.moto import MotoServer
from tests.servers.rclone import RcloneServer

Run = Callable[..., CompletedProcess[str]]

SESSION_TOKEN = "FQoGZXIvYXdzEXAMPLEsessionTOKENvalue0123456789abcdef"


def test_debug_output_never_shows_keys_or_token(run_cli: Run, moto: MotoServer, tmp_path: Path, bucket_name: Callable[[], str]) -> None:
    name = bucket_name()
    env = {"AWS_SESSION_TOKEN": SESSION_TOKEN}
    (tmp_path / "f.txt").write_text("payload")
    base = ("--endpoint-url", moto.endpoint_url, "--allow-http", "--debug", "-vv")
    runs = [
        run_cli(*base, "mb", f"s3://{name}", env=env),
        run_cli(*base, "put", str(tmp_path / "f.txt"), f"s3://{name}/f.txt", "--meta", "a=b", env=env),
        run_cli(*base, "ls", "-r", "--long", f"s3://{name}", env=env),
        run_cli(*base, "--json", "meta", "get", f"s3://{name}/f.txt", env=env),
        run_cli(*base, "get", f"s3://{name}/f.txt", str(tmp_path), env=env),
        run_cli(*base, "info", f"s3://{bucket_name('missing')}", env=env),
    ]
    assert [r.returncode for r in runs] == [0, 0, 0, 0, 0, 3]
    # the debug log really is verbose (otherwise this test would prove nothing)
    assert all("botocore" in r.stderr for r in runs)
    assert any("Authorization" in r.stderr or "authorization" in r.stderr for r in runs)
    for result in runs:
        text = result.stdout + result.stderr
        assert moto.secret_key not in text
        assert SESSION_TOKEN not in text
        assert moto.access_key not in text


def test_wrong_credentials_error_with_debug_leaks_nothing(run_cli: Run, rclone: RcloneServer) -> None:
    wrong_secret = "totally-wrong-secret-key-4242"
    result = run_cli("--endpoint-url", rclone.endpoint_url, "--ca-bundle", rclone.ca_bundle, "--debug", "ls",
                     env={"AWS_SECRET_ACCESS_KEY": wrong_secret, "AWS_SESSION_TOKEN": SESSION_TOKEN})  # fmt: skip
    assert result.returncode == 4
    assert "SignatureDoesNotMatch" in result.stderr or "InvalidAccessKeyId" in result.stderr
    text = result.stdout + result.stderr
    assert wrong_secret not in text and SESSION_TOKEN not in text and rclone.secret_key not in text
