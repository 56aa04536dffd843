"""Single-file upload: private, encrypted, checksummed, verified; the plain file as the upload pipeline's payload.

Every upload goes through transfer/pipeline.py's `send_object`; this module prepares a plain file for it (its
digests, metadata, and whether it goes in one request or in parts) and checks the result. Encrypted files are
prepared by transfer/encrypted.py.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from stat import S_ISDIR, S_ISREG
from typing import TYPE_CHECKING

from s3safe.core.errors import AccessDeniedError, ConditionFailed, IntegrityError, NotFoundError, S3SafeError, UsageError
from s3safe.core.locations import S3Url, has_control_characters, is_utf8
from s3safe.core.models import ActionResult, ObjectDetails
from s3safe.core.progress import TransferProgress, watching
from s3safe.core.safety import SafetyGate
from s3safe.storage.base import CRC64NVME, Body, WriteCondition
from s3safe.storage.conditional import conflict, prepare
from s3safe.storage.connection import Connection
from s3safe.storage.s3 import part_size_for
from s3safe.transfer.checksums import new_digest
from s3safe.transfer.options import (
    CRC64NVME_META,
    CRC64NVME_MIN,
    MTIME_META,
    SHA256_META,
    UploadOptions,
    content_type_for,
    file_mode_meta,
    mtime_meta,
)
from s3safe.transfer.pipeline import (  # re-exported: callers import these from here
    ETAG_PROOF,
    PARTS_PROOF,
    READ_BACK_PROOF,
    Sent,
    Stored,
    TransferResult,
    UploadPlan,
    applied_sse,
    check_unchanged,
    etags_are_md5,
    parts_verified,
    plain_etag,
    plan_upload,
    prove_put,
    put_request,
    put_verified,
    read_whole,
    send_object,
    with_acl_fallback,
)

if TYPE_CHECKING:
    from s3safe.transfer.encryption import Encryption

__all__ = ["ETAG_PROOF", "PARTS_PROOF", "READ_BACK_PROOF", "Sent", "TransferResult", "UploadPlan", "check_unchanged",
           "etags_are_md5", "plain_etag", "plan_upload", "prove_put", "upload_file", "upload_files", "with_acl_fallback"]  # fmt: skip

log = logging.getLogger("s3safe.transfer")

CHUNK = 1024 * 1024
DEFAULT_MULTIPART_THRESHOLD = 64 * 1024**2
DIGEST_BLOCK = 4 * 1024**2  # large enough to hash without the GIL most of the time, small enough for the CPU caches nearby


def local_read_error(path: Path, exc: OSError) -> S3SafeError:
    """A failed read of a local file as one line naming it: in a tree run that file fails alone."""
    if isinstance(exc, PermissionError):
        return AccessDeniedError(
            f"cannot read {path}: permission denied", hint="fix its permissions or leave it out with --exclude"
        )
    if isinstance(exc, FileNotFoundError):
        return NotFoundError(f"{path} vanished before it could be read")
    return S3SafeError(f"cannot read {path}: {exc.strerror or exc}")


@contextmanager
def reading(path: Path) -> Iterator[None]:
    try:
        yield
    except OSError as exc:
        raise local_read_error(path, exc) from None


def _check_local_file(path: Path) -> int:
    try:
        stat = path.stat()
    except FileNotFoundError:
        raise NotFoundError(f"local file not found: {path}") from None
    except OSError as exc:
        raise local_read_error(path, exc) from None
    if S_ISDIR(stat.st_mode):
        raise UsageError(f"{path} is a folder", hint="add -r to upload the folder tree")
    if not S_ISREG(stat.st_mode):
        raise UsageError(f"{path} is not a regular file")
    return stat.st_size


@dataclass(frozen=True, slots=True)
class _Digests:
    sha256_b64: str
    md5_hex: str  # "" when not asked for (a multipart upload has no use for it)
    crc64nvme_b64: str | None = None  # when asked for: the whole file's, recorded in CRC64NVME_META


def _digests_of(data: bytes, *, crc_too: bool) -> _Digests:
    sha256, md5 = hashlib.sha256(data).digest(), hashlib.md5(data, usedforsecurity=False).hexdigest()
    return _Digests(base64.b64encode(sha256).decode(), md5, _crc64nvme(data) if crc_too else None)


def _digests(path: Path, *, md5_too: bool = True, crc_too: bool = False) -> _Digests:
    """A file's SHA-256, MD5 (`md5_too`) and CRC64NVME (`crc_too`), in one read into one reused buffer (no copy
    per block in Python; hashlib and awscrt release the GIL on it)."""
    sha256 = hashlib.sha256()
    md5 = hashlib.md5(usedforsecurity=False) if md5_too else None
    crc = new_digest(CRC64NVME) if crc_too else None
    buffer = bytearray(DIGEST_BLOCK)
    view = memoryview(buffer)
    with path.open("rb", buffering=0) as handle:
        while got := handle.readinto(buffer):
            sha256.update(view[:got])
            if md5 is not None:
                md5.update(view[:got])
            if crc is not None:
                crc.update(view[:got])
    return _Digests(base64.b64encode(sha256.digest()).decode(), md5.hexdigest() if md5 is not None else "",
                    base64.b64encode(crc.digest()).decode() if crc is not None else None)  # fmt: skip


def _crc64nvme(data: bytes) -> str:
    crc = new_digest(CRC64NVME)
    crc.update(data)
    return base64.b64encode(crc.digest()).decode()


def unsendable_name(key: str) -> str | None:
    """Why a local name cannot become an object key, or None. Checked when the plan is made, so a dry run
    shows the same refusals as the real run."""
    if not is_utf8(key):
        return ("its name is not valid UTF-8 (written in another encoding), and S3 keys are UTF-8; rename the file "
                "(e.g. with convmv) and run again")  # fmt: skip
    if has_control_characters(key):
        # obstore cannot send them, and a download refuses such keys: an object s3safe could not restore
        return ("its name contains control characters (a newline, tab or escape), which s3safe does not put in "
                "object keys because a restore would refuse them; rename the file")  # fmt: skip
    return None


class PlainPayload:
    """A file sent as it is: whole (in memory when small, else read by the storage backend) or in parts."""

    encrypted = False
    resumable = True

    def __init__(self, source: Path, *, before: os.stat_result, inline: bytes | None, sha256_hex: str, md5_hex: str,
                 crc64nvme_b64: str | None = None) -> None:  # fmt: skip
        self.source = source
        self.before = before
        self.inline = inline
        self.identity = sha256_hex
        self.crc64nvme_b64 = crc64nvme_b64
        self._sent = Sent(md5_hex, sha256_hex)

    @classmethod
    def of(cls, source: Path, *, size: int, md5_too: bool, whole: bool) -> PlainPayload:
        """The file with its digests. One sent `whole` (in one PUT) is read once into memory and that buffer is
        sent: its digests describe exactly the bytes sent, whatever a writer does to the file meanwhile (moto and
        rclone check no checksum: a second read for sending could store a mix under them). From CRC64NVME_MIN bytes
        (what a download fetches in ranges) the same read also gives the file's CRC64NVME."""
        crc_too = size >= CRC64NVME_MIN
        with reading(source):
            if whole:
                before, data = read_whole(source, size=size)
                digests = _digests_of(data, crc_too=crc_too)
            else:  # parts: each read once, hashed and sent; the combined CRC is held to the one taken here
                before, data = source.stat(), None
                digests = _digests(source, md5_too=md5_too, crc_too=crc_too)
        return cls(source, before=before, inline=data, sha256_hex=base64.b64decode(digests.sha256_b64).hex(), md5_hex=digests.md5_hex,
                   crc64nvme_b64=digests.crc64nvme_b64)  # fmt: skip

    def whole(self) -> tuple[Body, Sent]:
        return (self.inline if self.inline is not None else self.source), self._sent

    def stream(self, state: bytes | None, *, block: int) -> tuple[bytes | None, Iterator[bytes]]:
        return None, self._blocks(block)

    def _blocks(self, block: int) -> Iterator[bytes]:
        with reading(self.source), self.source.open("rb") as handle:
            while data := handle.read(block):
                yield data

    def part_size(self, number: int, base: int) -> int:
        return base

    def check_unchanged(self) -> None:
        check_unchanged(self.source, self.before)

    def check_read(self) -> None:
        """Nothing to add: the pipeline compares the file's size and mtime before completing."""


