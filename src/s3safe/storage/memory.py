"""An object store held in memory: the storage interface without a server, for fast engine tests.

It behaves as S3 does where the engines look: keys in UTF-8 byte order, ETags that are the MD5 of a single PUT
or MD5-of-part-MD5s-N for a multipart object, SHA-256 checksums verified on every PUT and part, multipart uploads
that outlive a failed run (listed, resumed, aborted), and batch deletes. It is not a security model: it checks
no credentials and no policy.
"""

from __future__ import annotations

import base64
import hashlib
import itertools
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from s3safe.core.errors import ConditionFailed, IntegrityError, NotFoundError
from s3safe.core.models import ActionResult, ObjectDetails, ObjectInfo, PrefixInfo
from s3safe.storage.base import CRC64NVME, SHA256, Body, Entry, Features, Part, PutRequest, WriteCondition, Written, part_checksum
from s3safe.storage.conditional_delete import conflict_error


@dataclass(frozen=True, slots=True)
class StoredObject:
    data: bytes
    request: PutRequest
    etag: str
    modified: datetime
    sha256_b64: str | None = None  # full-object checksum; None for a multipart object (a composite one)
    parts: tuple[int, ...] = ()  # the part sizes of a multipart object


@dataclass(slots=True)
class _Upload:
    request: PutRequest
    started: datetime
    parts: dict[int, tuple[Part, bytes]] = field(default_factory=dict)


def _sha256_b64(data: bytes | memoryview) -> str:
    return base64.b64encode(hashlib.sha256(data).digest()).decode()


def _md5(data: bytes | memoryview) -> str:
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def _current_only(bucket: str, key: str, version_id: str | None) -> None:
    """This store keeps no versions: only the current object's ("null" on an unversioned S3 bucket) is there."""
    if version_id not in (None, "null"):
        raise NotFoundError(f"s3://{bucket}/{key}?versionId={version_id} does not exist (this store keeps no versions)")


def _order(key: str) -> bytes:
    return key.encode("utf-8", "surrogateescape")


class MemoryGet:
    """A GET answered from memory, shaped like obstore's GetResult."""

    def __init__(self, obj: StoredObject, *, start: int, end: int) -> None:
        self._data = memoryview(obj.data)[start:end]
        self.attributes: dict[str, Any] = {"Content-Type": obj.request.content_type, **obj.request.metadata}
        self.meta: dict[str, Any] = {"size": len(obj.data), "e_tag": f'"{obj.etag}"', "version": None, "last_modified": obj.modified}
        self.range = (start, end)

    def stream(self, *, min_chunk_size: int) -> Iterator[bytes]:
        step = max(min_chunk_size, 1)
        for offset in range(0, len(self._data), step):
            yield bytes(self._data[offset : offset + step])

    def bytes(self) -> bytes:
        return bytes(self._data)


