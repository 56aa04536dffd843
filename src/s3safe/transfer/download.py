"""Downloads: streamed to a temp file beside the target, verified, then renamed into place (localdest.py
creates them relative to open folders)."""

from __future__ import annotations

import base64
import hashlib
import io
import logging
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from s3safe.core import cancel, progress
from s3safe.core.context import ContextPool
from s3safe.core.errors import IntegrityError, NotFoundError, S3SafeError, UsageError
from s3safe.core.locations import S3Url, unsafe_key_reason
from s3safe.core.models import ObjectDetails
from s3safe.storage.compat import via_obstore
from s3safe.storage.connection import Connection
from s3safe.storage.errors import RangeIgnored, translated
from s3safe.transfer.checksums import EvidenceCheck, multipart_count, server_evidence
from s3safe.transfer.encryption import DIGEST_META, ENCRYPTION_META
from s3safe.transfer.localdest import Destination, Target, Written, local_error, stored_mtime, temp_name
from s3safe.transfer.options import MODE_META, MTIME_META, SHA256_META
from s3safe.transfer.ranged import CrcClaim, Follower, Progress, Ranges, crc_claim, own_crc_claim, write_range
from s3safe.transfer.single import TransferResult

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from s3safe.crypto._common import Transformer
    from s3safe.crypto.digest import PlaintextDigest
    from s3safe.storage.base import Download, ObjectStore
    from s3safe.transfer.encryption import Decryption

log = logging.getLogger("s3safe.transfer")

CHUNK = 1024 * 1024
SMALL_OBJECT = CHUNK  # up to this size an object is fetched into memory and written in one go
RANGED_MIN = 64 * CHUNK  # from this size a plain object arrives as parallel ranged GETs
RANGE_PART = 16 * CHUNK  # the smallest range
RANGE_PART_MAX = 32 * CHUNK  # the largest: each range is a request (~3 ms of botocore CPU where ranges are answered 200)
# what each range writes at a time: with memory short (8 GB held in tmpfs and dirty page cache), 1 GiB to ext4 in
# 1 MiB pwrites from 10 threads took 3.6 s and 2.6 system CPU-s against 1.3 s and 0.7 in 512 KiB ones (the kernel
# finding room for the larger writes' pages); with memory free, 1.00 s against 1.08 (in one process, medians of 6
# alternated runs, kernel 6.18)
RANGE_CHUNK = 512 * 1024
PROBE = CHUNK  # the run's first range, asked alone (does the server honour Range?) before the others go out
FOLLOW_MIN = 16 * CHUNK  # from this size a streamed object is hashed on a second thread, read back from the file


@dataclass(frozen=True, slots=True)
class Expected:
    """What the store says the bytes should be, from a listing or a HEAD."""

    size: int
    etag: str | None
    server_sha256_b64: str | None = None  # x-amz-checksum-sha256 of a single-part object
    sse: str | None = None
    sse_known: bool = False
    version_id: str | None = None  # that version of the object, not the current one
    # the HEAD these values came from, made just before for this one object: a ranged download takes its ETag,
    # metadata and checksums from it instead of asking again (`get` of one object made two identical HEADs)
    details: ObjectDetails | None = field(default=None, compare=False)


@dataclass(frozen=True, slots=True)
class Fetched:
    verified: str
    sha256_hex: str  # of what was written (the plaintext of an encrypted object); "" when a CRC verified it without one
    mtime: int | None  # nanoseconds
    decrypted: bool = False