def upload_file(
    conn: Connection,
    source: Path,
    dest: S3Url,
    *,
    options: UploadOptions,
    plan: UploadPlan | None = None,
    key: str | None = None,
    verify: bool = True,
    encryption: Encryption | None = None,
) -> TransferResult:
    """Upload one file. `key` overrides the key derived from `dest`; `verify=False` trusts the
    server's own checksum validation instead of reading the object back (the bulk engine's choice)."""
    options.validate()
    size = _check_local_file(source)
    if key is None:
        key = dest.key + source.name if dest.is_prefix else dest.key
    if (reason := unsendable_name(key)) is not None:
        raise UsageError(f"cannot upload {source}: {reason}")
    plan = plan or plan_upload(conn, dest.bucket, options)
    try:
        return _upload_file(conn, source, S3Url(dest.bucket, key), size=size, options=options, plan=plan, verify=verify,
                            encryption=encryption)  # fmt: skip
    except ConditionFailed:
        if options.condition is None:  # a 412 to a write that asked for none: the server's own, shown as it came
            raise
        raise conflict(options.condition, bucket=dest.bucket, key=key, no_clobber=options.no_clobber) from None


def _upload_file(
    conn: Connection, source: Path, dest: S3Url, *, size: int, options: UploadOptions, plan: UploadPlan, verify: bool,
    encryption: Encryption | None,
) -> TransferResult:  # fmt: skip
    key = dest.key
    # checked by HEAD here where the endpoint ignores conditional headers (then none is sent)
    condition = prepare(conn, options.condition, bucket=dest.bucket, key=key, no_clobber=options.no_clobber)
    if encryption is not None:
        from s3safe.transfer.encrypted import upload_encrypted

        return upload_encrypted(conn, source, dest.bucket, key, plan=plan, options=options, encryption=encryption, verify=verify,
                                condition=condition)  # fmt: skip
    part_size = options.part_size or part_size_for(size, minimum=8 * 1024**2)
    # an explicit --part-size also sets where multipart starts
    threshold = options.part_size or max(DEFAULT_MULTIPART_THRESHOLD, part_size)
    multipart = size > threshold
    # a single PUT's body is held in memory until sent: counted in the run's byte budget, as a part is
    with conn.budget.buffer(0 if multipart else size):
        payload = PlainPayload.of(source, size=size, md5_too=not multipart, whole=not multipart)
        return _send_file(conn, payload, dest, size=size, options=options, plan=plan, verify=verify, condition=condition,
                          part_size=part_size if multipart else None)  # fmt: skip


