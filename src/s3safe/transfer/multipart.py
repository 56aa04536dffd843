"""Multipart uploads that survive the process: a journal per upload lets the next run resume.

The upload itself goes through the one pipeline (transfer/pipeline.py) and the storage interface's chunk writer;
this module keeps its journal and the evidence its part ETags give. The journal is written right after
CreateMultipartUpload. An interruption (Ctrl-C, kill, network
loss) leaves upload and journal in place; the next run lists the parts the server already holds,
checks each against the local file, and sends only the rest. A permanent failure (access denied,
integrity) aborts the upload and drops the journal, so nothing hidden stays billed.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import threading
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from s3safe.core.errors import S3SafeError, StoredCopyMismatch
from s3safe.storage.base import CRC64NVME, SHA256, ChunkWriter, PutRequest
from s3safe.transfer.state import state_dir, unwritable_state

if TYPE_CHECKING:
    from s3safe.storage.connection import Connection

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
    checksum: str = SHA256  # what every part of the upload carries (journals from before CRC64NVME: SHA-256)


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


PARTS_PROOF = "part ETags = MD5s of the parts sent"
CHECKSUM_PROOF = "part checksums checked by the server"
# what a server says when it does not know a checksum algorithm (then the upload carries SHA-256, as before)
_ALGORITHM_REFUSED = frozenset({"InvalidArgument", "InvalidRequest", "NotImplemented", "InvalidChecksum", "BadDigest"})


class PartEvidence:
    """What the server showed about the parts it holds. A server that checks the checksum sent with a part
    answers with it (AWS, LocalStack): that part needs nothing more. Otherwise, where the bucket's encryption
    makes ETags MD5s, each part's ETag must be the MD5 of the part sent, and the MD5 is computed only then.
    A contradiction raises before the upload completes, so a damaged part is never assembled."""

    def __init__(self, what: str, *, enabled: bool) -> None:
        self.what = what
        self.enabled = enabled  # part ETags are MD5s here
        self._lock = threading.Lock()
        self._md5s: dict[int, str] = {}
        self._checked: set[int] = set()  # parts whose checksum the server checked
        self._unproven = False

    @property
    def proven(self) -> bool:
        return not self._unproven and bool(self._md5s or self._checked)

    @property
    def proof(self) -> str | None:
        if not self.proven:
            return None
        return " and ".join(p for p, by in ((CHECKSUM_PROOF, self._checked), (PARTS_PROOF, self._md5s)) if by)

    def checked_by_server(self, number: int) -> None:
        with self._lock:
            self._checked.add(number)

    def check(self, number: int, etag: str | None, *, md5_hex: str | None, raise_on_mismatch: bool = True) -> None:
        """`md5_hex`: the part's MD5, None when ETags prove nothing here."""
        value = (etag or "").strip('"').lower()
        with self._lock:
            if not self.enabled or md5_hex is None or len(value) != 32:
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
        """The completed object's ETag is MD5(concatenated part MD5s)-N: anything else means other parts
        (checked when every part was proven by its ETag)."""
        if not self.proven or self._checked:
            return
        value = (etag or "").strip('"').lower()
        combined = hashlib.md5(b"".join(bytes.fromhex(self._md5s[n]) for n in sorted(self._md5s)), usedforsecurity=False)
        expected = f"{combined.hexdigest()}-{len(self._md5s)}"
        if "-" not in value:
            self._unproven = True  # a server that reports whole-object ETags some other way proves nothing here
        elif value != expected:
            raise StoredCopyMismatch(f"{self.what}: the stored object's ETag {value} is not made of the parts sent ({expected})",
                                     etag=value, hint="the local file is kept; run again to send it again")  # fmt: skip


def start_upload(writer: ChunkWriter, request: PutRequest) -> tuple[str, str]:
    """CreateMultipartUpload with CRC64NVME part checksums, or SHA-256 where the server refuses that algorithm;
    (upload ID, the algorithm)."""
    try:
        return writer.create(request, checksum=CRC64NVME), CRC64NVME
    except S3SafeError as exc:
        if exc.service_code not in _ALGORITHM_REFUSED:
            raise
        log.info("s3://%s/%s: the server refuses CRC64NVME part checksums (%s); sending SHA-256", writer.bucket, writer.key, exc)
    return writer.create(request, checksum=SHA256), SHA256


def create_upload(writer: ChunkWriter, intent: Journal, path: Path, request: PutRequest) -> Journal:
    """Start a multipart upload with its journal: `intent` (no upload ID yet) is recorded first, so a run killed
    before the ID arrives still leaves a trace to clean up; a twin left by a retried request whose first answer
    was lost is aborted."""
    save_journal(path, intent)
    before = writer.open_uploads()
    upload_id, checksum = start_upload(writer, request)
    journal = replace(intent, upload_id=upload_id, checksum=checksum)
    save_journal(path, journal)  # the cleanup record is born with the upload
    if before is not None:
        for twin in (writer.open_uploads() or set()) - before - {upload_id}:
            abort_upload(writer, Journal(intent.bucket, intent.key, twin, 0, 0, 0, ""), None)
    return journal


def abort_upload(writer: ChunkWriter, journal: Journal, path: Path | None) -> None:
    """Abort the journal's upload (an upload already gone is fine) and drop the journal file, if any."""
    try:
        if journal.upload_id:
            writer.abort(journal.upload_id)
    except S3SafeError as exc:
        log.warning("could not abort multipart upload %s of s3://%s/%s (%s); run 'uploads abort'",
                    journal.upload_id, journal.bucket, journal.key, exc)  # fmt: skip
    if path is not None:
        path.unlink(missing_ok=True)


def abort_orphans(writer: ChunkWriter, path: Path) -> None:
    """A run died between asking for an upload ID and recording it: abort the uploads of the key begun since
    its intent was recorded (the journal's time, minus clock skew), then drop the journal."""
    try:
        since = datetime.fromtimestamp(path.stat().st_mtime, UTC) - ORPHAN_CLOCK_SKEW
    except OSError:
        return  # the journal went away meanwhile (another run of the same key cleaned up)
    found = writer.open_uploads(since=since)
    if found is None:
        log.warning("could not look for an unrecorded multipart upload of s3://%s/%s; check with 'uploads ls'",
                    writer.bucket, writer.key)  # fmt: skip
    for upload_id in found or ():
        abort_upload(writer, Journal(writer.bucket, writer.key, upload_id, 0, 0, 0, ""), None)
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
    writer = conn.objects.chunk_writer(bucket, key)
    if journal.upload_id:
        abort_upload(writer, journal, path)
    else:
        abort_orphans(writer, path)
