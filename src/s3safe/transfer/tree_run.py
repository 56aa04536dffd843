"""What a tree transfer shares in either direction: its options and summary, the run's counters and spools of
deferred deletions, and the plumbing from listings to the planner's comparisons (engine.py: upload_tree;
tree_download.py: download_tree)."""

from __future__ import annotations

import itertools
import json
import tempfile
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from s3safe.core.concurrency import prefetched
from s3safe.core.errors import (
    DeleteCapRefusal,
    IntegrityError,
    PartialFailure,
    S3SafeError,
    UsageError,
)
from s3safe.core.models import ActionResult, ObjectInfo
from s3safe.storage.base import ObjectStore
from s3safe.storage.connection import Connection
from s3safe.transfer import planner
from s3safe.transfer.compare import ContentComparator, resolve_pending
from s3safe.transfer.local_delete import KEEP, Planned, PlannedSpool
from s3safe.transfer.options import UploadOptions

if TYPE_CHECKING:
    from s3safe.query import Condition
    from s3safe.transfer.encryption import Decryption, Encryption
    from s3safe.transfer.state import StateCache

Mode = Literal["all", "diff", "newer"]


@dataclass(frozen=True, slots=True)
class TreeOptions:
    mode: Mode = "all"
    purge: bool = False
    move: bool = False
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    follow_symlinks: bool = False
    allow_empty: bool = False  # downloads: an empty or missing source is not an error
    keep_setuid: bool = False  # downloads: restore setuid, setgid and sticky bits stored at upload
    upload: UploadOptions = field(default_factory=UploadOptions)
    where: Condition | None = None  # only transfers it selects happen; purge is not affected
    local_delete: Condition | None = None  # local files with a verified match on S3 that it selects
    encryption: Encryption | None = None  # uploads: encrypt client-side
    decryption: Decryption | None = None  # downloads: how to open client-encrypted objects
    as_of: datetime | None = None  # downloads: each key's version current at this time, not the latest

    @property
    def decrypting(self) -> bool:
        return self.decryption is not None and self.decryption.enabled

    def validate(self) -> TreeOptions:
        if self.move and self.purge:
            raise UsageError("--move and --purge together would empty both sides; choose one")
        if self.local_delete is not None and self.mode != "diff":
            raise UsageError("--local-delete needs --only-diff, which is how s3safe knows a file already matches on S3")
        self.upload.validate()
        if self.encryption is not None:
            self.encryption.validate()
        return self


@dataclass(slots=True)
class TreeSummary:
    transferred: int = 0
    transferred_bytes: int = 0
    skipped: int = 0
    deleted: int = 0
    failed: int = 0
    failed_integrity: int = 0  # of the failed: integrity failures (all of them: the run exits 6, not 5)
    planned: int = 0
    refused: int = 0
    hashed: int = 0
    requests: int = 0  # sent by change detection (HEADs, part HEADs, GetObjectAttributes), counted in the seam
    special: int = 0  # of the skipped: symbolic links, FIFOs, sockets, devices (not regular files)
    filtered: int = 0  # of the skipped: left out by --include/--exclude or --where
    warnings: list[str] = field(default_factory=list)  # shown once by the caller, e.g. a state cache that is off
    started: float = field(default_factory=time.monotonic)
    elapsed: float = 0.0

    def failure(self) -> S3SafeError | None:
        """What the run's failures amount to: None, an IntegrityError (exit 6) when every failure was one, as a
        single object's checksum mismatch is, or a PartialFailure (exit 5) for any other mix."""
        if not self.failed:
            return None
        of = f"{self.failed} of {self.failed + self.transferred + self.deleted} action(s)"
        if self.failed_integrity == self.failed:
            return IntegrityError(f"{of} failed an integrity check (a checksum or size did not match)")
        return PartialFailure(f"{of} failed", failed=self.failed, succeeded=self.transferred)

    def to_dict(self) -> dict[str, Any]:
        rate = self.transferred_bytes / self.elapsed if self.elapsed else 0.0
        return {
            "type": "summary", "transferred": self.transferred, "bytes": self.transferred_bytes,
            "skipped": self.skipped, "deleted": self.deleted, "failed": self.failed, "planned": self.planned,
            "refused": self.refused, "special": self.special, "filtered": self.filtered,
            "elapsed_seconds": round(self.elapsed, 3), "bytes_per_second": round(rate),
        }  # fmt: skip


