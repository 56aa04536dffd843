"""Key names and file names cannot drive the terminal (issue 14.8, DESIGN §3.12).

Objects whose keys carry OSC/CSI sequences (set the title, write the clipboard, clear the screen), an 8-bit
CSI and a bidi override are stored on a real (moto) server; every command that prints keys runs over them,
in text and JSON mode. Nothing a terminal would obey may reach stdout or stderr; text shows the escaped
form; each JSON line is still valid JSON that gives the exact key back.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.servers.moto import MotoServer

Run = Callable[..., subprocess.CompletedProcess[str]]

TITLE = "h/title\x1b]0;pwned\x07.txt"
CLIP = "h/clip\x1b]52;c;ZWNobyBwd25lZA==\x07.txt"
CLEAR = "h/clear\x1b[2J\x1b[1;1H.txt"
C1 = "h/c1\x9b2J.txt"
BIDI = "h/bidi\u202etxt.exe"
HOSTILE = (TITLE, CLIP, CLEAR, C1, BIDI)
RAW = ("\x1b", "\x07", "\x9b", "\u202e")


@pytest.fixture
def hostile(moto_client: Any, bucket_name: Callable[[], str]) -> str:
    bucket = bucket_name()
    moto_client.create_bucket(Bucket=bucket, ObjectOwnership="ObjectWriter")
    for key in (*HOSTILE, "h/ok.txt"):
        moto_client.put_object(Bucket=bucket, Key=key, Body=b"x")
    # archived, so that restore acts on it
    moto_client.put_object(Bucket=bucket, Key="g" + TITLE[1:], Body=b"x", StorageClass="GLACIER")
    moto_client.create_multipart_upload(Bucket=bucket, Key=BIDI)  # moto fails one with a control character
    return bucket


def _commands(bucket: str, tmp: Path) -> dict[str, list[str]]:
    url = f"s3://{bucket}/h/"
    return {
        "ls": ["ls", "-r", url],
        "ls-long": ["ls", "-r", "--long", url],
        "meta-get": ["meta", "get", f"s3://{bucket}/{TITLE}"],
        "meta-set": ["meta", "set", "-r", "--set", "x-color=red", "--dry-run", url],
        "acl-set": ["acl", "set", "private", "-r", "--dry-run", url],
        "rm": ["rm", "-r", "--dry-run", url],
        "cp": ["cp", "-r", "--dry-run", url, f"s3://{bucket}/copy/"],
        "restore": ["restore", "-r", "--days", "1", f"s3://{bucket}/g/"],
        "get": ["get", "-r", url, str(tmp / "dest")],  # control characters in keys are refused: FAILED lines
        "uploads": ["uploads", "ls", f"s3://{bucket}/"],
        "acl-get": ["acl", "get", f"s3://{bucket}/{TITLE}"],
        "sync": ["sync", url, str(tmp / "mirror")],
        "audit": ["audit", "--objects", f"s3://{bucket}"],
    }


NAMES = list(_commands("b", Path(".")))
# the key each command must show, and how its text form looks
SHOWN = {"uploads": (BIDI, "bidi\\u202etxt.exe"), "restore": ("g" + TITLE[1:], "title\\x1b]0;pwned\\x07.txt")}
DEFAULT = (TITLE, "title\\x1b]0;pwned\\x07.txt")


def _run(run_cli: Run, moto: MotoServer, *args: str) -> subprocess.CompletedProcess[str]:
    result = run_cli("--endpoint-url", moto.endpoint_url, "--allow-http", *args)
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr, result.stderr
    return result


def _inert(text: str) -> bool:
    return not any(c in text for c in RAW)


@pytest.mark.parametrize("name", NAMES)
def test_text_output_escapes_hostile_keys(run_cli: Run, moto: MotoServer, hostile: str, tmp_path: Path, name: str) -> None:
    result = _run(run_cli, moto, *_commands(hostile, tmp_path)[name])
    assert _inert(result.stdout), repr(result.stdout)
    assert _inert(result.stderr), repr(result.stderr)
    assert SHOWN.get(name, DEFAULT)[1] in result.stdout + result.stderr  # shown, escaped


@pytest.mark.parametrize("name", NAMES)
def test_json_output_is_inert_valid_and_gives_the_key_back(
    run_cli: Run, moto: MotoServer, hostile: str, tmp_path: Path, name: str
) -> None:
    result = _run(run_cli, moto, "--json", *_commands(hostile, tmp_path)[name])
    assert _inert(result.stdout), repr(result.stdout)
    assert _inert(result.stderr), repr(result.stderr)
    records = [json.loads(line) for line in result.stdout.splitlines()]
    key = SHOWN.get(name, DEFAULT)[0]
    assert any(key in str(value) for record in records for value in record.values()), records


def test_a_hostile_local_file_name_is_escaped_on_upload(
    run_cli: Run, moto: MotoServer, hostile: str, tmp_path: Path
) -> None:
    tree = tmp_path / "tree"
    tree.mkdir()
    name = "clip\x1b]52;c;ZWNobyBwd25lZA==\x07.txt"
    (tree / name).write_bytes(b"data")
    (tree / "bidi\u202etxt.exe").write_bytes(b"data")
    for mode in ([], ["--json"]):
        result = _run(run_cli, moto, *mode, "put", "-r", str(tree), f"s3://{hostile}/up/")
        # the store may refuse such a key (obstore does): then a FAILED line names it, escaped
        assert result.returncode in (0, 5), result.stderr
        assert _inert(result.stdout) and _inert(result.stderr), (result.stdout, result.stderr)
        if mode:
            records = [json.loads(line) for line in result.stdout.splitlines()]
            assert any(name in str(value) for record in records for value in record.values()), records
        else:
            assert "clip\\x1b]52;c;" in result.stdout + result.stderr


def test_shell_completion_never_offers_a_name_that_would_drive_the_terminal(moto: MotoServer, hostile: str) -> None:
    """readline prints completion candidates raw; such names cannot be typed anyway."""
    import click

    from s3safe.cli.app import App
    from s3safe.cli.cmd_shell import Console
    from s3safe.cli.main import main
    from s3safe.cli.render import Renderer
    from s3safe.core.settings import ConnectionSettings

    settings = ConnectionSettings(endpoint_url=moto.endpoint_url, allow_http=True, region="us-east-1")
    app = App(settings=settings, render=Renderer(json_mode=False, quiet=True))
    console = Console(click.Context(main), app, history=False)
    offered = console.candidates("ls ", f"s3://{hostile}/h/")
    assert f"s3://{hostile}/h/ok.txt" in offered
    assert all(_inert(name) for name in offered), offered
