"""Whole-tree put, get and sync: plan, transfer in parallel, then (and only then) delete.

Deletes of a mirror run after every transfer has finished, and not at all if any failed. Every
transfer and delete passes through the SafetyGate, which is what makes --dry-run print the plan.
"""

from __future__ import annotations

import dataclasses
import errno
import itertools
import json
import logging
import os
import tempfile
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from s3safe.core import cancel
from s3safe.core.errors import (
    AccessDeniedError,
    DeleteCapRefusal,
    IntegrityError,
    NotFoundError,
    PartialFailure,
    S3SafeError,
    StoredCopyMismatch,
    UsageError,
)
from s3safe.core.locations import MAX_KEY_BYTES, S3Url, local_parts, unsafe_key_reason
from s3safe.core.models import ActionResult, ObjectInfo
from s3safe.core.progress import TransferProgress, watching
from s3safe.core.safety import SafetyGate
from s3safe.storage.base import ObjectStore
from s3safe.storage.connection import Connection
from s3safe.storage.local import LocalStorage
from s3safe.storage.s3 import DELETE_BATCH, S3Storage
from s3safe.transfer import planner
from s3safe.transfer.compare import ContentComparator, resolve_pending
from s3safe.transfer.download import Expected, fetch_object
from s3safe.transfer.local_delete import KEEP, Evidence, Planned, PlannedSpool, remove_planned
from s3safe.transfer.localdest import Destination, NameClaims, is_own_temp, local_error
from s3safe.transfer.options import UploadOptions
from s3safe.transfer.single import UploadPlan, local_read_error, plan_upload, unsendable_name, upload_file
from s3safe.transfer.state import StateCache, Verified
from s3safe.transfer.versions import as_of

if TYPE_CHECKING:
    from s3safe.query import Condition
    from s3safe.transfer.encryption import Decryption, Encryption

log = logging.getLogger("s3safe.engine")

Mode = Literal["all", "diff", "newer"]
MIN_PART = 5 * 1024**2  # S3's smallest part: only larger files can have a multipart upload (and a journal)


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


class _DeleteSpool:
    """Keys to delete after the transfers, kept on disk so a huge mirror stays flat in memory.

    One JSON string per line: it round-trips every key (backslashes, CR, LF, lone surrogates from
    undecodable file names), where an escaping scheme of our own once turned `docs\\new.txt` into a
    different key that S3 reported as deleted.
    """

    def __init__(self) -> None:
        # closed by close(), which the engine calls in a finally block; ASCII lines, no newline translation
        self._file = tempfile.TemporaryFile("w+", encoding="ascii", newline="\n")  # noqa: SIM115
        self.count = 0

    def add(self, key: str, *, seen: ObjectInfo | None = None) -> None:
        """`seen`: the entry as listed, kept for a local deletion so it can be re-checked just before the unlink."""
        stamp = seen.last_modified.timestamp() if seen is not None and seen.last_modified is not None else None
        line = json.dumps(key if seen is None else [key, seen.size, stamp], ensure_ascii=True)
        self._file.write(line + "\n")
        self.count += 1

    def __iter__(self) -> Iterator[str]:
        for key, _seen in self.entries():
            yield key

    def entries(self) -> Iterator[tuple[str, tuple[int, float | None] | None]]:
        """(key, (size, mtime) as listed or None)."""
        self._file.seek(0)
        for line in self._file:
            value = json.loads(line)
            if isinstance(value, str):
                yield value, None
            else:
                key, size, stamp = value
                yield key, (size, stamp)

    def close(self) -> None:
        self._file.close()


def _comparator(mode: Mode, content: ContentComparator) -> planner.Comparator:
    """What the planner asks in turn: a verdict from size and the cache, or PENDING (see _compared)."""
    if mode == "diff":
        return content.quick
    if mode == "newer":
        return content.quick_newer
    return planner.always


def _compared(actions: Iterator[planner.Action], mode: Mode, content: ContentComparator, conn: Connection) -> Iterator[planner.Action]:
    """The comparisons the planner left PENDING (hashing a file, a HEAD), run in parallel within the budget."""
    if mode == "all":
        return actions
    return resolve_pending(actions, content.compare if mode == "diff" else content.newer, budget=conn.budget)


