"""An encrypted restore must not restore a plaintext object swapped into the tree: whoever can write to the
bucket could otherwise replace a ciphertext with content of their choosing and no check would run."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from subprocess import CompletedProcess
from typing import Any

import pytest

from tests.servers.moto import MotoServer

Run = Callable[..., CompletedProcess[str]]
PASSPHRASE = "restore-downgrade-passphrase"
SWAPPED = b"#!/bin/sh\necho planted by whoever can write to the bucket\n"
LARGE = 64 * 1024 * 1024 + 7  # large enough for the parallel ranged download path


@pytest.fixture
def tree(moto: MotoServer, moto_client: Any, bucket_name: Callable[[], str], tmp_path: Path, run_cli: Run) -> tuple[str, Path]:
    """A tree uploaded encrypted; then two of its objects replaced by plaintext (one small, one large)."""
    bucket = bucket_name()
    moto_client.create_bucket(Bucket=bucket)
    src = tmp_path / "src"
    (src / "bin").mkdir(parents=True)
    (src / "notes.txt").write_bytes(b"notes\n" * 100)
    (src / "bin" / "run.sh").write_bytes(b"#!/bin/sh\necho the real one\n")
    (src / "big.bin").write_bytes(b"b" * 1000)
    secret = tmp_path / "passphrase"
    secret.write_text(PASSPHRASE)
    up = _cli(run_cli, moto, "put", "-r", str(src), f"s3://{bucket}/", "--encrypt", "age", "--passphrase-file", str(secret))
    assert up.returncode == 0, up.stderr
    moto_client.put_object(Bucket=bucket, Key="bin/run.sh", Body=SWAPPED)  # no s3safe-encryption marker
    moto_client.put_object(Bucket=bucket, Key="big.bin", Body=b"P" * LARGE)
    return bucket, secret


def _cli(run_cli: Run, moto: MotoServer, *args: str) -> CompletedProcess[str]:
    return run_cli("--endpoint-url", moto.endpoint_url, "--allow-http", *args)


def test_tree_restore_refuses_the_swapped_plaintext_objects(run_cli: Run, moto: MotoServer, tree: tuple[str, Path],
                                                            tmp_path: Path) -> None:  # fmt: skip
    bucket, secret = tree
    for command in ("get", "sync"):
        dest = tmp_path / f"restored-{command}"
        extra = ("-r",) if command == "get" else ()
        result = _cli(run_cli, moto, command, *extra, f"s3://{bucket}/", str(dest), "--passphrase-file", str(secret))
        assert result.returncode == 6, (command, result.stdout, result.stderr)  # only integrity failures: 6 (the rest goes on)
        assert "Traceback" not in result.stderr
        for key in ("bin/run.sh", "big.bin"):
            assert f"s3://{bucket}/{key}" in result.stderr and "not client-side encrypted" in result.stderr
        assert (dest / "notes.txt").read_bytes() == b"notes\n" * 100  # the genuine ciphertext was decrypted
        assert not (dest / "bin" / "run.sh").exists() and not (dest / "big.bin").exists()
        assert sorted(p.name for p in dest.rglob("*")) == ["bin", "notes.txt"]  # no temp file left either


def test_single_get_exits_6_and_the_explicit_option_accepts(run_cli: Run, moto: MotoServer, tree: tuple[str, Path],
                                                            tmp_path: Path) -> None:  # fmt: skip
    bucket, secret = tree
    dest = tmp_path / "one"
    dest.mkdir()
    refused = _cli(run_cli, moto, "get", f"s3://{bucket}/bin/run.sh", str(dest) + "/", "--passphrase-file", str(secret))
    assert refused.returncode == 6, (refused.stdout, refused.stderr)
    assert "--allow-unencrypted" in refused.stderr and not (dest / "run.sh").exists()
    accepted = _cli(run_cli, moto, "get", f"s3://{bucket}/bin/run.sh", str(dest) + "/", "--passphrase-file", str(secret),
                    "--allow-unencrypted")  # fmt: skip
    assert accepted.returncode == 0, accepted.stderr
    assert (dest / "run.sh").read_bytes() == SWAPPED
    # without decryption keys nothing is expected to be encrypted: a plain download is a plain download
    plain = _cli(run_cli, moto, "get", f"s3://{bucket}/bin/run.sh", str(tmp_path / "plain.sh"))
    assert plain.returncode == 0, plain.stderr
