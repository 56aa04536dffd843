"""Bounded parallel maps over streams (never more than a window of work submitted at once), and the run's
Budget: one cap on requests in flight and on bytes buffered, shared by file-level and part-level work."""

from __future__ import annotations

import queue
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, wait
from contextlib import contextmanager
from typing import Any, TypeVar

from s3safe.core import cancel
from s3safe.core.context import ContextPool
from s3safe.core.context import thread as context_thread

T = TypeVar("T")
R = TypeVar("R")


def _stop(pending: Iterable[Future[Any]], exc: BaseException) -> None:
    """Drop what has not started. Only Ctrl-C also tells running workers to stop at their next chunk: that
    flag is the run's, and set by an ordinary error (or a consumer that stopped reading) it would make the
    run's next library call fail with Cancelled. Those workers finish their current item."""
    if _interrupted(exc):
        cancel.cancel()
    for future in pending:
        future.cancel()


def _shutdown(pool: ContextPool, *, interrupted: bool) -> None:
    """Wait for the workers, except after Ctrl-C: one blocked in a system call (writing into a FIFO nobody
    reads) never sees the cancel flag, and waiting for it would make the interrupt hang the run."""
    pool.shutdown(wait=not interrupted, cancel_futures=interrupted)


def run_bounded(func: Callable[[T], R], items: Iterable[T], *, threads: int, window: int | None = None) -> Iterator[R]:
    """Map `func` over a stream with at most `window` calls in flight, yielding results in order.

    Unlike Executor.map, this never submits the whole stream up front, so memory stays flat.
    """
    window = window or threads * 4
    pool = ContextPool(max_workers=threads)  # workers run in the caller's run (cancel flag, secrets)
    pending: deque[Future[R]] = deque()
    interrupted = False
    try:
        for item in items:
            pending.append(pool.submit(func, item))
            if len(pending) >= window:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
    except BaseException as exc:
        interrupted = _interrupted(exc)
        _stop(pending, exc)
        raise
    finally:
        _shutdown(pool, interrupted=interrupted)


def run_unordered(func: Callable[[T], R], items: Iterable[T], *, threads: int, window: int | None = None) -> Iterator[R]:
    """Like run_bounded, but yields each result as soon as it is ready (no head-of-line wait).

    Finished futures arrive on a queue (each puts itself there when done): waiting costs the same whatever
    the window, where `concurrent.futures.wait` hooked a waiter into every pending future for each result."""
    window = window or threads * 4
    pool = ContextPool(max_workers=threads)  # workers run in the caller's run (cancel flag, secrets)
    pending: set[Future[R]] = set()
    finished: queue.SimpleQueue[Future[R]] = queue.SimpleQueue()
    interrupted = False
    try:
        for item in items:
            future = pool.submit(func, item)
            pending.add(future)
            future.add_done_callback(finished.put)
            if len(pending) >= window:
                yield _next_finished(finished, pending)
        while pending:
            yield _next_finished(finished, pending)
    except BaseException as exc:
        interrupted = _interrupted(exc)
        _stop(pending, exc)
        raise
    finally:
        _shutdown(pool, interrupted=interrupted)


PREFETCH_CHUNK = 1000  # items handed over at once: one listing page (a queue per item would cost more than it saves)
_DONE = object()