def _peek(entries: Iterator[ObjectInfo]) -> tuple[bool, Iterator[ObjectInfo]]:
    first = next(entries, None)
    if first is None:
        return False, iter(())
    return True, itertools.chain([first], entries)


def _objects(entries: Iterator[Any], keep: Callable[[str], bool], prefix: str) -> Iterator[ObjectInfo]:
    for entry in entries:
        if isinstance(entry, ObjectInfo) and not entry.key.endswith("/") and keep(entry.key[len(prefix) :]):
            yield entry


class _Run:
    """State shared by one tree transfer: counters, deferred deletes, results waiting to be shown."""

    def __init__(
        self, summary: TreeSummary, *, select: Callable[[planner.Action], bool] | None = None,
        local_delete: Callable[[planner.Action], bool] | None = None, root: Path | None = None, local_target: bool = False,
    ) -> None:  # fmt: skip
        self.summary = summary
        self.local_target = local_target  # a download: the deletions it plans are local files
        self.deletes = _DeleteSpool()
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
                self.deletes.add(action.key, seen=action.target if self.local_target else None)

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
            self.notes.append(ActionResult("skip", str(root.joinpath(*key.split("/"))), detail=f"{what}, not a regular file{hint}"))

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


def upload_tree(
    conn: Connection, root: Path, dest: S3Url, *, options: TreeOptions, gate: SafetyGate, summary: TreeSummary,
    cache: StateCache | None = None, progress: TransferProgress | None = None,
) -> Iterator[ActionResult]:  # fmt: skip
    """Mirror a local folder to an S3 prefix; `progress`, when given, is kept up to date as files and bytes move."""
    options.validate()
    if options.as_of is not None:
        raise UsageError("--as-of applies to downloads only")
    if not root.is_dir():
        raise NotFoundError(f"local folder not found: {root}")
    _check_listable(root)
    prefix = dest.folder  # the one rule for what a tree names (core.locations.S3Url.folder)
    storage = conn.objects
    own_cache = cache is None
    # entries belong to this server and this folder: another folder with the same sizes and mtimes is compared
    cache = (cache or StateCache(read_only=gate.dry_run)).scoped(endpoint=conn.settings.endpoint_url, root=root)
    if cache.unavailable:
        summary.warnings.append(cache.unavailable)
    keep = planner.Filter(options.include, options.exclude)
    run = _Run(summary, select=_decider(conn, options.where, root, upload=True),
               local_delete=_decider(conn, options.local_delete, root, upload=True), root=root)  # fmt: skip
    walker = LocalStorage(follow_symlinks=options.follow_symlinks, on_error=_walk_failure(root, run),
                          on_skip=run.not_regular(root))  # fmt: skip
    local = _objects(walker.iter_entries(str(root), "", recursive=True), run.source_filter(keep), "")
    has_source, local = _peek(local)
    if options.purge and not run.summary.failed:
        # a folder the walk could not read is not an empty one: it fails by name, and the failure keeps the purge
        # from running (exit 5) rather than the source being called empty
        gate.require_source(has_entries=has_source, what=f"folder {root}")
    remote = _objects(_listing(storage, dest.bucket, prefix, options), keep, prefix)
    encryption = options.encryption
    content = ContentComparator(storage, cache, local_root=root, upload=True, encrypted=encryption is not None,
                                digest_key=(lambda _bucket, token: encryption.digest_key_for(token)) if encryption else None)  # fmt: skip
    actions = planner.plan(local, remote, upload=True, compare=_comparator(options.mode, content),
                           purge=options.purge, target_prefix=prefix, names=(str(root), f"s3://{dest.bucket}/{prefix}"))  # fmt: skip
    actions = _compared(actions, options.mode, content, conn)
    if not gate.dry_run:  # a dry run changes nothing anywhere, not even an abandoned upload
        actions = _drop_stale_journals(conn, dest.bucket, prefix, actions)
    upload_plan = _LazyPlan(conn, dest.bucket, options.upload)

    def send(action: planner.Action) -> ActionResult:
        cancel.check()
        source = root.joinpath(*action.key.split("/"))
        target = f"s3://{dest.bucket}/{prefix}{action.key}"
        if len((prefix + action.key).encode("utf-8", "surrogateescape")) > MAX_KEY_BYTES:
            return ActionResult("upload", target, ok=False, error=f"key is longer than S3's {MAX_KEY_BYTES}-byte limit")
        before = _stat_or_none(source)  # the file as sent: a --move deletes it only if it is still this one
        try:
            result = upload_file(conn, source, dest, options=_conditioned(options.upload, action), plan=upload_plan.get(),
                                 key=prefix + action.key, verify=False, encryption=encryption)  # fmt: skip
        except StoredCopyMismatch as exc:
            if exc.etag:  # so that the next --only-diff run sends it again, whatever its metadata claims
                cache.put(dest.bucket, prefix + action.key, Verified.refuting(exc.etag))
            return ActionResult("upload", target, ok=False, error=str(exc), integrity=True)
        except S3SafeError as exc:
            return ActionResult("upload", target, ok=False, error=str(exc), integrity=isinstance(exc, IntegrityError))
        except OSError as exc:  # the file's reads are translated; this is the last net under one file's failure
            return ActionResult("upload", target, ok=False, error=str(local_read_error(source, exc)))
        run.add_bytes(result.size, replaced=action.target is not None)
        if before is None:  # it appeared meanwhile: nothing is known about the file that was sent
            return ActionResult("upload", target, detail=action.reason)
        if result.etag and result.sha256_hex:
            cache.put(dest.bucket, prefix + action.key,
                      Verified.of(result.size, before, result.etag, result.sha256_hex, result.proof or ""))  # fmt: skip
        if options.move:
            run.moves.add(Planned.of(action.key, before, proof=result.proof))
        return ActionResult("upload", target, detail=action.reason)

    uploads = _sendable(run.route(actions, planner.Kind.UPLOAD), run, root=root)
    if options.upload.no_clobber:
        uploads = _unclobbered(uploads, run, bucket=dest.bucket, prefix=prefix)
    if options.move and gate.dry_run:
        uploads = _planned_moves(uploads, run.moves)
    if progress is not None:
        uploads = progress.plan(uploads, size_of=_action_size)

    try:
        for result in gate.apply_each("upload", uploads, watching(progress, send, name_of=_action_key, size_of=_action_size),
                                      describe=lambda a: f"s3://{dest.bucket}/{prefix}{a.key} ({a.reason})",
                                      threads=conn.settings.threads):  # fmt: skip
            yield from run.drain()
            yield run.count(result)
        yield from run.drain()
        try:
            yield from _upload_deletions(root, dest, prefix, run, gate, storage=storage, cache=cache)
        except DeleteCapRefusal as refusal:
            raise run.refusal_after(refusal, verb="uploaded") from None
    finally:
        run.close()
        if own_cache:
            cache.close()
        else:
            cache.flush()
        summary.hashed, summary.requests = content.hashed, content.requests
        summary.elapsed = time.monotonic() - summary.started


