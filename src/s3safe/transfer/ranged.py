"""The pieces of a large download fetched as parallel ranged GETs: where each range goes, a CRC of each range
computed natively as its bytes are written (awscrt releases the GIL), the full-object value combined from the
ranges' values (O(ranges), not O(bytes)), and a follower thread that hashes the file in order (SHA-256, MD5,
a peer's part checksums) as the ranges before it land, for objects no combinable checksum describes.

No bytes are copied in Python: each chunk obstore hands over is written with os.pwrite at its offset and fed to
the CRC as the same buffer; the follower reads back into one reused buffer.
"""

from __future__ import annotations

import base64
import os
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from s3safe.core import cancel, context
from s3safe.core.models import ObjectDetails
from s3safe.transfer.checksums import CRC_ALGORITHMS, Claim, evidence_of
from s3safe.transfer.options import CRC64NVME_META

CHUNK = 1024 * 1024
_CRC_BYTES = {"crc32": 4, "crc32c": 4, "crc64nvme": 8}


class Digest(Protocol):
    def update(self, data: bytes | memoryview, /) -> None: ...


@dataclass(frozen=True, slots=True)
class CrcClaim:
    """A full-object CRC the server holds; `settled`: the HEAD said FULL_OBJECT (or it is CRC64NVME, which S3
    only ever stores whole), so a mismatch is corruption. Unsettled (moto's multipart objects carry no type),
    a mismatch only means the value may be a composite one, and the bytes are checked another way."""

    algorithm: str
    value: bytes
    settled: bool
    own: bool = False  # s3safe's (CRC64NVME_META, recorded at upload), not the server's

    @property
    def name(self) -> str:
        return f"{self.algorithm.upper()} checksum" + (" (s3safe metadata)" if self.own else "")


def crc_claim(details: ObjectDetails) -> CrcClaim | None:
    """The full-object CRC in a HEAD (asked with checksum mode), CRC64NVME first; None when there is none."""
    claims: list[Claim] = list(evidence_of(details).claims)
    for algorithm in CRC_ALGORITHMS:
        forms = [c for c in claims if c.algorithm == algorithm]
        whole = [c for c in forms if not c.composite]
        value = _crc_value(whole[0].value, algorithm) if whole else None
        if value is not None:
            return CrcClaim(algorithm, value, settled=len(forms) == 1)
    return None


def _crc_value(text: str, algorithm: str) -> bytes | None:
    """A CRC as S3 writes it (base64 of its bytes); None when malformed or of another length."""
    try:
        value = base64.b64decode(text, validate=True)
    except ValueError:
        return None
    return value if len(value) == _CRC_BYTES[algorithm] else None


def own_crc_claim(metadata: Mapping[str, str]) -> CrcClaim | None:
    """s3safe's CRC64NVME of the whole file, recorded at upload; None when absent or malformed (the object is then
    checked as one without it). Settled: it was computed over the whole file, never over parts."""
    recorded = metadata.get(CRC64NVME_META)
    value = _crc_value(recorded, "crc64nvme") if recorded else None
    return CrcClaim("crc64nvme", value, settled=True, own=True) if value is not None else None


def _crc_functions(algorithm: str) -> tuple[Callable[[Any, int], int], Callable[[int, int, int], int]]:
    import awscrt.checksums  # type: ignore[import-untyped]  # the CRCs botocore uses, in C

    return getattr(awscrt.checksums, algorithm), getattr(awscrt.checksums, f"combine_{algorithm}")


