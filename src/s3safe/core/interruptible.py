"""Long work in native code (a DuckDB query) that Ctrl-C or SIGTERM must stop.

Python runs signal handlers in the main thread between bytecodes, so a query running inside one C call
would only see Ctrl-C when it ends (minutes later). The work runs in a helper thread instead; the main
thread waits in short steps, and when the interrupt arrives it asks the engine to stop (`interrupt`),
waits for the helper to return, and lets the interrupt go on (cleanup then runs as usual).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

from s3safe.core import context

T = TypeVar("T")
_STEP_SECONDS = 0.2


def run_interruptible(work: Callable[[], T], *, interrupt: Callable[[], None]) -> T:
    outcome: dict[str, T] = {}
    failure: list[BaseException] = []
    done = threading.Event()  # not Thread.join: a join cut by KeyboardInterrupt can report a running thread as ended

    def target() -> None:
        try:
            outcome["value"] = work()
        except BaseException as exc:  # handed to the caller's thread as it was
            failure.append(exc)
        finally:
            done.set()

    context.thread(target, name="s3safe-query", daemon=True).start()  # in the caller's run (its redaction)
    try:
        while not done.wait(_STEP_SECONDS):
            pass
    except BaseException:
        interrupt()
        done.wait()  # the engine stops within moments of being told; its connection is then free to close
        raise
    if failure:
        raise failure[0]
    return outcome["value"]