def _action_size(action: planner.Action) -> int:
    return action.source.size if action.source is not None else 0


def _action_key(action: planner.Action) -> str:
    return action.key


def _check_listable(root: Path) -> None:
    """The source folder itself: unreadable, it would look empty (and --purge would call it empty)."""
    try:
        with os.scandir(root):
            pass
    except PermissionError:
        raise AccessDeniedError(f"cannot read folder {root}: permission denied", hint="fix its permissions") from None


def _upload_deletions(
    root: Path, dest: S3Url, prefix: str, run: _Run, gate: SafetyGate, *, storage: ObjectStore, cache: StateCache
) -> Iterator[ActionResult]:  # fmt: skip
    """After every upload: the mirror purge, then --move and --local-delete of local files."""
    yield from _purge_remote(storage, dest.bucket, prefix, run, gate)
    evidence = Evidence(storage, cache, bucket=dest.bucket, prefix=prefix)
    # each moved file carries its own evidence: another file's failure is no reason to keep it
    yield from _count_local(run, remove_planned(root, run.moves, gate, action="move", evidence=evidence))
    if run.local_deletes.count and run.summary.failed:
        yield ActionResult("skip", str(root), ok=False, error=f"{run.local_deletes.count} local deletion(s) skipped "
                           f"because {run.summary.failed} transfer(s) failed")  # fmt: skip
    else:
        yield from _count_local(run, remove_planned(root, run.local_deletes, gate, action="local-delete", evidence=evidence))


