"""Multipart uploads that survive the process: a journal per upload lets the next run resume.

The journal is written right after CreateMultipartUpload. An interruption (Ctrl-C, kill, network
loss) leaves upload and journal in place; the next run lists the parts the server already holds,
checks each against the local file, and sends only the rest. A permanent failure (access denied,
integrity) aborts the upload and drops the journal, so nothing hidden stays billed.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import os
import threading
from collections.abc import Iterator
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from s3safe.core import cancel
from s3safe.core.errors import IntegrityError, NotFoundError, S3SafeError, ServiceError, StoredCopyMismatch
from s3safe.storage.conditional import WriteCondition, check_by_head
from s3safe.storage.connection import Connection
from s3safe.storage.errors import translated
from s3safe.transfer.state import state_dir, unwritable_state

log = logging.getLogger("s3safe.multipart")
ORPHAN_CLOCK_SKEW = timedelta(minutes=5)


@dataclass(frozen=True, slots=True)
class Journal:
    bucket: str
    key: str
    upload_id: str
    part_size: int
    size: int
    mtime_ns: int
    sha256: str  # whole file, hex (for an encrypted upload: the keyed plaintext digest token)
    crypto_state: str | None = None  # hex; repeats the same ciphertext on resume (a secret: file is 0600)


def journal_path(bucket: str, key: str, directory: Path | None = None) -> Path:
    name = hashlib.sha256(f"{bucket}\0{key}".encode()).hexdigest()[:32] + ".json"
    return (directory or state_dir() / "uploads") / name


def load_journal(path: Path) -> Journal | None:
    try:
        return Journal(**json.loads(path.read_text()))
    except (OSError, ValueError, TypeError):
        return None


def save_journal(path: Path, journal: Journal) -> None:
    tmp = path.with_suffix(".tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        # created 0600: the journal of an encrypted upload holds that upload's key
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    except OSError as exc:  # the intent is recorded before the upload starts: nothing is left open
        raise unwritable_state(path, exc, what=f"the resume journal of s3://{journal.bucket}/{journal.key}") from None
    with os.fdopen(fd, "w") as handle:
        handle.write(json.dumps(asdict(journal)))
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


def _ranges(size: int, part_size: int) -> Iterator[tuple[int, int, int]]:
    for number, start in enumerate(range(0, size, part_size), start=1):
        yield number, start, min(part_size, size - start)


def _read(source: Path, offset: int, length: int) -> bytes:
    with source.open("rb") as handle:
        handle.seek(offset)
        return handle.read(length)


class PartEvidence:
    """What the server's part ETags prove: each must be the MD5 of the part sent (when the bucket's encryption
    makes ETags MD5s). A contradiction raises before the upload completes, so a damaged part is never assembled."""

    def __init__(self, what: str, *, enabled: bool) -> None:
        self.what = what
        self.enabled = enabled
        self._lock = threading.Lock()
        self._md5s: dict[int, str] = {}
        self._unproven = not enabled

    @property
    def proven(self) -> bool:
        return not self._unproven and bool(self._md5s)

    def check(self, number: int, etag: str | None, *, md5_hex: str, raise_on_mismatch: bool = True) -> None:
        value = (etag or "").strip('"').lower()
        with self._lock:
            if not self.enabled or len(value) != 32:
                self._unproven = True
                return
            if value != md5_hex:
                self._unproven = True
                if raise_on_mismatch:
                    raise StoredCopyMismatch(
                        f"{self.what}: the server's ETag for part {number} is not the MD5 of the bytes sent; "
                        "the data was damaged on its way and the upload was abandoned",
                        etag=None, hint="the local file is kept; run again to send it again",
                    )  # fmt: skip
                return
            self._md5s[number] = md5_hex

    def check_object(self, etag: str | None) -> None:
        """The completed object's ETag is MD5(concatenated part MD5s)-N: anything else means other parts."""
        if not self.proven:
            return
        value = (etag or "").strip('"').lower()
        combined = hashlib.md5(b"".join(bytes.fromhex(self._md5s[n]) for n in sorted(self._md5s)), usedforsecurity=False)
        expected = f"{combined.hexdigest()}-{len(self._md5s)}"
        if "-" not in value:
            self._unproven = True  # a server that reports whole-object ETags some other way proves nothing here
        elif value != expected:
            raise StoredCopyMismatch(f"{self.what}: the stored object's ETag {value} is not made of the parts sent ({expected})",
                                     etag=value, hint="the local file is kept; run again to send it again")  # fmt: skip


