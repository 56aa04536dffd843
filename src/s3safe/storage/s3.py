"""S3 objects: listing, HEAD, ACLs, batch delete, server-side copy, multipart bookkeeping."""

from __future__ import annotations

import heapq
import itertools
import logging
import math
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar

from s3safe.core.errors import ListingError, NotFoundError, S3SafeError
from s3safe.core.models import (
    ALL_USERS_URI,
    AUTH_USERS_URI,
    LOG_DELIVERY_URI,
    AclInfo,
    ActionResult,
    BucketInfo,
    Grant,
    ObjectDetails,
    ObjectInfo,
    PrefixInfo,
)
from s3safe.storage import conditional_delete, dataplane
from s3safe.storage.base import Body, Entry, Features, PutRequest, Written
from s3safe.storage.clients import Clients
from s3safe.storage.compat import BotocoreGet, RangeGet, RangeRefused, get_range, via_obstore
from s3safe.storage.errors import UNSUPPORTED, RangeIgnored, UnsupportedError, fault_of, translate, translated
from s3safe.storage.listing_guard import MAX_EMPTY_PAGES, ListingGuard, UploadGuard, VersionGuard, checked_pages
from s3safe.storage.s3_upload import S3ChunkWriter, put_object

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

log = logging.getLogger("s3safe.s3")

DELETE_BATCH = 1000  # the DeleteObjects maximum
MAX_SINGLE_COPY = 5 * 1024**3  # CopyObject refuses sources above 5 GiB
MAX_PARTS = 10_000
MIN_PART = 5 * 1024**2
MAX_PART = 5 * 1024**3

CANNED_ACLS = (
    "private",
    "public-read",
    "public-read-write",
    "authenticated-read",
    "aws-exec-read",
    "bucket-owner-read",
    "bucket-owner-full-control",
    "log-delivery-write",
)
PUBLIC_ACLS = frozenset({"public-read", "public-read-write", "authenticated-read"})
_GROUP_NAMES = {ALL_USERS_URI: "AllUsers", AUTH_USERS_URI: "AuthenticatedUsers", LOG_DELIVERY_URI: "LogDelivery"}
LOCKED = "protected by Object Lock"  # begins every refusal to delete a locked version
# what a page of any listing s3safe pages through can hold: a page with none of them is empty
T = TypeVar("T")
_LISTED = ("Contents", "CommonPrefixes", "Versions", "DeleteMarkers", "Uploads")
# keys per obstore batch: a batch comes back once this many keys arrived, however many pages that took, so
# between two batches at most this many pages held a key (S3 pages hold up to 1,000)
_OBSTORE_BATCH = 100


class _RequestWatch:
    """Counts an obstore listing's requests since its last batch of keys; raises past `limit`, which obstore
    turns into a failed listing (the botocore listing that takes over counts the empty pages exactly)."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.since_batch = 0
        self.tripped: str | None = None

    def request(self) -> None:  # called by obstore's worker thread, before each request
        self.since_batch += 1
        if self.since_batch > self.limit:
            self.tripped = f"{self.since_batch - 1} requests without a batch of {_OBSTORE_BATCH} keys"
            raise RuntimeError(self.tripped)

    def batches(self, batches: Iterator[T]) -> Iterator[T]:
        for batch in batches:
            self.since_batch = 0
            yield batch


def version_url(bucket: str, key: str, version: str | None) -> str:
    """s3:// URL of one version; "null" is the version id of objects written while unversioned."""
    return f"s3://{bucket}/{key}" + (f"?versionId={version}" if version and version != "null" else "")


def part_size_for(size: int, *, minimum: int = MIN_PART) -> int:
    """A part size that keeps `size` under the 10,000-part limit, rounded up to whole MiB."""
    needed = math.ceil(size / MAX_PARTS) if size else minimum
    size_mib = math.ceil(max(minimum, needed) / 1024**2)
    return size_mib * 1024**2


def uniform_layout(size: int, *, count: int, first: int) -> tuple[int, ...] | None:
    """The part sizes when every part but the last has the first part's size (what most tools do)."""
    if count < 1 or first <= 0 or not first * (count - 1) < size <= first * count:
        return None
    return (*([first] * (count - 1)), size - first * (count - 1))


@dataclass(frozen=True, slots=True)
class UploadInfo:
    bucket: str
    key: str
    upload_id: str
    initiated: datetime | None
    storage_class: str | None

    def to_dict(self) -> dict[str, object]:
        return {
            "type": "upload",
            "url": f"s3://{self.bucket}/{self.key}",
            "bucket": self.bucket,
            "key": self.key,
            "upload_id": self.upload_id,
            "initiated": self.initiated.isoformat() if self.initiated else None,
            "storage_class": self.storage_class,
        }


def _acl_from_response(response: dict[str, Any]) -> AclInfo:
    owner = response.get("Owner", {}).get("ID")
    grants = []
    for grant in response.get("Grants", []):
        grantee = grant.get("Grantee", {})
        kind = grantee.get("Type", "")
        if kind == "Group":
            name = _GROUP_NAMES.get(grantee.get("URI", ""), grantee.get("URI", "group"))
        else:
            name = grantee.get("ID") or grantee.get("EmailAddress") or grantee.get("DisplayName") or "?"
        grants.append(Grant(grantee=name, grantee_type=kind, permission=grant.get("Permission", "")))
    return AclInfo(owner=owner, grants=tuple(grants))


