"""Inputs that used to reach a traceback or an "internal error": each is now one clear line and its exit code."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from subprocess import CompletedProcess
from typing import Any

import pytest

from tests.servers.moto import MotoServer

Run = Callable[..., CompletedProcess[str]]


def _one_error(result: CompletedProcess[str], code: int) -> str:
    assert "Traceback" not in result.stderr + result.stdout, result.stderr
    assert "internal error" not in result.stderr and "PanicException" not in result.stderr, result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("s3safe: error:")]
    assert len(errors) == 1, result.stderr
    assert result.returncode == code, result.stderr
    return errors[0]


@pytest.mark.parametrize(
    ("option", "value"),
    [("--content-type", "text/plain\r\nX-Evil: 1"), ("--content-type", "text/plain\x7f"), ("--cache-control", "max-age=1\nX: y"),
     ("--cache-control", "no-cache\r")],
)  # fmt: skip
def test_header_options_with_control_characters_are_refused(
    run_cli: Run, moto: MotoServer, bucket_name: Callable[[], str], tmp_path: Path, option: str, value: str
) -> None:
    bucket = bucket_name()
    assert run_cli("--endpoint-url", moto.endpoint_url, "--allow-http", "mb", f"s3://{bucket}").returncode == 0
    src = tmp_path / "a.txt"
    src.write_text("hello")
    result = run_cli("--endpoint-url", moto.endpoint_url, "--allow-http", "put", option, value, str(src), f"s3://{bucket}/a.txt")
    line = _one_error(result, 2)
    assert option in line and "control character" in line
    listed = run_cli("--endpoint-url", moto.endpoint_url, "--allow-http", "ls", f"s3://{bucket}/")
    assert "a.txt" not in listed.stdout


def test_a_rust_panic_at_the_storage_seam_becomes_an_s3safe_error(moto: MotoServer, bucket_name: Callable[[], str]) -> None:
    """obstore panics (a BaseException, not an Exception) on a header value with a newline; the seam turns
    it into a ServiceError instead of letting it past every `except Exception`."""
    import boto3
    import obstore

    from s3safe.core.errors import S3SafeError
    from s3safe.core.settings import ConnectionSettings
    from s3safe.storage.connection import Connection
    from s3safe.storage.errors import translated

    bucket = bucket_name()
    boto3.client("s3", endpoint_url=moto.endpoint_url, region_name="us-east-1").create_bucket(Bucket=bucket)
    conn = Connection(ConnectionSettings(endpoint_url=moto.endpoint_url, allow_http=True, region="us-east-1"))
    attributes: Any = {"Content-Type": "text/plain\r\nX-Evil: 1"}
    with pytest.raises(S3SafeError, match=f"s3://{bucket}/k") as caught, translated("upload to", bucket=bucket, key="k"):
        obstore.put(conn.store(bucket), "k", b"x", attributes=attributes, use_multipart=False)
    assert "PanicException" not in str(caught.value)


def test_an_age_too_large_for_a_date_is_a_usage_error(run_cli: Run, moto: MotoServer, bucket_name: Callable[[], str]) -> None:
    bucket = bucket_name()
    assert run_cli("--endpoint-url", moto.endpoint_url, "--allow-http", "mb", f"s3://{bucket}").returncode == 0
    for command in ("ls", "abort"):
        result = run_cli("--endpoint-url", moto.endpoint_url, "--allow-http", "uploads", command, "--older-than", "99999999999d", f"s3://{bucket}")
        assert "--older-than" in _one_error(result, 2) or "age" in _one_error(result, 2)


def _config_file() -> Path:
    path = Path(os.environ["S3SAFE_CONFIG_DIR"]) / "config.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


@pytest.mark.parametrize(
    "text",
    ["threads = 1e400\n", "threads = inf\n", "threads = 2.5\n", "threads = true\n", "retries = -inf\n", "timeout = nan\n",
     "region = 5\n", "ca_bundle = [1]\n", "endpoint_url = {a = 1}\n", "storage_class = \"FOO\"\n",
     "x = " + "[" * 5000 + "]" * 5000 + "\n", "region = " + "{a = " * 3000 + "1" + "}" * 3000 + "\n"],
)  # fmt: skip
def test_a_broken_config_file_is_one_clear_error(run_cli: Run, text: str) -> None:
    path = _config_file()
    path.write_text(text)
    line = _one_error(run_cli("ls"), 2)
    assert str(path) in line


def test_a_config_path_that_is_a_folder_is_one_clear_error(run_cli: Run) -> None:
    path = _config_file()
    path.mkdir()
    assert str(path) in _one_error(run_cli("ls"), 2)
    assert str(path) in _one_error(run_cli("config", "show"), 2)


def test_config_set_refuses_values_that_would_break_later_commands(run_cli: Run) -> None:
    path = _config_file()
    for key, value in (("storage_class", "FOO"), ("threads", "1e400"), ("timeout", "inf")):
        line = _one_error(run_cli("config", "set", key, value), 2)
        assert key in line
        assert not path.exists() or key not in path.read_text()
    assert run_cli("config", "set", "storage_class", "STANDARD_IA").returncode == 0
    assert 'storage_class = "STANDARD_IA"' in path.read_text()


def test_an_age_older_than_the_calendar_lists_nothing(run_cli: Run, moto: MotoServer, bucket_name: Callable[[], str]) -> None:
    bucket = bucket_name()
    assert run_cli("--endpoint-url", moto.endpoint_url, "--allow-http", "mb", f"s3://{bucket}").returncode == 0
    result = run_cli("--endpoint-url", moto.endpoint_url, "--allow-http", "--json", "uploads", "ls", "--older-than", "999999999d", f"s3://{bucket}")
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr and '"upload"' not in result.stdout


def test_config_set_ca_bundle_must_exist_and_is_stored_absolute(run_cli: Run, tmp_path: Path) -> None:
    path = _config_file()
    line = _one_error(run_cli("config", "set", "ca_bundle", str(tmp_path / "missing.pem")), 2)
    assert "ca_bundle" in line or "CA bundle" in line
    assert not path.exists() or "ca_bundle" not in path.read_text()
    (tmp_path / "ca.pem").write_text("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n")
    assert run_cli("config", "set", "ca_bundle", "ca.pem", cwd=tmp_path).returncode == 0
    assert f'ca_bundle = "{tmp_path / "ca.pem"}"' in path.read_text()
