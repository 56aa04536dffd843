"""Streams: `put - S3URL` uploads standard input, `get S3URL -` writes an object to standard output.

Uploads read the stream part by part, so memory stays flat whatever its length: a stream that ends within the
first part goes up in one PUT (with its SHA-256 in the metadata, as for files); a longer one goes multipart,
each part with its own SHA-256 checksum that the server verifies, at most a few parts in memory at a time.
Parts grow with the stream (8 MiB for the first thousand, then 16 MiB …) so that S3's 10,000-part limit is
met up to ~430 GiB. Nothing can resume: a stream is read once. Client-side encryption happens on the fly; the
plaintext digest of an encrypted stream is only known at its end, so it is added by a server-side copy of the
object onto itself (CopyObject, no bytes through this host).

Downloads stream the bytes out as they arrive and verify at the end, with the same evidence as a file
download (s3safe's SHA-256, the server's checksums, the (multipart) ETag, the encryption format's
authentication and the keyed plaintext digest). Bytes already written cannot be called back: a failed
verification is an IntegrityError after the fact, and the reader of the stream must discard what it got.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import replace
from typing import TYPE_CHECKING, Any, BinaryIO, cast

from s3safe.core import cancel, progress
from s3safe.core.errors import ConditionFailed, IntegrityError, NotFoundError, UsageError
from s3safe.core.locations import S3Url
from s3safe.storage.base import PutRequest, WriteCondition
from s3safe.storage.conditional import conflict, prepare
from s3safe.storage.connection import Connection
from s3safe.storage.errors import translated
from s3safe.storage.s3 import MAX_PARTS, S3Storage
from s3safe.transfer.encryption import DIGEST_META, ENCRYPTED_CONTENT_TYPE, ENCRYPTION_META, PLAIN_SIZE_META
from s3safe.transfer.options import SHA256_META, UploadOptions
from s3safe.transfer.pipeline import Sent, parts_verified, put_verified, send_object
from s3safe.transfer.single import TransferResult, UploadPlan, plan_upload, unsendable_name

if TYPE_CHECKING:
    from s3safe.transfer.encryption import Decryption, Encryption

STREAM_PART = 8 * 1024**2
READ_CHUNK = 1024 * 1024
IN_FLIGHT = 3  # parts held at once (one being filled, the rest being sent): the memory bound
STREAM_CONTENT_TYPE = "application/octet-stream"


def part_size(number: int, base: int = STREAM_PART) -> int:
    """The size of part `number` (from 1) of a stream of unknown length: grows every 1,000 parts."""
    return base * (1 + (number - 1) // 1000)


def _read_exactly(stream: Any, size: int) -> bytes | bytearray:
    """Up to `size` bytes; fewer only at the end of the stream (a pipe hands out what it has). Read into one
    buffer where the stream can (no second copy of a part while it is joined)."""
    if hasattr(stream, "readinto"):
        buffer = bytearray(size)
        view, filled = memoryview(buffer), 0
        while filled < size:
            cancel.check()
            got = stream.readinto(view[filled : filled + READ_CHUNK])
            if not got:
                break
            filled += got
        view.release()
        del buffer[filled:]
        return buffer
    chunks: list[bytes] = []
    wanted = size
    while wanted:
        cancel.check()
        data = stream.read(min(wanted, READ_CHUNK))
        if not data:
            break
        chunks.append(data)
        wanted -= len(data)
    return b"".join(chunks)


class _Encrypting:
    """The plaintext stream in, ciphertext blocks out, with the keyed plaintext digest and size."""

    def __init__(self, source: BinaryIO, encryption: Encryption) -> None:
        from s3safe.crypto.digest import PlaintextDigest

        self.source = source
        self.encryptor = encryption.encryptor()
        self.digest = PlaintextDigest(encryption.digest_key)
        self.size = 0
        self._pending = bytearray()
        self._done = False

    def readinto(self, view: memoryview) -> int:
        """Ciphertext into `view` (read a MiB at a time, so only that much waits here); 0 at the end."""
        while len(self._pending) < len(view) and not self._done:
            data = self.source.read(READ_CHUNK)
            if data:
                self.size += len(data)
                self.digest.update(data)
                self._pending += self.encryptor.update(data)
            else:
                self._pending += self.encryptor.finalize()
                self._done = True
        count = min(len(view), len(self._pending))
        view[:count] = self._pending[:count]
        del self._pending[:count]
        return count


def upload_stream(
    conn: Connection, stream: BinaryIO, dest: S3Url, *, options: UploadOptions, encryption: Encryption | None = None
) -> TransferResult:  # fmt: skip
    """`put - S3URL`: the stream's bytes (encrypted on the fly if asked) as one object."""
    options.validate()
    if dest.is_prefix:
        raise UsageError(f"standard input has no file name: give the full key, not the folder {dest}")
    if conn.settings.sse_c_key:
        raise UsageError("--sse-c-key-file does not apply to standard input yet", hint="write the stream to a file and upload that")
    if (reason := unsendable_name(dest.key)) is not None:
        raise UsageError(f"cannot upload to {dest}: {reason}")
    plan = plan_upload(conn, dest.bucket, options)
    try:
        return _upload_stream(conn, stream, dest, options=options, plan=plan, encryption=encryption)
    except ConditionFailed:
        if options.condition is None:  # a 412 to a write that asked for none: the server's own, shown as it came
            raise
        raise conflict(options.condition, bucket=dest.bucket, key=dest.key) from None