def _bare_server_error(exc: Any) -> bool:
    """An HTTP 5xx whose body named no S3 error code (botocore then puts the status in its place)."""
    fault = fault_of(exc)
    return fault.status is not None and fault.status >= 500 and fault.code in ("", str(fault.status))


def _entry_sort_key(entry: Entry) -> bytes:
    return (entry.key if isinstance(entry, ObjectInfo) else entry.prefix).encode("utf-8", "surrogateescape")


_NO_TIME = datetime.min.replace(tzinfo=UTC)
_ORDER_HOOK = "s3safe-version-order"
_ORDER_FIELD = "S3SafeVersionOrder"
_VERSION_TAGS = re.compile(rb"<(Version|DeleteMarker)>")


def _keep_version_order(http_response: Any, parsed: dict[str, Any] | None, **_: Any) -> None:
    """botocore hook: note in which order a ListObjectVersions answer had its versions ("V") and delete
    markers ("D"), which its parser splits into two lists."""
    if parsed is None or getattr(http_response, "status_code", 0) != 200:
        return
    body = getattr(http_response, "content", b"") or b""
    parsed[_ORDER_FIELD] = "".join("D" if m.group(1) == b"DeleteMarker" else "V" for m in _VERSION_TAGS.finditer(body))


def _in_order(first: ObjectInfo, then: ObjectInfo) -> bool:
    """Could `then` follow `first` in S3's order (by key; a key's latest first, then newest first)?"""
    a, b = first.key.encode("utf-8", "surrogateescape"), then.key.encode("utf-8", "surrogateescape")
    if a != b:
        return a < b
    if then.is_latest:
        return False
    return first.is_latest or then.last_modified is None or first.last_modified is None or then.last_modified <= first.last_modified


def _interleave(versions: list[ObjectInfo], markers: list[ObjectInfo], *, order: str | None) -> list[ObjectInfo]:
    """Both lists of one page in the answer's own order (S3 lists each key's versions and delete markers
    together, newest first); when that order is unknown or not by key (moto lists all versions, then all
    markers), by key, the latest first, then newest first, a version before a delete marker of the same second."""
    if order is not None and (order.count("V"), order.count("D")) == (len(versions), len(markers)):
        streams = {"V": iter(versions), "D": iter(markers)}
        merged = [next(streams[kind]) for kind in order]
        if all(_in_order(a, b) for a, b in itertools.pairwise(merged)):
            return merged

    def newest_first(item: ObjectInfo) -> tuple[bytes, bool, float]:
        return item.key.encode("utf-8", "surrogateescape"), not item.is_latest, -(item.last_modified or _NO_TIME).timestamp()

    return sorted([*versions, *markers], key=newest_first)  # stable: versions stay before markers on a tie


def _version_info(bucket: str, item: dict[str, Any], *, marker: bool) -> ObjectInfo:
    return ObjectInfo(
        bucket=bucket,
        key=item["Key"],
        size=item.get("Size", 0),
        last_modified=item.get("LastModified"),
        etag=item.get("ETag", "").strip('"') or None,
        storage_class=item.get("StorageClass"),
        version_id=item.get("VersionId"),
        is_latest=bool(item.get("IsLatest", False)),
        is_delete_marker=marker,
    )


# md5_etag: with SSE-S3 or none (an upload plan knows which encryption a bucket applies)
_FEATURES = Features(server_side_copy=True, acls=True, versions=True, server_side_encryption=True,
                     supports_range=True, md5_etag=True, checksums=False, multipart=True)  # fmt: skip
# AWS S3 refuses a body that does not match the checksum sent (BadDigest), though obstore's answer does not show
# it; an S3-compatible store may ignore it (moto and rclone do), so there only its answer counts
_AWS_FEATURES = replace(_FEATURES, checksums=True)


MAX_BUCKETS = 1_000_000  # AWS's highest quota of general purpose buckets per account