def _send_file(
    conn: Connection, payload: PlainPayload, dest: S3Url, *, size: int, options: UploadOptions, plan: UploadPlan,
    verify: bool, condition: WriteCondition | None, part_size: int | None,
) -> TransferResult:  # fmt: skip
    source, key, multipart = payload.source, dest.key, part_size is not None
    metadata = {
        **options.metadata,  # none of s3safe's own names (UploadOptions.validate)
        MTIME_META: mtime_meta(payload.before),
        **file_mode_meta(payload.before),
        # the whole-file digest: multipart ETags are not content hashes, this is what --only-diff compares
        SHA256_META: payload.identity,
        # what a download in ranges checks instead (combined from the ranges' CRCs, no SHA-256 pass over the file)
        **({CRC64NVME_META: payload.crc64nvme_b64} if payload.crc64nvme_b64 else {}),
    }
    content_type = options.content_type or content_type_for(source)
    url = f"s3://{dest.bucket}/{key}"

    def send(p: UploadPlan) -> Stored:
        request = put_request(p, options, bucket=dest.bucket, key=key, metadata=metadata, content_type=content_type,
                              condition=condition)  # fmt: skip
        return send_object(conn, request, payload, plan=p, part_size=part_size, what=f"upload of {source} to {url}",
                           sse_read_back=not verify)  # fmt: skip

    stored, plan = with_acl_fallback(plan, options, send)
    verified = put_verified(stored)  # the bulk engine's (verify=False): what the server showed
    if verify:
        verified, head = _verify_upload(conn, source, dest.bucket, key, size=size, multipart=multipart, checked=stored.checksum_checked,
                                        sha256=base64.b64encode(bytes.fromhex(payload.identity)).decode(), md5=payload.whole()[1].md5)  # fmt: skip
        # the encryption applied, from the same HEAD (send_object left that check to it)
        stored = replace(stored, sse=applied_sse(conn, plan, bucket=dest.bucket, key=key, head=head))
    if multipart:  # the parts' evidence, as --move reads it: CRC64NVME checked by the server, or ETags = MD5s
        verified = parts_verified(stored.proof, checked=verified if verify else None)
    return TransferResult("upload", str(source), url, size,
                          acl=plan.acl_header or "private (ACLs disabled)", sse=stored.sse or plan.reported_sse or _sse_c(conn), verified=verified,
                          etag=stored.etag, sha256_hex=payload.identity, proof=stored.proof)  # fmt: skip