def fetch_object(
    conn: Connection, bucket: str, key: str, target: Target | Path, *, expected: Expected,
    decryption: Decryption | None = None,
) -> Fetched:  # fmt: skip
    """GET one object into `target` atomically; IntegrityError (and no file) if it does not verify.

    An object s3safe encrypted is decrypted on the way (unless `decryption` is None or disabled): the
    ciphertext is checked as stored, the plaintext by the format's own authentication and the keyed digest.
    A character device or FIFO at the target is written into: a large object's bytes go out before they
    are verified (a small one is verified in memory first).
    """
    if isinstance(target, Path):
        dest = Destination(target.parent, create=False)
        try:
            place = dest.target([target.name])
            try:
                return fetch_object(conn, bucket, key, place, expected=expected, decryption=decryption)
            finally:
                place.release()
        finally:
            dest.close()

    storage = conn.objects
    url = f"s3://{bucket}/{key}"
    progress.sized(expected.size)
    # a small object is verified in memory and written by the one writer thread; a large one streams to
    # a temp file beside the target
    small = expected.size <= SMALL_OBJECT and conn.limiter is None
    if (expected.size >= RANGED_MIN and conn.limiter is None and not target.in_place and not conn.ignores_range
            and storage.features.supports_range):  # fmt: skip
        fetched = _fetch_ranged(conn, storage, bucket, key, target, expected=expected, decryption=decryption)
        if fetched is not None:
            return fetched
    written_to: Written | None = None
    content = b""
    try:
        if small:
            handle: BinaryIO = io.BytesIO()
        else:
            written_to = target.create(temp_name(target.name))
            handle = os.fdopen(written_to.fd, "wb", closefd=False)
        sha256, written = hashlib.sha256(), 0
        md5: Any = hashlib.md5(usedforsecurity=False)
        plain: _Plaintext | None = None
        hashes: _Hashes | None = None
        # one slot of the run's budget from the GET until its body was read
        with handle, conn.budget.request(), translated("download", bucket=bucket, key=key, sse_c=bool(conn.settings.sse_c_key)):
            result = _get(storage, url, bucket, key, version_id=expected.version_id)
            attributes = dict(result.attributes)
            fmt = attributes.get(ENCRYPTION_META)
            if decryption is not None:
                decryption.check_marked(fmt, url)
            if attributes.get(SHA256_META):
                md5 = _NoDigest()  # the stored SHA-256 decides; an MD5 pass would only cost CPU
            peer = _peer_check(storage, bucket, key, result.meta.get("e_tag"), attributes, version_id=expected.version_id)
            if fmt and decryption is not None and decryption.enabled:
                decryptor = decryption.decryptor(fmt, url)
                digest_key, signed_only = decryption.digest_check(fmt, bucket, attributes.get(DIGEST_META))
                plain = _Plaintext(decryptor, handle, digest_key=digest_key, signed_only=signed_only)
            # a large file written to disk is hashed back from it on a second thread as it grows: SHA-256
            # beside the transfer, not after each chunk of it
            follow = written_to is not None and plain is None and not target.in_place and expected.size >= FOLLOW_MIN
            hashes = _Hashes([sha256, md5, *([peer] if peer is not None else [])], fd=written_to.fd if follow and written_to else None,
                             size=expected.size)  # fmt: skip
            for data in _body(result, url, expected=expected.size):
                cancel.check()
                if conn.limiter:
                    conn.limiter.consume(len(data))
                progress.moved(len(data))
                if plain is not None:
                    plain.write(data)
                else:
                    handle.write(data)
                written += len(data)
                hashes.update(data, landed=written, flush=handle.flush)
            if plain is not None:
                plain.finish()
            hashes.finish(written)
            if isinstance(handle, io.BytesIO):
                content = handle.getvalue()
        verified = _verify(
            conn, url, expected, attributes, written=written, sha256=sha256.digest(), md5=md5.hexdigest(), peer=peer
        )
        if plain is not None:
            verified = f"{verified} of the ciphertext, {fmt} authentication{plain.check(attributes.get(DIGEST_META), url)}"
        mtime = stored_mtime(attributes.get(MTIME_META), url)
        mode = target.mode_for(attributes.get(MODE_META), url)
        if written_to is None:
            cancel.check()
            _writer().submit(_write_atomically, target, content, mtime=mtime, mode=mode).result()
        else:
            target.commit(written_to, mtime=mtime, mode=mode)
            if target.in_place:
                verified += f" (after writing: {target.path} is a device or FIFO, written in place)"
    except BaseException:
        if hashes is not None:
            hashes.abandon()
        if written_to is not None:
            target.discard(written_to)
        raise
    return Fetched(verified, (plain.sha256 if plain is not None else sha256).hexdigest(), mtime, decrypted=bool(plain))


