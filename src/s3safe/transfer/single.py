"""Single-file upload and download: private, encrypted, checksummed, verified, atomic on disk."""

from __future__ import annotations

import base64
import hashlib
import logging
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from s3safe.core.errors import (
    AccessDeniedError,
    ConditionFailed,
    IntegrityError,
    NotFoundError,
    S3SafeError,
    StoredCopyMismatch,
    UsageError,
)
from s3safe.core.locations import S3Url, has_control_characters, is_utf8
from s3safe.core.models import ActionResult
from s3safe.core.safety import SafetyGate
from s3safe.storage import dataplane
from s3safe.storage.buckets import OWNER_ENFORCED, BucketAdmin
from s3safe.storage.compat import obstore_can_address
from s3safe.storage.conditional import WriteCondition, conflict, prepare
from s3safe.storage.connection import Connection
from s3safe.storage.errors import AclsDisabledError, translated
from s3safe.storage.s3 import S3Storage, part_size_for
from s3safe.transfer.bandwidth import ThrottledFile
from s3safe.transfer.multipart import ResumableUpload
from s3safe.transfer.options import MTIME_META, SHA256_META, UploadOptions, content_type_for, file_mode_meta

if TYPE_CHECKING:
    from s3safe.transfer.encryption import Encryption

log = logging.getLogger("s3safe.transfer")
T = TypeVar("T")

CHUNK = 1024 * 1024
DEFAULT_MULTIPART_THRESHOLD = 64 * 1024**2
INLINE_MAX = 8 * 1024**2  # read into memory (one read for hashing and sending) up to this size


@dataclass(frozen=True, slots=True)
class TransferResult:
    action: str  # "upload" | "download"
    source: str
    destination: str
    size: int
    acl: str | None = None
    sse: str | None = None
    verified: str | None = None  # how the copy was checked: "sha256", "md5", "size"
    etag: str | None = None
    sha256_hex: str | None = None
    proof: str | None = None  # how the server showed it holds the bytes sent (None: it did not)

    def to_dict(self) -> dict[str, object]:
        return {
            "type": "transfer",
            "action": self.action,
            "source": self.source,
            "destination": self.destination,
            "size": self.size,
            "acl": self.acl,
            "sse": self.sse,
            "verified": self.verified,
        }


@dataclass(frozen=True, slots=True)
class UploadPlan:
    """How one bucket wants its uploads: which ACL header (if any) and which SSE header."""

    acl_header: str | None
    sse: str | None
    acls_enabled: bool | None


def plan_upload(conn: Connection, bucket: str, options: UploadOptions) -> UploadPlan:
    admin = BucketAdmin(conn)
    admin.exists(bucket)
    ownership = admin.object_ownership(bucket)
    acls_enabled = None if ownership is None else ownership != OWNER_ENFORCED
    if acls_enabled is False and options.acl not in (None, "private", "bucket-owner-full-control"):
        raise UsageError(
            f"bucket s3://{bucket} has ACLs disabled (Object Ownership = BucketOwnerEnforced); --acl {options.acl} cannot apply",
            hint="grant access with a bucket policy or a pre-signed URL instead",
        )
    # An explicit private ACL satisfies policies that require x-amz-acl; it is sent only where ACLs
    # are enabled, because BucketOwnerEnforced buckets reject any ACL header.
    acl_header = None if acls_enabled is False else (options.acl or "private")
    if options.object_lock and admin.object_lock_enabled(bucket) is False:
        raise UsageError(f"bucket s3://{bucket} has no Object Lock, so --retain-until/--retain-days/--legal-hold cannot apply; nothing was sent",
                         hint="create a bucket with 's3safe mb --object-lock' (or enable Object Lock on this one) and upload there")  # fmt: skip
    sse = options.sse
    if conn.settings.sse_c_key:
        if sse is not None or options.sse_kms_key_id:
            raise UsageError("--sse-c-key-file encrypts with your own key: leave out --sse and --sse-kms-key-id")
        if "SSE-C" in admin.blocked_encryption_types(bucket):
            # S3 would answer a bare 403 AccessDenied, indistinguishable from a missing permission
            raise AccessDeniedError(f"bucket s3://{bucket} blocks SSE-C uploads (BlockedEncryptionTypes = SSE-C, the default "
                                    "for buckets created since April 2026); nothing was sent",
                                    hint="upload with --sse AES256 or aws:kms instead, or allow SSE-C in the bucket's "
                                         "default encryption configuration")  # fmt: skip
        return UploadPlan(acl_header=acl_header, sse=None, acls_enabled=acls_enabled)
    if sse is None:
        default = admin.default_encryption(bucket)
        # never override a bucket's KMS default with the weaker AES256
        sse = None if default and default.startswith("aws:kms") else "AES256"
    return UploadPlan(acl_header=acl_header, sse=sse, acls_enabled=acls_enabled)


