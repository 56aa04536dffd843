"""No core dump while s3safe holds secrets: a crash during an encrypted upload must not write the passphrase,
the payload key or the AWS secret key to disk. The kernel is asked, not the code: the running process's
/proc limits, and the wait status of a SIGABRT with `ulimit -c unlimited` (WCOREDUMP says whether the kernel
dumped, whatever core_pattern is)."""

from __future__ import annotations

import contextlib
import os
import resource
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import pytest

from tests.conftest import S3SAFE
from tests.servers.moto import MotoServer

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc (Linux)")
PASSPHRASE = "correct horse battery staple 41"


def _unlimited_cores() -> None:
    resource.setrlimit(resource.RLIMIT_CORE, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))


def _reading_stdin(pid: int, *, seconds: float = 60.0) -> bool:
    """Bounded wait until one of the process's threads sits in read(0, …): it has started and holds its secrets."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        calls = []
        for task in Path(f"/proc/{pid}/task").glob("*/syscall"):
            with contextlib.suppress(OSError):  # a worker thread that ended meanwhile: the process goes on
                calls.append(task.read_text().split())
        if any(c[:2] == ["0", "0x0"] for c in calls):
            return True
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            return False  # it exited and was reaped
        if state == "Z":
            return False  # it exited
        time.sleep(0.05)
    return False


def _uploaded(client: Any, bucket: str, key: str, *, seconds: float = 60.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if client.list_objects_v2(Bucket=bucket, Prefix=key).get("KeyCount"):
            return True
        time.sleep(0.1)
    return False


def _core_limit(pid: int) -> list[str]:
    line = next(x for x in Path(f"/proc/{pid}/limits").read_text().splitlines() if x.startswith("Max core file size"))
    return line.split()[4:6]  # soft, hard


def test_an_encrypted_upload_that_crashes_dumps_no_core(moto: MotoServer, bucket_name: Callable[[], str], tmp_path: Path) -> None:
    """The interactive shell encrypts and uploads a file with a passphrase, then waits for the next command
    with the passphrase, its derived keys and the AWS secret key in memory: that is when it is aborted."""
    bucket = bucket_name()
    client = boto3.client("s3", endpoint_url=moto.endpoint_url, region_name="us-east-1",
                          aws_access_key_id=moto.access_key, aws_secret_access_key=moto.secret_key)  # fmt: skip
    client.create_bucket(Bucket=bucket)
    secret_file = tmp_path / "secret.txt"
    secret_file.write_bytes(b"the secret plaintext " * 1000)
    env = {**os.environ, "S3SAFE_PASSPHRASE": PASSPHRASE}
    command = [S3SAFE, "--endpoint-url", moto.endpoint_url, "--allow-http", "shell"]
    proc = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            cwd=tmp_path, env=env, preexec_fn=_unlimited_cores)  # fmt: skip
    status = None
    try:
        assert proc.stdin is not None
        proc.stdin.write(f"put {secret_file} s3://{bucket}/secret.txt --encrypt age\n".encode())
        proc.stdin.flush()
        assert _uploaded(client, bucket, "secret.txt"), "the encrypted upload did not happen"
        assert _reading_stdin(proc.pid), "the shell exited instead of waiting for the next command"
        assert _core_limit(proc.pid) == ["0", "0"]  # soft and hard: a child or a later setrlimit cannot raise it
        os.kill(proc.pid, signal.SIGABRT)
        _, status = os.waitpid(proc.pid, 0)
        proc.returncode = -signal.SIGABRT
    finally:
        if status is None:
            proc.kill()
            proc.wait(timeout=30)
    head = client.head_object(Bucket=bucket, Key="secret.txt")  # the upload really ran, encrypted, before the crash
    assert head["Metadata"].get("s3safe-encryption") == "age"
    assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGABRT
    assert not os.WCOREDUMP(status)
    assert not [p.name for p in tmp_path.iterdir() if p.name.startswith("core")]
