"""Shared fixtures: a fake HOME with no real credentials, and real S3 servers on 127.0.0.1.

Servers are started once per session by the tests themselves and stopped at the end.
"""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

# as the s3safe command does (cli/main.py): awscrt is installed for checksums, not to replace botocore's
# signer in the test process's own clients (tests patch botocore.auth's clock to sign in the past)
os.environ.setdefault("BOTO_DISABLE_CRT", "true")

import pytest

from tests.servers.localstack import LocalStackServer, start_localstack
from tests.servers.moto import MotoServer, start_moto
from tests.servers.rclone import RcloneServer, start_rclone

S3SAFE = str(Path(sys.executable).parent / "s3safe")


def pytest_sessionstart(session: pytest.Session) -> None:
    """The suite starts `s3safe` thousands of times. Where PYTHONDONTWRITEBYTECODE is set (this machine sets it)
    no run caches its bytecode, so every run compiled s3safe's modules from source again (~35 ms of CPU each).
    Compile them once, to where every run looks (py_compile writes whatever that variable says)."""
    import compileall

    import s3safe

    compileall.compile_dir(Path(s3safe.__file__).parent, quiet=2)


@pytest.fixture(autouse=True)
def isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """No test ever sees the developer's ~/.aws, config dir or AWS_* variables."""
    for name in list(os.environ):
        if name.startswith(("AWS_", "S3SAFE_")):
            monkeypatch.delenv(name)
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(home / "aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(home / "aws-credentials"))
    # no instance-metadata probes: nothing may leave the machine
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    monkeypatch.setenv("S3SAFE_CONFIG_DIR", str(home / "s3safe-config"))
    monkeypatch.setenv("S3SAFE_STATE_DIR", str(home / "s3safe-state"))
    monkeypatch.setenv("NO_COLOR", "1")
    return home


@pytest.fixture(scope="session")
def moto_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MotoServer]:
    server = start_moto(tmp_path_factory.mktemp("moto"))
    yield server
    server.stop()


@pytest.fixture(scope="session")
def rclone_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RcloneServer]:
    server = start_rclone(tmp_path_factory.mktemp("rclone"))
    yield server
    server.stop()


@pytest.fixture(scope="session")
def localstack_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStackServer]:
    import shutil

    workdir = tmp_path_factory.mktemp("localstack")
    # traced, so a test can prove that nothing left the machine (make test installs strace)
    server = start_localstack(workdir, trace_network=workdir / "network.trace" if shutil.which("strace") else None)
    yield server
    server.stop()


@pytest.fixture
def localstack(localstack_server: LocalStackServer, monkeypatch: pytest.MonkeyPatch) -> LocalStackServer:
    """LocalStack accepts any key; these only satisfy the client's credential chain."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "LOCALSTACKTEST")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "localstack-test-secret")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    return localstack_server


@pytest.fixture
def moto(moto_server: MotoServer, monkeypatch: pytest.MonkeyPatch) -> MotoServer:
    """moto, with its credentials in the environment (as a user would export them)."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", moto_server.access_key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", moto_server.secret_key)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    return moto_server


@pytest.fixture
def rclone(rclone_server: RcloneServer, monkeypatch: pytest.MonkeyPatch) -> RcloneServer:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", rclone_server.access_key)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", rclone_server.secret_key)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    return rclone_server


@pytest.fixture
def bucket_name() -> Callable[[], str]:
    def make(prefix: str = "s3safe-test") -> str:
        return f"{prefix}-{uuid.uuid4().hex[:12]}"

    return make


@pytest.fixture
def run_cli() -> Callable[..., subprocess.CompletedProcess[str]]:
    """Run the installed `s3safe` command as a user would, capturing its output."""

    def run(*args: str, input_text: str | None = None, env: dict[str, str] | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
        full_env = {**os.environ, **(env or {})}
        return subprocess.run(
            [S3SAFE, *args], capture_output=True, text=True, input=input_text, env=full_env, cwd=cwd, timeout=120, check=False
        )

    return run
