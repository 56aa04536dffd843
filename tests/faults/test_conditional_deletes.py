"""Deletions planned from a listing (sync --purge, rm -r, rb --force's objects, revert's delete markers) carry
the listed ETag: an object another client wrote to such a key between the listing and the DeleteObjects is
reported as a conflict (exit 5, naming the key) and kept, as a conditional write's would be (rt19 #2). Before:
the delete was unconditional and the newer object was lost (or hidden) with exit 0."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.faults.conftest import Target
from tests.faults.proxy import FaultPlan, FaultProxy, Request
from tests.servers.moto import MotoServer


class WriterBeforeDelete:
    """On the first request that would delete `key` (or, `ignoring`, also HEAD it), another client PUTs `body`
    there (straight to the server) before the request is forwarded. `ignoring`: the ETag elements of every
    DeleteObjects are blanked out, as a server that ignores conditional deletes would read them."""

    def __init__(self, client: Any, bucket: str, key: str, body: bytes, *, ignoring: bool = False) -> None:
        self.client, self.bucket, self.key, self.body, self.ignoring = client, bucket, key, body, ignoring
        self.written = False
        self._lock = threading.Lock()

    def __call__(self, request: Request, body: bytes) -> bytes:
        deletes = request.method == "POST" and "delete" in request.target
        if deletes and self.ignoring:  # same length, so the framing holds
            body = re.sub(rb"<ETag>[^<]*</ETag>", lambda m: b" " * len(m.group(0)), body)
        heads = self.ignoring and request.method == "HEAD" and request.target.split("?")[0] == f"/{self.bucket}/{self.key}"
        if heads or (deletes and f"<Key>{self.key}</Key>".encode() in body):
            with self._lock:
                if not self.written:
                    self.client.put_object(Bucket=self.bucket, Key=self.key, Body=self.body)
                    self.written = True
        return body


@pytest.mark.parametrize(("command", "ignoring"), [("sync --purge", False), ("rm -r", False), ("sync --purge", True)],
                         ids=["sync --purge", "rm -r", "server ignores ETag: HEAD re-check"])  # fmt: skip
def test_an_object_written_after_the_listing_is_not_deleted(
    proxy: FaultProxy, proxied: Target, moto: MotoServer, bucket_name: Callable[[], str], tmp_path: Path, command: str,
    ignoring: bool,
) -> None:  # fmt: skip
    direct = proxied.client(moto.endpoint_url)
    bucket = bucket_name()
    direct.create_bucket(Bucket=bucket)
    for name in ("keep.txt", "old.txt", "gone.txt"):
        direct.put_object(Bucket=bucket, Key=f"d/{name}", Body=b"v1 " + name.encode())
    root = tmp_path / "src"
    root.mkdir()
    (root / "keep.txt").write_bytes(b"v1 keep.txt")
    writer = WriterBeforeDelete(direct, bucket, "d/old.txt", b"theirs, written after the listing", ignoring=ignoring)
    proxy.set_plan(FaultPlan(rewrite_request=writer))
    args = ["sync", "--purge", str(root)] if command == "sync --purge" else ["rm", "-r"]
    result = proxied.run(*args, f"s3://{bucket}/d/")
    assert writer.written
    assert result.returncode == 5, result.stdout[-2000:] + result.stderr[-2000:]
    lines = [line for line in (result.stdout + result.stderr).splitlines() if f"s3://{bucket}/d/old.txt" in line]
    assert any("conflict" in line and "changed by another writer" in line for line in lines), result.stderr[-2000:]
    assert ("ignores conditional deletes" in result.stderr) == ignoring
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr
    assert direct.get_object(Bucket=bucket, Key="d/old.txt")["Body"].read() == b"theirs, written after the listing"
    left = {o["Key"] for o in direct.list_objects_v2(Bucket=bucket).get("Contents", [])}
    assert "d/gone.txt" not in left  # the deletion nobody raced still happened
    assert not any(".s3safe-" in key for key in left)  # no probe object left behind


IGNORING = [False, True]
IGNORING_IDS = ["server honours ETag", "server ignores ETag: HEAD re-check"]


@pytest.mark.parametrize("ignoring", IGNORING, ids=IGNORING_IDS)
def test_rb_force_keeps_an_object_written_after_the_listing_and_the_bucket(
    proxy: FaultProxy, proxied: Target, moto: MotoServer, bucket_name: Callable[[], str], ignoring: bool
) -> None:
    """rb --force deleted every listed version unconditionally: in a bucket where versioning was never on, the
    null version is whatever object is at the key now, so another writer's object put there after the listing
    was deleted with the rest, and the bucket with it (exit 0). Now each object goes with its listed ETag, as
    rm -r's: that one is a conflict, kept, and so is the bucket (exit 5)."""
    direct = proxied.client(moto.endpoint_url)
    bucket = bucket_name()
    direct.create_bucket(Bucket=bucket)
    for name in ("old.txt", "gone.txt"):
        direct.put_object(Bucket=bucket, Key=name, Body=b"v1 " + name.encode())
    writer = WriterBeforeDelete(direct, bucket, "old.txt", b"theirs, written after the listing", ignoring=ignoring)
    proxy.set_plan(FaultPlan(rewrite_request=writer))
    result = proxied.run("rb", "--force", f"s3://{bucket}")
    assert writer.written
    assert result.returncode == 5, result.stdout[-2000:] + result.stderr[-2000:]
    lines = [line for line in (result.stdout + result.stderr).splitlines() if f"s3://{bucket}/old.txt" in line]
    assert any("conflict" in line and "changed by another writer" in line for line in lines), result.stderr[-2000:]
    assert f"1 object(s) could not be deleted, so bucket s3://{bucket} was kept" in result.stderr.strip().splitlines()[-1]
    assert ("ignores conditional deletes" in result.stderr) == ignoring
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr
    assert direct.get_object(Bucket=bucket, Key="old.txt")["Body"].read() == b"theirs, written after the listing"
    assert {o["Key"] for o in direct.list_objects_v2(Bucket=bucket).get("Contents", [])} == {"old.txt"}  # no probe left