def _walk_failure(root: Path, run: _Run) -> Callable[[str, OSError], None]:
    """What the local walk could not read fails alone; the rest of the tree goes on."""

    def failed(key: str, exc: OSError) -> None:
        path = root.joinpath(*key.split("/")) if key else root
        if key.endswith("/") or not key:
            if isinstance(exc, FileNotFoundError):
                what = "folder vanished during the run; nothing under it was uploaded"
            elif exc.errno == errno.ELOOP:
                what = f"{exc.strerror}; not followed (leave it out with --exclude to silence this)"
            else:
                what = (f"cannot read this folder: {(exc.strerror or str(exc)).lower()}; nothing under it was uploaded "
                        "(fix its permissions or leave it out with --exclude)")  # fmt: skip
            run.fail(ActionResult("upload", f"{path}{os.sep}", ok=False, error=what))
        elif path.is_symlink() and (isinstance(exc, FileNotFoundError) or exc.errno == errno.ELOOP):
            what = "points to nothing that exists" if isinstance(exc, FileNotFoundError) else "loops (it leads back to itself)"
            run.fail(ActionResult("upload", str(path), ok=False, error=f"symbolic link {what}; not followed (fix it or leave it out with --exclude)"))
        else:
            run.fail(ActionResult("upload", str(path), ok=False, error=str(local_read_error(path, exc))))

    return failed


def _destination_walk_failure(root: Path, run: _Run) -> Callable[[str, OSError], None]:
    """A local folder or file that changes under the destination walk (renamed, swapped for a link) fails
    alone, by its full path; the rest of the restore goes on (and deletes are held back)."""

    def failed(key: str, exc: OSError) -> None:
        path = root.joinpath(*key.split("/")) if key else root
        if key.endswith("/") or not key:
            if isinstance(exc, (FileNotFoundError, NotADirectoryError)):
                what = "folder vanished during the run; what it held was not compared (run again to check it)"
            else:
                what = f"cannot read this folder: {(exc.strerror or str(exc)).lower()}; what it held was not compared"
            run.fail(ActionResult("download", f"{path}{os.sep}", ok=False, error=what))
        else:
            run.fail(ActionResult("download", str(path), ok=False, error=str(local_error(exc, path, doing="read"))))

    return failed


def _stat_or_none(path: Path) -> os.stat_result | None:
    try:
        return path.stat()
    except OSError:
        return None  # the upload itself reports why the file cannot be read


def _planned_moves(uploads: Iterator[planner.Action], moves: PlannedSpool) -> Iterator[planner.Action]:
    """A dry run plans each upload's move too, so it shows them and checks them against --max-delete."""
    for action in uploads:
        moves.add(Planned(action.key, 0, 0, 0, "dry run"))
        yield action


def _count_local(run: _Run, results: Iterator[ActionResult]) -> Iterator[ActionResult]:
    for result in results:
        if result.action == KEEP:
            run.summary.skipped += 1
            yield result
        else:
            yield run.count(result, deletion=True)


def _sendable(actions: Iterator[planner.Action], run: _Run, *, root: Path) -> Iterator[planner.Action]:
    """Files whose names no key can carry fail here, at planning, so --dry-run shows them as the real run would."""
    for action in actions:
        reason = unsendable_name(action.key)
        if reason is None:
            yield action
        else:
            run.fail(ActionResult("upload", str(root.joinpath(*action.key.split("/"))), ok=False, error=reason))


def _conditioned(upload: UploadOptions, action: planner.Action) -> UploadOptions:
    """A write happens only over what was planned against: an overwrite replaces only the object it was listed
    with (If-Match its ETag), a key listed as absent is only created (If-None-Match: *). A concurrent writer's
    object is then a conflict, never silently replaced."""
    target = action.target
    if upload.no_clobber:
        return upload  # If-None-Match: * already
    if target is None:
        return dataclasses.replace(upload, if_absent=True)
    if not target.etag:
        return upload  # nothing to name the listed object by
    return dataclasses.replace(upload, if_match=target.etag)


def _unclobbered(actions: Iterator[planner.Action], run: _Run, *, bucket: str, prefix: str) -> Iterator[planner.Action]:
    """--no-clobber: keys listed as existing are skipped at planning (a dry run shows it); the rest are sent
    with If-None-Match: *, so one created meanwhile is a conflict."""
    for action in actions:
        if action.target is None:
            yield action
        else:
            run.summary.skipped += 1
            run.notes.append(ActionResult("skip", f"s3://{bucket}/{prefix}{action.key}", detail="exists (--no-clobber)"))