class Ranges:
    """The ranges of one object: their specs, their CRCs, and the frontier below which every byte has landed.

    Ranges of `part` bytes (the last one shorter); `first`, when smaller than `part`, splits the first one in two,
    [0, first) and [first, part): the run's probe, asked alone before any other range goes out, then costs a
    round trip of `first` bytes instead of one of a whole range."""

    def __init__(self, size: int, part: int, *, algorithm: str | None, first: int | None = None) -> None:
        self.size = size
        self.part = part
        self.algorithm = algorithm
        self._crc: Callable[[Any, int], int] | None = None
        self._combine: Callable[[int, int, int], int] | None = None
        if algorithm:
            self._crc, self._combine = _crc_functions(algorithm)
        split = [first] if first is not None and 0 < first < min(part, size) else []
        self._starts = [0, *split, *range(part, size, part)]
        self.count = len(self._starts)
        self._crcs: list[int | None] = [None] * self.count
        self._landed = [False] * self.count
        self._next = 0  # first range not landed
        self._cond = threading.Condition()
        self._stopped = False

    def specs(self) -> Iterator[tuple[int, int, int]]:
        """(index, start, length) of every range, in order."""
        for index, start in enumerate(self._starts):
            stop = self._starts[index + 1] if index + 1 < self.count else self.size
            yield index, start, stop - start

    def crc_of(self, value: int, data: memoryview) -> int:
        assert self._crc is not None
        return self._crc(data, value)

    @property
    def computes_crc(self) -> bool:
        return self._crc is not None

    def landed(self, index: int, crc: int | None) -> None:
        with self._cond:
            self._crcs[index] = crc
            self._landed[index] = True
            while self._next < self.count and self._landed[self._next]:
                self._next += 1
            self._cond.notify_all()

    def stop(self) -> None:
        """A range failed: the follower stops waiting."""
        with self._cond:
            self._stopped = True
            self._cond.notify_all()

    def wait_frontier(self, beyond: int) -> int:
        """The offset below which every byte has landed, once it is past `beyond` (or all landed, or stopped)."""
        with self._cond:
            while not self._stopped and self._frontier() <= beyond < self.size:
                self._cond.wait(0.5)
                cancel.check()
            return -1 if self._stopped else self._frontier()

    def _frontier(self) -> int:
        return self._starts[self._next] if self._next < self.count else self.size

    def combined(self) -> bytes:
        """The whole object's CRC, from the ranges' CRCs (all must have landed)."""
        assert self._combine is not None and self.algorithm is not None
        total: int | None = None
        for index, _start, length in self.specs():
            crc = self._crcs[index]
            assert crc is not None
            total = crc if total is None else self._combine(total, crc, length)
        return (total or 0).to_bytes(_CRC_BYTES[self.algorithm], "big")


class Progress:
    """How far a file written in order has landed, for a Follower (a streamed download: no ranges)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._landed = 0
        self._cond = threading.Condition()
        self._stopped = False

    def advance(self, landed: int) -> None:
        with self._cond:
            self._landed = landed
            self._cond.notify_all()

    def end(self, total: int) -> None:
        """The body ended at `total` bytes (fewer than promised: _verify reports that)."""
        with self._cond:
            self.size = min(self.size, total)
            self._landed = total
            self._cond.notify_all()

    def stop(self) -> None:
        with self._cond:
            self._stopped = True
            self._cond.notify_all()

    def wait_frontier(self, beyond: int) -> int:
        with self._cond:
            while not self._stopped and self._landed <= beyond < self.size:
                self._cond.wait(0.5)
                cancel.check()
            return -1 if self._stopped else min(self._landed, self.size)


class Landing(Protocol):
    """What a Follower follows: Ranges or Progress."""

    size: int

    def wait_frontier(self, beyond: int) -> int: ...

    def stop(self) -> None: ...


def write_range(fd: int, chunks: Iterator[memoryview], *, offset: int, ranges: Ranges) -> tuple[int, int | None]:
    """Write one range's chunks in place; (bytes written, the range's CRC when the ranges compute one)."""
    written, crc = 0, 0 if ranges.computes_crc else None
    for data in chunks:
        cancel.check()
        os.pwrite(fd, data, offset + written)  # a short pwrite only happens on a full disk, which raises
        if crc is not None:
            crc = ranges.crc_of(crc, data)
        written += len(data)
    return written, crc


class Follower:
    """Hashes the file in order on its own thread as the ranges before each byte land: SHA-256 and the other
    sequential checks run beside the downloads instead of after them."""

    def __init__(self, fd: int, ranges: Landing, digests: list[Digest]) -> None:
        self._fd = fd
        self._ranges = ranges
        self._digests = digests
        self._error: BaseException | None = None
        self._thread = context.thread(self._run, name="s3safe-hash", daemon=True)  # in the run that downloads
        self._thread.start()

    def _run(self) -> None:
        buffer = bytearray(CHUNK)
        view = memoryview(buffer)
        position = 0
        try:
            while position < self._ranges.size:
                frontier = self._ranges.wait_frontier(position)
                if frontier < 0:
                    return
                while position < frontier:
                    got = os.preadv(self._fd, [view[: min(CHUNK, frontier - position)]], position)
                    if got <= 0:
                        raise OSError(f"the temp file ended at {position} bytes while being checked")
                    for digest in self._digests:
                        digest.update(view[:got])
                    position += got
        except BaseException as exc:  # handed to finish(), in the caller's thread
            self._error = exc

    def finish(self) -> None:
        """Wait until every byte was hashed; re-raise what stopped the thread."""
        self._thread.join()
        if self._error is not None:
            raise self._error

    def abandon(self) -> None:
        self._ranges.stop()
        self._thread.join()
