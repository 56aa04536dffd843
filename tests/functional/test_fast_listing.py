"""The transfer engine's listing through obstore, and its hand-over to botocore at keys obstore refuses."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from s3safe.core.models import ObjectInfo
from s3safe.storage.connection import Connection
from s3safe.storage.s3 import S3Storage

CLEAN = ["p/a.txt", "p/naïve café.txt", "p/sp ace", "p/%41", "p/q?x", "p/z/deep/" + "k" * 300]
UNCLEAN = ["p/../x", "p/./y", "p/a//b", "p/dir/", "p/tab\tx", "p/zz\x01"]


@pytest.mark.parametrize("keys", [CLEAN, CLEAN + UNCLEAN], ids=["clean", "with-keys-obstore-refuses"])
def test_fast_listing_equals_the_s3_listing(moto_conn: Connection, moto_client: Any, bucket_name: Callable[[], str], keys: list[str],
                                           caplog: pytest.LogCaptureFixture) -> None:  # fmt: skip
    bucket = bucket_name()
    moto_client.create_bucket(Bucket=bucket)
    for key in [*keys, "other/outside", "p-sibling"]:
        moto_client.put_object(Bucket=bucket, Key=key, Body=key.encode())
    storage = S3Storage(moto_conn)
    reference = [(o.key, o.size, o.etag) for o in storage.iter_entries(bucket, "p/", recursive=True) if isinstance(o, ObjectInfo)]
    with caplog.at_level("DEBUG", logger="s3safe.s3"):
        fast = [(o.key, o.size, o.etag) for o in storage.iter_objects_fast(bucket, "p/")]
    assert fast == reference  # same keys, once each, in the same (byte) order
    if keys == CLEAN:  # obstore (its store signing with the request-counting credentials) listed them all
        assert "continuing with botocore" not in caplog.text, caplog.text
    assert sorted(k for k, _, _ in fast) == sorted(keys)
    whole = [o.key for o in storage.iter_objects_fast(bucket, "")]
    assert len(whole) == len(keys) + 2 and len(set(whole)) == len(whole)