def _drop_stale_journals(
    conn: Connection, bucket: str, prefix: str, actions: Iterator[planner.Action]
) -> Iterator[planner.Action]:
    """A file found unchanged on S3 needs no resume journal: one left by a run killed after completing the
    upload (or before recording its ID) is cleaned up, its upload aborted if still open."""
    from s3safe.transfer.multipart import discard_stale_journal

    for action in actions:
        source = action.source
        if action.kind == planner.Kind.SKIP and action.reason == "unchanged" and source is not None and source.size >= MIN_PART:
            discard_stale_journal(conn, bucket, prefix + action.key)
        yield action


class _LazyPlan:
    """The bucket's upload settings (ownership, default encryption: three requests), fetched at the first
    upload, so a run with nothing to send makes none. A non-private ACL and Object Lock options are checked up front:
    they can be refused."""

    def __init__(self, conn: Connection, bucket: str, options: UploadOptions) -> None:
        self._args = (conn, bucket, options)
        self._lock = threading.Lock()
        self._plan: UploadPlan | None = None
        if options.acl not in (None, "private") or options.object_lock:  # refused before anything is sent, not file by file
            self.get()

    def get(self) -> UploadPlan:
        with self._lock:
            if self._plan is None:
                self._plan = plan_upload(*self._args)
            return self._plan


def _listing(storage: ObjectStore, bucket: str, prefix: str, options: TreeOptions) -> Iterator[Any]:
    """The remote side in key order: obstore's listing (an order of magnitude less CPU than botocore's XML
    parsing) unless a condition needs what only the S3 listing carries (storage class)."""
    if options.where is None and options.local_delete is None:
        return storage.iter_objects_fast(bucket, prefix)
    return storage.iter_entries(bucket, prefix, recursive=True)


def _purge_remote(storage: ObjectStore, bucket: str, prefix: str, run: _Run, gate: SafetyGate) -> Iterator[ActionResult]:
    if not run.deletes.count:
        return
    if run.summary.failed:
        yield ActionResult("skip", f"s3://{bucket}/{prefix}", ok=False,
                           error=f"{run.deletes.count} deletion(s) skipped because {run.summary.failed} transfer(s) failed")  # fmt: skip
        return
    results = gate.apply("delete", ((prefix + k, None) for k in run.deletes),
                         lambda batch: storage.delete_batch(bucket, batch),
                         describe=lambda item: f"s3://{bucket}/{item[0]}", batch_size=DELETE_BATCH, deletes=True)  # fmt: skip
    for result in results:
        yield run.count(result, deletion=True)


