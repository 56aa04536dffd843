"""Large objects arrive as parallel ranged GETs written in place; verified whole before the rename."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from s3safe.core.errors import IntegrityError
from s3safe.core.locations import S3Url
from s3safe.storage.connection import Connection
from s3safe.transfer import download as download_mod
from s3safe.transfer.download import download_file
from s3safe.transfer.options import UploadOptions
from s3safe.transfer.single import upload_file


@pytest.fixture
def small_ranges(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(download_mod, "RANGED_MIN", 1024 * 1024)
    monkeypatch.setattr(download_mod, "RANGE_PART", 256 * 1024 + 7)  # uneven: the last range is short


def test_ranged_download_is_byte_identical_with_mtime(
    moto_conn: Connection, moto_client: Any, bucket_name: Callable[[], str], tmp_path: Path, small_ranges: None,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    bucket = bucket_name()
    moto_client.create_bucket(Bucket=bucket)
    src = tmp_path / "big.bin"
    src.write_bytes(os.urandom(3 * 1024 * 1024 + 12345))
    os.utime(src, (1_600_000_000, 1_600_000_000))
    upload_file(moto_conn, src, S3Url(bucket, "big.bin"), options=UploadOptions())
    ranges: list[Any] = []
    import obstore  # imported by s3safe inside its functions, so the patched function is the one called

    original = obstore.get

    def counting_get(store: Any, key: str, *, options: Any = None) -> Any:
        ranges.append((options or {}).get("range"))
        return original(store, key, options=options) if options else original(store, key)

    monkeypatch.setattr(obstore, "get", counting_get)
    out = tmp_path / "out.bin"
    result = download_file(moto_conn, S3Url(bucket, "big.bin"), out)
    assert hashlib.sha256(out.read_bytes()).digest() == hashlib.sha256(src.read_bytes()).digest()
    assert out.stat().st_mtime == 1_600_000_000
    assert result.verified == "sha256"
    size, part = src.stat().st_size, 256 * 1024 + 7
    # the run's first range is its probe, asked alone through botocore (which sees the answer's status); the rest obstore's
    assert sorted(r for r in ranges if r) == [(start, min(start + part, size)) for start in range(part, size, part)]


def test_ranged_download_that_does_not_verify_leaves_nothing(
    moto_conn: Connection, moto_client: Any, bucket_name: Callable[[], str], tmp_path: Path, small_ranges: None
) -> None:
    bucket = bucket_name()
    moto_client.create_bucket(Bucket=bucket)
    data = os.urandom(2 * 1024 * 1024)
    moto_client.put_object(Bucket=bucket, Key="k", Body=data, Metadata={"s3safe-sha256": hashlib.sha256(b"other").hexdigest()})
    out = tmp_path / "dest"
    out.mkdir()
    with pytest.raises(IntegrityError):
        download_file(moto_conn, S3Url(bucket, "k"), out / "k")
    assert list(out.iterdir()) == []