def local_read_error(path: Path, exc: OSError) -> S3SafeError:
    """A failed read of a local file as one line naming it: in a tree run that file fails alone."""
    if isinstance(exc, PermissionError):
        return AccessDeniedError(f"cannot read {path}: permission denied", hint="fix its permissions or leave it out with --exclude")
    if isinstance(exc, FileNotFoundError):
        return NotFoundError(f"{path} vanished before it could be read")
    return S3SafeError(f"cannot read {path}: {exc.strerror or exc}")


@contextmanager
def reading(path: Path) -> Iterator[None]:
    try:
        yield
    except OSError as exc:
        raise local_read_error(path, exc) from None


ETAG_PROOF = "ETag = MD5 of the bytes sent"
PARTS_PROOF = "part ETags = MD5s of the parts sent"
READ_BACK_PROOF = "read back and compared"


def etags_are_md5(plan: UploadPlan) -> bool:
    """With SSE-S3 (or none) the ETag of a single PUT or of a part is the MD5 of what the server stored;
    with SSE-KMS or SSE-C it is not, and a mismatch would prove nothing."""
    return plan.sse == "AES256"


def plain_etag(etag: str | None) -> str | None:
    value = (etag or "").strip('"').lower()
    return value if len(value) == 32 and all(c in "0123456789abcdef" for c in value) else None


@dataclass(frozen=True, slots=True)
class Sent:
    """One object's bytes as they went out in a single PUT, by their digests (hex)."""

    md5: str
    sha256: str


def prove_put(conn: Connection, sent: Sent, *, bucket: str, key: str, etag: str | None, plan: UploadPlan, what: str) -> str | None:
    """How the server showed it stored exactly the bytes sent (None: its ETag proves nothing here). An ETag that
    is not their MD5 means the body was damaged on its way (to a server that does not check the checksum sent
    with it), or that this server's ETags are no MD5s after all: reading the object back decides which."""
    value = plain_etag(etag)
    if value is None or not etags_are_md5(plan):
        return None
    if value == sent.md5:
        return ETAG_PROOF
    digest = hashlib.sha256()
    for block in S3Storage(conn).read_chunks(bucket, key):
        digest.update(block)
    if digest.hexdigest() == sent.sha256:
        return READ_BACK_PROOF
    raise StoredCopyMismatch(
        f"{what}: the server stored other bytes than were sent (its ETag {value} is not their MD5 {sent.md5}, "
        "and reading it back confirms it); the data was damaged on its way",
        etag=value, hint="the local file is kept; run again to send it again",
    )  # fmt: skip


def _check_local_file(path: Path) -> int:
    try:
        stat = path.stat()
    except FileNotFoundError:
        raise NotFoundError(f"local file not found: {path}") from None
    except OSError as exc:
        raise local_read_error(path, exc) from None
    if path.is_dir():
        raise UsageError(f"{path} is a folder", hint="add -r to upload the folder tree")
    if not path.is_file():
        raise UsageError(f"{path} is not a regular file")
    return stat.st_size


