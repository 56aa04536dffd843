"""Header values from the command line (--content-type, --cache-control, --meta, meta set) are printable ASCII:
a byte the shell could not decode, a line separator or other non-ASCII text is exit 2 with one line, never a
Python exception and never a value the server hands back mangled."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from subprocess import CompletedProcess

import pytest

from tests.servers.moto import MotoServer

Run = Callable[..., CompletedProcess[str]]
BAD_VALUES = ["text/plain\udc85", "text/plain\u2028x", "text/plain; charset=\u00e9"]  # \udc85: the byte 0x85 from argv


def _one_error(result: CompletedProcess[str], code: int) -> str:
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr, result.stderr
    assert "UnicodeEncodeError" not in result.stderr, result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("s3safe: error:")]
    assert len(errors) == 1, result.stderr
    assert result.returncode == code, result.stderr
    return errors[0]


@pytest.mark.parametrize("option", ["--content-type", "--cache-control", "--meta"])
@pytest.mark.parametrize("value", BAD_VALUES, ids=["undecodable-byte", "line-separator", "latin-1"])
def test_put_refuses_a_header_value_that_is_not_printable_ascii(
    run_cli: Run, moto: MotoServer, bucket_name: Callable[[], str], tmp_path: Path, option: str, value: str
) -> None:
    m = ("--endpoint-url", moto.endpoint_url, "--allow-http")
    bucket = bucket_name()
    assert run_cli(*m, "mb", f"s3://{bucket}").returncode == 0
    src = tmp_path / "f.txt"
    src.write_text("hello")
    given = f"owner={value}" if option == "--meta" else value
    line = _one_error(run_cli(*m, "put", option, given, str(src), f"s3://{bucket}/h/"), 2)
    assert "printable" in line and (option in line or "metadata value" in line)
    assert "f.txt" not in run_cli(*m, "ls", "-r", f"s3://{bucket}/").stdout


def test_meta_set_refuses_a_value_that_is_not_printable_ascii(
    run_cli: Run, moto: MotoServer, bucket_name: Callable[[], str], tmp_path: Path
) -> None:
    m = ("--endpoint-url", moto.endpoint_url, "--allow-http")
    bucket = bucket_name()
    assert run_cli(*m, "mb", f"s3://{bucket}").returncode == 0
    src = tmp_path / "f.txt"
    src.write_text("hello")
    assert run_cli(*m, "put", str(src), f"s3://{bucket}/f.txt").returncode == 0
    line = _one_error(run_cli(*m, "meta", "set", "--set", "owner=caf\u00e9", f"s3://{bucket}/f.txt"), 2)
    assert "metadata value for 'owner'" in line and "printable ASCII" in line
    # nothing was stored: no owner entry at all (the bucket's random name may itself hold "caf")
    shown = run_cli(*m, "meta", "get", f"s3://{bucket}/f.txt").stdout
    assert not [row for row in shown.splitlines() if "owner" in row], shown
