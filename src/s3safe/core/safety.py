"""The one choke point every destructive or overwriting action passes through.

Callers describe what they would change as a stream of items plus a function that applies a batch;
the gate decides whether anything happens at all (dry run, delete cap, empty-source refusal) and
reports each item. No other module checks dry_run.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import islice
from typing import TypeVar

from s3safe.core.concurrency import run_unordered
from s3safe.core.errors import DeleteCapRefusal, SafetyRefusal
from s3safe.core.models import ActionResult

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class SafetyGate:
    dry_run: bool = False
    max_delete: int | None = None

    def require_source(self, *, has_entries: bool, what: str) -> None:
        """Refuse to mirror deletions from a source that is empty or missing."""
        if not has_entries:
            raise SafetyRefusal(
                f"refusing to delete: the source {what} is empty or missing, so every destination file would go",
                hint="check the source path; nothing was deleted",
            )

    def _capped(self, items: Iterable[T], *, action: str, noun: str) -> Iterator[T]:
        if self.max_delete is None:
            yield from items
            return
        iterator = iter(items)
        # Look ahead one past the cap before deleting anything, so a refusal deletes nothing.
        head = list(islice(iterator, self.max_delete + 1))
        if len(head) > self.max_delete:
            raise DeleteCapRefusal(action, self.max_delete, noun=noun)
        yield from head

    def apply_each(
        self,
        action: str,
        items: Iterable[T],
        execute: Callable[[T], ActionResult],
        *,
        describe: Callable[[T], str],
        threads: int,
    ) -> Iterator[ActionResult]:
        """Like `apply`, one item at a time on a bounded pool, results as they complete."""
        if self.dry_run:
            for item in items:
                yield ActionResult(action, describe(item), dry_run=True)
            return
        yield from run_unordered(execute, items, threads=threads)

    def apply(
        self,
        action: str,
        items: Iterable[T],
        execute: Callable[[Sequence[T]], Iterable[ActionResult]],
        *,
        describe: Callable[[T], str],
        batch_size: int = 1,
        deletes: bool = False,
        planned_detail: str | None = None,
        counted: tuple[str, str] | None = None,
    ) -> Iterator[ActionResult]:
        """Yield one ActionResult per item: planned (dry run) or the outcome of `execute`.

        `planned_detail`: a condition the real run still checks, shown on each planned item of a dry run.
        `counted`: (verb, noun) for a --max-delete refusal when the items are not objects deleted (delete markers)."""
        verb, noun = counted or (action, "object(s)")
        # a dry run shows the whole plan, then says whether a real run would be refused
        stream = self._capped(items, action=verb, noun=noun) if deletes and not self.dry_run else iter(items)
        planned = 0
        while True:
            batch = list(islice(stream, batch_size))
            if not batch:
                if deletes and self.dry_run and self.max_delete is not None and planned > self.max_delete:
                    raise SafetyRefusal(
                        f"dry run: a real run would refuse to {verb} {planned} {noun}, more than --max-delete {self.max_delete}"
                    )
                return
            planned += len(batch)
            if self.dry_run:
                for item in batch:
                    yield ActionResult(action, describe(item), dry_run=True, detail=planned_detail)
            else:
                yield from execute(batch)
