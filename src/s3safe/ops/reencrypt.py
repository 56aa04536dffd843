"""`reencrypt`: migrate AES Crypt objects (s3safe's, or S3Express `-le` uploads) to age, in place.

Each candidate is streamed through the AES Crypt reader into an age encryptor; the new ciphertext goes to a
temp file (never plaintext), and is uploaded only after the AES Crypt HMAC verified the whole old object and
only if the object did not change meanwhile (same ETag). The new object is private, server-side encrypted,
carries the usual markers and keyed digest, and keeps the old object's user metadata and storage class.
On a versioned bucket the old version stays behind as a noncurrent version.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from s3safe.core.errors import IntegrityError, S3SafeError, UsageError
from s3safe.core.locations import S3Url
from s3safe.core.models import ActionResult, ObjectInfo
from s3safe.core.safety import SafetyGate
from s3safe.ops.targets import iter_targets
from s3safe.storage.connection import Connection
from s3safe.storage.errors import translated
from s3safe.storage.s3 import S3Storage, part_size_for
from s3safe.transfer.encryption import (
    DIGEST_META,
    ENCRYPTED_CONTENT_TYPE,
    ENCRYPTION_META,
    PLAIN_SIZE_META,
    Decryption,
    Encryption,
)
from s3safe.transfer.options import CRC64NVME_META, SHA256_META, UploadOptions
from s3safe.transfer.pipeline import put_request, send_object
from s3safe.transfer.single import DEFAULT_MULTIPART_THRESHOLD, PlainPayload, plan_upload, with_acl_fallback

if TYPE_CHECKING:
    from s3safe.ops.where import ObjectFilter

CHUNK = 1024 * 1024
_DROPPED_META = {SHA256_META, CRC64NVME_META, DIGEST_META, PLAIN_SIZE_META, ENCRYPTION_META}


def reencrypt(
    conn: Connection, url: S3Url, *, to: Encryption, decryption: Decryption, recursive: bool, gate: SafetyGate,
    where: ObjectFilter | None = None,
) -> Iterator[ActionResult]:  # fmt: skip
    """Convert every AES Crypt object under `url` to `to` (age); other objects are reported and left alone."""
    if to.format != "age":
        raise UsageError("reencrypt converts to age only", hint="use --to age")
    to.validate()
    storage = S3Storage(conn)
    plan = plan_upload(conn, url.bucket, UploadOptions())
    skipped: list[ActionResult] = []

    def candidates() -> Iterator[tuple[ObjectInfo, dict[str, str]]]:
        for obj in iter_targets(storage, url, recursive=recursive, where=where):
            details = storage.head(obj.bucket, obj.key)
            marker = details.metadata.get(ENCRYPTION_META)
            if marker == "aescrypt" or (marker is None and _sniff(conn, obj) == "aescrypt"):
                yield obj, dict(details.metadata)
            else:
                skipped.append(
                    ActionResult("skip", f"s3://{obj.bucket}/{obj.key}", detail=f"not AES Crypt ({marker or 'plain'})")
                )

    def convert(item: tuple[ObjectInfo, dict[str, str]]) -> ActionResult:
        obj, metadata = item
        target = f"s3://{obj.bucket}/{obj.key}"
        try:
            size = _convert(conn, obj, metadata, to=to, decryption=decryption, plan=plan)
        except S3SafeError as exc:
            return ActionResult("reencrypt", target, ok=False, error=str(exc))
        return ActionResult("reencrypt", target, detail=f"aescrypt -> age, {size} bytes of content, verified")

    yield from gate.apply_each("reencrypt", candidates(), convert, describe=lambda item: f"s3://{item[0].bucket}/{item[0].key} (aescrypt -> age)",
                               threads=max(1, min(conn.settings.threads, 4)))  # fmt: skip
    yield from skipped


def _sniff(conn: Connection, obj: ObjectInfo) -> str | None:
    from s3safe.crypto.digest import detect_format

    if obj.size < 5:
        return None
    with translated("read the start of", bucket=obj.bucket, key=obj.key):
        body = conn.client_for(obj.bucket).get_object(Bucket=obj.bucket, Key=obj.key, Range="bytes=0-63")["Body"]
        try:
            head = body.read(64)  # a server may ignore Range (or send more): never the whole body
        finally:
            body.close()
    return detect_format(head)


def _convert(
    conn: Connection, obj: ObjectInfo, metadata: dict[str, str], *, to: Encryption, decryption: Decryption, plan: Any
) -> int:  # fmt: skip
    from s3safe.crypto.digest import PlaintextDigest

    url = f"s3://{obj.bucket}/{obj.key}"
    decryptor = decryption.decryptor("aescrypt", url)
    encryptor = to.encryptor()
    digest = PlaintextDigest(to.digest_key)
    sha256 = hashlib.sha256()
    md5 = hashlib.md5(usedforsecurity=False)  # the ETag the server should answer for a single PUT
    plain_size = 0
    fd, name = tempfile.mkstemp(prefix="s3safe-reencrypt-", suffix=".age")
    tmp = Path(name)
    try:
        with os.fdopen(fd, "wb") as out:

            def emit(plain: bytes) -> None:
                nonlocal plain_size
                plain_size += len(plain)
                digest.update(plain)
                sealed = encryptor.update(plain)
                sha256.update(sealed)
                md5.update(sealed)
                out.write(sealed)

            with translated("download", bucket=obj.bucket, key=obj.key):
                response = conn.client_for(obj.bucket).get_object(Bucket=obj.bucket, Key=obj.key)
                if (response.get("ETag") or "").strip('"') != (obj.etag or "").strip('"'):
                    raise IntegrityError(f"{url} changed since it was listed; left as it is", hint="run again")
                for chunk in response["Body"].iter_chunks(CHUNK):
                    emit(decryptor.update(chunk))
            emit(decryptor.finalize())  # the AES Crypt HMAC: nothing is uploaded unless the old object verified
            sealed = encryptor.finalize()
            sha256.update(sealed)
            md5.update(sealed)
            out.write(sealed)
        _upload(conn, obj, tmp, metadata, to=to, plan=plan, digest=digest.token(), plain_size=plain_size, sha256=sha256.digest(),
                md5_hex=md5.hexdigest())  # fmt: skip
    finally:
        tmp.unlink(missing_ok=True)
    return plain_size


def _upload(
    conn: Connection, obj: ObjectInfo, path: Path, metadata: dict[str, str], *, to: Encryption, plan: Any, digest: str,
    plain_size: int, sha256: bytes, md5_hex: str,
) -> None:  # fmt: skip
    storage = S3Storage(conn)
    current = storage.head(obj.bucket, obj.key)
    if (current.etag or "").strip('"') != (obj.etag or "").strip('"'):
        raise IntegrityError(f"s3://{obj.bucket}/{obj.key} changed during the conversion; left as it is", hint="run again")
    meta = {k: v for k, v in metadata.items() if k not in _DROPPED_META}
    meta.update({ENCRYPTION_META: to.format, DIGEST_META: digest, PLAIN_SIZE_META: str(plain_size), SHA256_META: sha256.hex()})
    storage_class = obj.storage_class if obj.storage_class not in (None, "STANDARD") else None
    options = UploadOptions(storage_class=storage_class)
    size = path.stat().st_size

    payload = PlainPayload(path, before=path.stat(), inline=None, sha256_hex=sha256.hex(), md5_hex=md5_hex)

    def send(p: Any) -> None:
        request = put_request(p, options, bucket=obj.bucket, key=obj.key, metadata=meta, content_type=ENCRYPTED_CONTENT_TYPE)
        part_size = None if size <= DEFAULT_MULTIPART_THRESHOLD else part_size_for(size, minimum=8 * 1024**2)
        send_object(conn, request, payload, plan=p, part_size=part_size, what=f"re-encrypted upload of s3://{obj.bucket}/{obj.key}")

    with_acl_fallback(plan, options, send)
    stored = storage.head(obj.bucket, obj.key)
    if stored.size != size or stored.metadata.get(DIGEST_META) != digest:
        raise IntegrityError(f"re-encrypted s3://{obj.bucket}/{obj.key} did not store as sent")
