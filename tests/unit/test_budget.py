"""The run's budget: nested requests and parts never deadlock, bytes are capped, failures stop a file's parts."""

from __future__ import annotations

import threading

import pytest

from s3safe.core.concurrency import Budget


def test_a_request_inside_a_request_takes_no_second_slot() -> None:
    budget = Budget(1)
    with budget.request(), budget.request():  # a HEAD while a GET streams, on one slot
        assert budget.holding
    assert not budget.holding


def test_parts_of_a_caller_that_holds_a_slot_run_in_turn() -> None:
    budget = Budget(1)
    with budget.request():
        seen = list(budget.map_parts(lambda n: (n, threading.current_thread().name), range(3)))
    assert [n for n, _ in seen] == [0, 1, 2]
    assert {name for _, name in seen} == {threading.current_thread().name}


def test_parts_share_the_slots_with_everything_else() -> None:
    budget = Budget(2)
    lock, now, peak = threading.Lock(), [0], [0]

    def part(n: int) -> int:
        with budget.request():
            with lock:
                now[0] += 1
                peak[0] = max(peak[0], now[0])
            with lock:
                now[0] -= 1
        return n * 2

    assert list(budget.map_parts(part, range(40))) == [n * 2 for n in range(40)]
    assert peak[0] <= 2


def test_a_failed_part_drops_the_queued_ones() -> None:
    budget = Budget(1)
    ran: list[int] = []

    def part(n: int) -> int:
        ran.append(n)
        if n == 0:
            raise ValueError("part 0 failed")
        return n

    with pytest.raises(ValueError, match="part 0 failed"):
        list(budget.map_parts(part, range(50)))
    assert len(ran) < 50


def test_bytes_over_the_budget_wait_and_a_huge_part_goes_alone() -> None:
    budget = Budget(2, memory=100)
    entered = threading.Event()

    def take() -> None:
        with budget.buffer(50):
            entered.set()

    with budget.buffer(80):
        waiter = threading.Thread(target=take)
        waiter.start()
        waiter.join(0.3)
        assert not entered.is_set()  # 80 + 50 > 100: it waits
    waiter.join(5)
    assert entered.is_set()
    budget2 = Budget(1, memory=10)
    with budget2.buffer(1000):  # larger than the whole budget: admitted when alone
        pass
