"""The storage interface the engines are written against, with what each backend declares it can do.

Two interfaces, after rclone's backend interface: `ObjectStore` moves objects (list, head, get, put, a multipart
chunk writer, server-side copy, batch delete) and `BucketSettings` administers buckets (existence, ownership,
encryption, policy, logging, lifecycle). Implementations: S3 (storage/s3.py: boto3 control plane, obstore data
plane), the local filesystem (storage/local.py) and an in-memory store (storage/memory.py) for fast engine tests.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from s3safe.core.models import ActionResult, ObjectDetails, ObjectInfo, PrefixInfo

Entry = ObjectInfo | PrefixInfo
Body = bytes | memoryview | Path  # what a single PUT sends: bytes in memory, or a file the backend reads itself


# the name of the empty objects the once-per-run probes of conditional writes and deletes put and remove again
PROBE_PREFIX = ".s3safe-conditional-write-probe-"


@dataclass(frozen=True, slots=True)
class Features:
    """What a backend can do; callers ask instead of guessing from the class (rclone's `Features`)."""

    server_side_copy: bool
    acls: bool
    versions: bool
    server_side_encryption: bool
    supports_range: bool = True  # a ranged GET answers the range (not the whole object with 200)
    md5_etag: bool = False  # a single PUT's or a part's ETag is the MD5 of the bytes stored (SSE-S3 or none)
    checksums: bool = False  # a SHA-256 sent with a PUT is verified by the backend, even where its answer does not say so
    multipart: bool = False  # has a chunk writer (create / write part / complete / abort / list parts)
    conditional_writes: bool | None = None  # honours If-None-Match / If-Match on writes (None: probe the endpoint)


@dataclass(frozen=True, slots=True)
class Written:
    """What a single PUT's answer showed: the ETag, and whether the server checked the SHA-256 sent with it (it
    answered with that very checksum, or the backend declares it checks every one: `Features.checksums`)."""

    etag: str | None
    checksum_checked: bool = False


@dataclass(frozen=True, slots=True)
class WriteCondition:
    """What must hold at the key for a write to happen: no object there (If-None-Match: *), or the object with
    exactly this ETag (If-Match). Sent with a PUT, or with CompleteMultipartUpload (never with its create)."""

    if_none_match: bool = False
    if_match: str | None = None

    def __bool__(self) -> bool:
        return self.if_none_match or self.if_match is not None

    def boto_args(self) -> dict[str, Any]:
        """PutObject / CompleteMultipartUpload arguments."""
        if self.if_none_match:
            return {"IfNoneMatch": "*"}
        if self.if_match is not None:
            return {"IfMatch": _quoted(self.if_match)}
        return {}

    def obstore_mode(self) -> Any:
        """obstore's PutMode: "create" sends If-None-Match: *, an UpdateVersion sends If-Match."""
        if self.if_none_match:
            return "create"
        if self.if_match is not None:
            return {"e_tag": _quoted(self.if_match)}
        return None

    def holds(self, etag: str | None) -> bool:
        """Whether a write may happen over the object with `etag` (None: no object): what a backend without
        conditional requests of its own checks."""
        if self.if_none_match:
            return etag is None
        return self.if_match is None or (etag or "").strip('"') == self.if_match.strip('"')


def _quoted(etag: str) -> str:
    return f'"{etag.strip(chr(34))}"'


@dataclass(frozen=True, slots=True)
class PutRequest:
    """Everything a PUT (or a multipart upload's create) carries apart from the bytes."""

    bucket: str
    key: str
    content_type: str | None = None
    metadata: Mapping[str, str] = field(default_factory=dict)
    acl: str | None = None  # canned ACL header; None sends none (buckets with ACLs disabled refuse one)
    sse: str | None = None
    sse_kms_key_id: str | None = None
    storage_class: str | None = None
    cache_control: str | None = None
    condition: WriteCondition | None = None  # for the write itself: the PUT, or the multipart upload's completion
    retain_until: datetime | None = None  # Object Lock retention of the version written
    lock_mode: str | None = None  # GOVERNANCE or COMPLIANCE
    legal_hold: bool = False

    @property
    def object_lock(self) -> bool:
        return self.retain_until is not None or self.legal_hold

    def extra(self) -> dict[str, Any]:
        """PutObject / CreateMultipartUpload arguments for ACL, SSE, storage class, metadata and Object Lock
        (not the condition: CreateMultipartUpload takes none)."""
        extra: dict[str, Any] = {"Metadata": dict(self.metadata)}
        if self.content_type:
            extra["ContentType"] = self.content_type
        for name, value in (("ACL", self.acl), ("ServerSideEncryption", self.sse), ("SSEKMSKeyId", self.sse_kms_key_id),
                            ("StorageClass", self.storage_class), ("CacheControl", self.cache_control)):  # fmt: skip
            if value:
                extra[name] = value
        if self.retain_until is not None:
            extra["ObjectLockMode"] = self.lock_mode or "GOVERNANCE"
            extra["ObjectLockRetainUntilDate"] = self.retain_until
        if self.legal_hold:
            extra["ObjectLockLegalHoldStatus"] = "ON"
        return extra


@dataclass(frozen=True, slots=True)
class Part:
    """One part of a multipart upload, as sent or as the server lists it."""

    number: int
    etag: str  # as the server gave it (quotes kept: CompleteMultipartUpload wants it back as it was)
    sha256_b64: str | None = None
    size: int | None = None
    crc64nvme_b64: str | None = None
    verified: bool = False  # the server answered with the very checksum sent: it checked the bytes against it

    @property
    def plain_etag(self) -> str:
        return self.etag.strip('"')

    def checksum(self, algorithm: str) -> str | None:
        """The part's value of `algorithm` ("crc64nvme" or "sha256"), as sent or as the server lists it."""
        return self.crc64nvme_b64 if algorithm == CRC64NVME else self.sha256_b64


CRC64NVME = "crc64nvme"  # a multipart upload's part checksum: native (awscrt), nearly free, combinable into the whole
SHA256 = "sha256"  # the part checksum of uploads begun before CRC64NVME, and of servers that refuse it


def part_checksum(algorithm: str, data: bytes | bytearray | memoryview) -> str:
    """The base64 value of `algorithm` over `data`, as S3 encodes it in x-amz-checksum-*."""
    if algorithm == CRC64NVME:
        import awscrt.checksums  # type: ignore[import-untyped]  # the CRCs botocore uses, in C

        return base64.b64encode(awscrt.checksums.crc64nvme(data).to_bytes(8, "big")).decode()
    return base64.b64encode(hashlib.sha256(data).digest()).decode()


class ChunkWriter(Protocol):
    """The multipart upload of one key, across processes: an upload ID recorded by the caller (a journal) lets
    the next run list the parts the server holds and send only the rest."""

    bucket: str
    key: str

    def create(self, request: PutRequest, *, checksum: str = SHA256) -> str:
        """Start an upload whose every part carries a `checksum` (CRC64NVME or SHA-256); its upload ID."""
        ...

    def write_part(self, upload_id: str, number: int, data: bytes, *, sha256_b64: str | None = None,
                   crc64nvme_b64: str | None = None) -> Part:  # fmt: skip
        """Send one part with the checksum its upload was created with (exactly one of the two)."""
        ...

    def complete(self, upload_id: str, parts: Sequence[Part], *, condition: WriteCondition | None = None,
                 crc64nvme_b64: str | None = None) -> str | None:  # fmt: skip
        """Assemble the parts (only if `condition` holds at the key: else ConditionFailed); the object's ETag.
        `crc64nvme_b64`: the whole object's CRC64NVME (combined from the parts'), for the server to check."""
        ...

    def abort(self, upload_id: str) -> None:
        """End the upload and drop its parts; an upload already gone is not an error."""
        ...

    def list_parts(self, upload_id: str) -> dict[int, Part] | None:
        """The parts the server holds, by number; None when the upload is gone (completed or aborted)."""
        ...

    def open_uploads(self, *, since: datetime | None = None) -> set[str] | None:
        """IDs of the open uploads of exactly this key (begun at or after `since`); None when they cannot be listed."""
        ...


class Download(Protocol):
    """A GET answered: user metadata, object metadata, the byte range served, and the body streamed."""

    @property
    def attributes(self) -> Mapping[str, Any]: ...

    @property
    def meta(self) -> Mapping[str, Any]: ...

    @property
    def range(self) -> tuple[int, int]: ...

    def stream(self, *, min_chunk_size: int) -> Iterator[bytes | memoryview]:
        """The body in chunks; a chunk may be a view into a buffer reused for the next one (no copy per chunk),
        so it is valid only until the next is asked for: use it, or copy it, before then."""
        ...


class ObjectStore(Protocol):
    features: Features

    def iter_entries(self, container: str, prefix: str, *, recursive: bool) -> Iterator[Entry]:
        """Entries under `prefix`, streamed in ascending UTF-8 key order (checked by storage/listing_guard.py).

        With `recursive=False`, keys below the next '/' are folded into PrefixInfo entries.
        """
        ...

    def iter_objects_fast(self, bucket: str, prefix: str) -> Iterator[ObjectInfo]:
        """Every object under `prefix`, in key order, by the cheapest listing (storage class may be unknown)."""
        ...

    def head(self, bucket: str, key: str, *, version_id: str | None = None, if_match: str | None = None) -> ObjectDetails: ...

    def part_sizes(self, bucket: str, key: str, *, size: int, count: int, etag: str,
                   version_id: str | None = None) -> tuple[int, ...] | None:  # fmt: skip
        """The sizes of the `count` parts a multipart object was uploaded in; None when the backend cannot say."""
        ...

    def get(self, bucket: str, key: str, *, start: int | None = None, end: int | None = None, version_id: str | None = None,
            if_match: str | None = None) -> Download:  # fmt: skip
        """The object (`version_id`: that version of it), or the bytes [start, end) of it, streamed. `if_match`:
        only the object with that ETag (else ConditionFailed). A ranged GET the backend answers with the whole
        object raises storage.errors.RangeIgnored (the caller streams instead)."""
        ...

    def read_chunks(self, bucket: str, key: str, *, if_match: str | None = None, chunk: int = 1024 * 1024) -> Iterator[bytes]:
        """The whole object's bytes, streamed; `if_match`: only the version with that ETag (else an error)."""
        ...

    def put(self, request: PutRequest, body: Body, *, sha256_b64: str) -> Written:
        """One PUT carrying its SHA-256 (only if `request.condition` holds: else ConditionFailed): the ETag it
        answers, and whether the server showed it checked that SHA-256."""
        ...

    def chunk_writer(self, bucket: str, key: str) -> ChunkWriter: ...

    def copy(self, src_bucket: str, src_key: str, dst_bucket: str, dst_key: str, *, size: int, extra: dict[str, Any],
             threads: int) -> None: ...  # fmt: skip

    def delete_batch(
        self, bucket: str, items: Sequence[tuple[str, str | None]], *, etags: Mapping[str, str] | None = None
    ) -> list[ActionResult]:
        """Delete up to 1,000 (key, version) pairs; one result per item. Callers go through core/safety.py first.
        `etags`: {key: ETag as listed}: such a key is deleted only while it is still that object, else its result
        is a conflict (another writer's newer object is kept)."""
        ...


@runtime_checkable
class VersionListing(Protocol):
    """A store that keeps versions (Features.versions) and lists them: what a point-in-time restore reads."""

    def iter_versions(self, bucket: str, prefix: str) -> Iterator[ObjectInfo]:
        """Every version and delete marker under `prefix`, keys in order, each key's versions newest first."""
        ...


class BucketSettings(Protocol):
    """Bucket administration, apart from object I/O: what storage/buckets.py's BucketAdmin does on S3."""

    def exists(self, bucket: str) -> None:
        """Raise NotFoundError / AccessDeniedError unless the bucket is there and reachable."""
        ...

    def object_ownership(self, bucket: str) -> str | None: ...

    def default_encryption(self, bucket: str) -> str | None: ...

    def blocked_encryption_types(self, bucket: str) -> set[str]: ...

    def object_lock_enabled(self, bucket: str) -> bool | None:
        """Whether Object Lock is on for the bucket; None when it cannot be read."""
        ...

    def policy(self, bucket: str) -> str | None:
        """The bucket policy document (JSON text), None when there is none."""
        ...

    def put_policy(self, bucket: str, document: str) -> None: ...

    def logging(self, bucket: str) -> dict[str, Any]:
        """The LoggingEnabled configuration, empty when logging is off."""
        ...

    def lifecycle_rules(self, bucket: str) -> list[dict[str, Any]]: ...


Storage = ObjectStore  # the name this interface had before it grew beyond listing
