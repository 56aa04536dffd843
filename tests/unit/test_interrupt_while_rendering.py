"""Ctrl-C that reaches the consumer of a transfer's results (while one is being shown) stops the run's workers
and does not wait for them, as Ctrl-C inside the generator does (the shell waited for a throttled download to
finish, then wrote it into place, when the interrupt came between two results)."""

from __future__ import annotations

import threading
import time

from s3safe.core import cancel
from s3safe.core.concurrency import run_unordered
from s3safe.core.context import running


def test_a_generator_dropped_after_the_run_was_cancelled_does_not_wait_for_its_workers() -> None:
    release = threading.Event()

    def work(item: int) -> int:
        if item == 0:
            return item
        release.wait(10)  # a worker stuck in a write: it never looks at the cancel flag
        return item

    with running():
        results = run_unordered(work, range(3), threads=3)
        assert next(results) == 0
        cancel.cancel()  # what the CLI's render loop does on Ctrl-C, before the generator is dropped
        started = time.monotonic()
        results.close()
        waited = time.monotonic() - started
        release.set()
    assert waited < 5, f"closing waited {waited:.1f} s for workers after Ctrl-C"


def test_a_consumer_that_just_stops_reading_still_lets_running_workers_finish() -> None:
    finished: list[int] = []

    def work(item: int) -> int:
        time.sleep(0.2)
        finished.append(item)
        return item

    with running():
        results = run_unordered(work, range(2), threads=2)
        next(results)
        results.close()  # no Ctrl-C: the workers in flight finish their item, and nothing is cancelled
        assert not cancel.is_cancelled()
    assert sorted(finished) == [0, 1]
