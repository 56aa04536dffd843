"""No network on the way to AWS is said as such by every command, never as "internal error" (rt21 L2: `trail
status` without a network said "internal error: EndpointConnectionError": the lookup of the bucket's region was
outside any translation). No request leaves the machine: the commands are pointed at an HTTPS proxy on a closed
loopback port, so botocore fails to connect to it before any name is looked up."""

from __future__ import annotations

import socket
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

Run = Callable[..., subprocess.CompletedProcess[str]]


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])  # closed again when the block ends: nothing listens there


@pytest.mark.parametrize("command", [["trail", "status", "s3://some-bucket"], ["ls", "s3://some-bucket/"]], ids=["trail-status", "ls"])
def test_no_way_to_aws_is_one_line_not_an_internal_error(command: list[str], run_cli: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    proxy = f"http://127.0.0.1:{_closed_port()}"
    for name in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy"):
        monkeypatch.setenv(name, proxy)
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "not-a-real-secret")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    result = run_cli("--retries", "0", "--timeout", "5", *command)
    assert result.returncode == 1, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("s3safe: error: cannot "), lines[0]
    assert "proxy" in lines[0] and "internal error" not in lines[0] and "Traceback" not in result.stderr, lines[0]


def test_the_region_lookup_itself_says_the_network_failed(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Where it happened (storage), not only at the CLI's last net: a library caller gets an S3SafeError too."""
    from s3safe.core.errors import S3SafeError
    from s3safe.core.settings import ConnectionSettings
    from s3safe.storage.connection import Connection

    monkeypatch.setenv("HTTPS_PROXY", f"http://127.0.0.1:{_closed_port()}")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "not-a-real-secret")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    conn = Connection(ConnectionSettings(retries=0, timeout=5))
    with pytest.raises(S3SafeError, match="cannot find the region of s3://some-bucket"):
        conn.bucket_region("some-bucket")


def test_the_last_net_knows_the_client_libraries_and_nothing_else() -> None:
    import botocore.exceptions

    from s3safe.storage.errors import escaped

    told = escaped(botocore.exceptions.EndpointConnectionError(endpoint_url="https://s3.amazonaws.com/"))
    assert told is not None and "cannot reach" in str(told)
    assert escaped(ValueError("a bug of ours")) is None
