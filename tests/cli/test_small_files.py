"""Small files the user names (config, keys, policies, CA bundles) are read with a cap: /dev/zero, a FIFO or a
huge file is one clear error naming the file, never an out-of-memory kill or a hang."""

from __future__ import annotations

import os
import resource
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import S3SAFE
from tests.servers.moto import MotoServer

Run = Callable[..., subprocess.CompletedProcess[str]]
_MEMORY_CAP = 3 * 1024**3  # the old code slurped /dev/zero until killed: bound it so a regression fails, not the host


def _limits() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (_MEMORY_CAP, _MEMORY_CAP))


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    """The CLI under a memory cap and a timeout (a FIFO used to block the open forever)."""
    return subprocess.run([S3SAFE, *args], capture_output=True, text=True, env=dict(os.environ), timeout=60,
                          preexec_fn=_limits, stdin=subprocess.DEVNULL, check=False)  # fmt: skip


def _one_error(result: subprocess.CompletedProcess[str], code: int) -> str:
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr, result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("s3safe: error:")]
    assert len(errors) == 1, result.stderr
    assert result.returncode == code, result.stderr
    return errors[0]


def _config_file() -> Path:
    folder = Path(os.environ["S3SAFE_CONFIG_DIR"])
    folder.mkdir(parents=True, exist_ok=True)
    return folder / "config.toml"


@pytest.mark.parametrize("kind", ["dev-zero", "fifo"])
def test_a_config_file_that_is_not_a_regular_file_is_refused(moto: MotoServer, kind: str) -> None:
    config = _config_file()
    if kind == "dev-zero":
        config.symlink_to("/dev/zero")
    else:
        os.mkfifo(config)
    line = _one_error(_run("--endpoint-url", moto.endpoint_url, "--allow-http", "ls"), 2)
    assert str(config) in line and "not a regular file" in line


def test_a_huge_config_file_is_refused_by_size(moto: MotoServer) -> None:
    config = _config_file()
    config.write_text("# padding\n" * 200_000)
    line = _one_error(_run("--endpoint-url", moto.endpoint_url, "--allow-http", "ls"), 2)
    assert str(config) in line and "larger than 1,048,576 bytes" in line


def test_a_policy_file_from_dev_zero_is_refused(moto: MotoServer, bucket_name: Callable[[], str]) -> None:
    bucket = bucket_name()
    m = ("--endpoint-url", moto.endpoint_url, "--allow-http")
    assert _run(*m, "mb", f"s3://{bucket}").returncode == 0
    result = _run(*m, "policy", "simulate", f"s3://{bucket}", "--action", "s3:GetObject", "--key", "k", "--from-file", "/dev/zero")
    line = _one_error(result, 2)
    assert "policy file /dev/zero" in line and "not a regular file" in line


def test_a_digest_key_file_from_dev_zero_is_refused(run_cli: Run, moto: MotoServer, bucket_name: Callable[[], str], tmp_path: Path) -> None:
    made = run_cli("--json", "keygen", "-o", str(tmp_path / "id.txt"))
    assert made.returncode == 0, made.stderr
    recipient = next(w for w in made.stdout.replace('"', " ").split() if w.startswith("age1"))
    bucket = bucket_name()
    m = ("--endpoint-url", moto.endpoint_url, "--allow-http")
    assert _run(*m, "mb", f"s3://{bucket}").returncode == 0
    src = tmp_path / "a.txt"
    src.write_text("hello")
    result = _run(*m, "put", "--encrypt", "age", "--recipient", recipient, "--digest-key-file", "/dev/zero", str(src), f"s3://{bucket}/a.txt")
    line = _one_error(result, 2)
    assert "digest key file /dev/zero" in line
    assert "a.txt" not in _run(*m, "ls", f"s3://{bucket}/").stdout


def test_a_ca_bundle_without_a_pem_certificate_is_refused(run_cli: Run, tmp_path: Path) -> None:
    not_pem = tmp_path / "passwd"
    not_pem.write_text("root:x:0:0:root:/root:/bin/bash\n")
    stored = run_cli("config", "set", "ca_bundle", str(not_pem))
    assert "holds no PEM certificate" in _one_error(stored, 2)
    assert not _config_file().exists() or str(not_pem) not in _config_file().read_text()
    on_command_line = _run("--ca-bundle", str(not_pem), "ls")
    line = _one_error(on_command_line, 2)
    assert str(not_pem) in line and "holds no PEM certificate" in line
    dev_zero = _one_error(_run("--ca-bundle", "/dev/zero", "ls"), 2)
    assert "/dev/zero" in dev_zero and "not a regular file" in dev_zero
