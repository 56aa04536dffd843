"""The bounded pools: a failure ends its own map without leaving the process-wide cancel flag set (issue 15.1).

The flag means Ctrl-C: left set after an ordinary error, it made the next library call in the same process
fail with `Cancelled` before doing anything.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from s3safe.core import cancel
from s3safe.core.concurrency import run_bounded, run_unordered

Mapper = Callable[..., Iterator[Any]]
MAPPERS = [pytest.param(run_bounded, id="bounded"), pytest.param(run_unordered, id="unordered")]


@pytest.fixture(autouse=True)
def clean_flag() -> Iterator[None]:
    cancel.reset()
    yield
    cancel.reset()


def _fail_on(bad: int) -> Callable[[int], int]:
    def work(n: int) -> int:
        cancel.check()
        if n == bad:
            raise PermissionError(13, "Permission denied", f"file-{n}")
        return n

    return work


@pytest.mark.parametrize("mapper", MAPPERS)
def test_a_failing_worker_leaves_no_cancellation_behind(mapper: Mapper) -> None:
    with pytest.raises(PermissionError):
        list(mapper(_fail_on(3), range(20), threads=2))
    assert not cancel.is_cancelled()
    assert list(mapper(_fail_on(-1), range(5), threads=2)) != []  # the next map in this process runs


@pytest.mark.parametrize("mapper", MAPPERS)
def test_a_failing_source_leaves_no_cancellation_behind(mapper: Mapper) -> None:
    def items() -> Iterator[int]:
        yield from range(10)
        raise FileNotFoundError(2, "No such file or directory", "folder")

    with pytest.raises(FileNotFoundError):
        list(mapper(_fail_on(-1), items(), threads=2))
    assert not cancel.is_cancelled()


@pytest.mark.parametrize("mapper", MAPPERS)
def test_a_consumer_that_stops_early_leaves_no_cancellation_behind(mapper: Mapper) -> None:
    results = mapper(_fail_on(-1), range(50), threads=2)
    assert next(results) in range(50)
    results.close()
    assert not cancel.is_cancelled()


@pytest.mark.parametrize("mapper", MAPPERS)
def test_ctrl_c_still_cancels_the_workers(mapper: Mapper) -> None:
    results = mapper(_fail_on(-1), range(50), threads=2)
    next(results)
    with pytest.raises(KeyboardInterrupt):
        results.throw(KeyboardInterrupt())
    assert cancel.is_cancelled()


def test_waiting_for_results_does_not_hook_into_every_pending_future(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each result used to cost a waiter installed in (and removed from) each of the window's pending futures:
    per-object overhead that grew with -t. Finished futures now come off a queue."""
    import concurrent.futures._base as futures_base

    hooked: list[int] = []
    original = futures_base._create_and_install_waiters

    def counting(fs: Any, return_when: str) -> Any:
        hooked.append(len(fs))
        return original(fs, return_when)

    monkeypatch.setattr(futures_base, "_create_and_install_waiters", counting)
    results = sorted(run_unordered(lambda n: n * 2, range(500), threads=4, window=40))
    assert results == [n * 2 for n in range(500)]
    assert sum(hooked) == 0
