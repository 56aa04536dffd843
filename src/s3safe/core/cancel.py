"""Process-wide cancellation: Ctrl-C in the main thread tells worker threads to stop early.

Workers check between chunks and parts, so an interrupted run removes its temp files and exits
promptly instead of finishing every transfer already in flight.
"""

from __future__ import annotations

import threading

_CANCELLED = threading.Event()


class Cancelled(KeyboardInterrupt):
    """Raised in a worker when the run was interrupted; treated like Ctrl-C (exit 130)."""


def cancel() -> None:
    _CANCELLED.set()


def reset() -> None:
    _CANCELLED.clear()


def is_cancelled() -> bool:
    return _CANCELLED.is_set()


def check() -> None:
    if _CANCELLED.is_set():
        raise Cancelled()


def sleep(seconds: float) -> None:
    """Sleep that wakes up (and raises) as soon as the run is cancelled."""
    if _CANCELLED.wait(seconds):
        raise Cancelled()