def _digests_of(data: bytes) -> tuple[str, str]:
    return base64.b64encode(hashlib.sha256(data).digest()).decode(), hashlib.md5(data, usedforsecurity=False).hexdigest()


def _digests(path: Path, *, md5_too: bool = True) -> tuple[str, str]:
    """(base64 SHA-256, hex MD5 or "") of a file, in one read; a multipart upload has no use for the MD5."""
    sha256 = hashlib.sha256()
    md5 = hashlib.md5(usedforsecurity=False) if md5_too else None
    with path.open("rb") as handle:
        while block := handle.read(CHUNK):
            sha256.update(block)
            if md5 is not None:
                md5.update(block)
    return base64.b64encode(sha256.digest()).decode(), md5.hexdigest() if md5 is not None else ""


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
        return _upload_file(conn, source, dest.bucket, key, size=size, options=options, plan=plan, verify=verify, encryption=encryption)
    except ConditionFailed:
        assert options.condition is not None  # nothing else sends a condition
        raise conflict(options.condition, bucket=dest.bucket, key=key) from None


def _upload_file(
    conn: Connection, source: Path, bucket: str, key: str, *, size: int, options: UploadOptions, plan: UploadPlan,
    verify: bool, encryption: Encryption | None,
) -> TransferResult:  # fmt: skip
    # checked by HEAD here where the endpoint ignores conditional headers (then none is sent)
    condition = prepare(conn, options.condition, bucket=bucket, key=key)
    if encryption is not None:
        from s3safe.transfer.encrypted import upload_encrypted

        return upload_encrypted(conn, source, bucket, key, plan=plan, options=options, encryption=encryption, verify=verify,
                                condition=condition)  # fmt: skip
    dest = S3Url(bucket, key)
    part_size = options.part_size or part_size_for(size, minimum=8 * 1024**2)
    # an explicit --part-size also sets where multipart starts
    threshold = options.part_size or max(DEFAULT_MULTIPART_THRESHOLD, part_size)
    with reading(source):
        before = source.stat()
        # small files are read once: the digests describe exactly the bytes that are sent
        inline = source.read_bytes() if size <= INLINE_MAX and conn.limiter is None else None
        sha256_b64, md5_hex = _digests_of(inline) if inline is not None else _digests(source, md5_too=size <= threshold)
    metadata = {
        **options.metadata,
        MTIME_META: f"{before.st_mtime:.6f}",
        **file_mode_meta(before),
        # the whole-file digest: multipart ETags are not content hashes, this is what --only-diff compares
        SHA256_META: base64.b64decode(sha256_b64).hex(),
    }
    content_type = options.content_type or content_type_for(source)
    # obstore is the fast path for single-request uploads; multipart (resumable) and throttled
    # uploads go through botocore, and so do keys obstore would refuse or rewrite (h/./dot, a//b)
    url = f"s3://{dest.bucket}/{key}"
    if conn.limiter is not None or size > threshold or not obstore_can_address(key) or options.object_lock:

        def send(p: UploadPlan) -> tuple[str | None, str | None]:
            return _upload_boto3(conn, source, dest.bucket, key, plan=p, options=options, metadata=metadata,
                                 content_type=content_type, part_size=part_size, threshold=threshold, sha256=sha256_b64,
                                 md5=md5_hex, condition=condition)  # fmt: skip
    else:

        def send(p: UploadPlan) -> tuple[str | None, str | None]:
            etag = _upload_obstore(conn, inline if inline is not None else source, dest.bucket, key, plan=p,
                                   options=options, metadata=metadata, content_type=content_type, condition=condition)  # fmt: skip
            sent = Sent(md5_hex, base64.b64decode(sha256_b64).hex())
            return etag, prove_put(conn, sent, bucket=dest.bucket, key=key, etag=etag, plan=p, what=f"upload of {source} to {url}")

    (etag, proof), plan = with_acl_fallback(plan, options, send)
    check_unchanged(source, before)
    verified = "sha256 (checked by the server)"
    if verify:
        verified = _verify_upload(conn, source, dest.bucket, key, size=size, multipart=size > threshold,
                                  sha256=sha256_b64, md5=md5_hex)  # fmt: skip
    return TransferResult("upload", str(source), f"s3://{dest.bucket}/{key}", size,
                          acl=plan.acl_header or "private (ACLs disabled)", sse=plan.sse or _sse_c(conn), verified=verified,
                          etag=etag, sha256_hex=metadata[SHA256_META], proof=proof)  # fmt: skip


