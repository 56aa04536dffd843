"""`--only-diff`: content comparison that stays cheap on the common (unchanged) path.

Order of evidence: size; the verified-state cache (size + mtime + ETag unchanged since a verified
match); the MD5 of a plain ETag; the whole-file SHA-256 s3safe stores in metadata (one HEAD); for objects
other tools wrote, the server's own checksums (CRC64NVME, CRC32, CRC32C, SHA-1/256, full-object or
composite) and the multipart ETag, recomputed over the file for the object's part layout.
The metadata is s3safe's own claim, written before the bytes went out: it never outvotes an ETag that is
the server's MD5 of what it stored (SSE-S3 or none) and contradicts the file, nor a cache record that the
object with this ETag failed verification when it was uploaded.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Future
from dataclasses import replace
from pathlib import Path

from s3safe.core.concurrency import Budget
from s3safe.core.errors import S3SafeError
from s3safe.core.models import ObjectDetails, ObjectInfo
from s3safe.storage import requestlog
from s3safe.storage.base import ObjectStore
from s3safe.storage.s3 import part_size_for, uniform_layout
from s3safe.transfer import planner
from s3safe.transfer.checksums import EvidenceCheck, ServerEvidence, evidence_of, multipart_count, server_evidence
from s3safe.transfer.encryption import DIGEST_META, ENCRYPTION_META, PLAIN_SIZE_META
from s3safe.transfer.localdest import stored_mtime
from s3safe.transfer.options import MTIME_META, SHA256_META
from s3safe.transfer.state import StateCache, Verified

log = logging.getLogger("s3safe.transfer")

CHUNK = 1024 * 1024
PENDING = "to be compared"  # quick(): the verdict needs the file's bytes or a HEAD
MTIME_SLACK_NS = 2_000  # s3safe-mtime was written with microseconds, from a float, before it had nanoseconds


def file_digests(path: Path) -> tuple[str, str]:
    """(hex SHA-256, hex MD5) in one read."""
    sha256, md5 = hashlib.sha256(), hashlib.md5(usedforsecurity=False)
    with path.open("rb") as handle:
        while block := handle.read(CHUNK):
            sha256.update(block)
            md5.update(block)
    return sha256.hexdigest(), md5.hexdigest()


def _maybe_ciphertext_of(size: int, stored: int) -> bool:
    """Could an object of `stored` bytes be an encryption of `size` bytes? (age or AES Crypt overhead)"""
    return 0 < stored - size <= 16 * (size // 65536 + 2) + 65536


def _plain_etag(etag: str | None) -> str | None:
    value = (etag or "").strip('"').lower()
    return value if len(value) == 32 and "-" not in value else None


class ContentComparator:
    """Compares a local file and an object; records every verified match in the cache."""

    def __init__(
        self, storage: ObjectStore, cache: StateCache, *, local_root: Path, upload: bool,
        encrypted: bool = False, digest_key: Callable[[str, str | None], bytes | None] | None = None,
        settle: Callable[[Path, str, Mapping[str, str]], None] | None = None,
    ) -> None:  # fmt: skip
        """`encrypted`: uploads encrypt, or downloads decrypt; `digest_key(bucket, stored token)` keys the plaintext digests.
        `settle(path, url, metadata)` (downloads): a file found to hold the object's bytes gets its recorded mode and mtime."""
        self.storage = storage
        self.cache = cache
        self.root = local_root
        self.upload = upload
        self.encrypted = encrypted
        self.digest_key = digest_key
        self.settle = settle
        self.hashed = 0
        self.requests = 0  # every request change detection sent, counted in the seam (storage.requestlog)
        self._lock = threading.Lock()

    def quick(self, source: ObjectInfo, target: ObjectInfo) -> str | None:
        """The verdict when it needs neither a read of the file nor a request (size, the cache), else PENDING:
        the planner calls this in turn, and only what is left is compared in parallel (`compare`)."""
        local, remote = (source, target) if self.upload else (target, source)
        encrypted = self.encrypted and (self.upload or _maybe_ciphertext_of(local.size, remote.size))
        if not encrypted and local.size != remote.size:
            return "size differs"
        try:
            # the walk's stat, taken as it listed the file: the planner merges both listings as they stream
            stat = local.stat or self._path(local).stat()
        except OSError:
            return "local file changed during the run"
        etag = (remote.etag or "").strip('"')
        cached = self.cache.get_in_order(remote.bucket, remote.key)  # the planner asks in key order
        if cached and cached.refuted and cached.etag == etag:
            return "content differs (the stored copy failed verification)"
        if cached and cached.describes(local.size, stat, etag):
            return None
        return PENDING

    def _count(self, *, hashed: int = 0, requests: int = 0) -> None:
        with self._lock:  # comparisons run on several threads
            self.hashed += hashed
            self.requests += requests

    def __call__(self, source: ObjectInfo, target: ObjectInfo) -> str | None:
        verdict = self.quick(source, target)
        return self.compare(source, target) if verdict == PENDING else verdict

    def compare(self, source: ObjectInfo, target: ObjectInfo) -> str | None:
        """The comparison past quick(): reads the file and asks the server; safe to call from several threads."""
        with requestlog.tally() as made:  # every request, whichever helper sends it (HEAD ?partNumber, attributes)
            try:
                return self._compare(source, target)
            finally:
                self._count(requests=made.count)

    def _compare(self, source: ObjectInfo, target: ObjectInfo) -> str | None:
        local, remote = (source, target) if self.upload else (target, source)
        encrypted = self.encrypted and (self.upload or _maybe_ciphertext_of(local.size, remote.size))
        path = self._path(local)
        try:
            stat = path.stat()
        except OSError:
            return "local file changed during the run"
        etag = (remote.etag or "").strip('"')
        if encrypted:
            return self._compare_encrypted(local, remote, path=path, stat=stat, etag=etag)
        plain = _plain_etag(etag)
        if plain is not None:
            self._count(hashed=1)
            try:
                sha256, md5 = file_digests(path)
            except OSError:
                return "local file unreadable"  # planned as a transfer, whose own read reports the error for this file alone
            if plain == md5:
                stat = self._settled(remote, path, stat, None)
                self.cache.put(remote.bucket, remote.key, Verified.of(local.size, stat, etag, sha256, "ETag = MD5 of the file"))
                return None
        try:
            details = self.storage.head(remote.bucket, remote.key, version_id=remote.version_id)
        except S3SafeError:
            return "content unknown"
        if plain is not None and details.sse_algorithm in (None, "AES256"):
            return "content differs"  # the server's MD5 of what it holds is not the file's
        stored = details.metadata.get(SHA256_META)
        if stored:
            parts_etag = evidence_of(details).multipart_etag if plain is None else None
            try:
                if parts_etag is not None:
                    sha256, agrees = self._against_parts_etag(details, path, etag=parts_etag, version_id=remote.version_id)
                elif plain is None:
                    self._count(hashed=1)
                    sha256, agrees = file_digests(path)[0], True
                else:
                    agrees = True  # hashed above, for the plain ETag
            except OSError:
                return "local file unreadable"
            if stored.lower() == sha256:
                if not agrees:  # s3safe's claim says "these bytes"; the server's MD5s of what it holds say otherwise
                    return "content differs (the multipart ETag contradicts the stored digest)"
                stat = self._settled(remote, path, stat, details.metadata)
                self.cache.put(remote.bucket, remote.key, Verified.of(local.size, stat, etag, sha256))
                return None
        return self._compare_checksums(local, details, path=path, stat=stat, etag=etag, version_id=remote.version_id)

    def _against_parts_etag(self, details: ObjectDetails, path: Path, *, etag: str, version_id: str | None) -> tuple[str, bool]:
        """The file's SHA-256, and whether the object's multipart ETag (the server's MD5s of the parts it stored) is
        the file's: s3safe-sha256 is only the uploader's claim, which another tool's object can carry over other
        bytes (a copy with its metadata, or a forgery). Tried first in the parts s3safe's own upload makes (no
        request); only where that does not match is the object's layout asked for (one or more requests)."""
        guessed = uniform_layout(details.size, count=multipart_count(etag) or 0, first=part_size_for(details.size, minimum=8 * CHUNK))
        sha256: str | None = None
        if guessed:
            sha256, (same, _) = self._hashed_against(path, ServerEvidence((), etag, guessed))
            if same is True:
                return sha256, True
        evidence = server_evidence(self.storage, replace(details, checksums={}), version_id=version_id)
        if evidence.parts is None:  # the layout cannot be learnt: the ETag cannot vouch, and the claim alone does not
            return sha256 or file_digests(path)[0], False
        if sha256 is not None and evidence.parts == guessed:  # the layout tried: the ETag has answered already
            return sha256, False
        measured, (same, _) = self._hashed_against(path, evidence, again=sha256 is not None)
        return measured, same is True

    def _hashed_against(self, path: Path, evidence: ServerEvidence, *, again: bool = False) -> tuple[str, tuple[bool | None, str]]:
        """The file's SHA-256 and EvidenceCheck's verdict on it, in one read; OSError as the read raises it."""
        if not again:  # -v counts files hashed, not reads of one file
            self._count(hashed=1)
        check, sha256 = EvidenceCheck(evidence), hashlib.sha256()
        with path.open("rb") as handle:
            while block := handle.read(CHUNK):
                check.update(block)
                sha256.update(block)
        return sha256.hexdigest(), check.verdict()

    def _compare_checksums(
        self, local: ObjectInfo, details: ObjectDetails, *, path: Path, stat: os.stat_result, etag: str, version_id: str | None = None
    ) -> str | None:  # fmt: skip
        """An object without s3safe's digest (another tool wrote it): the server's own checksums of it, or its
        multipart ETag, recomputed over the file for the object's part layout. No bytes are transferred."""
        evidence = server_evidence(self.storage, details, version_id=version_id)
        if evidence.empty or (evidence.needs_layout and evidence.parts is None):
            return "content differs"
        try:
            sha256, (same, what) = self._hashed_against(path, evidence)
        except OSError:
            return "local file unreadable"
        if not same:
            return "content differs"
        # a multipart ETag is the server's MD5s of the parts it stored: evidence, as a plain ETag is
        proof = "multipart ETag = MD5s of the file's parts" if evidence.multipart_etag and "ETag" in what else ""
        stat = self._settled(local, path, stat, details.metadata, url=f"s3://{details.bucket}/{details.key}")
        self.cache.put(details.bucket, details.key, Verified.of(local.size, stat, etag, sha256, proof))
        return None

    def quick_newer(self, source: ObjectInfo, target: ObjectInfo) -> str | None:
        """newer() when the cache answers without a HEAD, else PENDING."""
        remote = target if self.upload else source
        cached = self.cache.get_in_order(remote.bucket, remote.key)  # the planner asks in key order
        if cached and not cached.refuted and cached.etag == (remote.etag or "").strip('"'):
            return self.newer(source, target)
        return PENDING

    def newer(self, source: ObjectInfo, target: ObjectInfo) -> str | None:
        """`--only-newer`: the local file's mtime against the one s3safe stored with the object (s3safe-mtime, the
        same kind of clock: the uploading file's), never against the server's LastModified, another clock. Only
        an object without s3safe-mtime falls back to LastModified."""
        with requestlog.tally() as made:
            try:
                return self._newer(source, target)
            finally:
                self._count(requests=made.count)

    def _newer(self, source: ObjectInfo, target: ObjectInfo) -> str | None:
        local, remote = (source, target) if self.upload else (target, source)
        try:
            mtime_ns = self._path(local).stat().st_mtime_ns
        except OSError:
            return "local file changed during the run" if self.upload else "source is newer"
        stored = self._stored_mtime_ns(remote)
        if stored is None:
            return planner.newer(source, target)
        later, earlier = (mtime_ns, stored) if self.upload else (stored, mtime_ns)
        # s3safe-mtime keeps microseconds (and a float's rounding): closer than that is the same time
        return "source is newer" if later - earlier > MTIME_SLACK_NS else None

    def _stored_mtime_ns(self, remote: ObjectInfo) -> int | None:
        """The local mtime that goes with this object version: the cache's (it recorded the file that matched
        this ETag), else the s3safe-mtime metadata (one HEAD); None when the object carries neither."""
        cached = self.cache.get(remote.bucket, remote.key)
        if cached and not cached.refuted and cached.etag == (remote.etag or "").strip('"'):
            return cached.mtime_ns
        try:
            value = self.storage.head(remote.bucket, remote.key, version_id=remote.version_id).metadata.get(MTIME_META)
            return stored_mtime(value, f"s3://{remote.bucket}/{remote.key}")
        except S3SafeError:
            return None

    def _compare_encrypted(self, local: ObjectInfo, remote: ObjectInfo, *, path: Path, stat: os.stat_result, etag: str) -> str | None:
        """Client-encrypted objects: the listed size and ETag describe ciphertext, so past the cache the
        evidence is the plaintext size and keyed digest in the object's metadata (one HEAD)."""
        from s3safe.crypto.digest import digest_file, made_with, same_digest  # cryptography loads only when needed

        try:
            meta = self.storage.head(remote.bucket, remote.key, version_id=remote.version_id).metadata
        except S3SafeError:
            return "content unknown"
        if not meta.get(ENCRYPTION_META):
            return "not encrypted on S3" if self.upload else "size differs"
        if meta.get(PLAIN_SIZE_META) != str(local.size):
            return "size differs"
        stored = meta.get(DIGEST_META) or ""
        key = self.digest_key(remote.bucket, stored) if self.digest_key else None
        if key is None or not made_with(stored, key):
            return "digest made with another key" if self.upload else "content unknown (no digest key)"
        self._count(hashed=1)
        try:
            token = digest_file(path, key)
        except OSError:
            return "local file unreadable"
        if same_digest(stored, token):
            stat = self._settled(remote, path, stat, meta)
            self.cache.put(remote.bucket, remote.key, Verified.of(local.size, stat, etag, token.rsplit(":", 1)[-1]))
            return None
        return "content differs"

    def _settled(
        self, remote: ObjectInfo, path: Path, stat: os.stat_result, metadata: Mapping[str, str] | None, *, url: str | None = None
    ) -> os.stat_result:  # fmt: skip
        """A download found unchanged by content, not by the cache: its mode and mtime may have been changed since
        (the cache vouches for those too, as a chmod or touch moves the ctime), so they are set to the recorded
        ones. Returns the file's state after that, for the cache."""
        if self.settle is None or self.upload:
            return stat
        url = url or f"s3://{remote.bucket}/{remote.key}"
        try:
            if metadata is None:
                    metadata = self.storage.head(remote.bucket, remote.key, version_id=remote.version_id).metadata
            self.settle(path, url, metadata)
            return path.stat()
        except (S3SafeError, OSError) as exc:  # the content matches; a mode left as it was is said, not fatal
            log.warning("could not set the recorded mode and mtime of %s: %s", path, exc)
            return stat

    def _path(self, local: ObjectInfo) -> Path:
        # local entries carry the key relative to the local root
        return self.root.joinpath(*local.key.split("/"))


