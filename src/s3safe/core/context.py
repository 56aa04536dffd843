"""The run context: what one operation owns that used to be process-wide state.

A RunContext stands for one operation (one CLI command, or one library call a program wraps in
`running()`): its cancel flag (core/cancel.py), the once-per-run warnings it gave (crypto/keys.py) and, keyed by it, the secrets it registered (core/redact.py)
and its saved-profile selection (auth/selection.py). Two operations in one process, each in its own
`running()` block, neither cancel nor unmask each other.

It travels in a context variable rather than through every signature. Threads do not inherit context
variables, so every thread pool in the library is a ContextPool, which runs each task in a copy of the
submitter's context; code outside any `running()` block uses ROOT, the process's own run (what the CLI
uses, and what everything used before run contexts existed).
"""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")


class RunContext:
    """One operation's state. Compared by identity; other modules key their per-run state on it."""

    __slots__ = ("__weakref__", "cancelled", "loose_ends", "name", "warned")

    def __init__(self, name: str = "run") -> None:
        self.name = name
        self.cancelled = threading.Event()
        # warnings given once per run (each warner picks its own keys): a CLI command that reads the same
        # file twice warns once, and a second run in the same process warns again
        self.warned: set[str] = set()
        # what a request still unanswered may leave behind, said if the run is interrupted meanwhile (loose_end)
        self.loose_ends: dict[int, str] = {}

    def __repr__(self) -> str:
        return f"RunContext({self.name!r}, cancelled={self.cancelled.is_set()})"


@contextmanager
def loose_end(note: str) -> Iterator[None]:
    """For the block: `note` says what it may leave behind if the run is interrupted while it runs (a request whose
    answer has not come yet cannot be undone then); an interrupted command shows the notes still open."""
    ends = current().loose_ends
    token = id(object())
    ends[token] = note
    try:
        yield
    finally:
        ends.pop(token, None)


ROOT = RunContext("process")
_CURRENT: contextvars.ContextVar[RunContext | None] = contextvars.ContextVar("s3safe_run", default=None)


def current() -> RunContext:
    return _CURRENT.get() or ROOT


@contextmanager
def running(run: RunContext | None = None) -> Iterator[RunContext]:
    """Make `run` (a new one if None) the current run of this thread's context for the block."""
    run = run if run is not None else RunContext()
    token = _CURRENT.set(run)
    try:
        yield run
    finally:
        _CURRENT.reset(token)


def thread(target: Callable[[], object], *, name: str, daemon: bool = False) -> threading.Thread:
    """A thread (not started) that runs `target` in a copy of the creating thread's context (so in its run)."""
    context = contextvars.copy_context()
    return threading.Thread(target=context.run, args=(target,), name=name, daemon=daemon)


class ContextPool(ThreadPoolExecutor):
    """A thread pool whose tasks run in a copy of the submitting thread's context (so in its run)."""

    def submit(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> Future[T]:
        context = contextvars.copy_context()  # one copy per task: a Context cannot be entered by two threads

        def task() -> T:
            return context.run(fn, *args, **kwargs)

        return super().submit(task)
