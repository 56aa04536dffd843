"""Large objects arrive as parallel ranged GETs written in place; verified whole before the rename."""

from __future__ import annotations

import hashlib
import logging
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


@pytest.mark.parametrize("size", [3 * 1024**2 // 2, 5 * 1024**2 + 5], ids=["one-put", "parts"])
def test_an_s3safe_upload_on_rclone_is_verified_by_its_own_crc_and_a_tampered_byte_fails(
    rclone_conn: Connection, rclone: Any, bucket_name: Callable[[], str], tmp_path: Path, small_ranges: None,
    monkeypatch: pytest.MonkeyPatch, size: int,
) -> None:  # fmt: skip
    """`rclone serve s3` stores no checksum and answers ranges with 200: the download of an object s3safe uploaded
    combines the ranges' CRCs into the CRC64NVME s3safe recorded (no SHA-256 pass). A byte changed in rclone's
    own file, its mtime put back so that rclone keeps the object's metadata (and hands out the new bytes' MD5 as
    the ETag, so every If-Match holds), fails the download with exit 6 and leaves nothing."""
    import base64

    import awscrt.checksums  # type: ignore[import-untyped]

    from s3safe.core.errors import EXIT_INTEGRITY
    from s3safe.transfer import single as single_mod
    from s3safe.transfer.options import CRC64NVME_META
    from tests.functional.test_head_metadata_case import _make_bucket

    monkeypatch.setattr(single_mod, "CRC64NVME_MIN", 1024 * 1024)
    followers: list[int] = []
    monkeypatch.setattr(download_mod, "Follower", lambda fd, *args: followers.append(fd))
    bucket = bucket_name()
    _make_bucket(rclone, bucket)
    src = tmp_path / "big.bin"
    data = os.urandom(size)
    src.write_bytes(data)
    upload_file(rclone_conn, src, S3Url(bucket, "big.bin"), options=UploadOptions(part_size=5 * 1024**2))
    crc = base64.b64encode(awscrt.checksums.crc64nvme(data).to_bytes(8, "big")).decode()
    assert rclone_conn.objects.head(bucket, "big.bin").metadata[CRC64NVME_META] == crc
    result = download_file(rclone_conn, S3Url(bucket, "big.bin"), tmp_path / "back.bin")
    assert (tmp_path / "back.bin").read_bytes() == data and followers == []
    ranges = -(-size // (256 * 1024 + 7))
    assert result.verified == f"CRC64NVME checksum (s3safe's, combined from {ranges} ranges)" and result.sha256_hex == ""
    assert rclone_conn.ranges_via_botocore  # rclone answered the ranges with 200

    stored = rclone.root / bucket / "big.bin"
    before = stored.stat()
    with stored.open("r+b") as handle:
        handle.seek(size - 1000)
        byte = handle.read(1)
        handle.seek(size - 1000)
        handle.write(bytes([byte[0] ^ 0x04]))
    os.utime(stored, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert rclone_conn.objects.head(bucket, "big.bin").metadata[CRC64NVME_META] == crc  # the metadata kept
    out = tmp_path / "dest"
    out.mkdir()
    with pytest.raises(IntegrityError, match=r"does not match its stored CRC64NVME checksum \(s3safe metadata\)") as caught:
        download_file(rclone_conn, S3Url(bucket, "big.bin"), out / "big.bin")
    assert caught.value.exit_code == EXIT_INTEGRITY == 6
    assert list(out.iterdir()) == []


def test_get_of_one_large_object_heads_it_once(
    moto_conn: Connection, moto_client: Any, bucket_name: Callable[[], str], tmp_path: Path, small_ranges: None,
    caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    """download_file's HEAD (size, ETag, checksums) is the one the ranges are asked against: _fetch_ranged made a
    second, identical one for every `get` of a large object."""
    bucket = bucket_name()
    moto_client.create_bucket(Bucket=bucket)
    src = tmp_path / "big.bin"
    src.write_bytes(os.urandom(2 * 1024 * 1024 + 5))
    upload_file(moto_conn, src, S3Url(bucket, "big.bin"), options=UploadOptions())
    with caplog.at_level(logging.DEBUG, logger="s3safe.request"):
        download_file(moto_conn, S3Url(bucket, "big.bin"), tmp_path / "out.bin")
    sent = [r.getMessage() for r in caplog.records if r.name == "s3safe.request"]
    assert (tmp_path / "out.bin").read_bytes() == src.read_bytes()
    assert sum(line.startswith(f"HEAD s3://{bucket}/big.bin ") for line in sent) == 1, sent
    assert sum(line.startswith(f"GET s3://{bucket}/big.bin ") for line in sent) >= 2, sent  # it did go in ranges