class MemoryStorage:
    """Objects and bucket settings in dictionaries, safe to use from many threads."""

    features = Features(server_side_copy=True, acls=False, versions=False, server_side_encryption=False,
                        supports_range=True, md5_etag=True, checksums=True, multipart=True, conditional_writes=True)  # fmt: skip

    def __init__(self, *buckets: str, ownership: str = "BucketOwnerEnforced", default_encryption: str | None = "AES256") -> None:
        self._lock = threading.Lock()
        self.buckets: dict[str, dict[str, StoredObject]] = {name: {} for name in buckets}
        self.uploads: dict[str, tuple[str, str, _Upload]] = {}
        self.ownership = ownership
        self.encryption = default_encryption
        self.policies: dict[str, str] = {}
        self.requests: list[tuple[str, str, str]] = []  # (operation, bucket, key): what a test may count
        # a test may make the listing misbehave as a broken server's does: given the keys in order, what to list.
        # No guard here: the planner's (above every backend) is what must refuse it
        self.misorder: Callable[[list[str]], list[str]] | None = None
        self._ids = itertools.count(1)

    # --- helpers ---------------------------------------------------------------------------------------
    def _bucket(self, bucket: str) -> dict[str, StoredObject]:
        found = self.buckets.get(bucket)
        if found is None:
            raise NotFoundError(f"bucket s3://{bucket} does not exist", hint="check the name, or create it with 's3safe mb'")
        return found

    def _object(self, bucket: str, key: str, *, operation: str = "GET") -> StoredObject:
        with self._lock:
            self.requests.append((operation, bucket, key))
            obj = self._bucket(bucket).get(key)
        if obj is None:
            raise NotFoundError(f"s3://{bucket}/{key} does not exist")
        return obj

    def _store(self, request: PutRequest, obj: StoredObject) -> None:
        with self._lock:
            self._bucket(request.bucket)[request.key] = obj

    def object(self, bucket: str, key: str) -> StoredObject:
        """What is stored under `key` (for tests)."""
        return self._object(bucket, key)

    # --- listing ---------------------------------------------------------------------------------------
    def iter_entries(self, container: str, prefix: str, *, recursive: bool, start_after: str | None = None) -> Iterator[Entry]:
        with self._lock:
            self.requests.append(("LIST", container, prefix))
            found = {k: v for k, v in self._bucket(container).items() if k.startswith(prefix)}
        keys = sorted(found, key=_order)
        folded: str | None = None
        for key in self.misorder(keys) if self.misorder is not None else keys:
            obj = found[key]
            if start_after is not None and _order(key) <= _order(start_after):
                continue
            rest = key[len(prefix) :]
            if not recursive and "/" in rest:
                folder = prefix + rest.split("/", 1)[0] + "/"
                if folder != folded:
                    folded = folder
                    yield PrefixInfo(container, folder)
                continue
            yield ObjectInfo(bucket=container, key=key, size=len(obj.data), last_modified=obj.modified, etag=obj.etag,
                             storage_class=obj.request.storage_class or "STANDARD")  # fmt: skip

    def iter_objects_fast(self, bucket: str, prefix: str) -> Iterator[ObjectInfo]:
        for entry in self.iter_entries(bucket, prefix, recursive=True):
            if isinstance(entry, ObjectInfo):
                yield entry

    # --- objects ---------------------------------------------------------------------------------------
    def head(self, bucket: str, key: str, *, version_id: str | None = None, if_match: str | None = None) -> ObjectDetails:
        obj = self._object(bucket, key, operation="HEAD")
        _current_only(bucket, key, version_id)
        if if_match and if_match.strip('"') != obj.etag:
            raise IntegrityError(f"s3://{bucket}/{key} changed (its ETag is no longer {if_match})")
        r = obj.request
        return ObjectDetails(bucket=bucket, key=key, size=len(obj.data), last_modified=obj.modified, etag=obj.etag,
                             content_type=r.content_type, cache_control=r.cache_control, storage_class=r.storage_class or "STANDARD",
                             sse_algorithm=r.sse, sse_kms_key_id=r.sse_kms_key_id, metadata=dict(r.metadata),
                             checksums={"sha256": obj.sha256_b64} if obj.sha256_b64 else {})  # fmt: skip

    def part_sizes(self, bucket: str, key: str, *, size: int, count: int, etag: str,
                   version_id: str | None = None) -> tuple[int, ...] | None:  # fmt: skip
        obj = self._object(bucket, key, operation="HEAD")
        return obj.parts if obj.etag == etag.strip('"') and len(obj.parts) == count and len(obj.data) == size else None

    def get(self, bucket: str, key: str, *, start: int | None = None, end: int | None = None, version_id: str | None = None,
            if_match: str | None = None) -> MemoryGet:  # fmt: skip
        obj = self._object(bucket, key)
        _current_only(bucket, key, version_id)
        if if_match and if_match.strip('"') != obj.etag:
            raise ConditionFailed(f"cannot download s3://{bucket}/{key}: the object is no longer as the request's condition required (412)")
        return MemoryGet(obj, start=start or 0, end=len(obj.data) if end is None else min(end, len(obj.data)))

    def read_chunks(self, bucket: str, key: str, *, if_match: str | None = None, chunk: int = 1024 * 1024) -> Iterator[bytes]:
        if if_match:
            self.head(bucket, key, if_match=if_match)
        yield from self.get(bucket, key).stream(min_chunk_size=chunk)

    def put(self, request: PutRequest, body: Body, *, sha256_b64: str) -> Written:
        data = body.read_bytes() if isinstance(body, Path) else bytes(body)
        if _sha256_b64(data) != sha256_b64:
            raise IntegrityError(f"upload to s3://{request.bucket}/{request.key}: the SHA-256 sent does not match the body (BadDigest)")
        etag = _md5(data)
        self._check_condition(request.bucket, request.key, request.condition)
        with self._lock:
            self.requests.append(("PUT", request.bucket, request.key))
        self._store(request, StoredObject(data, request, etag, datetime.now(UTC), sha256_b64))
        return Written(etag, checksum_checked=True)  # checked above

    def _check_condition(self, bucket: str, key: str, condition: WriteCondition | None) -> None:
        if not condition:
            return
        try:
            etag: str | None = self.head(bucket, key).etag
        except NotFoundError:
            etag = None
        if not condition.holds(etag):
            raise ConditionFailed(f"cannot write s3://{bucket}/{key}: the object is no longer as the request's condition required (412)")

    def chunk_writer(self, bucket: str, key: str) -> MemoryChunkWriter:
        return MemoryChunkWriter(self, bucket, key)

    def copy(self, src_bucket: str, src_key: str, dst_bucket: str, dst_key: str, *, size: int, extra: dict[str, Any],
             threads: int) -> None:  # fmt: skip
        obj = self._object(src_bucket, src_key)
        request = replace(obj.request, bucket=dst_bucket, key=dst_key)
        if extra.get("MetadataDirective") == "REPLACE":
            request = replace(request, metadata=dict(extra.get("Metadata", {})), content_type=extra.get("ContentType"))
        self._store(request, replace(obj, request=request, modified=datetime.now(UTC)))

    def delete_batch(
        self, bucket: str, items: Sequence[tuple[str, str | None]], *, etags: Mapping[str, str] | None = None
    ) -> list[ActionResult]:
        results = []
        with self._lock:
            objects = self._bucket(bucket)
            for key, _version in items:
                self.requests.append(("DELETE", bucket, key))
                listed = (etags or {}).get(key)
                if listed is not None and key in objects and objects[key].etag.strip('"') != listed.strip('"'):
                    results.append(ActionResult("delete", f"s3://{bucket}/{key}", ok=False, error=conflict_error(bucket, key, listed)))
                    continue
                objects.pop(key, None)
                results.append(ActionResult("delete", f"s3://{bucket}/{key}"))
        return results

    # --- bucket settings (BucketSettings) --------------------------------------------------------------
    def exists(self, bucket: str) -> None:
        with self._lock:
            self._bucket(bucket)

    def object_ownership(self, bucket: str) -> str | None:
        return self.ownership

    def default_encryption(self, bucket: str) -> str | None:
        return self.encryption

    def blocked_encryption_types(self, bucket: str) -> set[str]:
        return set()

    def object_lock_enabled(self, bucket: str) -> bool | None:
        return False

    def policy(self, bucket: str) -> str | None:
        return self.policies.get(bucket)

    def put_policy(self, bucket: str, document: str) -> None:
        self.policies[bucket] = document

    def logging(self, bucket: str) -> dict[str, Any]:
        return {}

    def lifecycle_rules(self, bucket: str) -> list[dict[str, Any]]:
        return []

    # --- multipart (used by MemoryChunkWriter) ---------------------------------------------------------
    def _upload(self, bucket: str, key: str, upload_id: str) -> _Upload:
        found = self.uploads.get(upload_id)
        if found is None or found[:2] != (bucket, key):
            raise NotFoundError(f"the multipart upload {upload_id} of s3://{bucket}/{key} does not exist (NoSuchUpload)")
        return found[2]


