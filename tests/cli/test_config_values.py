"""Values that used to be accepted and break every later command (or put a secret in config.toml): each is
refused where it is given (config set, config.toml, command line) with one line naming it (exit 2)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from subprocess import CompletedProcess

import pytest

from s3safe.core.redact import redact
from tests.servers.moto import MotoServer

Run = Callable[..., CompletedProcess[str]]
PASSWORD = "hunter2pass"


def _one_error(result: CompletedProcess[str], code: int) -> str:
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr, result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("s3safe: error:")]
    assert len(errors) == 1, result.stderr
    assert result.returncode == code, result.stderr
    return errors[0]


def _config_file() -> Path:
    folder = Path(os.environ["S3SAFE_CONFIG_DIR"])
    folder.mkdir(parents=True, exist_ok=True)
    return folder / "config.toml"


def _stored() -> str:
    path = _config_file()
    return path.read_text() if path.exists() else ""


def test_config_set_refuses_credentials_in_the_endpoint_url(run_cli: Run) -> None:
    result = run_cli("config", "set", "endpoint_url", f"https://user:{PASSWORD}@host.example/")
    line = _one_error(result, 2)
    assert "credentials" in line and "https://****@host.example/" in line
    assert PASSWORD not in result.stdout + result.stderr and PASSWORD not in _stored()


def test_credentials_in_the_endpoint_url_on_the_command_line_are_refused_and_never_shown(run_cli: Run) -> None:
    result = run_cli("--debug", "--endpoint-url", f"https://user:{PASSWORD}@127.0.0.1:5799/", "ls")
    line = _one_error(result, 2)
    assert "credentials" in line and "127.0.0.1:5799" in line
    assert PASSWORD not in result.stdout + result.stderr
    from_env = run_cli("ls", env={"S3SAFE_ENDPOINT_URL": f"https://user:{PASSWORD}@127.0.0.1:5799"})
    assert "credentials" in _one_error(from_env, 2) and PASSWORD not in from_env.stderr


@pytest.mark.parametrize("url", ["https://host.example:99999/", "https://host.example/path?x=1#f", "https://host.example:0/"])
def test_config_set_refuses_an_endpoint_url_that_cannot_work(run_cli: Run, url: str) -> None:
    line = _one_error(run_cli("config", "set", "endpoint_url", url), 2)
    assert "endpoint URL" in line and url in line
    assert "endpoint_url" not in _stored()


def test_a_hand_written_bad_endpoint_url_names_the_config_file(run_cli: Run) -> None:
    config = _config_file()
    config.write_text('endpoint_url = "https://host.example:99999/"\n')
    line = _one_error(run_cli("ls"), 2)
    assert str(config) in line and "endpoint URL" in line and "port" in line


def test_an_endpoint_url_with_a_query_is_refused_and_shown_whole(run_cli: Run, moto: MotoServer) -> None:
    url = f"{moto.endpoint_url}/?X-Amz-Signature=abc"
    line = _one_error(run_cli("--endpoint-url", url, "--allow-http", "ls"), 2)
    assert f"{moto.endpoint_url}/?X-Amz-Signature=****'" in line and "no path, query or fragment" in line


def test_redaction_stops_at_the_end_of_the_value() -> None:
    text = "endpoint http://127.0.0.1:5701/?X-Amz-Signature=abc: data and request metadata are not encrypted"
    assert redact(text) == "endpoint http://127.0.0.1:5701/?X-Amz-Signature=****: data and request metadata are not encrypted"
    assert redact(f"see https://user:{PASSWORD}@host/ now") == "see https://user:****@host/ now"


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [("timeout", "1e-300", "timeout must be from 1"), ("timeout", "0.5", "timeout must be from 1"),
     ("max_bandwidth", "1B", "minimum of 64KiB/s"), ("threads", "\u0663", "digits 0-9"),
     ("max_bandwidth", "\u0661\u0660MB", "invalid rate")],
)  # fmt: skip
def test_config_set_refuses_values_below_a_sane_minimum(run_cli: Run, key: str, value: str, expected: str) -> None:
    line = _one_error(run_cli("config", "set", key, value), 2)
    assert expected in line
    assert key not in _stored()


@pytest.mark.parametrize("written", ["threads = 10.0", "threads = true"])
def test_a_hand_written_fractional_thread_count_asks_for_a_whole_number(run_cli: Run, written: str) -> None:
    config = _config_file()
    config.write_text(written + "\n")
    line = _one_error(run_cli("config", "show"), 2)
    assert str(config) in line and "threads must be a whole number" in line


@pytest.mark.parametrize("size", ["1e400", "nan"])
def test_a_bad_part_size_names_the_part_size(run_cli: Run, moto: MotoServer, tmp_path: Path, size: str) -> None:
    src = tmp_path / "f.txt"
    src.write_text("x")
    result = run_cli("--endpoint-url", moto.endpoint_url, "--allow-http", "put", "--part-size", size, str(src), "s3://nobucket-h14/f")
    line = _one_error(result, 2)
    assert f"invalid --part-size '{size}'" in line and "rate" not in line


@pytest.mark.parametrize("argv", [["-t", "\u0661\u0662", "config", "show"], ["--retries", "\uff13", "config", "show"],
                                  ["logs", "--local", "x", "--limit", "\u0665"], ["restore", "s3://b/k", "--days", "\u0667"]])  # fmt: skip
def test_option_numbers_take_ascii_digits_only(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    """rt17 #9: click's int type took any script's digits (`-t ١٢` ran with 12 threads) where `config set threads`
    wants 0-9. In-process: the value is refused while parsing, before any command runs."""
    from s3safe.cli.main import invoke

    assert invoke(argv) == 2
    assert "is not a whole number written with the digits 0-9" in capsys.readouterr().err