class S3Storage:
    features = _FEATURES

    def __init__(self, conn: Clients) -> None:
        self.conn = conn
        if not conn.settings.is_custom_endpoint:
            self.features = _AWS_FEATURES

    def client(self, bucket: str) -> S3Client:
        return self.conn.client_for(bucket)

    # --- listings ----------------------------------------------------------------------------------
    def list_buckets(self) -> list[BucketInfo]:
        """Every bucket, page by page: AWS hands out a ContinuationToken where one answer does not hold them all
        (an audit of the account would skip the rest). A token handed out twice, or endless empty pages, stop it."""
        guard = ListingGuard(f"buckets from {self.conn.settings.endpoint_url or 'AWS S3'}")
        found: list[BucketInfo] = []
        params: dict[str, Any] = {}
        with translated("list buckets"):
            while True:
                response = self.conn.client().list_buckets(**params)
                page = response.get("Buckets", [])
                found += [BucketInfo(name=b["Name"], created=b.get("CreationDate"), region=b.get("BucketRegion")) for b in page]
                if len(found) > MAX_BUCKETS:  # non-empty pages with ever new tokens: bounded by what S3 allows
                    raise ListingError(f"the listing of {guard.what} goes on past {MAX_BUCKETS:,} buckets, more than an "
                                       "account can hold; stopped", hint="this is a server bug: report it to the server's maintainers")  # fmt: skip
                token = response.get("ContinuationToken")
                guard.page(empty=not page, truncated=bool(token))
                if not token:
                    return found
                guard.token(token)
                params["ContinuationToken"] = token

    def listing_guard(self, bucket: str, prefix: str) -> ListingGuard:
        """A guard naming this listing and the server that gives it."""
        server = self.conn.settings.endpoint_url or "AWS S3"
        return ListingGuard(f"s3://{bucket}/{prefix} from {server}", base=f"s3://{bucket}/")

    def _pages(self, operation: str, bucket: str, params: dict[str, Any], guard: ListingGuard, *, tokens: tuple[str, ...]) -> Iterator[dict[str, Any]]:
        """botocore's pages of one listing; a token handed out twice (not only twice in a row), or
        MAX_EMPTY_PAGES empty truncated pages in a row, stop it."""
        paginator = self.client(bucket).get_paginator(operation)  # type: ignore[call-overload]
        yield from checked_pages(paginator.paginate(**params), guard, tokens=tokens, listed=_LISTED)

    def iter_entries(self, container: str, prefix: str, *, recursive: bool, start_after: str | None = None) -> Iterator[Entry]:
        """Stream a listing page by page, in strictly increasing key order (checked); never holds more than one page."""
        params: dict[str, Any] = {"Bucket": container, "Prefix": prefix}
        if not recursive:
            params["Delimiter"] = "/"
        if start_after:
            params["StartAfter"] = start_after
        guard = self.listing_guard(container, prefix)
        with translated("list", bucket=container, key=prefix or None):
            for page in self._pages("list_objects_v2", container, params, guard, tokens=("NextContinuationToken",)):
                for entry in self._page_entries(container, page, guard):
                    guard.key(entry.key if isinstance(entry, ObjectInfo) else entry.prefix)
                    yield entry

    def iter_objects_fast(self, bucket: str, prefix: str) -> Iterator[ObjectInfo]:
        """Every object under `prefix` (which ends with '/', or is empty), in key order, through obstore.

        obstore refuses keys that are not clean paths ('..', '//', control characters) and strips a trailing
        '/' (so an empty object may be a folder marker in disguise); at the first such key, the first empty
        object, or any other obstore error, the listing continues through botocore right after
        the last key already yielded, so every key is still seen exactly once. Storage class is not known.
        Keys are checked to increase strictly: obstore's tokens cannot be seen, and a server that hands back
        a used continuation token makes it list the same keys again, which the check stops. Its requests
        can be counted (Connection.listing_store): MAX_EMPTY_PAGES more requests than a batch of keys could
        need, with no batch, is a server sending empty pages (perhaps forever), and botocore, which sees
        the pages, continues (an asyncio watchdog was tried before and removed: the process aborted at exit
        now and then).
        """
        if prefix and not prefix.endswith("/"):
            yield from (e for e in self.iter_entries(bucket, prefix, recursive=True) if isinstance(e, ObjectInfo))
            return
        guard = self.listing_guard(bucket, prefix)
        last: str | None = None
        watch = _RequestWatch(_OBSTORE_BATCH + MAX_EMPTY_PAGES)
        try:
            store = self.conn.listing_store(bucket, before_each_request=watch.request)
            batches = dataplane.list_objects(store, bucket=bucket, prefix=prefix.rstrip("/") or None, chunk_size=_OBSTORE_BATCH)
            for meta in itertools.chain.from_iterable(watch.batches(self._paged(batches))):
                key = meta["path"]
                if meta["size"] == 0:
                    # obstore strips a trailing '/': a folder marker ("reports/sub/") would come back as the
                    # empty file "reports/sub", content that is not there; botocore keeps the key whole
                    break
                guard.key(key)
                etag = (meta.get("e_tag") or "").strip('"') or None
                yield ObjectInfo(bucket=bucket, key=key, size=meta["size"], last_modified=meta["last_modified"], etag=etag)
                last = key
            else:
                if last is not None:
                    self._check_ended(store, bucket, prefix, guard, last=last)
                    return
                # nothing listed: an empty prefix, or an answer obstore reads as one (a captive portal's HTML
                # page does); botocore's listing, whose answers storage.answers checks, says which (one
                # request more for an empty prefix)
        except ListingError:
            raise
        except Exception as exc:  # any failure: botocore takes over, and reports the real errors
            why = watch.tripped or exc
            log.debug("obstore listing of s3://%s/%s stopped (%s); continuing with botocore", bucket, prefix, why)
        params: dict[str, Any] = {"Bucket": bucket, "Prefix": prefix}
        if last is not None:
            params["StartAfter"] = last
        with translated("list", bucket=bucket, key=prefix or None):
            for page in self._pages("list_objects_v2", bucket, params, guard, tokens=("NextContinuationToken",)):
                for entry in self._page_entries(bucket, page, guard):
                    if isinstance(entry, ObjectInfo):
                        guard.key(entry.key)
                        yield entry

    @staticmethod
    def _check_ended(store: Any, bucket: str, prefix: str, guard: ListingGuard, *, last: str) -> None:
        """obstore ends a listing, without a word, at a page that says it is truncated but gives no continuation
        token: one request more, for the keys after the last one, tells (a complete listing has none)."""
        after = next(iter(dataplane.list_objects(store, bucket=bucket, prefix=prefix.rstrip("/") or None, chunk_size=1, offset=last)), [])
        if after:
            guard.unreachable_rest(None, field="NextContinuationToken")

    def _paged(self, batches: Iterator[Any]) -> Iterator[Any]:
        """obstore's listing batches, each fetched under a slot of the run's budget (it is a request too)."""
        while True:
            with self.conn.budget.request():
                batch = next(batches, None)
            if batch is None:
                return
            yield batch

    @staticmethod
    def _page_entries(bucket: str, page: dict[str, Any], guard: ListingGuard | None = None) -> Iterator[Entry]:
        # S3 returns objects and common prefixes as two sorted lists; merge them to keep key order.
        objects = [
            ObjectInfo(
                bucket=bucket,
                key=item["Key"],
                size=item.get("Size", 0),
                last_modified=item.get("LastModified"),
                etag=item.get("ETag", "").strip('"') or None,
                storage_class=item.get("StorageClass", "STANDARD"),
            )
            for item in page.get("Contents", [])
        ]
        prefixes = [PrefixInfo(bucket, item["Prefix"]) for item in page.get("CommonPrefixes", [])]
        # each list must already be in order: sorting them here would hide a server's disorder inside a page
        # (the guard that follows sees only the merged result)
        if guard is not None:
            for check, items in ((ListingGuard(guard.what, base=guard.base, hint=guard.hint), [o.key for o in objects]),
                                 (ListingGuard(guard.what, base=guard.base, hint=guard.hint), [p.prefix for p in prefixes])):  # fmt: skip
                for key in items:
                    check.key(key)
        entries: tuple[list[Entry], list[Entry]] = (list(objects), list(prefixes))
        yield from heapq.merge(*entries, key=_entry_sort_key)

    def iter_versions(self, bucket: str, prefix: str) -> Iterator[ObjectInfo]:
        """Every version and delete marker under `prefix` (a raw key prefix), in key order, each key's newest first."""
        for entry in self.iter_version_entries(bucket, prefix, recursive=True):
            if isinstance(entry, ObjectInfo):
                yield entry

    def iter_version_entries(self, bucket: str, prefix: str, *, recursive: bool) -> Iterator[Entry]:
        """Stream a version listing page by page: keys in strictly increasing order, each key's versions
        together and newest first, each once (checked, as for keys: a restore picks versions by that order).
        With `recursive=False`, keys below the next '/' fold into PrefixInfo entries."""
        guard = self.listing_guard(bucket, prefix)
        order = VersionGuard(guard.what, base=guard.base)
        params: dict[str, Any] = {"Bucket": bucket, "Prefix": prefix}
        if not recursive:
            params["Delimiter"] = "/"
        # the same handler under the same id is registered once per client, however many listings run
        self.client(bucket).meta.events.register("after-call.s3.ListObjectVersions", _keep_version_order, unique_id=_ORDER_HOOK)
        with translated("list versions of", bucket=bucket, key=prefix or None):
            for page in self._pages("list_object_versions", bucket, params, guard, tokens=("NextKeyMarker", "NextVersionIdMarker")):
                for entry in self._version_page(bucket, page, guard):
                    if isinstance(entry, ObjectInfo):
                        order.version(entry.key, entry.version_id, latest=bool(entry.is_latest))
                    yield entry

    @staticmethod
    def _version_page(bucket: str, page: dict[str, Any], guard: ListingGuard) -> Iterator[Entry]:
        # botocore parses versions and delete markers into two lists, each in S3's order; each is checked on
        # its own, then they are put back in the answer's order (recorded by _keep_version_order): times
        # cannot order them, as a version and a delete marker of one key often share a second.
        lists: list[list[ObjectInfo]] = []
        for name, marker in (("Versions", False), ("DeleteMarkers", True)):
            check = VersionGuard(guard.what, base=guard.base, hint=guard.hint)
            items = [_version_info(bucket, dict(item), marker=marker) for item in page.get(name, [])]
            for item in items:
                check.version(item.key, item.version_id, latest=bool(item.is_latest))
            lists.append(items)
        prefixes = [PrefixInfo(bucket, item["Prefix"]) for item in page.get("CommonPrefixes", [])]
        prefix_check = ListingGuard(guard.what, base=guard.base, hint=guard.hint)
        for folder in prefixes:
            prefix_check.key(folder.prefix)
        versions = _interleave(lists[0], lists[1], order=page.get(_ORDER_FIELD))
        entries: tuple[list[Entry], list[Entry]] = (list(versions), list(prefixes))
        yield from heapq.merge(*entries, key=_entry_sort_key)

    # --- single objects ----------------------------------------------------------------------------
    def head(self, bucket: str, key: str, *, version_id: str | None = None, if_match: str | None = None) -> ObjectDetails:
        """`if_match`: of the version with that ETag only (else an error)."""
        params: dict[str, Any] = {"Bucket": bucket, "Key": key, "ChecksumMode": "ENABLED"}
        if version_id:
            params["VersionId"] = version_id
        if if_match:
            params["IfMatch"] = f'"{if_match.strip(chr(34))}"'
        shown = key if not version_id else f"{key}?versionId={version_id}"
        with translated("read metadata of", bucket=bucket, key=shown):
            r = self._head_version(bucket, params, shown=shown)
        checksums = {
            name[len("Checksum"):].lower(): r[name]
            for name in ("ChecksumSHA256", "ChecksumSHA1", "ChecksumCRC32", "ChecksumCRC32C", "ChecksumCRC64NVME")
            if r.get(name)
        }
        return ObjectDetails(
            bucket=bucket,
            key=key,
            size=r.get("ContentLength", 0),
            last_modified=r.get("LastModified"),
            etag=(r.get("ETag") or "").strip('"') or None,
            content_type=r.get("ContentType"),
            cache_control=r.get("CacheControl"),
            storage_class=r.get("StorageClass", "STANDARD"),
            sse_algorithm=r.get("ServerSideEncryption") or ("SSE-C" if r.get("SSECustomerAlgorithm") else None),
            sse_kms_key_id=r.get("SSEKMSKeyId"),
            # names are case-insensitive; some servers (rclone serve s3) capitalise them: lower-case, as AWS returns them
            metadata={name.lower(): value for name, value in r.get("Metadata", {}).items()},
            version_id=r.get("VersionId"),
            checksums=checksums,
            checksum_type=r.get("ChecksumType"),
            lock_mode=r.get("ObjectLockMode"),
            retain_until=r.get("ObjectLockRetainUntilDate"),
            legal_hold=None if "ObjectLockLegalHoldStatus" not in r else r.get("ObjectLockLegalHoldStatus") == "ON",
        )

    def apply_lock(self, bucket: str, key: str, *, version_id: str | None, mode: str | None, until: datetime | None,
                   legal_hold: bool) -> None:  # fmt: skip
        """Give one version the Object Lock settings it was meant to be written with, where it lacks them (a
        server may ignore the headers of CreateMultipartUpload: moto does)."""
        details = self.head(bucket, key, version_id=version_id)
        params: dict[str, Any] = {"Bucket": bucket, "Key": key, "ChecksumAlgorithm": "SHA256"}
        if version_id:
            params["VersionId"] = version_id
        client = self.client(bucket)
        if until is not None and (details.retain_until is None or details.retain_until < until):
            with translated("set the retention of", bucket=bucket, key=key):
                retention: dict[str, Any] = {"Mode": mode or "GOVERNANCE", "RetainUntilDate": until}
                client.put_object_retention(Retention=retention, **params)  # type: ignore[arg-type]
        if legal_hold and not details.legal_hold:
            with translated("set the legal hold of", bucket=bucket, key=key):
                client.put_object_legal_hold(LegalHold={"Status": "ON"}, **params)

    def lock_refusal(self, bucket: str, key: str, version_id: str | None) -> str | None:
        """Why Object Lock keeps this version from being deleted (naming the retention date), or None."""
        try:
            details = self.head(bucket, key, version_id=version_id)
        except S3SafeError:
            return None
        reasons = []
        if (until := details.locked_until) is not None:
            reasons.append(f"its {details.lock_mode or 'Object Lock'} retention runs until {until.astimezone(UTC).isoformat(timespec='seconds')}")
        if details.legal_hold:
            reasons.append("a legal hold is on")
        if not reasons:
            return None
        if details.legal_hold:
            until_when = "until the legal hold is removed" + (" and the retention has run out" if len(reasons) > 1 else "")
            return f"{LOCKED}: {' and '.join(reasons)}; it cannot be deleted {until_when}"
        return f"{LOCKED}: {' and '.join(reasons)}; it cannot be deleted before then"

    def _head_version(self, bucket: str, params: dict[str, Any], *, shown: str) -> dict[str, Any]:
        import botocore.exceptions

        try:
            return dict(self.client(bucket).head_object(**params))
        except botocore.exceptions.ClientError as exc:
            # S3 answers a HEAD of a delete marker's version id with 405 (no body): there is nothing to read
            fault = fault_of(exc)
            if params.get("VersionId") and (fault.status == 405 or fault.code == "MethodNotAllowed"):
                raise NotFoundError(f"s3://{bucket}/{shown} is a delete marker: it holds no data",
                                    hint="pick an object version from 'ls --versions'") from None  # fmt: skip
            raise

    def part_sizes(self, bucket: str, key: str, *, size: int, count: int, etag: str, version_id: str | None = None) -> tuple[int, ...] | None:
        """The sizes of the `count` parts a multipart object was uploaded in; None when the server cannot say.

        Measured, never guessed: two parts are `HEAD ?partNumber=1` and the rest; with more, the parts
        GetObjectAttributes lists (objects uploaded with checksums), else one `HEAD ?partNumber=k` per part
        (at most 10,000). A guess from the first part's size would make a good copy of an object with
        unequal parts fail its multipart ETag, and leave a damaged copy of one verified by size only. All
        are asked with If-Match, so a replaced object is never measured; `version_id`: of that version.
        """
        client = self.client(bucket)
        versioned: dict[str, Any] = {"VersionId": version_id} if version_id and version_id != "null" else {}

        def part_length(number: int) -> int:
            with translated("read a part of", bucket=bucket, key=key):
                answer = client.head_object(Bucket=bucket, Key=key, PartNumber=number, IfMatch=f'"{etag}"', **versioned)
                return int(answer.get("ContentLength", 0))

        if not 1 <= count <= MAX_PARTS:
            return None
        try:
            first = part_length(1)
            if not 0 < first <= size:  # a server that ignores ?partNumber answers with the whole object
                return None
            if count <= 2:
                return (first, size - first) if count == 2 else (first,)
            listed = self._listed_part_sizes(bucket, key, count=count, etag=etag, versioned=versioned)
            sizes = listed or (first, *(part_length(n) for n in range(2, count + 1)))
        except S3SafeError as exc:
            log.debug("no part layout for s3://%s/%s: %s", bucket, key, exc)
            return None
        if sum(sizes) != size or min(sizes) <= 0:
            return None
        return sizes

    def _listed_part_sizes(self, bucket: str, key: str, *, count: int, etag: str, versioned: dict[str, Any]) -> tuple[int, ...] | None:
        """The part sizes GetObjectAttributes lists, when it lists all `count` of them (else None)."""
        try:
            with translated("read the parts of", bucket=bucket, key=key):
                attributes = self.client(bucket).get_object_attributes(
                    Bucket=bucket, Key=key, ObjectAttributes=["ObjectParts", "ETag"], MaxParts=MAX_PARTS, **versioned)  # fmt: skip
        except S3SafeError as exc:
            log.debug("no part list for s3://%s/%s: %s", bucket, key, exc)
            return None
        parts = attributes.get("ObjectParts", {})
        sizes = tuple(int(p.get("Size", 0)) for p in sorted(parts.get("Parts", []), key=lambda p: p.get("PartNumber", 0)))
        # no If-Match here: the ETag it reports tells a replaced object
        if (attributes.get("ETag") or etag).strip('"') != etag.strip('"') or parts.get("IsTruncated") or len(sizes) != count:
            return None
        return sizes

    def read_chunks(self, bucket: str, key: str, *, if_match: str | None = None, chunk: int = 1024 * 1024) -> Iterator[bytes]:
        """The object's bytes as stored, streamed; `if_match`: only the version with that ETag (else an error)."""
        params: dict[str, Any] = {"Bucket": bucket, "Key": key}
        if if_match:
            params["IfMatch"] = f'"{if_match}"'
        with translated("read", bucket=bucket, key=key):
            body = self.client(bucket).get_object(**params)["Body"]
            try:
                yield from body.iter_chunks(chunk)
            finally:
                body.close()

    def get(self, bucket: str, key: str, *, start: int | None = None, end: int | None = None, version_id: str | None = None,
            if_match: str | None = None) -> Any:  # fmt: skip
        """The object (or bytes [start, end) of it) through obstore; botocore for keys obstore cannot address.
        `version_id`: that version ("null" is the current one's id on an unversioned bucket); `if_match`: only the
        object with that ETag. RangeIgnored: a ranged GET answered with the whole object (obstore's "non-partial")."""
        ranged = start is not None or end is not None
        versioned = version_id if version_id and version_id != "null" else None
        sse_c = bool(self.conn.settings.sse_c_key)
        if not via_obstore(self.conn, key):
            params: dict[str, Any] = {"Bucket": bucket, "Key": key}
            if ranged:
                params["Range"] = f"bytes={start or 0}-{'' if end is None else end - 1}"
            if versioned:
                params["VersionId"] = versioned
            if if_match:
                params["IfMatch"] = f'"{if_match.strip(chr(34))}"'
            with translated("download", bucket=bucket, key=key, sse_c=sse_c):
                return BotocoreGet(self.client(bucket).get_object(**params))
        if ranged and end is not None and (self.conn.ignores_range is None or self.conn.ranges_via_botocore):
            # the run's first range (its probe), or every range of an endpoint that answers them with 200
            return self._range_botocore(bucket, key, start=start or 0, end=end, version_id=versioned, if_match=if_match)
        options: dict[str, Any] = {}
        if ranged:
            options["range"] = (start or 0, end) if end is not None else {"offset": start or 0}
        if versioned:
            options["version"] = versioned
        if if_match:
            options["if_match"] = if_match
        with translated("download", bucket=bucket, key=key, sse_c=sse_c):
            try:
                return dataplane.get(self.conn.store(bucket), key, bucket=bucket, options=options or None)
            except Exception as exc:
                if not (ranged and end is not None and "non-partial" in str(exc).lower()):
                    raise
        # obstore refuses any answer to a Range but 206: botocore sees the status, and the bytes answered
        assert end is not None  # only a ranged GET with an end gets here
        return self._range_botocore(bucket, key, start=start or 0, end=end, version_id=versioned, if_match=if_match)

    def _range_botocore(self, bucket: str, key: str, *, start: int, end: int, version_id: str | None,
                        if_match: str | None) -> RangeGet:  # fmt: skip
        """A ranged GET through botocore (compat.get_range), which sees the answer's status: `rclone serve s3`
        answers a Range with status 200 and exactly the bytes asked for (obstore refuses that as "non-partial"),
        remembered so that the run's further ranges come this way. RangeIgnored when the answer is anything else
        (the whole object): the caller streams instead."""
        try:
            body = get_range(self.conn, bucket, key, start=start, end=end, total=None, if_match=if_match, version_id=version_id)
        except RangeRefused as exc:
            log.debug("s3://%s/%s: %s", bucket, key, exc)
            raise RangeIgnored(f"s3://{bucket}/{key}: the server answered a ranged GET with the whole object") from None
        if not body.partial:
            self.conn.ranges_via_botocore = True  # for the rest of the run: obstore would refuse each such answer
        return body

    def put(self, request: PutRequest, body: Body, *, sha256_b64: str) -> Written:
        written = put_object(self.conn, request, body, sha256_b64=sha256_b64)
        return replace(written, checksum_checked=True) if self.features.checksums else written

    def chunk_writer(self, bucket: str, key: str) -> S3ChunkWriter:
        return S3ChunkWriter(self.conn, bucket, key)

    def tags(self, bucket: str, key: str, *, version_id: str | None = None) -> dict[str, str]:
        params: dict[str, Any] = {"Bucket": bucket, "Key": key}
        if version_id:
            params["VersionId"] = version_id
        with translated("read the tags of", bucket=bucket, key=key):
            response = self.client(bucket).get_object_tagging(**params)
        return {t["Key"]: t["Value"] for t in response.get("TagSet", [])}

    def current_etag(self, bucket: str, key: str) -> str | None:
        """The ETag of the object at `key` now (unquoted), None when there is none: one HEAD, through obstore
        where it can address the key (the check before each write on a server without conditional writes)."""
        if not via_obstore(self.conn, key):
            try:
                return self.head(bucket, key).etag
            except NotFoundError:
                return None
        import obstore.exceptions

        with translated("read metadata of", bucket=bucket, key=key):
            try:
                meta = dataplane.head(self.conn.store(bucket), key, bucket=bucket)
            except (FileNotFoundError, obstore.exceptions.NotFoundError):  # obstore's 404 is a FileNotFoundError
                # the expected answer for a new key, taken as it comes: through translate() it cost ~250 µs CPU
                return None
        return (meta.get("e_tag") or "").strip('"') or None

    def exists(self, bucket: str, key: str) -> bool:
        try:
            self.head(bucket, key)
        except NotFoundError:
            return False
        return True

    def get_acl(self, bucket: str, key: str | None = None, *, version_id: str | None = None) -> AclInfo:
        """The ACL of the bucket, of an object, or (`version_id`) of one version of it."""
        import botocore.exceptions

        with translated("read the ACL of", bucket=bucket, key=key):
            client = self.client(bucket)
            versioned: dict[str, Any] = {"VersionId": version_id} if key and version_id else {}
            try:
                response = client.get_object_acl(Bucket=bucket, Key=key, **versioned) if key else client.get_bucket_acl(Bucket=bucket)
            except botocore.exceptions.ClientError as exc:
                if _bare_server_error(exc):
                    # rclone serve s3 answers GET ?acl on an object with a plain 500, every time (after
                    # botocore's retries): no S3 error document, so no S3 implementation of ACLs behind it
                    raise UnsupportedError(f"cannot read the ACL of s3://{bucket}/{key or ''}: {UNSUPPORTED}") from None
                raise
        return _acl_from_response(dict(response))

    def put_acl(self, bucket: str, key: str | None, canned: str) -> None:
        with translated("set the ACL of", bucket=bucket, key=key):
            client = self.client(bucket)
            if key:
                client.put_object_acl(Bucket=bucket, Key=key, ACL=canned)  # type: ignore[arg-type]
            else:
                client.put_bucket_acl(Bucket=bucket, ACL=canned)  # type: ignore[arg-type]

    def put_empty(self, bucket: str, key: str, *, extra: dict[str, Any]) -> None:
        with translated("create", bucket=bucket, key=key):
            self.client(bucket).put_object(Bucket=bucket, Key=key, Body=b"", ChecksumAlgorithm="SHA256", **extra)

    # --- deletes -----------------------------------------------------------------------------------
    def delete_batch(
        self, bucket: str, items: Sequence[tuple[str, str | None]], *, etags: Mapping[str, str] | None = None
    ) -> list[ActionResult]:
        """Delete up to 1,000 (key, version) pairs in one request; one result per item. `etags`: {key: ETag as
        listed}: such a key (no version given) is deleted only while it is still that object (conditional_delete)."""
        if not items:
            return []
        held: list[ActionResult] = []
        if etags:
            items, held, etags = conditional_delete.prepare(self, bucket, items, etags)
        if not items:
            return held
        sent = etags or {}
        objects: list[dict[str, str]] = []
        for key, version in items:
            entry = {"Key": key}
            if version:
                entry["VersionId"] = version
            elif key in sent:
                entry["ETag"] = conditional_delete.quoted(sent[key])
            objects.append(entry)
        with translated("delete objects in", bucket=bucket):
            response = self.client(bucket).delete_objects(Bucket=bucket, Delete={"Objects": objects, "Quiet": True})  # type: ignore[typeddict-item]
        failed = {(e.get("Key"), e.get("VersionId")): f"{e.get('Code')}: {e.get('Message')}" for e in response.get("Errors", [])}
        results = held
        for key, version in items:
            target = version_url(bucket, key, version)
            exact = failed.get((key, version))
            error = exact or failed.get((key, None))
            if error is not None and version and exact is None and self._version_gone(bucket, key, version):
                error = None  # the error named no version (moto's reply): another version of the key failed, this one is gone
            if error is not None and version and error.startswith("AccessDenied"):
                # S3 refuses a locked version with a bare AccessDenied: say which lock, and until when
                error = self.lock_refusal(bucket, key, version) or error
            error, detail = conditional_delete.outcome(error, bucket=bucket, key=key, etag=None if version else sent.get(key))
            results.append(ActionResult("delete", target, ok=error is None, error=error, detail=detail))
        return results

    def _version_gone(self, bucket: str, key: str, version: str) -> bool:
        try:
            self.head(bucket, key, version_id=version)
        except NotFoundError:
            return True
        except S3SafeError:
            return False
        return False

    # --- server-side copy --------------------------------------------------------------------------
    def copy(
        self,
        src_bucket: str,
        src_key: str,
        dst_bucket: str,
        dst_key: str,
        *,
        size: int,
        extra: dict[str, Any],
        threads: int,
        multipart_threshold: int = MAX_SINGLE_COPY,
        src_version: str | None = None,
    ) -> None:
        """Copy server-side; sources above the threshold go through UploadPartCopy in parallel.
        `src_version`: copy that version of the source (on a versioned bucket, onto its own key too)."""
        source = {"Bucket": src_bucket, "Key": src_key}
        if src_version and src_version != "null":
            source["VersionId"] = src_version
        client = self.client(dst_bucket)
        if size <= multipart_threshold:
            with translated("copy", bucket=src_bucket, key=src_key):
                client.copy_object(Bucket=dst_bucket, Key=dst_key, CopySource=source, **extra)  # type: ignore[arg-type]
            return
        self._multipart_copy(source, dst_bucket, dst_key, size=size, extra=extra, threads=threads)

    def _multipart_copy(
        self, source: dict[str, str], bucket: str, key: str, *, size: int, extra: dict[str, Any], threads: int
    ) -> None:
        client = self.client(bucket)
        create_args = {k: v for k, v in extra.items() if k not in ("MetadataDirective", "TaggingDirective", "CopySourceSSECustomerKey", "CopySourceSSECustomerAlgorithm")}
        with translated("start a multipart copy to", bucket=bucket, key=key):
            upload_id = client.create_multipart_upload(Bucket=bucket, Key=key, **create_args)["UploadId"]
        # The upload exists from here on: abort it on any failure so no hidden parts are billed.
        try:
            part_size = part_size_for(size, minimum=max(MIN_PART, 64 * 1024**2) if size > MAX_SINGLE_COPY else MIN_PART)
            ranges = [(n + 1, start, min(start + part_size, size) - 1) for n, start in enumerate(range(0, size, part_size))]

            def copy_part(part: tuple[int, int, int]) -> dict[str, Any]:
                number, first, last = part
                with translated("copy a part to", bucket=bucket, key=key):
                    r = client.upload_part_copy(
                        Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=number,
                        CopySource=source, CopySourceRange=f"bytes={first}-{last}",  # type: ignore[arg-type]
                    )  # fmt: skip
                return {"PartNumber": number, "ETag": r["CopyPartResult"]["ETag"]}

            # on the run's part pool: the copies share -t with every other request of the run
            parts = list(self.conn.budget.map_parts(copy_part, ranges))
            with translated("complete the multipart copy to", bucket=bucket, key=key):
                client.complete_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id, MultipartUpload={"Parts": parts})  # type: ignore[typeddict-item]
        except BaseException:
            try:
                client.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id)
            except Exception as exc:  # the original failure matters more; say what is left behind
                log.warning("could not abort multipart upload %s on s3://%s/%s: %s", upload_id, bucket, key, translate(exc, action="abort"))
            raise

    # --- multipart bookkeeping ---------------------------------------------------------------------
    def iter_uploads(self, bucket: str, prefix: str = "") -> Iterator[UploadInfo]:
        server = self.conn.settings.endpoint_url or "AWS S3"
        order = UploadGuard(f"multipart uploads in s3://{bucket}/{prefix} from {server}", base=f"s3://{bucket}/",
                            hint="nothing was aborted; S3 lists each upload once, by key: report this to the server's maintainers")  # fmt: skip
        params: dict[str, Any] = {"Bucket": bucket, "Prefix": prefix}
        import botocore.exceptions

        pages = self._pages("list_multipart_uploads", bucket, params, order.pages, tokens=("NextKeyMarker", "NextUploadIdMarker"))
        with translated("list multipart uploads in", bucket=bucket):
            try:
                for page in pages:
                    for u in page.get("Uploads", []):
                        order.upload(u["Key"], u["UploadId"])
                        yield UploadInfo(bucket, u["Key"], u["UploadId"], u.get("Initiated"), u.get("StorageClass"))
            except botocore.exceptions.ClientError as exc:
                # rclone serve s3 answers the listing of a bucket with no uploads with NoSuchUpload (404):
                # there is nothing to list, and the bucket's existence was not in question
                if fault_of(exc).code != "NoSuchUpload":
                    raise

    def abort_upload(self, upload: UploadInfo) -> ActionResult:
        target = f"s3://{upload.bucket}/{upload.key}?uploadId={upload.upload_id}"
        try:
            with translated("abort the multipart upload of", bucket=upload.bucket, key=upload.key):
                self.client(upload.bucket).abort_multipart_upload(Bucket=upload.bucket, Key=upload.key, UploadId=upload.upload_id)
        except S3SafeError as exc:
            return ActionResult("abort-upload", target, ok=False, error=str(exc))
        return ActionResult("abort-upload", target)

    def restore(self, bucket: str, key: str, *, days: int, tier: str) -> ActionResult:
        target = f"s3://{bucket}/{key}"
        try:
            with translated("restore", bucket=bucket, key=key):
                self.client(bucket).restore_object(
                    Bucket=bucket, Key=key, RestoreRequest={"Days": days, "GlacierJobParameters": {"Tier": tier}}  # type: ignore[typeddict-item]
                )
        except S3SafeError as exc:
            if exc.service_code == "RestoreAlreadyInProgress":
                return ActionResult("restore", target, detail="already in progress")
            return ActionResult("restore", target, ok=False, error=str(exc))
        return ActionResult("restore", target, detail=f"{days} days, {tier}")


def _conforms(conn: Clients) -> None:  # checked by mypy: S3 implements the storage interface
    from s3safe.storage.base import BucketSettings, ObjectStore
    from s3safe.storage.buckets import BucketAdmin

    store: ObjectStore = S3Storage(conn)
    admin: BucketSettings = BucketAdmin(conn)
    del store, admin
