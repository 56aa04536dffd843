"""Merges two key-ordered listings into a stream of actions, holding neither side in memory.

The planner only decides; it never touches a store. Every decision carries its reason so that
`--dry-run` can print the plan exactly as it would run.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from enum import StrEnum

from s3safe.core.models import ObjectInfo
from s3safe.storage.listing_guard import MERGE_HINT, ListingGuard


class Kind(StrEnum):
    UPLOAD = "upload"
    DOWNLOAD = "download"
    SKIP = "skip"
    DELETE_REMOTE = "delete-remote"
    DELETE_LOCAL = "delete-local"


@dataclass(frozen=True, slots=True)
class Action:
    kind: Kind
    key: str  # relative to both roots
    source: ObjectInfo | None
    target: ObjectInfo | None
    reason: str

    def to_dict(self) -> dict[str, object]:
        return {
            "type": "plan",
            "action": self.kind.value,
            "key": self.key,
            "reason": self.reason,
            "size": self.source.size if self.source else self.target.size if self.target else None,
        }


# A comparator looks at a source entry and the existing target entry and says why it must be
# transferred, or returns None when the target is already up to date.
Comparator = Callable[[ObjectInfo, ObjectInfo], str | None]


def always(source: ObjectInfo, target: ObjectInfo) -> str | None:
    return "overwrite"


def by_size(source: ObjectInfo, target: ObjectInfo) -> str | None:
    return "size differs" if source.size != target.size else None


def newer(source: ObjectInfo, target: ObjectInfo) -> str | None:
    if source.last_modified and target.last_modified and source.last_modified > target.last_modified:
        return "source is newer"
    return None


class Filter:
    """--include/--exclude globs on relative keys; an exclude always wins."""

    def __init__(self, include: Iterable[str] = (), exclude: Iterable[str] = ()) -> None:
        self.include = [re.compile(fnmatch.translate(p)) for p in include]
        self.exclude = [re.compile(fnmatch.translate(p)) for p in exclude]

    def __call__(self, key: str) -> bool:
        name = key.rsplit("/", 1)[-1]
        if any(p.match(key) or p.match(name) for p in self.exclude):
            return False
        if self.include:
            return any(p.match(key) or p.match(name) for p in self.include)
        return True


def _relative(
    entries: Iterable[ObjectInfo], prefix: str, keep: Callable[[str], bool], guard: ListingGuard
) -> Iterator[tuple[str, ObjectInfo]]:
    for entry in entries:
        rel = entry.key[len(prefix):]
        if rel and not rel.endswith("/") and keep(rel):
            guard.key(rel)
            yield rel, entry


def plan(
    sources: Iterable[ObjectInfo],
    targets: Iterable[ObjectInfo],
    *,
    upload: bool,
    compare: Comparator,
    purge: bool,
    source_prefix: str = "",
    target_prefix: str = "",
    keep: Callable[[str], bool] = lambda _: True,
    names: tuple[str, str] = ("source", "target"),
) -> Iterator[Action]:
    """Yield one action per key of either side, in key order.

    Both inputs must be sorted by UTF-8 key bytes (as S3 and LocalStorage list them), each key once:
    a merge of anything else pairs the wrong keys and would delete what the source has. Both are
    checked as they stream (ListingError); `names` says which side broke it.
    """
    transfer = Kind.UPLOAD if upload else Kind.DOWNLOAD
    orphan = Kind.DELETE_REMOTE if upload else Kind.DELETE_LOCAL
    src = _relative(sources, source_prefix, keep, ListingGuard(names[0], base=names[0].rstrip("/") + "/", hint=MERGE_HINT))
    dst = _relative(targets, target_prefix, keep, ListingGuard(names[1], base=names[1].rstrip("/") + "/", hint=MERGE_HINT))
    s = next(src, None)
    d = next(dst, None)
    while s is not None or d is not None:
        s_key = s[0].encode("utf-8", "surrogateescape") if s else None
        d_key = d[0].encode("utf-8", "surrogateescape") if d else None
        if d is None or (s is not None and s_key is not None and d_key is not None and s_key < d_key):
            assert s is not None
            yield Action(transfer, s[0], s[1], None, "new")
            s = next(src, None)
        elif s is None or (s_key is not None and d_key is not None and d_key < s_key):
            if purge:
                yield Action(orphan, d[0], None, d[1], "not in source")
            d = next(dst, None)
        else:
            reason = compare(s[1], d[1])
            if reason is None:
                yield Action(Kind.SKIP, s[0], s[1], d[1], "unchanged")
            else:
                yield Action(transfer, s[0], s[1], d[1], reason)
            s = next(src, None)
            d = next(dst, None)
