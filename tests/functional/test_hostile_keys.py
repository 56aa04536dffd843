"""Hostile object keys on download, created on a real (moto) server: each is refused or handled as the README
documents ("Hostile key names"), the rest of the run goes on, and nothing is written outside the destination."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import botocore.exceptions
import pytest

from tests.servers.moto import MotoServer

Run = Callable[..., subprocess.CompletedProcess[str]]

REFUSED = {
    "t/../escape.txt": "contains '..'",
    "t/a/../../escape2.txt": "contains '..'",
    "t//etc/passwd-copy": "is an absolute path",
    "t/\\abs.txt": "is an absolute path",
    "t/C:\\Windows\\evil.txt": "is an absolute path",
    "t/c:relative.txt": "is an absolute path",
    "t/carriage\rreturn.txt": "contains NUL or control characters",  # (moto refuses keys with a newline: see below)
    "t/esc\x1b[2J.txt": "contains NUL or control characters",
    "t/a\\..\\..\\escape3.txt": "contains '..'",
}
LONG_NESTED = "t/" + "/".join(["d" * 200] * 5) + "/" + "f" * 17  # 1,024 bytes in all, every name < 255
LONG_FLAT = "t/" + "n" * 1022  # 1,024 bytes: one name longer than any filesystem allows


def _put(client: Any, bucket: str, key: str, body: bytes) -> bool:
    try:
        client.put_object(Bucket=bucket, Key=key, Body=body)
    except botocore.exceptions.ClientError:
        return False
    return True


def _everything_under(path: Path) -> set[str]:
    return {p.relative_to(path).as_posix() for p in path.rglob("*")}


@pytest.fixture
def hostile_bucket(moto_client: Any, bucket_name: Callable[[], str]) -> str:
    bucket = bucket_name()
    moto_client.create_bucket(Bucket=bucket)
    for key in REFUSED:
        assert _put(moto_client, bucket, key, b"hostile"), key
    assert len(LONG_NESTED.encode()) == 1024 and len(LONG_FLAT.encode()) == 1024
    for key, body in {"t/ok.txt": b"fine", LONG_NESTED: b"deep", LONG_FLAT: b"flat",
                      "t/Readme.txt": b"mixed case", "t/README.txt": b"upper case",
                      "t/a": b"a file", "t/a/b": b"below a"}.items():  # fmt: skip
        assert _put(moto_client, bucket, key, body), key
    return bucket


def test_hostile_keys_are_refused_and_nothing_lands_outside(
    run_cli: Run, moto: MotoServer, hostile_bucket: str, tmp_path: Path
) -> None:
    sandbox = tmp_path / "sandbox"
    dest = sandbox / "dest"
    sandbox.mkdir()
    before = _everything_under(tmp_path)
    result = run_cli(
        "--endpoint-url", moto.endpoint_url, "--allow-http", "--json", "get", "-r", f"s3://{hostile_bucket}/t/", str(dest)
    )
    assert result.returncode == 5, result.stderr  # partial: the refusals are failures of the run, the rest succeeded
    lines = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    refused = {line["target"]: line["error"] for line in lines if line.get("action") == "refuse"}
    for key, reason in REFUSED.items():
        assert refused.get(f"s3://{hostile_bucket}/{key}", "").startswith(f"key {reason}"), (key, refused)
    # nothing outside the destination: the only new entries under tmp_path are inside dest
    after = _everything_under(tmp_path)
    assert "sandbox/dest/ok.txt" in after
    assert {p for p in after - before if not p.startswith(("sandbox/dest", "home/s3safe-state"))} == set()
    assert not (tmp_path / "escape.txt").exists() and not (sandbox / "escape.txt").exists()
    written = {p.relative_to(dest).as_posix(): p.read_bytes() for p in dest.rglob("*") if p.is_file()}
    assert written["ok.txt"] == b"fine"
    assert written[LONG_NESTED[2:]] == b"deep"  # a 1,024-byte key in folders works
    # one name over the filesystem's limit fails for that object alone, with the OS's reason
    failed = {line["target"]: line["error"] for line in lines if line.get("ok") is False and line.get("action") == "download"}
    assert "File name too long" in failed[f"s3://{hostile_bucket}/{LONG_FLAT}"]
    # names differing only by case: both kept on a case-sensitive filesystem (see the README for others)
    assert written["Readme.txt"] == b"mixed case" and written["README.txt"] == b"upper case"
    # 'a' is both a file and a folder: one of the two is written, the other reported, neither replaced by the other
    a_file, a_b = f"s3://{hostile_bucket}/t/a", f"s3://{hostile_bucket}/t/a/b"
    assert (written.get("a") == b"a file") != (written.get("a/b") == b"below a")
    assert (a_file in failed) != (a_b in failed)
    summary = next(line for line in lines if line.get("type") == "summary")
    assert summary["refused"] == len(REFUSED)
    assert not [p for p in dest.rglob("*.s3safe-tmp")]


def test_single_get_of_a_hostile_key_into_a_folder_is_refused(
    run_cli: Run, moto: MotoServer, hostile_bucket: str, tmp_path: Path
) -> None:
    dest = tmp_path / "dest"
    dest.mkdir()
    result = run_cli(
        "--endpoint-url", moto.endpoint_url, "--allow-http", "get", f"s3://{hostile_bucket}/t/new\nline.txt", str(dest)
    )
    assert result.returncode == 2, result.stderr
    assert "refusing key" in result.stderr
    assert "\n" not in result.stderr.strip().splitlines()[-1]  # the newline in the key is escaped, not printed
    assert list(dest.iterdir()) == []


def test_a_nul_in_a_stored_key_is_refused_on_download(
    run_cli: Run, moto: MotoServer, moto_client: Any, bucket_name: Callable[[], str], tmp_path: Path
) -> None:
    """moto stores a key with NUL (AWS would not: XML 1.0 cannot carry it). A command line cannot carry NUL
    either, so such a key is only met inside a listing: it is refused there and the other object is written."""
    bucket = bucket_name()
    moto_client.create_bucket(Bucket=bucket)
    assert _put(moto_client, bucket, "t/nul\x00.txt", b"x")
    assert _put(moto_client, bucket, "t/fine.txt", b"fine")
    dest = tmp_path / "d"
    result = run_cli("--endpoint-url", moto.endpoint_url, "--allow-http", "get", "-r", f"s3://{bucket}/t/", str(dest))
    assert result.returncode == 5, result.stderr  # the listing carried it: refused, the rest written
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr, result.stderr
    assert "contains NUL or control characters" in result.stderr
    assert (dest / "fine.txt").read_bytes() == b"fine"
    assert not [p for p in tmp_path.rglob("*") if "\x00" in p.name or p.name.startswith("nul")]