def _sse_c(conn: Connection) -> str | None:
    """The encryption to report when no SSE header was planned: SSE-C rides on every request instead."""
    return "SSE-C" if conn.settings.sse_c_key else None


def upload_extra(plan: UploadPlan, options: UploadOptions, *, metadata: dict[str, str], content_type: str) -> dict[str, Any]:
    """PutObject / CreateMultipartUpload arguments for ACL, SSE, storage class and metadata."""
    extra: dict[str, Any] = {"Metadata": metadata, "ContentType": content_type}
    if plan.acl_header:
        extra["ACL"] = plan.acl_header
    if plan.sse:
        extra["ServerSideEncryption"] = plan.sse
    if options.sse_kms_key_id:
        extra["SSEKMSKeyId"] = options.sse_kms_key_id
    if options.storage_class:
        extra["StorageClass"] = options.storage_class
    if options.cache_control:
        extra["CacheControl"] = options.cache_control
    return {**extra, **lock_extra(options)}


def lock_extra(options: UploadOptions) -> dict[str, Any]:
    """Object Lock arguments of PutObject / CreateMultipartUpload / CopyObject for the version written."""
    extra: dict[str, Any] = {}
    if options.retain_until is not None:
        extra["ObjectLockMode"] = options.lock_mode or "GOVERNANCE"
        extra["ObjectLockRetainUntilDate"] = options.retain_until
    if options.legal_hold:
        extra["ObjectLockLegalHoldStatus"] = "ON"
    return extra


def _upload_boto3(
    conn: Connection, source: Path, bucket: str, key: str, *, plan: UploadPlan, options: UploadOptions,
    metadata: dict[str, str], content_type: str, part_size: int, threshold: int, sha256: str, md5: str,
    condition: WriteCondition | None = None,
) -> tuple[str | None, str | None]:  # fmt: skip
    """The path for buckets that need an ACL header, which obstore cannot send per object.

    Checksums are computed here and sent as plain headers: the aws-chunked trailers botocore
    would otherwise use are rejected by several S3-compatible servers.
    """
    extra = upload_extra(plan, options, metadata=metadata, content_type=content_type)
    client = conn.client_for(bucket)
    size = source.stat().st_size
    if size <= threshold:
        if options.object_lock:  # S3 wants a Content-MD5 (or a checksum it names) on an upload it must retain
            extra["ContentMD5"] = base64.b64encode(bytes.fromhex(md5)).decode()
        with translated("upload to", bucket=bucket, key=key), ThrottledFile(source, conn.limiter) as body:
            response = client.put_object(Bucket=bucket, Key=key, Body=body, ChecksumSHA256=sha256, **extra,
                                         **(condition.boto_args() if condition else {}))  # fmt: skip
        etag = (response.get("ETag") or "").strip('"') or None
        sent = Sent(md5, base64.b64decode(sha256).hex())
        return etag, prove_put(conn, sent, bucket=bucket, key=key, etag=etag, plan=plan,
                                     what=f"upload of {source} to s3://{bucket}/{key}")  # fmt: skip
    upload = ResumableUpload(conn, source, bucket, key, part_size=part_size, sha256_hex=metadata[SHA256_META], extra=extra,
                             md5_etags=etags_are_md5(plan), condition=condition)  # fmt: skip
    etag = upload.run()
    ensure_lock(conn, bucket, key, version_id=upload.version_id, options=options)
    return etag, PARTS_PROOF if upload.proven else None


