"""Live counts of one transfer, for whoever shows them: the library updates a TransferProgress from any thread, the
CLI reads snapshots of it (it never prints from here).

A transfer that is given one (`progress=` of upload_tree, download_tree, …) counts each planned file and its size as
the plan streams, marks the plan complete when the listing is exhausted (until then the totals are "so far"), and
wraps each file in `file()`. Bytes are reported where they move (the request body's reads, each part, each chunk of
a download) through the module function `moved`, which finds the file through a context variable: the thread pools
run each task in a copy of the submitter's context (core/context.py), so a part uploaded by another thread still
counts for its file. A path that moves a whole body in one call (obstore) is credited when the file finishes.
"""

from __future__ import annotations

import contextvars
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import BinaryIO, TypeVar, cast

from s3safe.core.models import ActionResult

T = TypeVar("T")


UNSIZED = -1  # the size of a FileProgress that is a stream, known only at its end


@dataclass
class FileProgress:
    name: str
    size: int
    done: int = 0
    ok: bool = True  # the caller sets False for a file that failed without raising


@dataclass(frozen=True)
class ProgressSnapshot:
    files_total: int
    files_done: int
    failed: int
    bytes_total: int
    bytes_done: int
    planned: bool  # the listing is complete: the totals are final
    in_flight: tuple[FileProgress, ...] = field(default=())
    elapsed: float = 0.0

    @property
    def percent(self) -> float | None:
        if not self.planned or not self.bytes_total:
            return None
        return min(100.0, 100.0 * self.bytes_done / self.bytes_total)


class TransferProgress:
    """Thread-safe counters of one transfer."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._started = time.monotonic()
        self.files_total = self.files_done = self.failed = 0
        self.bytes_total = self.bytes_done = 0
        self.plan_complete = False
        self._in_flight: dict[int, FileProgress] = {}

    def plan(self, items: Iterable[T], *, size_of: Callable[[T], int]) -> Iterator[T]:
        """Pass a streamed plan through, counting each item and its size; the end of it completes the totals."""
        for item in items:
            with self._lock:
                self.files_total += 1
                self.bytes_total += max(0, size_of(item))
            yield item
        self.plan_complete = True

    @contextmanager
    def file(self, name: str, size: int) -> Iterator[FileProgress]:
        """One file in flight; bytes `moved` inside the block count for it. An exception, or `ok` set False, makes it
        a failure (its bytes no longer count as done)."""
        entry = FileProgress(name, size)
        token = _FILE.set((self, entry))
        with self._lock:
            self._in_flight[id(entry)] = entry
        try:
            yield entry
        except BaseException:
            entry.ok = False
            raise
        finally:
            _FILE.reset(token)
            with self._lock:
                del self._in_flight[id(entry)]
                if entry.ok:
                    self.files_done += 1
                    self.bytes_done += max(0, entry.size - entry.done)  # what moved in one call, uncounted so far
                else:
                    self.failed += 1
                    self.bytes_done -= entry.done

    def _moved(self, entry: FileProgress, amount: int) -> None:
        if entry.size == UNSIZED:  # standard input under a bandwidth limit: its size is known only at the end
            self.streamed(amount)
            return
        with self._lock:
            # a retried body is read again: the file never counts for more than its size
            amount = max(0, min(amount, entry.size - entry.done))
            entry.done += amount
            self.bytes_done += amount

    def _resize(self, entry: FileProgress, size: int) -> None:
        with self._lock:
            self.bytes_total += max(0, size) - entry.size
            entry.size = max(0, size)

    def streamed(self, amount: int) -> None:
        """`amount` more bytes of a transfer whose size is known only at its end (standard input)."""
        with self._lock:
            self.bytes_done += amount
            self.bytes_total += amount

    def snapshot(self) -> ProgressSnapshot:
        with self._lock:
            flying = tuple(FileProgress(f.name, f.size, f.done) for f in self._in_flight.values())
            return ProgressSnapshot(self.files_total, self.files_done, self.failed, self.bytes_total, self.bytes_done,
                                    self.plan_complete, flying, time.monotonic() - self._started)  # fmt: skip


_FILE: contextvars.ContextVar[tuple[TransferProgress, FileProgress] | None] = contextvars.ContextVar("s3safe_progress_file", default=None)


def moved(amount: int) -> None:
    """`amount` bytes of the current file went over the wire (nothing when no progress is watched)."""
    current = _FILE.get()
    if current is not None:
        current[0]._moved(current[1], amount)


def watching(progress: TransferProgress | None, execute: Callable[[T], ActionResult], *, name_of: Callable[[T], str],
             size_of: Callable[[T], int]) -> Callable[[T], ActionResult]:  # fmt: skip
    """`execute` (one item's transfer), counted as one file of `progress` (unchanged without one)."""
    if progress is None:
        return execute
    watched = progress

    def run(item: T) -> ActionResult:
        with watched.file(name_of(item), size_of(item)) as entry:
            result = execute(item)
            entry.ok = result.ok
        return result

    return run


def sized(size: int) -> None:
    """The current file's size, learnt only once its transfer began (a single download's HEAD)."""
    current = _FILE.get()
    if current is not None:
        current[0]._resize(current[1], size)


class CountingReader:
    """A binary stream of unknown length (standard input), each read counted as `streamed` bytes of `progress`."""

    def __init__(self, source: BinaryIO, progress: TransferProgress) -> None:
        self._source = source
        self._progress = progress

    def read(self, size: int = -1) -> bytes:
        data = self._source.read(size)
        self._progress.streamed(len(data))
        return data

    def readinto(self, view: memoryview) -> int:
        # readinto1: what the pipe has now (readinto would wait to fill the whole view before anything is counted)
        read = getattr(self._source, "readinto1", None) or getattr(self._source, "readinto")  # noqa: B009 (BinaryIO declares neither)
        got = read(view)
        self._progress.streamed(got or 0)
        return int(got or 0)


@contextmanager
def counting_stream(source: BinaryIO, progress: TransferProgress, *, limited: bool) -> Iterator[BinaryIO]:
    """Standard input as an upload reads it, its bytes counted where they move: as they are read, or, under a
    bandwidth limit, as the limiter lets them through (`pay` reports them, as it does a file's): counted as read,
    a 2 MB stream would show done in a second and then sit there while the limiter sends it."""
    if not limited:
        yield cast(BinaryIO, CountingReader(source, progress))  # read and readinto: what an upload calls
        return
    token = _FILE.set((progress, FileProgress("-", UNSIZED)))
    try:
        yield source
    finally:
        _FILE.reset(token)
