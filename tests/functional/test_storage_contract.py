"""The storage interface (storage/base.py) behaves the same on S3 (moto), the local filesystem and in memory.

The in-memory store stands in for S3 in the engine tests (tests/unit/test_engine_memory.py): these checks are
what makes its answers worth trusting there.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable
from pathlib import Path

import pytest

from s3safe.core.errors import IntegrityError, NotFoundError
from s3safe.core.locations import S3Url
from s3safe.core.models import ObjectInfo, PrefixInfo
from s3safe.core.settings import ConnectionSettings
from s3safe.ops.buckets import make_bucket
from s3safe.storage.base import ObjectStore, PutRequest
from s3safe.storage.connection import Connection
from s3safe.storage.local import LocalStorage
from s3safe.storage.memory import MemoryStorage
from s3safe.storage.s3 import S3Storage
from tests.servers.moto import MotoServer

PART = 5 * 1024**2  # S3's smallest part but the last


def _sha(data: bytes) -> str:
    return base64.b64encode(hashlib.sha256(data).digest()).decode()


@pytest.fixture(params=["memory", "local", "s3"])
def backend(request: pytest.FixtureRequest, tmp_path: Path, bucket_name: Callable[[], str]) -> tuple[ObjectStore, str]:
    if request.param == "memory":
        return MemoryStorage("b"), "b"
    if request.param == "local":
        return LocalStorage(), str(tmp_path / "container")
    moto: MotoServer = request.getfixturevalue("moto")
    conn = Connection(ConnectionSettings(endpoint_url=moto.endpoint_url, allow_http=True, region="us-east-1"))
    bucket = bucket_name()
    make_bucket(conn, S3Url(bucket), plain=True)
    return conn.objects, bucket


def test_put_head_get_and_list_in_key_order(backend: tuple[ObjectStore, str]) -> None:
    store, bucket = backend
    for key, data in (("a-b", b"first"), ("a/x", b"0123456789"), ("a/y/z", b"deep")):
        written = store.put(PutRequest(bucket, key, content_type="text/plain"), data, sha256_b64=_sha(data))
        assert written.etag == hashlib.md5(data, usedforsecurity=False).hexdigest()
        # memory and local check the SHA-256 themselves; moto takes any it is sent and says nothing about it
        assert written.checksum_checked == (not isinstance(store, S3Storage))
    assert store.head(bucket, "a/x").size == 10
    got = store.get(bucket, "a/x", start=2, end=6)
    assert b"".join(bytes(chunk) for chunk in got.stream(min_chunk_size=3)) == b"2345"  # a chunk lives until the next
    assert b"".join(store.read_chunks(bucket, "a-b")) == b"first"
    # S3 orders by UTF-8 bytes: "a-b" < "a/…" ('-' is 0x2d, '/' is 0x2f)
    listed = [e.key if isinstance(e, ObjectInfo) else e.prefix for e in store.iter_entries(bucket, "", recursive=False)]
    assert listed == ["a-b", "a/"]
    assert [o.key for o in store.iter_objects_fast(bucket, "")] == ["a-b", "a/x", "a/y/z"]
    with pytest.raises(NotFoundError):
        store.head(bucket, "missing")
    results = store.delete_batch(bucket, [("a-b", None), ("a/y/z", None)])
    assert all(r.ok for r in results)
    assert [e.key for e in store.iter_entries(bucket, "", recursive=True) if not isinstance(e, PrefixInfo)] == ["a/x"]


def test_chunk_writer_lists_held_parts_completes_and_aborts(backend: tuple[ObjectStore, str]) -> None:
    store, bucket = backend
    parts = [bytes([n]) * PART for n in (1, 2)] + [b"tail"]
    writer = store.chunk_writer(bucket, "big")
    upload_id = writer.create(PutRequest(bucket, "big", metadata={"k": "v"}))
    assert upload_id in (writer.open_uploads() or set())
    sent = [writer.write_part(upload_id, n, data, sha256_b64=_sha(data)) for n, data in enumerate(parts[:2], start=1)]
    held = writer.list_parts(upload_id)
    assert held is not None and sorted(held) == [1, 2]
    assert held[1].plain_etag == hashlib.md5(parts[0], usedforsecurity=False).hexdigest()
    sent.append(writer.write_part(upload_id, 3, parts[2], sha256_b64=_sha(parts[2])))
    etag = writer.complete(upload_id, sent)
    assert etag is not None and etag.endswith("-3")
    assert b"".join(store.read_chunks(bucket, "big")) == b"".join(parts)
    assert writer.list_parts(upload_id) is None  # completed: gone
    second = writer.create(PutRequest(bucket, "big"))
    writer.abort(second)
    writer.abort(second)  # already gone: not an error
    assert writer.list_parts(second) is None
    assert second not in (writer.open_uploads() or set())


@pytest.mark.parametrize("kind", ["memory", "local"])
def test_a_body_that_does_not_match_its_sha256_is_refused(kind: str, tmp_path: Path) -> None:
    # the servers that check (LocalStack, AWS) are tested in tests/faults; moto does not check
    store: ObjectStore = MemoryStorage("b") if kind == "memory" else LocalStorage()
    bucket = "b" if kind == "memory" else str(tmp_path)
    with pytest.raises(IntegrityError):
        store.put(PutRequest(bucket, "k"), b"sent", sha256_b64=_sha(b"other"))
    writer = store.chunk_writer(bucket, "k")
    upload_id = writer.create(PutRequest(bucket, "k"))
    with pytest.raises(IntegrityError):
        writer.write_part(upload_id, 1, b"sent", sha256_b64=_sha(b"other"))
    with pytest.raises(NotFoundError):
        store.head(bucket, "k")


def test_conditional_put_and_completion(backend: tuple[ObjectStore, str]) -> None:
    """If-None-Match: * and If-Match pass through put and the chunk writer's completion on every backend."""
    from s3safe.core.errors import ConditionFailed
    from s3safe.storage.base import WriteCondition

    store, bucket = backend
    created = WriteCondition(if_none_match=True)
    etag = store.put(PutRequest(bucket, "k", condition=created), b"one", sha256_b64=_sha(b"one")).etag
    with pytest.raises(ConditionFailed):
        store.put(PutRequest(bucket, "k", condition=created), b"two", sha256_b64=_sha(b"two"))
    with pytest.raises(ConditionFailed):
        store.put(PutRequest(bucket, "k", condition=WriteCondition(if_match="0" * 32)), b"two", sha256_b64=_sha(b"two"))
    assert etag is not None
    store.put(PutRequest(bucket, "k", condition=WriteCondition(if_match=etag)), b"three", sha256_b64=_sha(b"three"))
    writer = store.chunk_writer(bucket, "k")
    upload_id = writer.create(PutRequest(bucket, "k"))
    part = writer.write_part(upload_id, 1, b"four", sha256_b64=_sha(b"four"))
    with pytest.raises(ConditionFailed):
        writer.complete(upload_id, [part], condition=created)
    writer.abort(upload_id)
    assert b"".join(store.read_chunks(bucket, "k")) == b"three"


def test_a_get_asks_if_match_and_a_version(backend: tuple[ObjectStore, str]) -> None:
    """What the ranged download sends with each range: the object's ETag (a replaced object fails rather than mixing
    two versions' bytes), and the version it was listed with ("null": the current one of an unversioned bucket)."""
    from s3safe.core.errors import ConditionFailed

    store, bucket = backend
    etag = store.put(PutRequest(bucket, "k"), b"0123456789", sha256_b64=_sha(b"0123456789")).etag
    assert etag is not None
    got = store.get(bucket, "k", start=1, end=4, if_match=etag, version_id="null")
    assert b"".join(bytes(chunk) for chunk in got.stream(min_chunk_size=2)) == b"123"
    with pytest.raises(ConditionFailed):
        store.get(bucket, "k", start=1, end=4, if_match="0" * 32)