class _Hashes:
    """The digests a streamed download feeds: in turn with each chunk, or (`fd`: a large file written to disk)
    on a Follower thread that reads the file back as it grows."""

    def __init__(self, digests: list[Any], *, fd: int | None, size: int) -> None:
        self._digests = digests
        self._progress = Progress(size) if fd is not None else None
        self._follower = Follower(fd, self._progress, digests) if fd is not None and self._progress is not None else None

    def update(self, data: memoryview, *, landed: int, flush: Callable[[], None]) -> None:
        if self._progress is None:
            for digest in self._digests:
                digest.update(data)
            return
        flush()  # what the follower reads back must be in the file
        self._progress.advance(landed)

    def finish(self, total: int) -> None:
        if self._follower is not None and self._progress is not None:
            self._progress.end(total)
            self._follower.finish()

    def abandon(self) -> None:
        if self._follower is not None:
            self._follower.abandon()


class Vanished(NotFoundError):
    """An object listed (or HEADed) a moment ago whose GET found nothing."""


def _get(storage: ObjectStore, url: str, bucket: str, key: str, **request: Any) -> Download:
    """The GET of an object that was just listed (or HEADed): not found means it went away meanwhile."""
    try:
        return storage.get(bucket, key, **request)
    except NotFoundError:
        raise Vanished(f"{url} no longer exists (deleted after it was listed); nothing was written",
                       hint="run again to restore what the prefix holds now") from None  # fmt: skip


def _fetch_ranged(
    conn: Connection, storage: ObjectStore, bucket: str, key: str, target: Target, *, expected: Expected,
    decryption: Decryption | None,
) -> Fetched | None:  # fmt: skip
    """A large object as parallel ranged GETs (on the run's part pool, within -t) written in place with pwrite.

    One HEAD first: the object's metadata, its ETag (every range asks If-Match on it, so a replaced object
    fails instead of mixing versions) and the checksums the server holds. Where one is a full-object CRC,
    each range's CRC is computed natively as it lands and the ranges' values are combined into the whole
    object's: that verifies the file, and without s3safe's own SHA-256 in the metadata no SHA-256 is computed.
    Otherwise (and for that SHA-256) a follower thread hashes the file in order as the ranges land (SHA-256,
    MD5, a peer's part checksums) and _verify decides as for a streamed object. None (nothing written): the
    object is to be decrypted (that streams in order), its size is not the listed one, or the server ignores
    Range.
    """
    if not via_obstore(conn, key):
        return None  # S3 fetches such a key (or any with SSE-C) through botocore: streamed whole, as it always was
    url = f"s3://{bucket}/{key}"
    details = expected.details or storage.head(bucket, key, version_id=expected.version_id)
    attributes = dict(details.metadata)
    if decryption is not None:
        decryption.check_marked(attributes.get(ENCRYPTION_META), url)
    if (attributes.get(ENCRYPTION_META) and decryption is not None and decryption.enabled) or details.size != expected.size:
        return None  # the streamed path decrypts, and reports a changed object
    own, server = own_crc_claim(attributes), crc_claim(details)
    # the ranges compute one CRC: s3safe's own algorithm when it recorded one (the server's value is checked beside
    # it when it is of the same algorithm), else the server's
    claims = [c for c in (own, server) if c is not None and c.algorithm == (own or c).algorithm]
    ranges = Ranges(expected.size, _range_part(expected.size, conn.settings.threads), first=PROBE if conn.ignores_range is None else None,
                    algorithm=claims[0].algorithm if claims else None)  # fmt: skip
    written_to = target.create(temp_name(target.name))
    try:
        os.ftruncate(written_to.fd, expected.size)
        # s3safe's SHA-256 is checked wherever it is stored (it vouches for what was uploaded) unless s3safe's CRC
        # does (see _verify_ranged); it and the other in-order checks run beside the ranges, on the follower thread
        sequential = own is None and (server is None or not server.settled or bool(attributes.get(SHA256_META)))
        checks = _Sequential(storage, details, attributes, version_id=expected.version_id) if sequential else None
        follower = Follower(written_to.fd, ranges, checks.digests) if checks is not None else None
        try:
            _get_ranges(conn, storage, url, written_to.fd, ranges, expected=expected, etag=details.etag)
        except BaseException:
            if follower is not None:
                follower.abandon()
            raise
        verified, sha256_hex = _verify_ranged(conn, url, expected, attributes, claims=claims, ranges=ranges, follower=follower,
                                              checks=checks)  # fmt: skip
        mtime = stored_mtime(attributes.get(MTIME_META), url)
        target.commit(written_to, mtime=mtime, mode=target.mode_for(attributes.get(MODE_META), url))
    except RangeIgnored:
        target.discard(written_to)
        log.debug("%s: the server ignores Range; streaming instead (and for the rest of this run)", url)
        return None
    except BaseException:
        target.discard(written_to)
        raise
    return Fetched(verified, sha256_hex, mtime)


