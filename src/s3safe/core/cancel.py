"""Cancellation of the current run: Ctrl-C in the main thread tells that run's worker threads to stop early.

The flag belongs to the run (core/context.py), not to the process: cancelling one operation leaves another
running in the same process alone. Workers check between chunks and parts, so an interrupted run removes
its temp files and exits promptly instead of finishing every transfer already in flight.
"""

from __future__ import annotations

import threading

from s3safe.core.context import current


class Cancelled(KeyboardInterrupt):
    """Raised in a worker when the run was interrupted; treated like Ctrl-C (exit 130)."""


def _flag() -> threading.Event:
    return current().cancelled


def cancel() -> None:
    _flag().set()


def reset() -> None:
    _flag().clear()


def is_cancelled() -> bool:
    return _flag().is_set()


def check() -> None:
    if _flag().is_set():
        raise Cancelled()


def sleep(seconds: float) -> None:
    """Sleep that wakes up (and raises) as soon as the run is cancelled."""
    if _flag().wait(seconds):
        raise Cancelled()