def _upload_stream(
    conn: Connection, stream: BinaryIO, dest: S3Url, *, options: UploadOptions, plan: UploadPlan, encryption: Encryption | None
) -> TransferResult:  # fmt: skip
    # checked by HEAD here where the endpoint ignores conditional headers (then none is sent)
    condition = prepare(conn, options.condition, bucket=dest.bucket, key=dest.key)
    base = options.part_size or STREAM_PART
    reader: Any = stream
    metadata = dict(options.metadata)
    encrypting: _Encrypting | None = None
    if encryption is not None:
        encryption.validate()
        encrypting = reader = _Encrypting(stream, encryption)
        metadata[ENCRYPTION_META] = encryption.format
    content_type = ENCRYPTED_CONTENT_TYPE if encrypting else options.content_type or STREAM_CONTENT_TYPE
    first = _read_exactly(reader, part_size(1, base))
    url = f"s3://{dest.bucket}/{dest.key}"
    payload = _StreamPayload(first, reader, base=base)
    what = f"upload of standard input to {url}"
    del first  # the payload holds it until it is sent
    if len(payload.first) < part_size(1, base):  # the whole stream: one PUT, described like a file
        if encrypting is not None:
            metadata |= {DIGEST_META: encrypting.digest.token(), PLAIN_SIZE_META: str(encrypting.size)}
        metadata[SHA256_META] = payload.whole()[1].sha256
        request = _request(dest, plan, options, metadata=metadata, content_type=content_type, condition=condition)
        stored = send_object(conn, request, payload, plan=plan, part_size=None, what=what)
        size, how = len(payload.first), put_verified(stored)
    else:
        # encrypted: the version sent now lacks the digest and is replaced by a copy that has it; only that copy is
        # locked (a locked first version could never be removed, and would be refused on restore)
        first_options = _unlocked(options) if encrypting is not None else options
        request = _request(dest, plan, first_options, metadata=metadata, content_type=content_type, condition=condition)
        # at most IN_FLIGHT parts in memory: the ones queued, and the one being read
        stored = send_object(conn, request, payload, plan=plan, part_size=base, what=what, in_memory=IN_FLIGHT - 1)
        size, how = payload.size, parts_verified(stored.proof)
        if encrypting is not None:  # only now is the plaintext digest known
            _add_metadata(conn, dest, plan, options, size=size, content_type=content_type,
                          metadata={**metadata, DIGEST_META: encrypting.digest.token(), PLAIN_SIZE_META: str(encrypting.size),
                                    SHA256_META: payload.sha256.hexdigest()})  # fmt: skip
    plain_size = encrypting.size if encrypting is not None else size
    return TransferResult("upload", "-", url, plain_size, acl=plan.acl_header or "private (ACLs disabled)",
                          sse=stored.sse or plan.reported_sse, verified=how, etag=stored.etag, proof=stored.proof)  # fmt: skip