class ResumableUpload:
    def __init__(
        self, conn: Connection, source: Path, bucket: str, key: str, *, part_size: int, sha256_hex: str,
        extra: dict[str, Any], journal_dir: Path | None = None, md5_etags: bool = False, condition: WriteCondition | None = None,
    ) -> None:  # fmt: skip
        """`md5_etags`: the server's part ETags are MD5s of what it stored (SSE-S3), so they are checked.
        `condition`: sent with CompleteMultipartUpload (the object is only then written)."""
        self.condition = condition
        self.conn = conn
        self.client = conn.client_for(bucket)
        self.source = source
        self.bucket = bucket
        self.key = key
        self.part_size = part_size
        self.sha256_hex = sha256_hex
        self.extra = extra
        self.path = journal_path(bucket, key, journal_dir)
        self.parts_sent = 0
        self.parts_reused = 0
        self.version_id: str | None = None  # of the object completed, on a versioned bucket
        self.parts = PartEvidence(f"upload of {source} to s3://{bucket}/{key}", enabled=md5_etags)

    @property
    def proven(self) -> bool:
        """Every part's ETag was the MD5 of the part sent (and the object's ETag their combination)."""
        return self.parts.proven

    def run(self) -> str | None:
        stat = self.source.stat()
        journal = self._resumable(stat.st_size, stat.st_mtime_ns)
        done = self._verified_parts(journal) if journal is not None else None
        if journal is None or done is None:
            journal = self._create(stat.st_size, stat.st_mtime_ns)
            done = {}
        try:
            return self._finish(journal, done)
        except (KeyboardInterrupt, ServiceError):
            log.info("upload of s3://%s/%s interrupted; the next run resumes it", self.bucket, self.key)
            raise
        except BaseException:
            self._abort(journal)
            raise

    def _resumable(self, size: int, mtime_ns: int) -> Journal | None:
        journal = load_journal(self.path)
        if journal is None:
            return None
        if not journal.upload_id:
            # a run died between asking for an upload ID and recording it
            self._abort_orphans()
            return None
        same_file = (journal.size, journal.mtime_ns, journal.sha256) == (size, mtime_ns, self.sha256_hex)
        if same_file and journal.part_size == self.part_size:
            return journal
        # the file changed since the interrupted run: its parts are worthless
        self._abort(journal)
        return None

    def _create(self, size: int, mtime_ns: int) -> Journal:
        intent = Journal(self.bucket, self.key, "", self.part_size, size, mtime_ns, self.sha256_hex)
        return create_upload(self.client, intent, self.path, self.extra)

    def _verified_parts(self, journal: Journal) -> dict[int, dict[str, Any]] | None:
        """Parts the server holds that match the local bytes; an unknown upload means start over."""
        listed = listed_parts(self.client, journal, self.path)
        if listed is None:
            return None
        good: dict[int, dict[str, Any]] = {}
        for number, offset, length in _ranges(journal.size, journal.part_size):
            part = listed.get(number)
            if not part or part.get("Size") != length:
                continue
            data = _read(self.source, offset, length)
            sha = base64.b64encode(hashlib.sha256(data).digest()).decode()
            md5 = hashlib.md5(data, usedforsecurity=False).hexdigest()
            if part.get("ChecksumSHA256") in (sha, None) and part.get("ETag", "").strip('"') in (md5, ""):
                good[number] = {"PartNumber": number, "ETag": part["ETag"], "ChecksumSHA256": sha}
                self.parts.check(number, part.get("ETag"), md5_hex=md5, raise_on_mismatch=False)
        self.parts_reused = len(good)
        return good

    def _finish(self, journal: Journal, done: dict[int, dict[str, Any]]) -> str | None:
        stop = threading.Event()  # this upload failed: its other parts need not be sent

        def send(spec: tuple[int, int, int]) -> dict[str, Any]:
            number, offset, length = spec
            cancel.check()
            if stop.is_set():
                raise ServiceError(f"upload of s3://{self.bucket}/{self.key} stopped after another part failed")
            with self.conn.budget.buffer(length):  # the part is in memory from this read until it was sent
                data = _read(self.source, offset, length)
                digest = base64.b64encode(hashlib.sha256(data).digest()).decode()
                if self.conn.limiter:
                    self.conn.limiter.consume(len(data))
                with translated("upload a part to", bucket=self.bucket, key=self.key):
                    r = self.client.upload_part(Bucket=self.bucket, Key=self.key, UploadId=journal.upload_id,
                                                PartNumber=number, Body=data, ChecksumSHA256=digest)  # fmt: skip
                md5_hex = hashlib.md5(data, usedforsecurity=False).hexdigest()
            self.parts.check(number, r.get("ETag"), md5_hex=md5_hex)
            self.parts_sent += 1
            return {"PartNumber": number, "ETag": r["ETag"], "ChecksumSHA256": digest}

        todo = [spec for spec in _ranges(journal.size, journal.part_size) if spec[0] not in done]
        # on the run's part pool, within its budget of requests and of bytes in memory
        try:
            for part in self.conn.budget.map_parts(send, todo):
                done[part["PartNumber"]] = part
        except KeyboardInterrupt:
            cancel.cancel()  # Ctrl-C: every worker of the run stops at its next chunk
            raise
        except BaseException:
            stop.set()  # one file's failure stops its own parts, not the rest of the run
            raise
        parts = [done[n] for n in sorted(done)]
        after = self.source.stat()
        if (after.st_size, after.st_mtime_ns) != (journal.size, journal.mtime_ns):
            # completing would store a mix of old and new parts; aborting keeps the previous object intact
            raise IntegrityError(
                f"{self.source} changed while it was being uploaded; the upload was abandoned and s3://{self.bucket}/{self.key} left as it was",
                hint="run again once the file is no longer being written",
            )
        result = complete_upload(self.conn, self.bucket, self.key, upload_id=journal.upload_id, parts=parts, condition=self.condition)
        self.path.unlink(missing_ok=True)
        self.version_id = result.get("VersionId")
        etag = (result.get("ETag") or "").strip('"') or None
        self.parts.check_object(etag)
        return etag

    def _abort_orphans(self) -> None:
        abort_orphans(self.client, self.bucket, self.key, self.path)

    def _abort(self, journal: Journal) -> None:
        abort_upload(self.client, journal, self.path)


