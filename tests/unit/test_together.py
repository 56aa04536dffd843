"""core.concurrency.together: independent calls at once, within the thread count, each outcome kept for the caller."""

from __future__ import annotations

import threading
import time

import pytest

from s3safe.core.concurrency import together


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