def _sse_c(conn: Connection) -> str | None:
    """The encryption to report when no SSE header was planned: SSE-C rides on every request instead."""
    return "SSE-C" if conn.settings.sse_c_key else None


def _verify_upload(
    conn: Connection, source: Path, bucket: str, key: str, *, size: int, multipart: bool, checked: bool, sha256: str, md5: str
) -> tuple[str, ObjectDetails]:
    """What the HEAD after a PUT shows (and the HEAD itself). Its SHA-256 is evidence only where the server checked
    the one sent (`checked`): rclone stores and shows whatever checksum it is sent, so there it would be s3safe's
    own claim."""
    details = conn.objects.head(bucket, key)
    return _verified_by(details, source, bucket, key, size=size, multipart=multipart, checked=checked, sha256=sha256, md5=md5), details


def _verified_by(details: ObjectDetails, source: Path, bucket: str, key: str, *, size: int, multipart: bool, checked: bool,
                 sha256: str, md5: str) -> str:  # fmt: skip
    if details.size != size:
        raise IntegrityError(f"upload of {source} to s3://{bucket}/{key} stored {details.size} bytes, expected {size}")
    if multipart:
        # what the parts were checked by is the upload's own evidence (the caller adds it); the whole-file
        # digest is the transfer engine's job (it stores one in metadata)
        return "size"
    stored = details.checksums.get("sha256")
    if stored and "-" not in stored:
        if stored != sha256:
            raise IntegrityError(f"upload of {source} to s3://{bucket}/{key}: stored SHA-256 differs from the file")
        if checked:
            return "sha256"
    etag = (details.etag or "").lower()
    if len(etag) == 32 and details.sse_algorithm in (None, "AES256"):
        if etag != md5:
            raise IntegrityError(f"upload of {source} to s3://{bucket}/{key}: stored ETag (MD5) differs from the file")
        return ETAG_PROOF
    return "size"


def upload_files(
    conn: Connection,
    sources: list[Path],
    dest: S3Url,
    *,
    options: UploadOptions,
    gate: SafetyGate,
    encryption: Encryption | None = None,
    progress: TransferProgress | None = None,
) -> Iterator[ActionResult]:
    """Upload several files into one bucket, checking every source before the first byte moves.

    `progress` gets the totals (the files and their sizes) at once, before the returned iterator does anything: the
    display shows them from its start instead of a plan still being counted."""
    sizes = {source: _file_size(source) for source in sources}
    if progress is not None:
        list(progress.plan(sources, size_of=sizes.__getitem__))
    return _upload_each(conn, sources, dest, options=options, gate=gate, encryption=encryption, progress=progress,
                        sizes=sizes)  # fmt: skip


def _upload_each(conn: Connection, sources: list[Path], dest: S3Url, *, options: UploadOptions, gate: SafetyGate,
                 encryption: Encryption | None, progress: TransferProgress | None,
                 sizes: dict[Path, int]) -> Iterator[ActionResult]:  # fmt: skip
    options.validate()
    if len(sources) > 1 and not dest.is_prefix:
        raise UsageError(f"several files need a folder destination ending in '/', not {dest}")
    for source in sources:
        _check_local_file(source)
    plan = plan_upload(conn, dest.bucket, options)

    def target(source: Path) -> str:
        return f"s3://{dest.bucket}/{dest.key + source.name if dest.is_prefix else dest.key}"

    def send(source: Path) -> ActionResult:
        r = upload_file(conn, source, dest, options=options, plan=plan, encryption=encryption)
        return ActionResult(
            "upload",
            r.destination,
            detail=f"{r.size} bytes, acl {r.acl}, sse {r.sse or 'bucket default'}, verified by {r.verified}",
        )

    if gate.dry_run and options.no_clobber:  # the real run would be refused: the dry run says so, not "would upload"
        for source in sources:
            _refuse_existing(conn, dest.bucket, target(source).removeprefix(f"s3://{dest.bucket}/"))
    watched = watching(progress, send, name_of=lambda s: s.name, size_of=sizes.__getitem__)
    # sequential: an error in one file is reported as the command's error, as for a single file
    yield from gate.apply_each("upload", sources, watched, describe=lambda s: f"{target(s)} (from {s})", threads=1)


def _refuse_existing(conn: Connection, bucket: str, key: str) -> None:
    try:
        conn.objects.head(bucket, key)
    except NotFoundError:
        return
    raise conflict(WriteCondition(if_none_match=True), bucket=bucket, key=key)


def _file_size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:  # the upload itself reports it, by name
        return 0