class DeleteSpool:
    """Keys to delete after the transfers, kept on disk so a huge mirror stays flat in memory.

    One JSON string per line: it round-trips every key (backslashes, CR, LF, lone surrogates from
    undecodable file names), where an escaping scheme of our own once turned `docs\\new.txt` into a
    different key that S3 reported as deleted.
    """

    def __init__(self) -> None:
        # closed by close(), which the engine calls in a finally block; ASCII lines, no newline translation
        self._file = tempfile.TemporaryFile("w+", encoding="ascii", newline="\n")  # noqa: SIM115
        self.count = 0

    def add(self, key: str, *, seen: ObjectInfo | None = None, etag: str | None = None) -> None:
        """`seen`: the entry as listed, kept for a local deletion so it can be re-checked just before the unlink;
        `etag`: the remote object's ETag as listed, so its deletion is conditional on it."""
        stamp = seen.last_modified.timestamp() if seen is not None and seen.last_modified is not None else None
        value: object = [key, seen.size, stamp] if seen is not None else [key, etag] if etag else key
        line = json.dumps(value, ensure_ascii=True)
        self._file.write(line + "\n")
        self.count += 1

    def __iter__(self) -> Iterator[str]:
        for key, _seen in self.entries():
            yield key

    def entries(self) -> Iterator[tuple[str, tuple[int, float | None] | None]]:
        """(key, (size, mtime) as listed or None)."""
        for value in self._values():
            if isinstance(value, list) and len(value) == 3:
                key, size, stamp = value
                yield key, (size, stamp)
            else:
                yield (value if isinstance(value, str) else value[0]), None

    def with_etags(self) -> Iterator[tuple[str, str | None]]:
        """(key, ETag as listed or None): remote deletions."""
        for value in self._values():
            yield (value, None) if isinstance(value, str) else (value[0], value[1] if len(value) == 2 else None)

    def _values(self) -> Iterator[str | list[Any]]:
        self._file.seek(0)
        for line in self._file:
            yield json.loads(line)

    def close(self) -> None:
        self._file.close()


def comparator(mode: Mode, content: ContentComparator) -> planner.Comparator:
    """What the planner asks in turn: a verdict from size and the cache, or PENDING (see compared)."""
    if mode == "diff":
        return content.quick
    if mode == "newer":
        return content.quick_newer
    return planner.always


def compared(actions: Iterator[planner.Action], mode: Mode, content: ContentComparator, conn: Connection) -> Iterator[planner.Action]:
    """The comparisons the planner left PENDING (hashing a file, a HEAD), run in parallel within the budget."""
    if mode == "all":
        return actions
    return resolve_pending(actions, content.compare if mode == "diff" else content.newer, budget=conn.budget)


def peek(entries: Iterator[ObjectInfo]) -> tuple[bool, Iterator[ObjectInfo]]:
    first = next(entries, None)
    if first is None:
        return False, iter(())
    return True, itertools.chain([first], entries)


def objects_in(entries: Iterator[Any], keep: Callable[[str], bool], prefix: str) -> Iterator[ObjectInfo]:
    for entry in entries:
        if isinstance(entry, ObjectInfo) and not entry.key.endswith("/") and keep(entry.key[len(prefix) :]):
            yield entry