class MemoryChunkWriter:
    def __init__(self, storage: MemoryStorage, bucket: str, key: str) -> None:
        self.storage = storage
        self.bucket = bucket
        self.key = key

    def create(self, request: PutRequest, *, checksum: str = SHA256) -> str:
        with self.storage._lock:
            self.storage._bucket(self.bucket)
            upload_id = f"upload-{next(self.storage._ids)}"
            self.storage.uploads[upload_id] = (self.bucket, self.key, _Upload(request, datetime.now(UTC)))
            self.storage.requests.append(("CREATE", self.bucket, self.key))
        return upload_id

    def write_part(self, upload_id: str, number: int, data: bytes, *, sha256_b64: str | None = None,
                   crc64nvme_b64: str | None = None) -> Part:  # fmt: skip
        algorithm, sent = (CRC64NVME, crc64nvme_b64) if crc64nvme_b64 else (SHA256, sha256_b64)
        if part_checksum(algorithm, data) != sent:
            raise IntegrityError(f"part {number} of s3://{self.bucket}/{self.key}: the {algorithm.upper()} sent does not match (BadDigest)")
        # checked, as AWS does, and answered with the value checked
        part = Part(number, f'"{_md5(data)}"', sha256_b64, len(data), crc64nvme_b64=crc64nvme_b64, verified=True)
        with self.storage._lock:
            self.storage._upload(self.bucket, self.key, upload_id).parts[number] = (part, bytes(data))
            self.storage.requests.append(("PART", self.bucket, self.key))
        return part

    def complete(self, upload_id: str, parts: Sequence[Part], *, condition: WriteCondition | None = None,
                 crc64nvme_b64: str | None = None) -> str | None:  # fmt: skip
        self.storage._check_condition(self.bucket, self.key, condition)
        with self.storage._lock:
            upload = self.storage._upload(self.bucket, self.key, upload_id)
            held = [upload.parts.get(p.number) for p in parts]
            if any(h is None or h[0].etag.strip('"') != p.plain_etag for h, p in zip(held, parts, strict=True)):
                raise IntegrityError(f"s3://{self.bucket}/{self.key}: a part named in the completion is not held (InvalidPart)")
            data = b"".join(h[1] for h in held if h is not None)
            if crc64nvme_b64 and part_checksum(CRC64NVME, data) != crc64nvme_b64:
                raise IntegrityError(f"s3://{self.bucket}/{self.key}: the parts do not make the CRC64NVME sent (BadDigest)")
            combined = hashlib.md5(b"".join(bytes.fromhex(p.plain_etag) for p in parts), usedforsecurity=False)
            etag = f"{combined.hexdigest()}-{len(parts)}"
            del self.storage.uploads[upload_id]
            self.storage.requests.append(("COMPLETE", self.bucket, self.key))
        sizes = tuple(len(h[1]) for h in held if h is not None)
        self.storage._store(upload.request, StoredObject(data, upload.request, etag, datetime.now(UTC), parts=sizes))
        return etag

    def abort(self, upload_id: str) -> None:
        with self.storage._lock:
            self.storage.uploads.pop(upload_id, None)

    def list_parts(self, upload_id: str) -> dict[int, Part] | None:
        with self.storage._lock:
            found = self.storage.uploads.get(upload_id)
            return None if found is None else {n: part for n, (part, _) in found[2].parts.items()}

    def open_uploads(self, *, since: datetime | None = None) -> set[str] | None:
        with self.storage._lock:
            return {uid for uid, (b, k, up) in self.storage.uploads.items()
                    if (b, k) == (self.bucket, self.key) and (since is None or up.started >= since)}  # fmt: skip


def contents(storage: MemoryStorage, bucket: str) -> Mapping[str, bytes]:
    """Every object's bytes by key (for tests)."""
    with storage._lock:
        return {key: obj.data for key, obj in storage._bucket(bucket).items()}


def _conforms() -> None:  # checked by mypy: the in-memory store implements both interfaces
    from s3safe.storage.base import BucketSettings, ObjectStore

    store: ObjectStore = MemoryStorage()
    admin: BucketSettings = MemoryStorage()
    del store, admin
