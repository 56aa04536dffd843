"""Local file names that are not valid UTF-8 (bytes from another encoding, e.g. Latin-1 on an old disk): every
line that names one is escaped (the byte shown as \\xNN), never the raw byte, in text and in --json; no crash."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.servers.moto import MotoServer

Run = Callable[..., subprocess.CompletedProcess[str]]


def _bytes_run(args: list[str]) -> subprocess.CompletedProcess[bytes]:
    from tests.conftest import S3SAFE

    return subprocess.run([S3SAFE, *args], capture_output=True, timeout=120, check=False, env={**os.environ, "LC_ALL": "C.UTF-8"})


@pytest.mark.parametrize("json_mode", [False, True], ids=["text", "json"])
def test_a_latin1_file_name_is_escaped_in_every_line(
    moto: MotoServer, moto_client: Any, bucket_name: Callable[[], str], tmp_path: Path, json_mode: bool
) -> None:
    bucket = bucket_name()
    moto_client.create_bucket(Bucket=bucket)
    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "good.txt").write_bytes(b"fine")
    with open(os.path.join(os.fsencode(tree), b"caf\xe9.txt"), "wb") as handle:
        handle.write(b"latin-1 name")
    args = ["--endpoint-url", moto.endpoint_url, "--allow-http", *(["--json"] if json_mode else []),
            "put", "-r", "--move", str(tree), f"s3://{bucket}/t/"]  # fmt: skip
    result = _bytes_run(args)
    out = result.stdout + result.stderr
    assert b"Traceback" not in out and b"internal error" not in out, out
    assert b"\xe9" not in out, out  # never the raw byte
    out.decode("utf-8")  # every line is valid UTF-8
    assert b"caf\\xe9.txt" in out or b"caf\\udce9.txt" in out, out  # text shows the byte; JSON the escaped surrogate
    assert b"not valid UTF-8" in result.stderr + result.stdout, out
    assert result.returncode == 5, out
    assert os.path.exists(os.path.join(os.fsencode(tree), b"caf\xe9.txt")), "a file that was not uploaded is never moved"
    assert not (tree / "good.txt").exists(), "the rest of the tree is uploaded and moved"
    if json_mode:
        records = [json.loads(line) for line in result.stdout.decode().splitlines()]
        assert any("caf\udce9.txt" in str(r.get("target", "")) for r in records), records
