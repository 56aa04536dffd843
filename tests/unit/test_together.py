"""core.concurrency.together: independent calls at once, within the thread count, each outcome kept for the caller."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from s3safe.core.concurrency import PREFETCH_CHUNK, prefetched, together


def test_the_calls_run_at_once_and_each_answer_is_kept_by_name() -> None:
    barrier = threading.Barrier(3, timeout=10)  # passes only if all three are running at the same time

    def meet(value: int) -> int:
        barrier.wait()
        return value

    answers = together({"a": lambda: meet(1), "b": lambda: meet(2), "c": lambda: meet(3)}, threads=3)
    assert list(answers) == ["a", "b", "c"]
    assert [answers[name].result() for name in answers] == [1, 2, 3]


def test_a_failure_is_raised_where_its_answer_is_taken_not_before() -> None:
    answers = together({"ok": lambda: "fine", "bad": lambda: int("x")}, threads=2)
    assert answers["ok"].result() == "fine"
    with pytest.raises(ValueError, match="invalid literal"):
        answers["bad"].result()


def test_never_more_at_once_than_the_threads_allowed() -> None:
    running, most = 0, 0
    lock = threading.Lock()

    def one() -> None:
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
        time.sleep(0.05)
        with lock:
            running -= 1

    together({str(i): one for i in range(6)}, threads=2)
    assert most == 2


def test_one_thread_runs_them_in_turn_in_the_callers_thread() -> None:
    where: list[str] = []
    answers = together({"a": lambda: where.append(threading.current_thread().name),
                        "b": lambda: where.append(threading.current_thread().name)}, threads=1)  # fmt: skip
    assert all(outcome.done() for outcome in answers.values())
    assert where == [threading.current_thread().name] * 2


# --- prefetched: a stream read ahead by a thread of its own -------------------------------------------------

def test_prefetched_keeps_the_order_and_every_item() -> None:
    assert list(prefetched(iter(range(2_500)))) == list(range(2_500))
    assert list(prefetched(iter([]))) == []


def test_prefetched_reads_ahead_while_the_consumer_works_but_no_further_than_its_bound() -> None:
    produced: list[int] = []

    def source() -> Iterator[int]:
        for n in range(10 * PREFETCH_CHUNK):
            produced.append(n)
            yield n

    stream = prefetched(source(), chunks=2)
    assert next(stream) == 0
    deadline = time.monotonic() + 10
    while len(produced) < 3 * PREFETCH_CHUNK and time.monotonic() < deadline:  # read ahead without being asked
        time.sleep(0.01)
    time.sleep(0.2)
    # the chunk handed over, two queued, one being filled: never the whole source
    assert 3 * PREFETCH_CHUNK <= len(produced) <= 4 * PREFETCH_CHUNK + 1
    stream.close()


def test_prefetched_raises_the_sources_error_where_the_next_item_would_be() -> None:
    def source() -> Iterator[int]:
        yield 1
        yield 2
        raise ValueError("page 2 failed")

    got: list[int] = []
    with pytest.raises(ValueError, match="page 2 failed"):
        got.extend(prefetched(source()))
    assert got == [1, 2]


def test_a_consumer_that_stops_early_stops_the_reader_and_the_source_is_closed() -> None:
    closed = threading.Event()

    def source() -> Iterator[int]:
        try:
            yield from range(100 * PREFETCH_CHUNK)
        finally:
            closed.set()

    stream = prefetched(source(), chunks=1)
    assert next(stream) == 0
    stream.close()
    assert closed.wait(10), "the reader thread did not stop and close its source"