class Run:
    """State shared by one tree transfer: counters, deferred deletes, results waiting to be shown."""

    def __init__(
        self, summary: TreeSummary, *, select: Callable[[planner.Action], bool] | None = None,
        local_delete: Callable[[planner.Action], bool] | None = None, root: Path | None = None, local_target: bool = False,
    ) -> None:  # fmt: skip
        self.summary = summary
        self.local_target = local_target  # a download: the deletions it plans are local files
        self.deletes = DeleteSpool()
        self.local_deletes = PlannedSpool()  # --local-delete: files found unchanged on S3
        self.moves = PlannedSpool()  # --move: files uploaded in this run
        self.root = root
        self.notes: deque[ActionResult] = deque()
        self._lock = threading.Lock()
        self.replaced = 0  # transfers that overwrote an existing object or file
        self.select = select
        self.local_delete = local_delete

    def route(self, actions: Iterator[planner.Action], transfer: planner.Kind) -> Iterator[planner.Action]:
        """Pass selected transfers on; count skips and spool deletes for later."""
        for action in actions:
            if action.kind == transfer:
                if self.select is None or self.select(action):
                    yield action
                else:
                    self.summary.skipped += 1
                    self.summary.filtered += 1
                    self.notes.append(ActionResult("skip", action.key, detail="not selected by --where"))
            elif action.kind == planner.Kind.SKIP:
                self.summary.skipped += 1
                self.notes.append(ActionResult("skip", action.key, detail=action.reason))
                if self.local_delete is not None and action.reason == "unchanged" and self.local_delete(action):
                    self._plan_local_delete(action.key)
            else:
                remote = None if self.local_target or action.target is None else action.target.etag
                self.deletes.add(action.key, seen=action.target if self.local_target else None, etag=remote)

    def source_filter(self, keep: Callable[[str], bool]) -> Callable[[str], bool]:
        """--include/--exclude on the source side, counted and noted as --where's choices are."""

        def counted(key: str) -> bool:
            if keep(key):
                return True
            self.summary.skipped += 1
            self.summary.filtered += 1
            self.notes.append(ActionResult("skip", key, detail="not selected by --include/--exclude"))
            return False

        return counted

    def not_regular(self, root: Path) -> Callable[[str, str], None]:
        """A symbolic link (not followed), FIFO, socket or device the walk passed over: counted, named at -v."""

        def skipped(key: str, what: str) -> None:
            self.summary.skipped += 1
            self.summary.special += 1
            hint = "; --follow-symlinks follows it" if what == "symbolic link" else ""
            # named like the files --include/--exclude and --where skip: by their path below the source folder
            self.notes.append(ActionResult("skip", key, detail=f"{what}, not a regular file{hint}"))

        return skipped

    def _plan_local_delete(self, key: str) -> None:
        assert self.root is not None
        try:  # the file as it is when the deletion is decided: it must still be so when it happens
            stat = self.root.joinpath(*key.split("/")).stat()
        except OSError:
            return
        self.local_deletes.add(Planned.of(key, stat))

    def close(self) -> None:
        self.deletes.close()
        self.local_deletes.close()
        self.moves.close()

    def finish(self, content: ContentComparator, cache: StateCache, *, own_cache: bool) -> None:
        """The end of a tree run in either direction, however it ended: spools closed, the state cache closed
        (this run opened it) or flushed (the caller's), and what change detection cost put in the summary."""
        self.close()
        if own_cache:
            cache.close()
        else:
            cache.flush()
        self.summary.hashed, self.summary.requests = content.hashed, content.requests
        self.summary.elapsed = time.monotonic() - self.summary.started

    def drain(self) -> Iterator[ActionResult]:
        while self.notes:
            yield self.notes.popleft()

    def add_bytes(self, size: int, *, replaced: bool) -> None:
        with self._lock:  # called from worker threads
            self.summary.transferred_bytes += size
            self.replaced += replaced

    def refusal_after(self, refusal: DeleteCapRefusal, *, verb: str) -> DeleteCapRefusal:
        """Deletions come last: a cap that refuses them does so after this run's transfers already happened."""
        done = []
        if self.summary.transferred:
            replacing = f" ({self.replaced} replacing an existing copy)" if self.replaced else ""
            done.append(f"{verb} {self.summary.transferred} file(s){replacing}")
        if self.summary.deleted:
            done.append(f"deleted {self.summary.deleted} in an earlier step")
        return refusal.after("this run had already " + " and ".join(done)) if done else refusal

    def fail(self, result: ActionResult) -> None:
        """A failure found outside the transfers (an unreadable folder): shown in order, and it blocks deletes."""
        with self._lock:
            self.summary.failed += 1
        self.notes.append(result)

    def count(self, result: ActionResult, *, deletion: bool = False) -> ActionResult:
        if result.dry_run:
            self.summary.planned += 1
        elif not result.ok:
            self.summary.failed += 1
            self.summary.failed_integrity += result.integrity
        elif deletion:
            self.summary.deleted += 1
        else:
            self.summary.transferred += 1
        return result


def action_size(action: planner.Action) -> int:
    return action.source.size if action.source is not None else 0


def action_key(action: planner.Action) -> str:
    return action.key


def count_local(run: Run, results: Iterator[ActionResult]) -> Iterator[ActionResult]:
    for result in results:
        if result.action == KEEP:
            run.summary.skipped += 1
            yield result
        else:
            yield run.count(result, deletion=True)


def listing(storage: ObjectStore, bucket: str, prefix: str, options: TreeOptions) -> Iterator[Any]:
    """The remote side in key order: obstore's listing (an order of magnitude less CPU than botocore's XML
    parsing) unless a condition needs what only the S3 listing carries (storage class)."""
    if options.where is None and options.local_delete is None:
        # read ahead: obstore fetches and parses the next page outside the interpreter while this one is compared
        # with the local side (botocore's pages are parsed in Python: read ahead, they would compete for the
        # interpreter with the comparison rather than overlap it)
        return prefetched(storage.iter_objects_fast(bucket, prefix), name="listing")
    return storage.iter_entries(bucket, prefix, recursive=True)


def decider(
    conn: Connection, condition: Condition | None, root: Path, *, upload: bool
) -> Callable[[planner.Action], bool] | None:
    """A test of one planned action against a condition on the local file and the S3 object."""
    if condition is None:
        return None
    from s3safe.query import LocalFacts
    from s3safe.transfer.where import ObjectFilter

    selector = ObjectFilter(conn, condition)

    def decide(action: planner.Action) -> bool:
        local_entry, remote = (action.source, action.target) if upload else (action.target, action.source)
        local = None
        if local_entry is not None:
            try:
                local = LocalFacts.from_stat(action.key, root.joinpath(*action.key.split("/")).stat())
            except OSError:
                return False
        return selector.matches(remote, local)

    return decide