def download_tree(
    conn: Connection, source: S3Url, root: Path, *, options: TreeOptions, gate: SafetyGate, summary: TreeSummary,
    cache: StateCache | None = None, progress: TransferProgress | None = None,
) -> Iterator[ActionResult]:  # fmt: skip
    """Mirror an S3 prefix into a local folder; keys that would escape it are refused and reported."""
    options.validate()
    if options.move:
        raise UsageError("--move applies to uploads only")
    prefix = source.folder
    storage = S3Storage(conn)
    keep = planner.Filter(options.include, options.exclude)
    listed = _listing(storage, source.bucket, prefix, options) if options.as_of is None else as_of(
        storage.iter_versions(source.bucket, prefix), options.as_of)  # fmt: skip
    # made before the listing is read: its source filter counts what --include/--exclude leave out
    run = _Run(summary, select=_decider(conn, options.where, root, upload=False), local_target=True)
    remote = _objects(listed, run.source_filter(keep), prefix)
    has_source, remote = _peek(remote)
    if options.purge:
        gate.require_source(has_entries=has_source, what=f"s3://{source.bucket}/{prefix}")
    if not has_source and not options.allow_empty:
        _refuse_empty_source(storage, source, prefix, filtered=bool(options.include or options.exclude), as_of=options.as_of)
    # a dry run creates nothing, not even the destination folder (and never writes through it)
    dest = None if gate.dry_run else Destination(root, create=True, special_bits=options.keep_setuid)
    own_cache = cache is None
    # entries belong to this server and this folder: another folder with the same sizes and mtimes is compared
    cache = (cache or StateCache(read_only=gate.dry_run)).scoped(endpoint=conn.settings.endpoint_url, root=root)
    if cache.unavailable:
        summary.warnings.append(cache.unavailable)
    walker = LocalStorage(on_error=_destination_walk_failure(root, run))
    local = _objects(walker.iter_entries(str(root), "", recursive=True), keep, "")
    temps: list[str] = []  # temp files of downloads in progress, or left by interrupted runs
    local = (e for e in local if not _is_temp(e.key, temps))
    started_at = time.time()
    decryption = options.decryption if options.decrypting else None
    content = ContentComparator(storage, cache, local_root=root, upload=False, encrypted=decryption is not None,
                                digest_key=decryption.digest_key if decryption else None,
                                settle=dest.restamp if dest is not None else None)  # fmt: skip
    actions = planner.plan(remote, local, upload=False, compare=_comparator(options.mode, content),
                           purge=options.purge, source_prefix=prefix, names=(f"s3://{source.bucket}/{prefix}", str(root)))  # fmt: skip
    actions = _compared(actions, options.mode, content, conn)
    claims = NameClaims()

    def fetch(action: planner.Action) -> ActionResult:
        cancel.check()
        assert action.source is not None
        obj = action.source
        url = f"s3://{obj.bucket}/{obj.key}"
        reason = unsafe_key_reason(action.key)
        if reason:
            run.summary.refused += 1
            return ActionResult("refuse", url, ok=False, error=f"key {reason}; not written")
        parts = local_parts(action.key)
        if not parts:
            run.summary.refused += 1
            return ActionResult("refuse", url, ok=False, error="key names no file; not written")
        assert dest is not None  # fetch runs only in a real run
        other = claims.claim(action.key, parts)
        if other is not None:
            run.summary.refused += 1
            return ActionResult("refuse", url, ok=False,
                                error=f"key names the same local file as {other!r} here (a backslash separates folders); not written")  # fmt: skip
        try:
            target = dest.target(parts)
            try:
                fetched = fetch_object(conn, obj.bucket, obj.key, target, decryption=decryption,
                                       expected=Expected(obj.size, obj.etag, version_id=obj.version_id))  # fmt: skip
                # the local file's own size: a decrypted file is smaller than the object that holds it
                written = target.stat() if obj.etag and not target.in_place else None
            finally:
                target.release()
        except S3SafeError as exc:
            return ActionResult("download", url, ok=False, error=str(exc), integrity=isinstance(exc, IntegrityError))
        except OSError as exc:  # raised by a call relative to an open folder: it names the file alone
            return ActionResult("download", url, ok=False, error=str(local_error(exc, root.joinpath(*parts), doing="write")))
        run.add_bytes(obj.size, replaced=action.target is not None)
        if obj.etag and written is not None:
            cache.put(obj.bucket, obj.key, Verified.of(written.st_size, written, obj.etag.strip('"'), fetched.sha256_hex))
        return ActionResult("download", str(target.path), detail=f"{action.reason}; verified by {fetched.verified}")

    downloads = run.route(actions, planner.Kind.DOWNLOAD)
    if progress is not None:
        downloads = progress.plan(downloads, size_of=_action_size)
    try:
        for result in gate.apply_each("download", downloads, watching(progress, fetch, name_of=_action_key, size_of=_action_size),
                                      describe=lambda a: f"{root / a.key} ({a.reason})", threads=conn.settings.threads):  # fmt: skip
            yield from run.drain()
            yield run.count(result)
        yield from run.drain()
        try:  # either refusal comes after this run's downloads, and must say so
            yield from _remove_local(root, run.deletes, run, gate, action="delete-local", dest=dest)
            yield from _remove_stale_temps(root, temps, gate, before=started_at, dest=dest)
        except DeleteCapRefusal as refusal:
            raise run.refusal_after(refusal, verb="downloaded") from None
    finally:
        if dest is not None:
            dest.close()
        run.close()
        if own_cache:
            cache.close()
        else:
            cache.flush()
        summary.hashed, summary.requests = content.hashed, content.requests
        summary.elapsed = time.monotonic() - summary.started