def ensure_lock(conn: Connection, bucket: str, key: str, *, version_id: str | None, options: UploadOptions) -> None:
    """After a multipart upload: its version carries the retention and legal hold asked for (set now if the
    server ignored them on CreateMultipartUpload, as moto does)."""
    if options.object_lock:
        S3Storage(conn).apply_lock(bucket, key, version_id=version_id, mode=options.lock_mode, until=options.retain_until,
                                   legal_hold=options.legal_hold)  # fmt: skip


def with_acl_fallback(plan: UploadPlan, options: UploadOptions, send: Callable[[UploadPlan], T]) -> tuple[T, UploadPlan]:
    """Run `send`; if the bucket turns out to enforce owner-only access (its ownership could not be read
    beforehand), send again without the ACL header: objects there are private without one."""
    try:
        return send(plan), plan
    except AclsDisabledError:
        if plan.acls_enabled is not None or options.acl not in (None, "private"):
            raise
        plan = UploadPlan(acl_header=None, sse=plan.sse, acls_enabled=False)
        return send(plan), plan


def check_unchanged(source: Path, before: os.stat_result) -> None:
    after = source.stat()
    if (after.st_size, after.st_mtime_ns) != (before.st_size, before.st_mtime_ns):
        raise IntegrityError(
            f"{source} changed while it was being uploaded; the stored copy may not match it",
            hint="run again once the file is no longer being written",
        )


def _upload_obstore(
    conn: Connection, source: Path | bytes, bucket: str, key: str, *, plan: UploadPlan, options: UploadOptions,
    metadata: dict[str, str], content_type: str, condition: WriteCondition | None = None,
) -> str | None:  # fmt: skip
    """One PutObject through obstore, with x-amz-checksum-sha256 computed over the bytes it sends."""
    store = conn.store(bucket, sse=plan.sse, kms_key_id=options.sse_kms_key_id, acl=plan.acl_header)
    attributes: dict[str, str] = {"Content-Type": content_type, **metadata}
    if options.cache_control:
        attributes["Cache-Control"] = options.cache_control
    if options.storage_class:
        attributes["Storage-Class"] = options.storage_class
    with conn.budget.request(), translated("upload to", bucket=bucket, key=key):
        result = dataplane.put(store, key, source, bucket=bucket, attributes=attributes,
                               mode=condition.obstore_mode() if condition else None)  # fmt: skip
    return (result.get("e_tag") or "").strip('"') or None


def _verify_upload(
    conn: Connection, source: Path, bucket: str, key: str, *, size: int, multipart: bool, sha256: str, md5: str
) -> str:
    details = S3Storage(conn).head(bucket, key)
    if details.size != size:
        raise IntegrityError(f"upload of {source} to s3://{bucket}/{key} stored {details.size} bytes, expected {size}")
    if multipart:
        # part checksums were verified by the server part by part; the whole-file digest is the
        # transfer engine's job (it stores one in metadata)
        return "size, per-part sha256"
    stored = details.checksums.get("sha256")
    if stored and "-" not in stored:
        if stored != sha256:
            raise IntegrityError(f"upload of {source} to s3://{bucket}/{key}: stored SHA-256 differs from the file")
        return "sha256"
    etag = (details.etag or "").lower()
    if len(etag) == 32 and details.sse_algorithm in (None, "AES256"):
        if etag != md5:
            raise IntegrityError(f"upload of {source} to s3://{bucket}/{key}: stored ETag (MD5) differs from the file")
        return "md5"
    return "size"


def upload_files(
    conn: Connection,
    sources: list[Path],
    dest: S3Url,
    *,
    options: UploadOptions,
    gate: SafetyGate,
    encryption: Encryption | None = None,
) -> Iterator[ActionResult]:
    """Upload several files into one bucket, checking every source before the first byte moves."""
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

    # sequential: an error in one file is reported as the command's error, as for a single file
    yield from gate.apply_each("upload", sources, send, describe=lambda s: f"{target(s)} (from {s})", threads=1)
