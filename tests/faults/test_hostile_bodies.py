"""A server that sends far more bytes than an object's listed size: s3safe stops reading at the expected
length, reports "longer than expected", writes nothing, and its memory stays bounded."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from s3safe.core.errors import IntegrityError
from s3safe.core.locations import S3Url
from s3safe.core.settings import ConnectionSettings
from s3safe.storage.connection import Connection
from s3safe.transfer import download as download_mod
from s3safe.transfer.download import download_file
from tests.faults.conftest import Target
from tests.faults.hostile_bodies import longer_bodies, run_measured, temp_files
from tests.faults.proxy import FaultPlan, FaultProxy
from tests.servers.moto import MotoServer

EXTRA = 2 * 1024**3  # sent after each object's real bytes, generated lazily by the proxy
RSS_BOUND = 400 * 1024**2  # far below one body, far above the CLI's own footprint


def test_bodies_longer_than_listed_are_refused_with_bounded_memory(
    proxy: FaultProxy, proxied: Target, moto: MotoServer, tmp_path: Path, bucket_name: Callable[[], str]
) -> None:
    bucket = bucket_name()
    direct = proxied.client(moto.endpoint_url)
    direct.create_bucket(Bucket=bucket)
    direct.put_object(Bucket=bucket, Key="t/small.bin", Body=os.urandom(100))
    direct.put_object(Bucket=bucket, Key="t/medium.bin", Body=os.urandom(2 * 1024**2 + 3))
    proxy.set_plan(FaultPlan(rewrite_response=longer_bodies(bucket, extra=EXTRA), window_seconds=600))
    dest = tmp_path / "restore"
    tree, peak = run_measured(proxied.command("--retries", "0", "get", "-r", f"s3://{bucket}/t/", str(dest)),
                              env=proxied.full_env(), timeout=300)  # fmt: skip
    assert tree.returncode == 6, tree.stderr[-2000:]  # every failure an integrity failure: exit 6
    assert peak < RSS_BOUND, f"peak RSS {peak / 1024**2:.0f} MiB"
    for name in ("small.bin", "medium.bin"):
        lines = [line for line in tree.stderr.splitlines() if name in line]
        assert lines and "longer than expected" in lines[0], tree.stderr[-2000:]
    assert "Traceback" not in tree.stderr and "came back short" not in tree.stderr
    assert temp_files(tmp_path / "restore") == [] if dest.exists() else True

    one, peak = run_measured(proxied.command("--retries", "0", "get", f"s3://{bucket}/t/small.bin", str(tmp_path / "one.bin")),
                             env=proxied.full_env(), timeout=300)  # fmt: skip
    assert one.returncode == 6, one.stderr[-2000:]
    assert peak < RSS_BOUND, f"peak RSS {peak / 1024**2:.0f} MiB"
    assert "longer than expected" in one.stderr and "s3://" in one.stderr, one.stderr
    assert not (tmp_path / "one.bin").exists()
    assert [p for p in tmp_path.iterdir() if p.name.endswith(".s3safe-tmp")] == []


def test_a_range_longer_than_asked_is_reported_as_longer_not_short(
    proxy: FaultProxy, proxied: Target, moto: MotoServer, tmp_path: Path, bucket_name: Callable[[], str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    """Parallel ranged GETs: every range arrives with 64 MiB more than asked; the download fails as "longer
    than expected" after reading at most one range's worth, and leaves no file and no temp file."""
    monkeypatch.setattr(download_mod, "RANGED_MIN", 1024 * 1024)
    monkeypatch.setattr(download_mod, "RANGE_PART", 256 * 1024 + 7)
    bucket = bucket_name()
    direct = proxied.client(moto.endpoint_url)
    direct.create_bucket(Bucket=bucket)
    direct.put_object(Bucket=bucket, Key="big.bin", Body=os.urandom(3 * 1024**2 + 5))
    conn = Connection(ConnectionSettings(endpoint_url=proxied.endpoint_url, allow_http=True, region="us-east-1", retries=0))
    proxy.set_plan(FaultPlan(rewrite_response=longer_bodies(bucket, extra=64 * 1024**2), window_seconds=600))
    out = tmp_path / "dl" / "big.bin"
    out.parent.mkdir()
    with pytest.raises(IntegrityError, match="longer than expected") as caught:
        download_file(conn, S3Url(bucket, "big.bin"), out)
    assert "came back short" not in str(caught.value)
    assert list(out.parent.iterdir()) == []


def test_reencrypt_sniffing_reads_only_the_first_bytes(
    proxy: FaultProxy, proxied: Target, moto: MotoServer, bucket_name: Callable[[], str]
) -> None:
    """reencrypt asks for bytes 0-63 of each object to recognise AES Crypt; a server that ignores Range (or
    answers with far more) must not have the whole body read into memory."""
    from s3safe.crypto.age import generate_identity

    bucket = bucket_name()
    direct = proxied.client(moto.endpoint_url)
    direct.create_bucket(Bucket=bucket)
    direct.put_object(Bucket=bucket, Key="t/plain.bin", Body=os.urandom(1000))
    proxy.set_plan(FaultPlan(rewrite_response=longer_bodies(bucket, extra=EXTRA), window_seconds=600))
    _, recipient = generate_identity()
    result, peak = run_measured(proxied.command("reencrypt", "-r", "--dry-run", "--recipient", recipient, f"s3://{bucket}/t/"),
                                env=proxied.full_env(), timeout=300)  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    assert peak < RSS_BOUND, f"peak RSS {peak / 1024**2:.0f} MiB"