def _refuse_empty_source(storage: S3Storage, source: S3Url, prefix: str, *, filtered: bool, as_of: datetime | None) -> None:
    """A restore from a mistyped prefix (or a time before the backup) must not "succeed" with an empty folder."""
    if not source.is_prefix:
        try:
            storage.head(source.bucket, source.key)
        except NotFoundError:
            pass
        else:
            raise UsageError(f"{source} is an object, not a folder",
                             hint="to download one object, use 'get' without -r")  # fmt: skip
    matching = " matching --include/--exclude" if filtered else ""
    when = f" at {as_of.isoformat()}" if as_of is not None else ""
    raise NotFoundError(f"nothing to download: no object{matching} under s3://{source.bucket}/{prefix}{when}",
                        hint="check the URL" + (" and the time ('ls -r --versions' shows what there was)" if when else "")
                        + "; add --allow-empty if an empty source is expected")  # fmt: skip


def _is_temp(key: str, found: list[str]) -> bool:
    if is_own_temp(key.rsplit("/", 1)[-1]):
        found.append(key)
        return True
    return False


def _remove_stale_temps(
    root: Path, keys: list[str], gate: SafetyGate, *, before: float, dest: Destination | None
) -> Iterator[ActionResult]:  # fmt: skip
    """Remove the temp files a killed run (kill -9, power loss) left behind: ours by their marked name, not
    written to since this run began, and not locked: a run that still writes a temp file (another s3safe
    restoring into the same folder) holds an advisory lock on it. Deletions like any other: through the
    gate, within --max-delete."""

    def path_of(key: str) -> Path:
        return root.joinpath(*key.split("/"))

    def stale(key: str) -> bool:
        try:
            return path_of(key).stat().st_mtime < before
        except OSError:
            return False

    def remove(batch: Any) -> list[ActionResult]:
        out = []
        assert dest is not None  # removals run only in a real run
        for key in batch:
            try:
                if not dest.remove_unused_temp(key.split("/")):
                    log.debug("%s: in use by another run; kept", path_of(key))
                    continue
            except NotFoundError:
                continue
            except S3SafeError as exc:
                out.append(ActionResult("remove-temp", str(path_of(key)), ok=False, error=str(exc)))
                continue
            out.append(ActionResult("remove-temp", str(path_of(key)), detail="left by an interrupted download"))
        return out

    yield from gate.apply(
        "remove-temp", (k for k in keys if stale(k)), remove, describe=lambda k: str(path_of(k)), batch_size=256,
        deletes=True,
    )


def _decider(
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


def _as_listed(seen: tuple[int, float | None] | None) -> Callable[[os.stat_result], bool] | None:
    """A test that a file still has the size and mtime it was listed with (None: nothing to compare)."""
    if seen is None:
        return None
    size, stamp = seen

    def same(stat: os.stat_result) -> bool:
        when = datetime.fromtimestamp(stat.st_mtime, tz=UTC).timestamp()  # as the listing converted it
        return stat.st_size == size and (stamp is None or when == stamp)

    return same


def _remove_local(
    root: Path, spool: _DeleteSpool, run: _Run, gate: SafetyGate, *, action: str, dest: Destination | None
) -> Iterator[ActionResult]:  # fmt: skip
    """Delete local files a download mirror no longer has, after the transfers and only if none failed;
    through open folders that are never links, so a link swapped in meanwhile cannot aim a deletion outside."""
    if not spool.count:
        return
    if run.summary.failed:
        yield ActionResult("skip", str(root), ok=False,
                           error=f"{spool.count} deletion(s) skipped because {run.summary.failed} transfer(s) failed")  # fmt: skip
        return

    def remove(batch: Any) -> list[ActionResult]:
        out = []
        assert dest is not None  # removals run only in a real run
        for key, seen in batch:
            path = root.joinpath(*key.split("/"))
            try:
                # a file written or replaced while the run went on is no longer the one the plan was about
                if dest.remove(key.split("/"), unchanged=_as_listed(seen)):
                    out.append(ActionResult(action, str(path)))
                else:
                    out.append(ActionResult(KEEP, str(path), detail="changed since it was planned; not deleted"))
            except S3SafeError as exc:
                out.append(ActionResult(action, str(path), ok=False, error=str(exc)))
        return out

    # a file kept because it changed is a skip, not a deletion
    yield from _count_local(run, gate.apply(action, spool.entries(), remove, batch_size=256, deletes=True,
                                            describe=lambda e: str(root.joinpath(*e[0].split("/")))))  # fmt: skip
