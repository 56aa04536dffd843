"""The write side of restores, through the CLI against moto: an empty source is an error, only s3safe's own
temp files are swept, and a backslash in a key or a file name is an ordinary character on POSIX."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.servers.moto import MotoServer

Run = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def bucket(moto_client: Any, bucket_name: Callable[[], str]) -> str:
    name = bucket_name()
    moto_client.create_bucket(Bucket=name)
    return name


def _cli(run_cli: Run, moto: MotoServer, *args: str) -> subprocess.CompletedProcess[str]:
    return run_cli("--endpoint-url", moto.endpoint_url, "--allow-http", *args)


def test_a_restore_from_a_mistyped_prefix_is_not_found(run_cli: Run, moto: MotoServer, moto_client: Any, bucket: str, tmp_path: Path) -> None:
    moto_client.put_object(Bucket=bucket, Key="site/one.html", Body=b"<p>one</p>")
    result = _cli(run_cli, moto, "get", "-r", f"s3://{bucket}/sitee/", str(tmp_path / "z"))
    assert result.returncode == 3, result.stderr
    assert f"s3://{bucket}/sitee/" in result.stderr and "--allow-empty" in result.stderr
    assert "Traceback" not in result.stderr and not (tmp_path / "z").exists()
    result = _cli(run_cli, moto, "sync", f"s3://{bucket}/sitee/", str(tmp_path / "y"))
    assert result.returncode == 3, result.stderr
    # asked for: an empty source is accepted
    result = _cli(run_cli, moto, "get", "-r", "--allow-empty", f"s3://{bucket}/sitee/", str(tmp_path / "z"))
    assert result.returncode == 0, result.stderr


def test_a_single_object_url_with_r_says_so(run_cli: Run, moto: MotoServer, moto_client: Any, bucket: str, tmp_path: Path) -> None:
    moto_client.put_object(Bucket=bucket, Key="site/one.html", Body=b"<p>one</p>")
    for command in (("sync",), ("get", "-r")):
        result = _cli(run_cli, moto, *command, f"s3://{bucket}/site/one.html", str(tmp_path / "x"))
        assert result.returncode == 2, result.stderr
        assert "is an object, not a folder" in result.stderr, result.stderr
        assert "Traceback" not in result.stderr and not (tmp_path / "x").exists()


def test_the_temp_sweep_spares_files_that_only_look_like_temps(
    run_cli: Run, moto: MotoServer, moto_client: Any, bucket: str, tmp_path: Path
) -> None:
    moto_client.put_object(Bucket=bucket, Key="t/a.txt", Body=b"a")
    moto_client.put_object(Bucket=bucket, Key="t/notes.s3safe-tmp", Body=b"an object with the suffix")
    dest = tmp_path / "dest"
    dest.mkdir()
    old = 1_500_000_000
    users = {"draft.s3safe-tmp": b"mine", ".a.txt.123-4.s3safe-tmp": b"also mine", ".a.txt.9-9-0123456789ab.s3safe-tmp": b"forged"}
    for name, data in users.items():
        (dest / name).write_bytes(data)
        os.utime(dest / name, (old, old))
    for _ in range(2):  # the object with the suffix was downloaded, then swept, on alternate runs
        result = _cli(run_cli, moto, "get", "-r", f"s3://{bucket}/t/", str(dest))
        assert result.returncode == 0, result.stderr
        assert "remove-temp" not in result.stdout
        for name, data in users.items():
            assert (dest / name).read_bytes() == data
        assert (dest / "notes.s3safe-tmp").read_bytes() == b"an object with the suffix"


def test_backslashes_are_ordinary_characters_on_posix(
    run_cli: Run, moto: MotoServer, moto_client: Any, bucket: str, tmp_path: Path
) -> None:
    if os.name == "nt":
        pytest.skip("on Windows a backslash is a path separator")
    moto_client.put_object(Bucket=bucket, Key="k/a\\b", Body=b"backslash")
    moto_client.put_object(Bucket=bucket, Key="k/a/b", Body=b"slash")
    dest = tmp_path / "dest"
    result = _cli(run_cli, moto, "get", "-r", f"s3://{bucket}/k/", str(dest))
    assert result.returncode == 0, result.stderr
    assert (dest / "a\\b").read_bytes() == b"backslash" and (dest / "a" / "b").read_bytes() == b"slash"
    # and back: a POSIX file name with a backslash keeps it on S3, so a purge renames nothing
    (dest / "back\\slash.txt").write_bytes(b"name with a backslash")
    result = _cli(run_cli, moto, "put", "-r", "--purge", str(dest), f"s3://{bucket}/k/")
    assert result.returncode == 0, result.stderr
    keys = sorted(o["Key"] for o in moto_client.list_objects_v2(Bucket=bucket, Prefix="k/")["Contents"])
    assert keys == ["k/a/b", "k/a\\b", "k/back\\slash.txt"]
    single = tmp_path / "single"
    single.mkdir()
    result = _cli(run_cli, moto, "get", f"s3://{bucket}/k/back\\slash.txt", str(single))
    assert result.returncode == 0, result.stderr
    assert [p.name for p in single.iterdir()] == ["back\\slash.txt"]