def resolve_pending(
    actions: Iterator[planner.Action], compare: planner.Comparator, *, budget: Budget
) -> Iterator[planner.Action]:
    """The planner's actions in order, those it left PENDING decided by `compare` on the run's part pool: file
    hashing and HEADs overlap, within the run's budget of requests, instead of one file at a time. Actions
    already decided pass straight through (no thread hand-off on the unchanged path the cache answers)."""
    window = budget.requests * 4
    queue: deque[planner.Action | Future[planner.Action]] = deque()

    def decide(action: planner.Action) -> planner.Action:
        assert action.source is not None and action.target is not None
        reason = compare(action.source, action.target)
        if reason is None:
            return planner.Action(planner.Kind.SKIP, action.key, action.source, action.target, "unchanged")
        return planner.Action(action.kind, action.key, action.source, action.target, reason)

    def ready(item: planner.Action | Future[planner.Action]) -> planner.Action:
        return item.result() if isinstance(item, Future) else item

    try:
        for action in actions:
            queue.append(budget.submit(decide, action) if action.reason == PENDING else action)
            # pass on what is decided at the head; wait only when the window is full
            while queue and (len(queue) >= window or not isinstance(queue[0], Future) or queue[0].done()):
                yield ready(queue.popleft())
        while queue:
            yield ready(queue.popleft())
    finally:
        for item in queue:
            if isinstance(item, Future):
                item.cancel()