def prefetched(source: Iterator[T], *, chunks: int = 2, name: str = "prefetch") -> Iterator[T]:
    """`source`, read ahead by a thread of its own, at most `chunks` chunks of PREFETCH_CHUNK items ahead: a
    listing's next page is fetched while this one is compared (the server's time per page overlaps the
    client's). Items come in the same order; the source's exception is raised here, where the next item would
    have been; a caller that stops early (or Ctrl-C) stops the thread at its next item, and the thread closes
    the source it opened."""
    handoff: queue.Queue[Any] = queue.Queue(maxsize=max(1, chunks))
    stop = threading.Event()

    def hand(chunk: Any) -> bool:
        while not stop.is_set():
            try:
                handoff.put(chunk, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        chunk: list[T] = []
        try:
            for item in source:
                chunk.append(item)
                if len(chunk) >= PREFETCH_CHUNK:
                    if not hand(chunk):
                        return
                    chunk = []
                if stop.is_set():
                    return
            if hand(chunk):
                hand(_DONE)
        except BaseException as exc:  # handed to the consumer, which raises it after the items read before it
            if not chunk or hand(chunk):
                hand(exc)
        finally:
            close = getattr(source, "close", None)
            if close is not None:
                close()

    worker = context_thread(produce, name=name, daemon=True)
    worker.start()
    try:
        while True:
            chunk = handoff.get()
            if chunk is _DONE:
                return
            if isinstance(chunk, BaseException):
                raise chunk
            yield from chunk
    finally:
        stop.set()


def together(calls: dict[str, Callable[[], Any]], *, threads: int) -> dict[str, Future[Any]]:
    """Independent calls run at once, at most `threads` at a time (the first in this thread), each one's outcome
    kept in a done Future: the caller takes `.result()` where it needs the value, so an exception is raised
    where the call would have raised had they run one after another. Ctrl-C in this thread stops what has not
    started."""
    names = list(calls)
    outcomes: dict[str, Future[Any]] = {}
    helpers = min(len(names), max(1, threads)) - 1
    pool = ContextPool(max_workers=helpers) if helpers else None
    interrupted = False
    try:
        if pool is not None:  # the rest start first, so that all are under way while the first runs here
            outcomes.update({name: pool.submit(calls[name]) for name in names[1:]})
        for name in names if pool is None else names[:1]:
            outcomes[name] = _ran(calls[name])
        wait(outcomes.values())
    except BaseException as exc:
        interrupted = _interrupted(exc)
        _stop(outcomes.values(), exc)
        raise
    finally:
        if pool is not None:
            _shutdown(pool, interrupted=interrupted)
    return {name: outcomes[name] for name in names}


def _ran(call: Callable[[], R]) -> Future[R]:
    done: Future[R] = Future()
    try:
        done.set_result(call())
    except Exception as exc:  # kept for the caller to raise where it needs the value
        done.set_exception(exc)
    return done


def _interrupted(exc: BaseException) -> bool:
    """Ctrl-C reached this generator, or reached its consumer, which set the run's cancel flag and then dropped
    the generator (GeneratorExit): either way the workers are told to stop and are not waited for. The shell
    waited for a throttled download to finish after Ctrl-C when the interrupt came while a result was shown."""
    return isinstance(exc, KeyboardInterrupt) or (isinstance(exc, GeneratorExit) and cancel.is_cancelled())


def _next_finished(finished: queue.SimpleQueue[Future[R]], pending: set[Future[R]]) -> R:
    future = finished.get()
    pending.discard(future)
    return future.result()


MEMORY_PER_REQUEST = 16 * 1024**2  # room for one part of the default size (8 MiB) being read or sent, twice over
MIN_MEMORY = 64 * 1024**2
_SLOT_WAIT = 0.25  # seconds between looks at the cancel flag while waiting for a slot


class Budget:
    """One run's limits, shared by file-level and part-level work: requests in flight and bytes buffered.

    Every request takes a slot for as long as it is on the wire (body included); a thread that already
    holds one does not take another (a HEAD made while a GET streams), so nesting cannot deadlock. Part-level
    work (ranges of a download, parts of an upload) runs on one pool per run, never on a pool per file: a file
    worker hands its parts to it and waits holding no slot, so `-t N` means N requests whatever mix of files
    and parts is running. Bytes buffered (parts read into memory) are capped the same way.
    """

    def __init__(self, requests: int, *, memory: int | None = None) -> None:
        self.requests = max(1, requests)
        self.memory = memory or max(MIN_MEMORY, self.requests * MEMORY_PER_REQUEST)
        self._slots = threading.Semaphore(self.requests)
        self._local = threading.local()
        self._bytes = threading.Condition()
        self._buffered = 0
        self._pool: ContextPool | None = None
        self._pool_lock = threading.Lock()

    # --- requests in flight ------------------------------------------------------------------------
    @property
    def holding(self) -> bool:
        """Whether this thread holds a request slot."""
        return bool(getattr(self._local, "depth", 0))

    def enter(self) -> None:
        """Take a slot (unless this thread holds one): waits, and stops at Ctrl-C."""
        depth = getattr(self._local, "depth", 0)
        if depth == 0:
            while not self._slots.acquire(timeout=_SLOT_WAIT):
                cancel.check()
        self._local.depth = depth + 1

    def exit(self) -> None:
        depth = getattr(self._local, "depth", 0) - 1
        if depth < 0:
            return
        self._local.depth = depth
        if depth == 0:
            self._slots.release()

    @contextmanager
    def request(self) -> Iterator[None]:
        """Hold a slot for one request, from before it is sent until its body was read."""
        self.enter()
        try:
            yield
        finally:
            self.exit()

    def hook_enter(self, **_: Any) -> None:
        """botocore's before-send: every attempt of every client request takes a slot (never raises)."""
        entered = True
        try:
            self.enter()
        except BaseException:  # cancelled while waiting: the request goes out and fails on its own
            entered = False
        stack: list[bool] = self._local.__dict__.setdefault("hooks", [])
        stack.append(entered)

    def hook_exit(self, **_: Any) -> None:
        """botocore's response-received (sent after every attempt, failed ones too)."""
        stack: list[bool] = self._local.__dict__.setdefault("hooks", [])
        if stack and stack.pop():
            self.exit()

    # --- bytes buffered ----------------------------------------------------------------------------
    @contextmanager
    def buffer(self, size: int) -> Iterator[None]:
        """Hold `size` bytes of the memory budget; a request larger than the whole budget waits until it is
        alone, so one huge part still goes (and nothing else is buffered meanwhile)."""
        held = self.hold(size)
        try:
            yield
        finally:
            self.release(held)

    def hold(self, size: int) -> int:
        """Take `size` bytes of the memory budget (waits; stops at Ctrl-C); what was taken, for release(): for
        a buffer that outlives one block of code, such as a part read now and sent by another thread later."""
        size = min(max(0, size), self.memory)
        with self._bytes:
            while self._buffered and self._buffered + size > self.memory:
                self._bytes.wait(_SLOT_WAIT)
                cancel.check()
            self._buffered += size
        return size

    def release(self, held: int) -> None:
        with self._bytes:
            self._buffered -= held
            self._bytes.notify_all()

    @property
    def buffered(self) -> int:
        """Bytes of the memory budget held right now."""
        with self._bytes:
            return self._buffered

    # --- part-level work ---------------------------------------------------------------------------
    def _parts_pool(self) -> ContextPool:
        with self._pool_lock:
            if self._pool is None:
                self._pool = ContextPool(max_workers=self.requests, thread_name_prefix="s3safe-part")
            return self._pool

    def submit(self, func: Callable[..., R], /, *args: Any) -> Future[R]:
        """One part-level task on the run's part pool (the caller bounds how many it keeps queued); like every
        task there, it runs in the submitting thread's run (cancel flag, secrets)."""
        return self._parts_pool().submit(func, *args)

    def map_parts(self, func: Callable[[T], R], items: Iterable[T]) -> Iterator[R]:
        """`func` over the parts of one file on the run's part pool, results in order; a few parts queued
        ahead, never the whole file. On a failure the queued parts are dropped and the running ones awaited
        (they may be writing into a file the caller closes next). A caller that holds a slot runs them in
        turn itself: waiting for slots while holding one could wait forever."""
        if self.holding:
            yield from (func(item) for item in items)
            return
        pool = self._parts_pool()
        window = self.requests * 2
        pending: deque[Future[R]] = deque()
        try:
            for item in items:
                cancel.check()
                pending.append(pool.submit(func, item))
                if len(pending) >= window:
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()
        except BaseException as exc:
            if isinstance(exc, KeyboardInterrupt):
                cancel.cancel()
            for future in pending:
                future.cancel()
            if not isinstance(exc, KeyboardInterrupt):
                wait(pending)
            raise

    def close(self) -> None:
        with self._pool_lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)