def _range_part(size: int, threads: int) -> int:
    """At least two ranges for each request -t lets out (a slow range then holds up no other), from RANGE_PART
    to RANGE_PART_MAX bytes: 1 GiB at -t 10 goes in 32 ranges of 32 MiB (measured on rclone: a tenth of a CPU-second
    less than 64 of 16 MiB, the same wall time), 64 MiB in four of 16 MiB."""
    return max(RANGE_PART, min(RANGE_PART_MAX, -(-size // (2 * max(threads, 1)))))


class _Sequential:
    """The in-order checks of a ranged download that no combinable checksum settles: the follower feeds them."""

    def __init__(
        self, storage: ObjectStore, details: ObjectDetails, attributes: dict[str, str], *, version_id: str | None
    ) -> None:
        self.sha256 = hashlib.sha256()
        self.md5: Any = hashlib.md5(usedforsecurity=False) if not attributes.get(SHA256_META) else _NoDigest()
        self.peer = _peer_check_of(storage, details, attributes, version_id=version_id)
        self.digests: list[Any] = [self.sha256, self.md5] + ([self.peer] if self.peer is not None else [])


def _get_ranges(
    conn: Connection, storage: ObjectStore, url: str, fd: int, ranges: Ranges, *, expected: Expected, etag: str | None
) -> None:  # fmt: skip
    """Every range into place, in parallel within the run's budget; the first failure stops the rest. Each range
    asks If-Match on the ETag of the HEAD, so a replaced object fails instead of mixing versions; RangeIgnored
    (the server sent the whole object) goes up to _fetch_ranged, which streams instead."""
    bucket, _, key = url[5:].partition("/")
    failed = threading.Event()
    sse_c = bool(conn.settings.sse_c_key)

    def fetch(spec: tuple[int, int, int]) -> None:
        index, start, length = spec
        cancel.check()
        if failed.is_set():  # another range failed: do not fetch the rest
            return
        with conn.budget.request():  # from the GET until the range's last byte was written
            try:
                body = _get(storage, url, bucket, key, start=start, end=start + length, version_id=expected.version_id,
                            if_match=etag or None)  # fmt: skip
            except RangeIgnored:
                conn.ignores_range = True  # remembered for the run: later objects stream at once
                raise
            with translated("download", bucket=bucket, key=key, sse_c=sse_c):
                written, crc = write_range(fd, _body(body, url, expected=length, chunk=RANGE_CHUNK), offset=start, ranges=ranges)
        if written < length:
            raise IntegrityError(f"download of {url}: a range came back short; nothing was written")
        ranges.landed(index, crc)
        progress.moved(length)

    specs = ranges.specs()
    try:
        if conn.ignores_range is not False:
            # the run's first ranged download asks for one range alone: a server that ignores Range answers it
            # with the whole object, and no further ranges were sent in parallel to be wasted the same way. Also
            # when already True: another download found it out after this one decided to ask for ranges
            with conn.range_probe:
                if conn.ignores_range:
                    raise RangeIgnored(f"{url}: the server ignores Range")  # found out meanwhile by another download
                if conn.ignores_range is None:
                    fetch(next(specs))
                    conn.ignores_range = False
        for _ in conn.budget.map_parts(fetch, specs):
            pass
    except BaseException:
        failed.set()
        raise


def _verify_ranged(
    conn: Connection, url: str, expected: Expected, attributes: dict[str, str], *, claims: list[CrcClaim], ranges: Ranges,
    follower: Follower | None, checks: _Sequential | None,
) -> tuple[str, str]:  # fmt: skip
    """(how the file was verified, its SHA-256 hex or "" when a CRC settled it without one).

    s3safe's own CRC64NVME (recorded at upload from the same read of the file as its SHA-256) settles a download
    alone, with no SHA-256 pass, and is as strong as that pass against what the SHA-256 check meets. Both values
    are unkeyed and stored in the object's metadata, written by the same request as its bytes: whoever can replace
    the object can give either one that matches new bytes, so neither ever proved who wrote them (the keyed digest
    and the format's authentication of an encrypted upload do). What they catch is accidental damage between the
    uploader's read and this download's write: a bit flipped on a disk, in memory, on the wire or by a proxy; a
    range cut short, misplaced or served from another version (If-Match on every range stands against that too).
    CRC64NVME detects every error burst up to 64 bits long and misses other random damage once in 2^64, the check S3
    itself relies on end to end (its default full-object checksum since 2025). What a CRC does not resist is a
    deliberate change by someone who can alter stored bytes but not the metadata beside them (eight chosen bytes
    match any CRC; nothing matches a SHA-256): against that only client-side encryption defends, since such access
    to a store's backing files usually reaches its metadata as well.

    The SHA-256 hex this returned on that path went to the state cache's sha256 column (an entry is matched by size,
    mtime, ctime and ETag; that column is never compared) and to TransferResult.sha256_hex, which no download's
    caller reads: "" says that no SHA-256 was computed, as when the server's own full-object CRC settled it.
    """
    matched: CrcClaim | None = None
    combined = ranges.combined() if claims else None
    for claim in claims:
        if combined == claim.value:
            matched = matched or claim
        elif claim.settled:
            if follower is not None:
                follower.abandon()
            raise IntegrityError(f"download of {url} does not match its stored {claim.name}; nothing was written")
    by_crc = ""
    if matched is not None:
        whose = "s3safe's, " if matched.own else ""
        by_crc = f"{matched.algorithm.upper()} checksum ({whose}combined from {ranges.count} ranges)"
        if matched.own or not attributes.get(SHA256_META):
            if follower is not None:
                follower.abandon()
            return by_crc, ""
    assert follower is not None and checks is not None
    follower.finish()
    verified = _verify(conn, url, expected, attributes, written=expected.size, sha256=checks.sha256.digest(),
                       md5=checks.md5.hexdigest(), peer=checks.peer)  # fmt: skip
    return f"{by_crc} and {verified}" if by_crc else verified, checks.sha256.hexdigest()


def _longer(url: str, expected: int, promised: int | None = None) -> str:
    sent = f"the server sends {promised} bytes" if promised is not None else "the server sent more"
    return (f"download of {url} is longer than expected ({sent}, {expected} expected; the object may have "
            "changed since it was listed); nothing was written")  # fmt: skip


def _body(result: Download, url: str, *, expected: int, chunk: int = CHUNK) -> Iterator[memoryview]:
    """The body's chunks (of about `chunk` bytes), never more than `expected` bytes in all.

    A hostile or changed object must not cost memory or disk beyond what the listing promised, so a longer
    body fails as soon as it is announced (Content-Length / Content-Range), or at the first byte too many.
    """
    start, stop = result.range
    if stop - start > expected:
        raise IntegrityError(_longer(url, expected, stop - start))
    seen = 0
    for piece in result.stream(min_chunk_size=min(chunk, max(expected, 1))):
        data = memoryview(piece)
        seen += len(data)
        if seen > expected:
            raise IntegrityError(_longer(url, expected))
        yield data


class _NoDigest:
    def update(self, data: bytes | memoryview) -> None:
        pass

    def hexdigest(self) -> str:
        return ""


_WRITER: ContextPool | None = None
_WRITER_LOCK = threading.Lock()


def _writer() -> ContextPool:
    """One thread creates and renames the small files: creating files in one folder from many threads
    contends on the folder's lock in the kernel, and costs several times more than doing it in turn."""
    global _WRITER
    with _WRITER_LOCK:
        if _WRITER is None:
            # shared by the process's runs; each write runs in the run that asked for it (ContextPool)
            _WRITER = ContextPool(max_workers=1, thread_name_prefix="s3safe-writer")
        return _WRITER


def _write_atomically(target: Target, content: bytes, *, mtime: int | None, mode: int | None) -> None:
    written = target.create(temp_name(target.name))
    try:
        view = memoryview(content)
        while view:
            view = view[os.write(written.fd, view) :]
        target.commit(written, mtime=mtime, mode=mode)
    except OSError as exc:
        target.discard(written)
        raise local_error(exc, target.path, doing="write") from None
    except BaseException:
        target.discard(written)
        raise


class _Plaintext:
    """The decrypting side of a download: plaintext to the temp file, hashed for the cache and the digest."""

    def __init__(self, decryptor: Transformer, handle: BinaryIO, *, digest_key: bytes | None, signed_only: bool = False) -> None:
        from s3safe.crypto.digest import PlaintextDigest

        self.signed_only = signed_only  # no digest under `digest_key`: refuse once the format's checks passed
        self.decryptor = decryptor
        self.handle = handle
        self.sha256 = hashlib.sha256()
        self.digest: PlaintextDigest | None = PlaintextDigest(digest_key) if digest_key else None

    def _out(self, data: bytes) -> None:
        if data:
            self.handle.write(data)
            self.sha256.update(data)
            if self.digest is not None:
                self.digest.update(data)

    def write(self, data: memoryview) -> None:
        self._out(self.decryptor.update(bytes(data)))

    def finish(self) -> None:
        self._out(self.decryptor.finalize())

    def check(self, stored: str | None, url: str) -> str:
        """Compare the keyed digest when this run holds the key it was made with; say what was checked."""
        from s3safe.crypto.digest import same_digest

        if self.digest is None or not stored or stored.split(":")[1:2] != [self.digest.token().split(":")[1]]:
            if self.signed_only:
                raise IntegrityError(
                    f"{url} carries no valid plaintext digest under your digest key; it was not written (a ciphertext "
                    "alone does not show who made it: anyone holding your public age recipient could have)",
                    hint="pass --digest-key-file with the uploading host's key, or --allow-unsigned if you trust its origin",
                )
            return ""
        if not same_digest(stored, self.digest.token()):
            raise IntegrityError(
                f"download of {url}: the decrypted content does not match its stored digest; nothing was written"
            )
        return ", keyed plaintext digest"


def _peer_check(
    storage: ObjectStore, bucket: str, key: str, etag: str | None, attributes: dict[str, str], *, version_id: str | None = None
) -> EvidenceCheck | None:  # fmt: skip
    """For a multipart object another tool wrote (no s3safe digest): its stored checksums and multipart ETag,
    to check the bytes against as they arrive. The HEAD (and part HEAD) ask for the version just read."""
    if attributes.get(SHA256_META) or attributes.get(ENCRYPTION_META) or multipart_count(etag) is None or etag is None:
        return None
    try:
        details = storage.head(bucket, key, if_match=etag, version_id=version_id)
    except S3SafeError as exc:  # a store that refuses these HEADs: verified by size, as before
        log.debug("no stored checksums for s3://%s/%s: %s", bucket, key, exc)
        return None
    return _peer_check_of(storage, details, attributes, version_id=version_id)


def _peer_check_of(
    storage: ObjectStore, details: ObjectDetails, attributes: dict[str, str], *, version_id: str | None
) -> EvidenceCheck | None:  # fmt: skip
    """_peer_check with the object's HEAD (of `version_id`, when one is named) already made."""
    if attributes.get(SHA256_META) or attributes.get(ENCRYPTION_META) or multipart_count(details.etag) is None:
        return None
    try:
        evidence = server_evidence(storage, details, version_id=version_id)
    except S3SafeError as exc:
        log.debug("no part layout for s3://%s/%s: %s", details.bucket, details.key, exc)
        return None
    if evidence.empty or (evidence.needs_layout and evidence.parts is None):
        return None
    return EvidenceCheck(evidence)


def _verify(
    conn: Connection, url: str, expected: Expected, attributes: dict[str, str], *, written: int, sha256: bytes, md5: str,
    peer: EvidenceCheck | None = None,
) -> str:  # fmt: skip
    problem = f"download of {url} does not match its stored %s; nothing was written"
    if written != expected.size:
        raise IntegrityError(f"download of {url} got {written} bytes, expected {expected.size}; nothing was written")
    whole = attributes.get(SHA256_META)
    if whole:
        if whole.lower() != sha256.hex():
            raise IntegrityError(problem % "SHA-256 (s3safe metadata)")
        return "sha256"
    # a multipart object's checksum is a checksum of part checksums (moto omits the "-N" suffix AWS adds)
    multipart = "-" in (expected.etag or "")
    if expected.server_sha256_b64 and "-" not in expected.server_sha256_b64 and not multipart:
        if base64.b64decode(expected.server_sha256_b64) != sha256:
            raise IntegrityError(problem % "SHA-256 checksum")
        return "sha256"
    if peer is not None:
        same, what = peer.verdict()
        if same is False:
            raise IntegrityError(problem % what)
        if same:
            return what
    etag = (expected.etag or "").strip('"').lower()
    if len(etag) != 32 or "-" in etag:
        return "size"
    if etag == md5:
        return "md5"
    # A plain-looking ETag is not an MD5 under SSE-KMS or SSE-C; find out before crying corruption.
    sse = expected.sse
    if not expected.sse_known:
        bucket, _, key = url[5:].partition("/")
        sse = conn.objects.head(bucket, key, version_id=expected.version_id).sse_algorithm
    if sse in (None, "AES256"):
        raise IntegrityError(problem % "ETag (MD5)")
    return "size"


def _is_dir(path: Path) -> bool:
    try:
        return path.is_dir()
    except OSError:  # a folder on the way that cannot be entered: opening it below says so
        return False


def check_version_id(version_id: str | None) -> None:
    """An empty version id would be dropped from the request, reading the current version instead."""
    if version_id is not None and not version_id.strip():
        raise UsageError("--version-id is empty", hint="pass a version id from 'ls --versions', or leave the option out")


def _not_there(conn: Connection, source: S3Url, absent: NotFoundError, *, version_id: str | None) -> S3SafeError:
    """Why an object named on the command line is not there, as precisely as two more requests can tell: a HEAD's
    404 carries no body, so a missing bucket and a missing key look alike, and a folder name looks like a key."""
    if version_id is not None:
        return absent
    try:
        conn.admin.exists(source.bucket)
    except NotFoundError:
        return NotFoundError(f"not found: bucket s3://{source.bucket} does not exist", hint="check the bucket name ('s3safe ls' lists yours)")
    except S3SafeError:  # cannot tell: what the HEAD said stands
        return absent
    try:
        under = next(iter(conn.objects.iter_entries(source.bucket, source.key + "/", recursive=False)), None)
    except S3SafeError:
        return absent
    if under is not None:
        return NotFoundError(f"not found: object {source} does not exist; s3://{source.bucket}/{source.key}/ is a folder",
                             hint=f"add -r to download the folder: s3safe get -r s3://{source.bucket}/{source.key}/ DEST")  # fmt: skip
    return absent


def download_file(
    conn: Connection, source: S3Url, dest: Path | str, *, decryption: Decryption | None = None, special_bits: bool = False,
    version_id: str | None = None,
) -> TransferResult:  # fmt: skip
    """`get S3URL LOCAL` for one object (or, with `version_id`, one version of it): into a folder (keeping
    the name) or to a file path.

    LOCAL names a folder when it is one, or when it ends with a separator (created if missing). A link at
    LOCAL is replaced, never written through (a link planted there must not aim root's write elsewhere).
    """
    if source.is_prefix:
        raise UsageError(f"{source} names a folder", hint="add -r to download everything under it")
    check_version_id(version_id)
    as_folder = str(dest).endswith(("/", os.sep))
    dest = Path(dest)
    if as_folder or _is_dir(dest):
        folder, name = dest, source.name
        reason = unsafe_key_reason(name)
        if reason:
            raise UsageError(f"refusing key {source.key!r}: its file name {reason}")
    else:
        folder, name = dest.parent, dest.name
    place = Destination(folder, create=as_folder, special_bits=special_bits)
    try:
        try:
            details = conn.objects.head(source.bucket, source.key, version_id=version_id)
        except NotFoundError as absent:
            raise _not_there(conn, source, absent, version_id=version_id) from None
        expected = Expected(details.size, details.etag, details.checksums.get("sha256"), details.sse_algorithm, sse_known=True,
                            version_id=version_id, details=details)  # fmt: skip
        target = place.target([name])
        try:
            try:
                fetched = fetch_object(conn, source.bucket, source.key, target, expected=expected, decryption=decryption)
            except Vanished:
                # nothing was listed here: the user named one object, and it is not there (whatever a HEAD said)
                raise NotFoundError(f"not found: object {source} does not exist") from None
            size = target.stat().st_size if fetched.decrypted and not target.in_place else details.size
        finally:
            target.release()
    finally:
        place.close()
    return TransferResult("download", str(source), str(target.path), size, sse=details.sse_algorithm,
                          verified=fetched.verified, etag=details.etag, sha256_hex=fetched.sha256_hex)  # fmt: skip
