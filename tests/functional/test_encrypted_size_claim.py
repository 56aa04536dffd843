"""The README must say what an encrypted object's metadata and size reveal: the exact plaintext size."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from s3safe.core.locations import S3Url
from s3safe.crypto import age
from s3safe.crypto.digest import generate_digest_key
from s3safe.ops.buckets import make_bucket
from s3safe.storage.connection import Connection
from s3safe.transfer.encryption import PLAIN_SIZE_META, Encryption
from s3safe.transfer.options import UploadOptions
from s3safe.transfer.single import upload_file

README = Path(__file__).resolve().parents[2] / "README.md"


def test_exact_plaintext_size_is_stored_and_documented(moto_conn: Connection, bucket_name: Callable[[], str], tmp_path: Path) -> None:
    bucket = bucket_name()
    make_bucket(moto_conn, S3Url(bucket))
    enc = Encryption(format="age", digest_key=generate_digest_key(), recipients=(age.generate_identity()[1],)).validate()
    sizes = {}
    for size in (1, 1000, 200_001):
        src = tmp_path / f"f{size}"
        src.write_bytes(os.urandom(size))
        upload_file(moto_conn, src, S3Url(bucket, src.name), options=UploadOptions(), encryption=enc)
        head = moto_conn.client_for(bucket).head_object(Bucket=bucket, Key=src.name)
        sizes[size] = (int(head["Metadata"][PLAIN_SIZE_META]), head["ContentLength"])
    assert all(plain == size for size, (plain, _) in sizes.items())  # to the byte, not rounded
    overheads = {stored - size for size, (_, stored) in sizes.items()}
    assert max(overheads) - min(overheads) <= 16 * 4  # and the stored size alone tells it within a few bytes
    text = " ".join(README.read_text(encoding="utf-8").split())
    assert "sizes (roughly)" not in text
    assert "exact sizes are not hidden" in text and "s3safe does not pad" in text
