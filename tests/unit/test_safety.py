"""The one safety gate: dry run, --max-delete, empty-source refusal, batching, streaming (DESIGN §3.6)."""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from s3safe.core.errors import EXIT_REFUSED, SafetyRefusal
from s3safe.core.models import ActionResult
from s3safe.core.safety import SafetyGate


class Recorder:
    """An `execute` callback that remembers every batch it was given."""

    def __init__(self) -> None:
        self.batches: list[list[str]] = []

    def __call__(self, batch: Sequence[str]) -> list[ActionResult]:
        self.batches.append(list(batch))
        return [ActionResult("delete", f"s3://b/{item}", detail="done") for item in batch]

    @property
    def items(self) -> list[str]:
        return [item for batch in self.batches for item in batch]


class Counting:
    """A generator source that counts how many items were pulled out of it."""

    def __init__(self, total: int | None) -> None:
        self.total = total
        self.pulled = 0

    def __iter__(self) -> Iterator[str]:
        for n in itertools.count() if self.total is None else range(self.total):
            self.pulled += 1
            yield f"k{n:06d}"


def describe(item: str) -> str:
    return f"s3://b/{item}"


def keys(n: int) -> list[str]:
    return [f"k{i:06d}" for i in range(n)]


# --- dry run ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("deletes", [True, False])
@pytest.mark.parametrize("batch_size", [1, 3, 1000])
def test_dry_run_never_executes_and_reports_every_item(deletes: bool, batch_size: int) -> None:
    execute = Recorder()
    items = keys(7)
    results = list(
        SafetyGate(dry_run=True).apply("delete", items, execute, describe=describe, batch_size=batch_size, deletes=deletes)
    )
    assert execute.batches == []
    assert [r.target for r in results] == [describe(i) for i in items]
    assert all(r.dry_run and r.ok and r.action == "delete" for r in results)
    assert all(r.to_dict()["dry_run"] is True for r in results)


def test_dry_run_of_nothing_is_nothing() -> None:
    execute = Recorder()
    assert list(SafetyGate(dry_run=True).apply("delete", [], execute, describe=describe)) == []
    assert execute.batches == []


def test_real_run_passes_executes_results_through() -> None:
    execute = Recorder()
    results = list(SafetyGate().apply("delete", keys(3), execute, describe=describe, batch_size=2, deletes=True))
    assert execute.items == keys(3)
    assert [r.target for r in results] == [describe(i) for i in keys(3)]
    assert all(not r.dry_run and r.detail == "done" for r in results)


# --- the delete cap ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("cap", "count"), [(0, 1), (1, 2), (3, 4), (10, 2500), (999, 1000)])
def test_max_delete_refuses_before_anything_runs(cap: int, count: int) -> None:
    execute = Recorder()
    gate = SafetyGate(max_delete=cap)
    with pytest.raises(SafetyRefusal) as info:
        list(gate.apply("delete", keys(count), execute, describe=describe, batch_size=1, deletes=True))
    assert execute.batches == []
    assert info.value.exit_code == EXIT_REFUSED == 7
    assert str(cap) in str(info.value)
    assert "--max-delete" in str(info.value)


def test_max_delete_refusal_happens_on_the_first_result() -> None:
    """Nothing is half-done: the refusal comes before the first result, not after some deletes."""
    execute = Recorder()
    results = SafetyGate(max_delete=2).apply("delete", keys(5), execute, describe=describe, batch_size=1, deletes=True)
    with pytest.raises(SafetyRefusal):
        next(results)
    assert execute.batches == []


@pytest.mark.parametrize(("cap", "count"), [(0, 0), (1, 1), (3, 3), (3, 2), (1000, 1000)])
def test_max_delete_allows_up_to_the_cap(cap: int, count: int) -> None:
    execute = Recorder()
    results = list(
        SafetyGate(max_delete=cap).apply("delete", keys(count), execute, describe=describe, batch_size=7, deletes=True)
    )
    assert execute.items == keys(count)
    assert len(results) == count


def test_max_delete_only_caps_deletions() -> None:
    execute = Recorder()
    results = list(SafetyGate(max_delete=1).apply("set-acl", keys(5), execute, describe=describe, deletes=False))
    assert len(results) == 5
    assert execute.items == keys(5)


