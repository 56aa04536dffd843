"""Hostile age objects: a 200-byte object asking for scrypt work factor 22 would cost 4 GiB to open.

s3safe accepts from objects, by default, no more than the work factor it writes itself (18), and never runs
two scrypt derivations at once, so `--threads` does not multiply their memory.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Callable
from pathlib import Path

from tests.faults.conftest import Target
from tests.faults.hostile_bodies import run_measured
from tests.servers.moto import MotoServer

PASSPHRASE = "correct horse battery staple"


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode().rstrip("=")


def hostile_age(work_factor: int) -> bytes:
    """A well-formed age header with one scrypt stanza at `work_factor`, then a bogus payload."""
    header = f"age-encryption.org/v1\n-> scrypt {_b64(os.urandom(16))} {work_factor}\n{_b64(os.urandom(32))}\n"
    return f"{header}--- {_b64(os.urandom(32))}\n".encode() + os.urandom(16 + 64)


def test_an_object_asking_for_a_huge_scrypt_work_factor_is_refused_cheaply(
    moto_target: Target, moto: MotoServer, tmp_path: Path, bucket_name: Callable[[], str]
) -> None:
    bucket = bucket_name()
    direct = moto_target.client()
    direct.create_bucket(Bucket=bucket)
    for i in range(3):
        direct.put_object(Bucket=bucket, Key=f"t/evil{i}.bin", Body=hostile_age(22), Metadata={"s3safe-encryption": "age"})
    env = {**moto_target.full_env(), "S3SAFE_PASSPHRASE": PASSPHRASE}
    result, peak = run_measured(moto_target.command("-t", "3", "get", "-r", f"s3://{bucket}/t/", str(tmp_path / "out")),
                                env=env, timeout=300)  # fmt: skip
    assert result.returncode == 6, result.stderr[-2000:]  # every failure an integrity failure: exit 6
    assert peak < 600 * 1024**2, f"peak RSS {peak / 1024**2:.0f} MiB"
    failed = [line for line in result.stderr.splitlines() if "evil" in line]
    assert len(failed) == 3 and all("work factor 22" in line and "--max-work-factor" in line for line in failed), result.stderr
    assert "Traceback" not in result.stderr
    assert not any(p.is_file() for p in (tmp_path / "out").rglob("*")) if (tmp_path / "out").exists() else True


def test_parallel_passphrase_downloads_derive_one_key_at_a_time(
    moto_target: Target, moto: MotoServer, tmp_path: Path, bucket_name: Callable[[], str]
) -> None:
    """Four age objects at work factor 18 (256 MiB of scrypt memory each), downloaded with -t 4: the peak
    stays near one derivation's memory, not four."""
    bucket = bucket_name()
    moto_target.client().create_bucket(Bucket=bucket)
    src = tmp_path / "src"
    src.mkdir()
    for i in range(4):
        (src / f"f{i}.txt").write_bytes(os.urandom(1000))
    env = {**moto_target.full_env(), "S3SAFE_PASSPHRASE": PASSPHRASE}
    put = moto_target.run("put", "-r", "--encrypt", "age", str(src), f"s3://{bucket}/t/", extra_env={"S3SAFE_PASSPHRASE": PASSPHRASE})
    assert put.returncode == 0, put.stderr[-2000:]
    out = tmp_path / "out"
    result, peak = run_measured(moto_target.command("-t", "4", "get", "-r", f"s3://{bucket}/t/", str(out)), env=env, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    assert {p.name: p.read_bytes() for p in out.iterdir()} == {p.name: p.read_bytes() for p in src.iterdir()}
    assert peak < 600 * 1024**2, f"peak RSS {peak / 1024**2:.0f} MiB"
