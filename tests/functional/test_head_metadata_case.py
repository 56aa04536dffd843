"""S3 metadata names are case-insensitive; `rclone serve s3` answers a HEAD with them capitalised
("S3safe-Sha256"). The HEAD's metadata comes back lower-case, as from AWS, so the ranged download and
--only-diff find s3safe's own SHA-256 and mtime (a miss cost an extra MD5 pass over a large download, and
lost the stored mtime and mode)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from s3safe.core.locations import parse_s3_url
from s3safe.storage.connection import Connection
from s3safe.storage.s3 import S3Storage
from s3safe.transfer.options import MTIME_META, SHA256_META, UploadOptions
from s3safe.transfer.single import upload_file


def test_head_metadata_names_are_lower_case_on_rclone(
    rclone_conn: Connection, rclone: Any, tmp_path: Path, bucket_name: Callable[[], str]
) -> None:  # fmt: skip
    name = bucket_name()
    source = tmp_path / "f.bin"
    source.write_bytes(b"x" * 1024)
    _make_bucket(rclone, name)
    upload_file(rclone_conn, source, parse_s3_url(f"s3://{name}/f.bin"), options=UploadOptions())
    metadata = S3Storage(rclone_conn).head(name, "f.bin").metadata
    assert SHA256_META in metadata and MTIME_META in metadata, metadata
    assert all(k == k.lower() for k in metadata), metadata


def _make_bucket(rclone: Any, name: str) -> None:
    import boto3

    boto3.client("s3", endpoint_url=rclone.endpoint_url, verify=rclone.ca_bundle, region_name="us-east-1",
                 aws_access_key_id=rclone.access_key, aws_secret_access_key=rclone.secret_key).create_bucket(Bucket=name)  # fmt: skip