def _request(dest: S3Url, plan: UploadPlan, options: UploadOptions, *, metadata: dict[str, str], content_type: str,
             condition: WriteCondition | None) -> PutRequest:  # fmt: skip
    return PutRequest(dest.bucket, dest.key, content_type=content_type, metadata=metadata, acl=plan.acl_header, sse=plan.sse,
                      sse_kms_key_id=options.sse_kms_key_id, storage_class=options.storage_class,
                      cache_control=options.cache_control, condition=condition, retain_until=options.retain_until,
                      lock_mode=options.lock_mode, legal_hold=options.legal_hold)  # fmt: skip


class _StreamPayload:
    """Standard input as the upload pipeline's payload (transfer/pipeline.py): read once, part by part, so it cannot
    be resumed; parts grow with the stream (`part_size`). Counts and hashes what it hands out."""

    source = None
    identity = ""
    encrypted = False  # as the pipeline's journal would record it: a stream keeps none
    resumable = False

    def __init__(self, first: bytes | bytearray, reader: Any, *, base: int) -> None:
        self.first = first
        self.reader = reader
        self.base = base
        self.size = 0
        self.sha256 = hashlib.sha256()

    def part_size(self, number: int, base: int) -> int:
        return part_size(number, base)

    def whole(self) -> tuple[bytes, Sent]:
        data = bytes(self.first)
        return data, Sent(hashlib.md5(data, usedforsecurity=False).hexdigest(), hashlib.sha256(data).hexdigest())

    def stream(self, state: bytes | None, *, block: int) -> tuple[bytes | None, Iterator[bytes]]:
        return None, self._parts()

    def _parts(self) -> Iterator[bytes]:
        blocks = _blocks(self.first, self.reader, base=self.base)
        self.first = b""  # handed out once: not kept here beside the parts that follow
        for number, data in enumerate(blocks, start=1):
            if number > MAX_PARTS:
                raise UsageError(f"standard input is longer than S3's {MAX_PARTS}-part limit allows at these part sizes",
                                 hint="pass a larger --part-size")  # fmt: skip
            self.size += len(data)
            self.sha256.update(data)
            yield cast(bytes, data)  # botocore sends any bytes-like body
            del data

    def check_unchanged(self) -> None:
        """Nothing to compare: a stream has no file."""

    def check_read(self) -> None:
        """Nothing to compare: the stream's digest is taken as it is read."""


def _blocks(first: bytes | bytearray, reader: Any, *, base: int) -> Iterator[bytes | bytearray]:
    """The parts, read one at a time; a stream that ends exactly at a part boundary sends no empty part."""
    yield first
    number = 2
    while data := _read_exactly(reader, part_size(number, base)):
        yield data
        number += 1


def _unlocked(options: UploadOptions) -> UploadOptions:
    return replace(options, retain_until=None, lock_mode=None, legal_hold=False)


def _add_metadata(conn: Connection, dest: S3Url, plan: UploadPlan, options: UploadOptions, *, size: int, content_type: str,
                  metadata: dict[str, str]) -> None:  # fmt: skip
    # a fresh full-object checksum for the copy: the parts' composite one does not describe it
    request = _request(dest, plan, _unlocked(options), metadata=metadata, content_type=content_type, condition=None)
    extra = {**request.extra(), "MetadataDirective": "REPLACE",
             "ChecksumAlgorithm": "SHA256"}  # fmt: skip
    storage = S3Storage(conn)
    with translated("record the plaintext digest of", bucket=dest.bucket, key=dest.key):
        storage.copy(dest.bucket, dest.key, dest.bucket, dest.key, size=size, extra=extra, threads=conn.settings.threads)
    if options.object_lock:  # set on the copy afterwards: a copy with lock headers needs a checksum of a body it has not
        storage.apply_lock(dest.bucket, dest.key, version_id=None, mode=options.lock_mode, until=options.retain_until,
                           legal_hold=options.legal_hold)  # fmt: skip