def test_rb_force_still_empties_and_removes_a_versioned_bucket(
    proxied: Target, moto: MotoServer, bucket_name: Callable[[], str]
) -> None:
    """Versions with an id (and delete markers) are deleted by id, as before: nobody can change them."""
    direct = proxied.client(moto.endpoint_url)
    bucket = bucket_name()
    direct.create_bucket(Bucket=bucket)
    direct.put_object(Bucket=bucket, Key="k", Body=b"null version, before versioning")
    direct.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    direct.put_object(Bucket=bucket, Key="k", Body=b"v2")
    direct.delete_object(Bucket=bucket, Key="k")
    result = proxied.run("rb", "--force", f"s3://{bucket}")
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    assert bucket not in {b["Name"] for b in direct.list_buckets()["Buckets"]}


def test_rb_force_keeps_a_version_written_after_the_listing_and_says_why(
    proxy: FaultProxy, proxied: Target, moto: MotoServer, bucket_name: Callable[[], str]
) -> None:
    """On a versioned bucket each listed version goes by its id; one another writer adds meanwhile is not listed,
    so not deleted, and DeleteBucket then finds the bucket not empty. That said "is not empty (empty it first, or
    use 'rb --force')", exit 2, to a user who had used --force; it now says what happened, as a partial failure."""
    direct = proxied.client(moto.endpoint_url)
    bucket = bucket_name()
    direct.create_bucket(Bucket=bucket)
    direct.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    direct.put_object(Bucket=bucket, Key="k", Body=b"v1")
    writer = WriterBeforeDelete(direct, bucket, "k", b"theirs, written after the listing")
    proxy.set_plan(FaultPlan(rewrite_request=writer))
    result = proxied.run("rb", "--force", f"s3://{bucket}")
    assert writer.written
    assert result.returncode == 5, result.stdout[-2000:] + result.stderr[-2000:]
    error = result.stderr.strip().splitlines()[-1]
    assert f"bucket s3://{bucket} was kept: objects were written to it after it was listed" in error, error
    assert direct.get_object(Bucket=bucket, Key="k")["Body"].read() == b"theirs, written after the listing"


@pytest.mark.parametrize("ignoring", IGNORING, ids=IGNORING_IDS)
def test_revert_adds_no_delete_marker_over_a_version_written_after_the_listing(
    proxy: FaultProxy, proxied: Target, moto: MotoServer, bucket_name: Callable[[], str], ignoring: bool
) -> None:
    """revert hides each key created after TIME under a delete marker. It added the marker whatever was current:
    a version another writer put after the listing was hidden too (exit 0). Now the marker goes with the ETag
    planned for: that key is a conflict (exit 5) and their version stays current; the other marker is added."""
    direct = proxied.client(moto.endpoint_url)
    bucket = bucket_name()
    direct.create_bucket(Bucket=bucket)
    direct.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    direct.put_object(Bucket=bucket, Key="t/doc", Body=b"as it was")
    before = max(v["LastModified"] for v in direct.list_object_versions(Bucket=bucket)["Versions"])
    time.sleep(max(0.0, before.timestamp() + 1.05 - time.time()))  # moto's clock has 1 s resolution: the next second
    for name in ("t/new", "t/other"):
        direct.put_object(Bucket=bucket, Key=name, Body=b"created since")
    writer = WriterBeforeDelete(direct, bucket, "t/new", b"theirs, written after the listing", ignoring=ignoring)
    proxy.set_plan(FaultPlan(rewrite_request=writer))
    result = proxied.run("revert", "-r", "--as-of", before.isoformat(), f"s3://{bucket}/t/")
    assert writer.written
    assert result.returncode == 5, result.stdout[-2000:] + result.stderr[-2000:]
    lines = [line for line in (result.stdout + result.stderr).splitlines() if f"s3://{bucket}/t/new" in line]
    assert any("conflict" in line and "changed by another writer" in line for line in lines), result.stderr[-2000:]
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr
    assert direct.get_object(Bucket=bucket, Key="t/new")["Body"].read() == b"theirs, written after the listing"
    markers = {m["Key"] for m in direct.list_object_versions(Bucket=bucket).get("DeleteMarkers", []) if m["IsLatest"]}
    assert markers == {"t/other"}
