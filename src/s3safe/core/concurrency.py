"""Bounded parallel maps over streams: never more than a window of work submitted at once."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, wait
from typing import Any, TypeVar

from s3safe.core import cancel
from s3safe.core.context import ContextPool

T = TypeVar("T")
R = TypeVar("R")


def _stop(pending: Iterable[Future[Any]], exc: BaseException) -> None:
    """Drop what has not started. Only Ctrl-C also tells running workers to stop at their next chunk: that
    flag is the run's, and set by an ordinary error (or a consumer that stopped reading) it would make the
    run's next library call fail with Cancelled. Those workers finish their current item."""
    if isinstance(exc, KeyboardInterrupt):
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
        interrupted = isinstance(exc, KeyboardInterrupt)
        _stop(pending, exc)
        raise
    finally:
        _shutdown(pool, interrupted=interrupted)


def run_unordered(func: Callable[[T], R], items: Iterable[T], *, threads: int, window: int | None = None) -> Iterator[R]:
    """Like run_bounded, but yields each result as soon as it is ready (no head-of-line wait)."""
    window = window or threads * 4
    pool = ContextPool(max_workers=threads)  # workers run in the caller's run (cancel flag, secrets)
    pending: set[Future[R]] = set()
    interrupted = False
    try:
        for item in items:
            pending.add(pool.submit(func, item))
            if len(pending) >= window:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    yield future.result()
        while pending:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for future in done:
                yield future.result()
    except BaseException as exc:
        interrupted = isinstance(exc, KeyboardInterrupt)
        _stop(pending, exc)
        raise
    finally:
        _shutdown(pool, interrupted=interrupted)
