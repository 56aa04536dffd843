"""Multipart listings that break S3's rules, served by the fault proxy in front of moto (issue #19: every
listing checked as it streams, every loop bounded): a part or upload listed out of order or twice, a
continuation marker handed back, endless empty pages with fresh markers. Resume must never build on such a
part list and `uploads ls`/`abort` must never loop: one ListingError, the same class and wording as the
object listing's guard. In-process through the storage seam (cheap), plus one run of the CLI.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from s3safe.core.errors import ListingError
from s3safe.core.settings import ConnectionSettings
from s3safe.storage.connection import Connection
from s3safe.storage.s3 import S3Storage
from s3safe.storage.s3_upload import S3ChunkWriter
from tests.faults.conftest import Target
from tests.faults.hostile_uploads import SHAPES, HostileMultipart
from tests.faults.proxy import FaultPlan, FaultProxy
from tests.servers.moto import MotoServer

WORDS = {"reverse": "out of order", "repeat": "twice", "same-token": "continuation token", "endless-empty": "100 empty pages",
         "no-marker": "IsTruncated"}
KEY = "big.bin"


@pytest.fixture
def uploads(proxied: Target, moto: MotoServer, bucket_name: Callable[[], str]) -> tuple[str, list[str]]:
    """A bucket with unfinished uploads of KEY and of a key after it (two small parts each), made directly on moto."""
    bucket = bucket_name()
    direct = proxied.client(moto.endpoint_url)
    direct.create_bucket(Bucket=bucket)
    ids = []
    for key in (KEY, KEY + ".2"):
        upload_id = direct.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]
        for number in (1, 2):
            direct.upload_part(Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=number, Body=b"p%d" % number)
        ids.append(upload_id)
    return bucket, ids


def _conn(proxy: FaultProxy) -> Connection:
    return Connection(ConnectionSettings(endpoint_url=proxy.endpoint_url, allow_http=True, region="us-east-1", retries=0))


def _hostile(proxy: FaultProxy, bucket: str, listing: str, shape: str) -> HostileMultipart:
    hook = HostileMultipart(bucket, listing, shape)
    proxy.set_plan(FaultPlan(rewrite_response=hook))
    return hook


@pytest.mark.parametrize("shape", SHAPES)
def test_a_broken_part_listing_stops_resume(proxy: FaultProxy, uploads: tuple[str, list[str]], shape: str) -> None:
    """Before: the reversed and repeated lists were taken as they came (resume would trust them), the
    repeated marker and the endless empty pages looped until the proxy's cap answered 500."""
    bucket, ids = uploads
    writer = S3ChunkWriter(_conn(proxy), bucket, KEY)
    assert sorted(writer.list_parts(ids[0]) or {}) == [1, 2]  # through the proxy, unbent
    hook = _hostile(proxy, bucket, "parts", shape)
    with pytest.raises(ListingError) as caught:
        writer.list_parts(ids[0])
    message = str(caught.value)
    assert WORDS[shape] in message and f"s3://{bucket}/{KEY}?uploadId={ids[0]}" in message, message
    assert proxy.endpoint_url in message and "\n" not in message, message
    assert hook.served <= 102, hook.served


def test_an_upload_listing_out_of_key_order_is_taken(proxy: FaultProxy, uploads: tuple[str, list[str]]) -> None:
    """Unlike parts, uploads need no order: AWS sorts them by key, moto and other servers list them as created,
    and nothing merges this listing with another (`uploads ls` sorts what it prints). Before: "out of order",
    so `uploads ls|abort` failed on moto whenever a later-created upload had a smaller key."""
    bucket, ids = uploads
    _hostile(proxy, bucket, "uploads", "reverse")
    listed = [(u.key, u.upload_id) for u in S3Storage(_conn(proxy)).iter_uploads(bucket)]
    assert listed == [(KEY + ".2", ids[1]), (KEY, ids[0])]


@pytest.mark.parametrize("shape", ["repeat", "no-marker"])  # markers and empty pages: bounded there already; order: see above
def test_a_broken_upload_listing_stops(proxy: FaultProxy, uploads: tuple[str, list[str]], shape: str) -> None:
    """`uploads ls`/`abort` list through S3Storage.iter_uploads: before, keys and upload IDs were not checked
    (a reversed or repeated listing went through), and a truncated page with no marker (rt19 #3) ended the
    listing there, so an upload after it went unlisted and unaborted."""
    bucket, ids = uploads
    storage = S3Storage(_conn(proxy))
    assert sorted(u.upload_id for u in storage.iter_uploads(bucket)) == sorted(ids)
    hook = _hostile(proxy, bucket, "uploads", shape)
    with pytest.raises(ListingError) as caught:
        list(storage.iter_uploads(bucket))
    message = str(caught.value)
    assert WORDS[shape] in message and f"s3://{bucket}/" in message and proxy.endpoint_url in message, message
    assert hook.served <= 102, hook.served


def test_endless_empty_pages_of_one_keys_uploads_are_not_followed(proxy: FaultProxy, uploads: tuple[str, list[str]]) -> None:
    """The chunk writer's own listing (orphans of a key): a broken answer means 'cannot tell' (None), after
    100 empty pages (before: followed until the proxy's cap of 1,000 pages answered 500)."""
    bucket, ids = uploads
    writer = S3ChunkWriter(_conn(proxy), bucket, KEY)
    assert writer.open_uploads() == {ids[0]}
    hook = _hostile(proxy, bucket, "uploads", "endless-empty")
    assert writer.open_uploads() is None
    assert hook.served <= 102, hook.served


def test_uploads_ls_says_one_line(proxy: FaultProxy, proxied: Target, uploads: tuple[str, list[str]]) -> None:
    bucket, _ = uploads
    _hostile(proxy, bucket, "uploads", "repeat")
    result: Any = proxied.run("uploads", "ls", f"s3://{bucket}", timeout=120)
    assert result.returncode == 1, (result.returncode, result.stdout, result.stderr)
    error = result.stderr.strip().splitlines()[-1]
    assert error.startswith("s3safe: error: ") and "twice" in error and f"s3://{bucket}/{KEY}" in error, result.stderr
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr, result.stderr


def test_uploads_abort_stops_on_a_truncated_page_without_a_marker(proxy: FaultProxy, proxied: Target, moto: MotoServer,
                                                                  uploads: tuple[str, list[str]]) -> None:  # fmt: skip
    """Found by an outside tester (rt19 #3): before, `uploads abort` aborted the one upload on the page and
    called the job done (exit 0) while the other was still billed; now one line, exit 1, nothing aborted."""
    bucket, ids = uploads
    _hostile(proxy, bucket, "uploads", "no-marker")
    result: Any = proxied.run("uploads", "abort", f"s3://{bucket}", timeout=120)
    assert result.returncode == 1, (result.returncode, result.stdout, result.stderr)
    error = result.stderr.strip().splitlines()[-1]
    assert error.startswith("s3safe: error: ") and "NextKeyMarker" in error and f"s3://{bucket}/" in error, result.stderr
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr, result.stderr
    assert sorted(u["UploadId"] for u in proxied.client(moto.endpoint_url).list_multipart_uploads(Bucket=bucket)["Uploads"]) == sorted(ids)