def complete_upload(conn: Connection, bucket: str, key: str, *, upload_id: str, parts: list[dict[str, Any]],
                    condition: WriteCondition | None) -> dict[str, Any]:  # fmt: skip
    """CompleteMultipartUpload, with the write's condition. Some servers ignore If-Match there (moto does) while
    honouring it on PUT: it is also checked by HEAD just before, so a replaced object is at least not overwritten
    unless it changes in that instant."""
    if condition is not None and condition.if_match is not None:
        check_by_head(conn, condition, bucket=bucket, key=key)
    with translated("complete the multipart upload to", bucket=bucket, key=key):
        return dict(conn.client_for(bucket).complete_multipart_upload(
            Bucket=bucket, Key=key, UploadId=upload_id, MultipartUpload={"Parts": parts},  # type: ignore[typeddict-item]
            **(condition.boto_args() if condition else {}),
        ))  # fmt: skip


def create_upload(client: Any, intent: Journal, path: Path, extra: dict[str, Any]) -> Journal:
    """CreateMultipartUpload with its journal: `intent` (no upload ID yet) is recorded first, so a run killed
    before the ID arrives still leaves a trace to clean up; a twin left by a retried request whose first
    answer was lost is aborted."""
    save_journal(path, intent)
    before = open_upload_ids(client, intent.bucket, intent.key)
    with translated("start a multipart upload to", bucket=intent.bucket, key=intent.key):
        upload_id = client.create_multipart_upload(Bucket=intent.bucket, Key=intent.key, ChecksumAlgorithm="SHA256", **extra)["UploadId"]
    journal = replace(intent, upload_id=upload_id)
    save_journal(path, journal)  # the cleanup record is born with the upload
    if before is not None:
        for twin in (open_upload_ids(client, intent.bucket, intent.key) or set()) - before - {upload_id}:
            abort_upload(client, Journal(intent.bucket, intent.key, twin, 0, 0, 0, ""), None)
    return journal


