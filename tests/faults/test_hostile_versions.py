"""A version listing that breaks S3's order (each key's versions oldest first), served by the fault proxy in
front of moto. A point-in-time restore takes each key's first version at or before the time: trusting this
listing, it would restore the oldest version, silently. It must stop with one line, nothing written.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest

from s3safe.core.errors import ListingError
from s3safe.core.settings import ConnectionSettings
from s3safe.storage.connection import Connection
from s3safe.storage.s3 import S3Storage
from tests.faults.conftest import Target
from tests.faults.hostile_versions import OldestFirst, TruncatedWithoutMarker
from tests.faults.proxy import FaultPlan, FaultProxy
from tests.servers.moto import MotoServer


def test_get_as_of_stops_on_versions_listed_oldest_first(
    proxy: FaultProxy, proxied: Target, moto: MotoServer, tmp_path: Path, bucket_name: Callable[[], str]
) -> None:
    bucket = bucket_name("hostile-versions")
    direct = proxied.client(moto.endpoint_url)
    direct.create_bucket(Bucket=bucket)
    direct.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    direct.put_object(Bucket=bucket, Key="t/doc", Body=b"first")
    time.sleep(1.1)  # moto's clock has 1 s resolution: the second version is a second newer
    direct.put_object(Bucket=bucket, Key="t/doc", Body=b"second")
    now = max(v["LastModified"] for v in direct.list_object_versions(Bucket=bucket)["Versions"])
    hook = OldestFirst(bucket)
    proxy.set_plan(FaultPlan(rewrite_response=hook))
    result = proxied.run("get", "-r", "--as-of", now.isoformat(), f"s3://{bucket}/t/", str(tmp_path / "out"), timeout=60)
    assert hook.served >= 1, result.stderr
    assert result.returncode == 1, (result.returncode, result.stdout, result.stderr)
    error = result.stderr.strip().splitlines()[-1]
    assert f"s3://{bucket}/t/doc" in error and proxy.endpoint_url in error and "stopped" in error, error
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "out" / "doc").exists()


def test_revert_adds_no_delete_marker_when_a_copy_back_fails(
    proxy: FaultProxy, proxied: Target, moto: MotoServer, bucket_name: Callable[[], str]
) -> None:
    """Every copy back is answered with a 500: the revert fails by name (exit 5) and, as deletions come after
    transfers and not at all when one failed, the key created since keeps no delete marker."""
    bucket = bucket_name("revert-fails")
    direct = proxied.client(moto.endpoint_url)
    direct.create_bucket(Bucket=bucket)
    direct.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    direct.put_object(Bucket=bucket, Key="t/doc", Body=b"as it was")
    before = max(v["LastModified"] for v in direct.list_object_versions(Bucket=bucket)["Versions"])
    time.sleep(1.1)  # moto's clock has 1 s resolution
    direct.put_object(Bucket=bucket, Key="t/doc", Body=b"damaged")
    direct.put_object(Bucket=bucket, Key="t/new", Body=b"created since")
    versions = direct.list_object_versions(Bucket=bucket)
    proxy.set_plan(FaultPlan(error=1.0, eligible=lambda r: "x-amz-copy-source" in r.headers))
    result = proxied.run("--retries", "0", "revert", "-r", "--as-of", before.isoformat(), f"s3://{bucket}/t/", timeout=60)
    assert result.returncode == 5, (result.returncode, result.stdout, result.stderr)
    assert proxy.injected["error"] >= 1
    assert f"FAILED revert s3://{bucket}/t/doc" in result.stderr
    assert "1 delete marker(s) not added because 1 revert(s) failed" in result.stderr
    assert "Traceback" not in result.stderr
    assert direct.list_object_versions(Bucket=bucket).get("DeleteMarkers") == versions.get("DeleteMarkers")
    assert direct.get_object(Bucket=bucket, Key="t/new")["Body"].read() == b"created since"


def test_a_truncated_version_page_without_a_marker_is_a_listing_error(
    proxy: FaultProxy, proxied: Target, moto: MotoServer, bucket_name: Callable[[], str]
) -> None:
    """rt19 #1 on the version listing (restores, revert, rm --versions): before, a page that says it is
    truncated with no NextKeyMarker was taken as the last one, and the keys after it went unseen."""
    bucket = bucket_name("versions-truncated")
    direct = proxied.client(moto.endpoint_url)
    direct.create_bucket(Bucket=bucket)
    direct.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    direct.put_object(Bucket=bucket, Key="t/doc", Body=b"one")
    hook = TruncatedWithoutMarker(bucket)
    proxy.set_plan(FaultPlan(rewrite_response=hook))
    storage = S3Storage(Connection(ConnectionSettings(endpoint_url=proxy.endpoint_url, allow_http=True, region="us-east-1", retries=0)))
    with pytest.raises(ListingError) as caught:
        list(storage.iter_versions(bucket, "t/"))
    assert hook.served == 1 and "NextKeyMarker" in str(caught.value) and f"s3://{bucket}/t/" in str(caught.value), str(caught.value)
