"""`--where`: select objects by a condition, fetching per-object facts only when the listing is not enough.

A condition is first evaluated on what the listing says. Only objects it cannot decide on get a
HEAD, then (if still undecided) GetObjectAcl, then GetObjectTagging, concurrently and in order.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import replace

from s3safe.core.concurrency import run_bounded
from s3safe.core.errors import NotFoundError
from s3safe.core.models import ObjectInfo
from s3safe.query import FETCH_ORDER, AclSummary, Clock, Condition, Cost, HeadFacts, LocalFacts, S3Facts, Subject, compile_where
from s3safe.storage.connection import Connection
from s3safe.storage.s3 import S3Storage


def compile_s3_where(text: str | None) -> Condition | None:
    return compile_where(text, scope="s3") if text else None


class ObjectFilter:
    """Thread-safe; counts the extra requests it made (for --verbose)."""

    def __init__(self, conn: Connection, condition: Condition, *, clock: Clock | None = None) -> None:
        self.storage = S3Storage(conn)
        self.condition = condition
        self.clock = clock or Clock.system()
        self.threads = min(conn.settings.threads, 16)
        self.requests: Counter[str] = Counter()
        self._lock = threading.Lock()

    def decide(self, obj: ObjectInfo) -> tuple[ObjectInfo, bool]:
        return obj, self.matches(obj)

    def matches(self, obj: ObjectInfo | None, local: LocalFacts | None = None) -> bool:
        """Does the condition hold for this object and/or local file? Fetches S3 facts as needed."""
        facts = S3Facts.from_object_info(obj) if obj is not None else None
        while True:
            verdict = self.condition.check(Subject(s3=facts, local=local, clock=self.clock))
            if verdict.result is not None:
                return verdict.result
            missing = [cost for cost in FETCH_ORDER if cost in verdict.pending and facts is not None and cost not in facts.fetched]
            if obj is None or facts is None or not missing:
                return False  # nothing more to learn: an undecidable condition selects nothing
            facts = self._fetch(obj, facts, missing[0])

    def _fetch(self, obj: ObjectInfo, facts: S3Facts, cost: Cost) -> S3Facts:
        with self._lock:
            self.requests[cost.value] += 1
        try:
            if cost is Cost.HEAD:
                return replace(facts, head=HeadFacts.from_details(self.storage.head(obj.bucket, obj.key, version_id=obj.version_id)))
            if cost is Cost.ACL:
                return replace(facts, acl=AclSummary.from_acl(self.storage.get_acl(obj.bucket, obj.key, version_id=obj.version_id)))
            return replace(facts, tags=self.storage.tags(obj.bucket, obj.key, version_id=obj.version_id))
        except NotFoundError:
            # a delete marker or an object deleted meanwhile: it has no headers, grants or tags
            empty = {Cost.HEAD: {"head": HeadFacts()}, Cost.ACL: {"acl": AclSummary(False, False, False, 0)}, Cost.TAGS: {"tags": {}}}
            return replace(facts, **empty[cost])  # type: ignore[arg-type]

    def select(self, objects: Iterator[ObjectInfo]) -> Iterator[ObjectInfo]:
        """The selected objects, in listing order; concurrent only when requests are needed."""
        decided: Iterator[tuple[ObjectInfo, bool]]
        if not self.condition.extra_requests:
            decided = map(self.decide, objects)
        else:
            decided = run_bounded(self.decide, objects, threads=self.threads)
        for obj, selected in decided:
            if selected:
                yield obj

    def describe_requests(self) -> str:
        made = ", ".join(f"{n} {kind.upper()}" for kind, n in sorted(self.requests.items())) or "none"
        return f"--where made extra requests: {made}"