def download_stream(conn: Connection, source: S3Url, out: BinaryIO, *, decryption: Decryption | None = None) -> TransferResult:
    """`get S3URL -`: the object's bytes (decrypted if s3safe encrypted them) to `out`, verified at the end."""
    from s3safe.transfer.download import Expected, Vanished

    if source.is_prefix:
        raise UsageError(f"{source} names a folder; standard output takes one object")
    details = conn.objects.head(source.bucket, source.key)
    progress.sized(details.size)  # the display's total and ETA, when one watches
    expected = Expected(details.size, details.etag, details.checksums.get("sha256"), details.sse_algorithm, sse_known=True)
    try:
        fetched = stream_object(conn, source.bucket, source.key, out, expected=expected, decryption=decryption)
    except Vanished:  # one object named, nothing listed: it is not there
        raise NotFoundError(f"not found: object {source} does not exist") from None
    return TransferResult("download", str(source), "-", details.size, sse=details.sse_algorithm, verified=fetched.verified,
                          etag=details.etag, sha256_hex=fetched.sha256_hex)  # fmt: skip


def stream_object(conn: Connection, bucket: str, key: str, out: BinaryIO, *, expected: Any, decryption: Decryption | None) -> Any:
    """One GET written to `out` as it arrives (decrypted on the way), then verified as fetch_object verifies; a
    failed check says that the bytes already went out."""
    counted = _Counting(out)
    try:
        return _stream_object(conn, bucket, key, counted, expected=expected, decryption=decryption)
    except IntegrityError as exc:
        text = exc.message.replace("; nothing was written", "").replace(", nothing was written", "")
        raise IntegrityError(f"{text}; {counted.count} byte(s) already went to standard output and must be discarded",
                             hint=exc.hint) from None  # fmt: skip


class _Counting:
    """`out`, counting what was written to it."""

    def __init__(self, out: BinaryIO) -> None:
        self.out = out
        self.count = 0

    def write(self, data: bytes | memoryview) -> int:
        self.count += len(data)
        return self.out.write(data)

    def flush(self) -> None:
        self.out.flush()


def _stream_object(conn: Connection, bucket: str, key: str, out: Any, *, expected: Any, decryption: Decryption | None) -> Any:
    from s3safe.transfer import download as dl

    url = f"s3://{bucket}/{key}"
    sha256, written = hashlib.sha256(), 0
    md5: Any = hashlib.md5(usedforsecurity=False)
    plain: Any = None
    with translated("download", bucket=bucket, key=key, sse_c=bool(conn.settings.sse_c_key)):
        result = dl._get(conn.objects, url, bucket, key)
        attributes = dict(result.attributes)
        fmt = attributes.get(ENCRYPTION_META)
        if decryption is not None:
            decryption.check_marked(fmt, url)
        if attributes.get(SHA256_META):
            md5 = dl._NoDigest()
        peer = dl._peer_check(conn.objects, bucket, key, result.meta.get("e_tag"), attributes)
        if fmt and decryption is not None and decryption.enabled:
            digest_key, signed_only = decryption.digest_check(fmt, bucket, attributes.get(DIGEST_META))
            plain = dl._Plaintext(decryption.decryptor(fmt, url), out, digest_key=digest_key, signed_only=signed_only)
        for data in dl._body(result, url, expected=expected.size):
            cancel.check()
            if conn.limiter:
                conn.limiter.consume(len(data))
            if plain is not None:
                plain.write(data)
            else:
                out.write(data)
            progress.moved(len(data))
            sha256.update(data)
            md5.update(data)
            if peer is not None:
                peer.update(data)
            written += len(data)
        if plain is not None:
            plain.finish()
    out.flush()
    verified = dl._verify(conn, url, expected, attributes, written=written, sha256=sha256.digest(), md5=md5.hexdigest(), peer=peer)
    if plain is not None:
        verified = f"{verified} of the ciphertext, {fmt} authentication{plain.check(attributes.get(DIGEST_META), url)}"
    return dl.Fetched(verified, (plain.sha256 if plain is not None else sha256).hexdigest(), None, decrypted=plain is not None)