@pytest.mark.parametrize("cap", [0, 1, 5, 100])
def test_refusal_reads_at_most_one_item_past_the_cap_of_a_stream(cap: int) -> None:
    source = Counting(None)  # endless: the gate must not try to read it all
    execute = Recorder()
    with pytest.raises(SafetyRefusal):
        list(SafetyGate(max_delete=cap).apply("delete", iter(source), execute, describe=describe, deletes=True))
    assert source.pulled <= cap + 1
    assert execute.batches == []


@settings(max_examples=100, deadline=None)
@given(cap=st.integers(0, 50), count=st.integers(0, 120), batch_size=st.integers(1, 40), dry_run=st.booleans())
def test_cap_decision_matches_the_count(cap: int, count: int, batch_size: int, dry_run: bool) -> None:
    source = Counting(count)
    execute = Recorder()
    gate = SafetyGate(dry_run=dry_run, max_delete=cap)
    stream = gate.apply("delete", iter(source), execute, describe=describe, batch_size=batch_size, deletes=True)
    if count > cap and dry_run:
        # a dry run prints the whole plan first, then reports the refusal a real run would meet
        seen: list[object] = []
        with pytest.raises(SafetyRefusal, match="dry run"):
            seen.extend(stream)  # keeps what was yielded before the refusal
        assert len(seen) == count
        assert execute.batches == []
    elif count > cap:
        with pytest.raises(SafetyRefusal):
            list(stream)
        assert execute.batches == []
        assert source.pulled == cap + 1
    else:
        results = list(stream)
        assert len(results) == count
        assert execute.items == ([] if dry_run else keys(count))
        assert all(len(b) <= batch_size for b in execute.batches)


# --- batching and streaming -------------------------------------------------------------------------


def test_batches_respect_batch_size() -> None:
    execute = Recorder()
    results = list(SafetyGate().apply("delete", keys(2500), execute, describe=describe, batch_size=1000, deletes=True))
    assert [len(b) for b in execute.batches] == [1000, 1000, 500]
    assert execute.items == keys(2500)
    assert len(results) == 2500


@settings(max_examples=100, deadline=None)
@given(count=st.integers(0, 300), batch_size=st.integers(1, 120))
def test_batches_are_full_except_the_last(count: int, batch_size: int) -> None:
    execute = Recorder()
    list(SafetyGate().apply("copy", keys(count), execute, describe=describe, batch_size=batch_size))
    sizes = [len(b) for b in execute.batches]
    assert sum(sizes) == count
    assert all(size == batch_size for size in sizes[:-1])
    assert all(0 < size <= batch_size for size in sizes)
    assert execute.items == keys(count)  # order kept


def test_generator_input_is_streamed_batch_by_batch() -> None:
    source = Counting(10_000)
    execute = Recorder()
    results = SafetyGate().apply("delete", iter(source), execute, describe=describe, batch_size=100, deletes=True)
    first = next(results)
    assert first.target == describe("k000000")
    assert source.pulled <= 101  # one batch (plus, at most, a look-ahead), not the whole listing
    assert len(execute.batches) == 1
    rest = list(results)
    assert len(rest) == 9_999
    assert source.pulled == 10_000


def test_generator_input_with_a_cap_is_streamed_after_the_check() -> None:
    source = Counting(50)
    execute = Recorder()
    results = SafetyGate(max_delete=1000).apply("delete", iter(source), execute, describe=describe, batch_size=10, deletes=True)
    assert len(list(results)) == 50
    assert [len(b) for b in execute.batches] == [10] * 5


# --- empty source -----------------------------------------------------------------------------------


def test_require_source_refuses_an_empty_source() -> None:
    with pytest.raises(SafetyRefusal) as info:
        SafetyGate().require_source(has_entries=False, what="folder /data/photos")
    assert info.value.exit_code == EXIT_REFUSED
    assert "/data/photos" in str(info.value)
    assert "nothing was deleted" in str(info.value)


def test_require_source_refuses_even_in_a_dry_run() -> None:
    with pytest.raises(SafetyRefusal):
        SafetyGate(dry_run=True).require_source(has_entries=False, what="s3://b/x/")


def test_require_source_accepts_a_non_empty_source() -> None:
    SafetyGate().require_source(has_entries=True, what="folder /data")
