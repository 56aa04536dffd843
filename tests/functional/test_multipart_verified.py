"""A multipart upload says what its parts were verified by, in the words of the evidence --move acts on (rt19 #7).

A single-file multipart put said "verified by size, per-part sha256" although its parts carry CRC64NVME, and
moto (which echoes no checksum) leaves their ETags = MD5s of the parts as the evidence; `put -` said "per-part
sha256 (checked by the server)". In-process: the text is the library's, the CLI only renders it.
"""

from __future__ import annotations

import io
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from s3safe.core.locations import S3Url
from s3safe.storage.connection import Connection
from s3safe.transfer.options import UploadOptions
from s3safe.transfer.pipeline import PARTS_PROOF
from s3safe.transfer.single import upload_file
from s3safe.transfer.streams import upload_stream

PART = 5 * 1024 * 1024


def test_a_multipart_put_and_stream_say_what_their_parts_were_verified_by(
    moto_conn: Connection, moto_client: Any, tmp_path: Path, bucket_name: Callable[[], str]
) -> None:
    bucket = bucket_name()
    moto_client.create_bucket(Bucket=bucket)
    data = os.urandom(PART + 1024)
    (tmp_path / "big.bin").write_bytes(data)
    options = UploadOptions(part_size=PART)
    put = upload_file(moto_conn, tmp_path / "big.bin", S3Url(bucket, "big.bin"), options=options)
    assert (put.verified, put.proof) == (f"size, {PARTS_PROOF}", PARTS_PROOF)
    streamed = upload_stream(moto_conn, io.BytesIO(data), S3Url(bucket, "s.bin"), options=options)
    assert (streamed.verified, streamed.proof) == (PARTS_PROOF, PARTS_PROOF)