def listed_parts(client: Any, journal: Journal, path: Path) -> dict[int, dict[str, Any]] | None:
    """The parts the server holds for the journal's upload, by number; None (journal dropped) when the upload
    is gone, aborted meanwhile by 'uploads abort' or a lifecycle rule: the caller starts over."""
    listed: dict[int, dict[str, Any]] = {}
    try:
        with translated("list parts of", bucket=journal.bucket, key=journal.key):
            paginator = client.get_paginator("list_parts")
            for page in paginator.paginate(Bucket=journal.bucket, Key=journal.key, UploadId=journal.upload_id):
                for item in page.get("Parts", []):
                    listed[item["PartNumber"]] = dict(item)
    except NotFoundError:
        path.unlink(missing_ok=True)
        return None
    return listed


def open_upload_ids(client: Any, bucket: str, key: str) -> set[str] | None:
    """IDs of the open multipart uploads of exactly `key` (None when they cannot be listed)."""
    try:
        with translated("list the multipart uploads of", bucket=bucket, key=key):
            return {
                upload["UploadId"]
                for page in client.get_paginator("list_multipart_uploads").paginate(Bucket=bucket, Prefix=key)
                for upload in page.get("Uploads", [])
                if upload.get("Key") == key and upload.get("UploadId")
            }
    except S3SafeError as exc:
        log.info("could not list the multipart uploads of s3://%s/%s (%s)", bucket, key, exc)
        return None


def abort_upload(client: Any, journal: Journal, path: Path | None) -> None:
    """Abort the journal's upload (an upload already gone is fine) and drop the journal file, if any."""
    try:
        if journal.upload_id:
            with translated("abort the multipart upload of", bucket=journal.bucket, key=journal.key):
                client.abort_multipart_upload(Bucket=journal.bucket, Key=journal.key, UploadId=journal.upload_id)
    except NotFoundError:
        pass  # completed or aborted already: nothing is left to bill
    except S3SafeError as exc:
        log.warning("could not abort multipart upload %s of s3://%s/%s (%s); run 'uploads abort'",
                    journal.upload_id, journal.bucket, journal.key, exc)  # fmt: skip
    if path is not None:
        path.unlink(missing_ok=True)


def abort_orphans(client: Any, bucket: str, key: str, path: Path) -> None:
    """A run died between asking for an upload ID and recording it: abort the uploads of `key` begun since
    its intent was recorded (the journal's time, minus clock skew), then drop the journal."""
    try:
        since = datetime.fromtimestamp(path.stat().st_mtime, UTC) - ORPHAN_CLOCK_SKEW
        with translated("list the multipart uploads of", bucket=bucket, key=key):
            for page in client.get_paginator("list_multipart_uploads").paginate(Bucket=bucket, Prefix=key):
                for upload in page.get("Uploads", []):
                    if upload.get("Key") == key and upload.get("UploadId") and upload.get("Initiated", since) >= since:
                        abort_upload(client, Journal(bucket, key, upload["UploadId"], 0, 0, 0, ""), None)
    except (OSError, S3SafeError) as exc:
        log.warning("could not look for an unrecorded multipart upload of s3://%s/%s (%s); check with 'uploads ls'",
                    bucket, key, exc)  # fmt: skip
    path.unlink(missing_ok=True)


def forget_journal(bucket: str, key: str, upload_id: str, *, journal_dir: Path | None = None) -> None:
    """`uploads abort` ended this upload: its journal goes too, since an encrypted upload's journal holds that
    object's payload key. A journal of the key still waiting for its upload ID may belong to the aborted upload
    and goes as well; a journal of another upload of the key stays (that run resumes it)."""
    path = journal_path(bucket, key, journal_dir)
    journal = load_journal(path)
    if journal is not None and journal.upload_id in (upload_id, ""):
        path.unlink(missing_ok=True)
        path.with_suffix(".tmp").unlink(missing_ok=True)  # a save cut short holds the same secret


def discard_stale_journal(conn: Connection, bucket: str, key: str, *, journal_dir: Path | None = None) -> None:
    """The object already matches the local file: a journal left for its key (a run killed between completing
    the upload and removing the journal, or a file changed back) is stale; abort its upload if open, drop it."""
    path = journal_path(bucket, key, journal_dir)
    journal = load_journal(path) if path.exists() else None
    if journal is None:
        return
    if journal.upload_id:
        abort_upload(conn.client_for(bucket), journal, path)
    else:
        abort_orphans(conn.client_for(bucket), bucket, key, path)
