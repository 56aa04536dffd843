"""Whole-tree put and sync up: plan, transfer in parallel, then (and only then) delete.

Deletes of a mirror run after every transfer has finished, and not at all if any failed. Every
transfer and delete passes through the SafetyGate, which is what makes --dry-run print the plan.
The download side is tree_download.py, what both share tree_run.py; this module names them all.
"""

from __future__ import annotations

import dataclasses
import errno
import logging
import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

from s3safe.core import cancel
from s3safe.core.errors import (
    AccessDeniedError,
    DeleteCapRefusal,
    IntegrityError,
    NotFoundError,
    S3SafeError,
    StoredCopyMismatch,
    UsageError,
)
from s3safe.core.locations import MAX_KEY_BYTES, S3Url
from s3safe.core.models import ActionResult
from s3safe.core.progress import TransferProgress, watching
from s3safe.core.safety import SafetyGate
from s3safe.storage.base import ObjectStore
from s3safe.storage.conditional import honours_conditions
from s3safe.storage.connection import Connection
from s3safe.storage.local import LocalStorage
from s3safe.storage.s3 import DELETE_BATCH
from s3safe.transfer import planner
from s3safe.transfer.compare import ContentComparator
from s3safe.transfer.local_delete import Evidence, Planned, PlannedSpool, remove_planned
from s3safe.transfer.options import UploadOptions
from s3safe.transfer.single import UploadPlan, local_read_error, plan_upload, unsendable_name, upload_file
from s3safe.transfer.state import StateCache, Verified
from s3safe.transfer.tree_run import (
    DeleteSpool,
    Mode,
    Run,
    TreeOptions,
    TreeSummary,
    action_key,
    action_size,
    comparator,
    compared,
    count_local,
    decider,
    listing,
    objects_in,
    peek,
)

# the tree transfers' public names, wherever they are defined
__all__ = ["DeleteSpool", "Mode", "TreeOptions", "TreeSummary", "download_tree", "upload_tree"]

log = logging.getLogger("s3safe.engine")

MIN_PART = 5 * 1024**2  # S3's smallest part: only larger files can have a multipart upload (and a journal)


def download_tree(
    conn: Connection, source: S3Url, root: Path, *, options: TreeOptions, gate: SafetyGate, summary: TreeSummary,
    cache: StateCache | None = None, progress: TransferProgress | None = None,
) -> Iterator[ActionResult]:  # fmt: skip
    """tree_download.download_tree, imported when a download runs: an upload (and a no-change sync to S3) loads
    none of the download side (tree_download, download, ranged, versions: ~10 ms of its start)."""
    from s3safe.transfer.tree_download import download_tree as run

    return run(conn, source, root, options=options, gate=gate, summary=summary, cache=cache, progress=progress)


def upload_tree(
    conn: Connection, root: Path, dest: S3Url, *, options: TreeOptions, gate: SafetyGate, summary: TreeSummary,
    cache: StateCache | None = None, progress: TransferProgress | None = None,
) -> Iterator[ActionResult]:  # fmt: skip
    """Mirror a local folder to an S3 prefix; `progress`, when given, is kept up to date as files and bytes move."""
    options.validate()
    if options.as_of is not None:
        raise UsageError("--as-of applies to downloads only")
    if not root.is_dir():
        if root.exists():  # a file (or a device): the tree commands take folders
            raise UsageError(f"{root} is not a folder", hint="to upload one file, use put without -r")
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
    run = Run(summary, select=decider(conn, options.where, root, upload=True),
               local_delete=decider(conn, options.local_delete, root, upload=True), root=root)  # fmt: skip
    walker = LocalStorage(follow_symlinks=options.follow_symlinks, on_error=_walk_failure(root, run),
                          on_skip=run.not_regular(root))  # fmt: skip
    local = objects_in(walker.iter_entries(str(root), "", recursive=True), run.source_filter(keep), "")
    has_source, local = peek(local)
    if options.purge and not run.summary.failed:
        # a folder the walk could not read is not an empty one: it fails by name, and the failure keeps the purge
        # from running (exit 5) rather than the source being called empty
        gate.require_source(has_entries=has_source, what=f"folder {root}")
    remote = objects_in(listing(storage, dest.bucket, prefix, options), keep, prefix)
    encryption = options.encryption
    content = ContentComparator(storage, cache, local_root=root, upload=True, encrypted=encryption is not None,
                                digest_key=(lambda _bucket, token: encryption.digest_key_for(token)) if encryption else None)  # fmt: skip
    actions = planner.plan(local, remote, upload=True, compare=comparator(options.mode, content),
                           purge=options.purge, target_prefix=prefix, names=(str(root), f"s3://{dest.bucket}/{prefix}"))  # fmt: skip
    actions = compared(actions, options.mode, content, conn)
    if not gate.dry_run:  # a dry run changes nothing anywhere, not even an abandoned upload
        actions = _drop_stale_journals(conn, dest.bucket, prefix, actions)
    upload_plan = _LazyPlan(conn, dest.bucket, options.upload)
    create_only = dataclasses.replace(options.upload, if_absent=True)  # what most keys of a first backup are sent with

    def send(action: planner.Action) -> ActionResult:
        cancel.check()
        source = root.joinpath(*action.key.split("/"))
        target = f"s3://{dest.bucket}/{prefix}{action.key}"
        if len((prefix + action.key).encode("utf-8", "surrogateescape")) > MAX_KEY_BYTES:
            return ActionResult("upload", target, ok=False, error=f"key is longer than S3's {MAX_KEY_BYTES}-byte limit")
        # outside the file's own failures: a bucket the run cannot read or write ends the run, with its own exit code
        plan = upload_plan.get()
        before = _stat_or_none(source)  # the file as sent: a --move deletes it only if it is still this one
        try:
            result = upload_file(conn, source, dest, options=_conditioned(options.upload, action, create_only=create_only), plan=plan,
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
        uploads = progress.plan(uploads, size_of=action_size)

    try:
        for result in gate.apply_each("upload", uploads, watching(progress, send, name_of=action_key, size_of=action_size),
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
        run.finish(content, cache, own_cache=own_cache)


def _check_listable(root: Path) -> None:
    """The source folder itself: unreadable, it would look empty (and --purge would call it empty)."""
    try:
        with os.scandir(root):
            pass
    except PermissionError:
        raise AccessDeniedError(f"cannot read folder {root}: permission denied", hint="fix its permissions") from None


def _upload_deletions(
    root: Path, dest: S3Url, prefix: str, run: Run, gate: SafetyGate, *, storage: ObjectStore, cache: StateCache
) -> Iterator[ActionResult]:  # fmt: skip
    """After every upload: the mirror purge, then --move and --local-delete of local files."""
    yield from _purge_remote(storage, dest.bucket, prefix, run, gate)
    evidence = Evidence(storage, cache, bucket=dest.bucket, prefix=prefix)
    # each moved file carries its own evidence: another file's failure is no reason to keep it
    yield from count_local(run, remove_planned(root, run.moves, gate, action="move", evidence=evidence))
    if run.local_deletes.count and run.summary.failed:
        yield ActionResult("skip", str(root), ok=False, error=f"{run.local_deletes.count} local deletion(s) skipped "
                           f"because {run.summary.failed} transfer(s) failed")  # fmt: skip
    else:
        yield from count_local(run, remove_planned(root, run.local_deletes, gate, action="local-delete", evidence=evidence))


def _walk_failure(root: Path, run: Run) -> Callable[[str, OSError], None]:
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
            run.fail(
                ActionResult(
                    "upload",
                    str(path),
                    ok=False,
                    error=f"symbolic link {what}; not followed (fix it or leave it out with --exclude)",
                )
            )
        else:
            run.fail(ActionResult("upload", str(path), ok=False, error=str(local_read_error(path, exc))))

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


def _sendable(actions: Iterator[planner.Action], run: Run, *, root: Path) -> Iterator[planner.Action]:
    """Files whose names no key can carry fail here, at planning, so --dry-run shows them as the real run would."""
    for action in actions:
        reason = unsendable_name(action.key)
        if reason is None:
            yield action
        else:
            run.fail(ActionResult("upload", str(root.joinpath(*action.key.split("/"))), ok=False, error=reason))


def _conditioned(upload: UploadOptions, action: planner.Action, *, create_only: UploadOptions) -> UploadOptions:
    """A write happens only over what was planned against: an overwrite replaces only the object it was listed
    with (If-Match its ETag), a key listed as absent is only created (If-None-Match: *). A concurrent writer's
    object is then a conflict, never silently replaced."""
    target = action.target
    if upload.no_clobber:
        return upload  # If-None-Match: * already
    if target is None:
        return create_only
    if not target.etag:
        return upload  # nothing to name the listed object by
    return dataclasses.replace(upload, if_match=target.etag)


def _unclobbered(actions: Iterator[planner.Action], run: Run, *, bucket: str, prefix: str) -> Iterator[planner.Action]:
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
        self._failed: S3SafeError | None = None  # asked once: the workers waiting for it get the same answer
        if options.acl not in (None, "private") or options.object_lock:  # refused before anything is sent, not file by file
            self.get()

    def get(self) -> UploadPlan:
        with self._lock:
            if self._failed is not None:
                raise self._failed
            if self._plan is None:
                conn, bucket, _ = self._args
                try:
                    # every key of a tree run is written with a condition: whether the endpoint honours one is
                    # asked alongside the bucket's settings
                    self._plan = plan_upload(*self._args, alongside={"probe": lambda: honours_conditions(conn, bucket)})
                except S3SafeError as exc:
                    self._failed = exc
                    raise
            return self._plan


def _purge_remote(storage: ObjectStore, bucket: str, prefix: str, run: Run, gate: SafetyGate) -> Iterator[ActionResult]:
    if not run.deletes.count:
        return
    if run.summary.failed:
        yield ActionResult("skip", f"s3://{bucket}/{prefix}", ok=False,
                           error=f"{run.deletes.count} deletion(s) skipped because {run.summary.failed} transfer(s) failed")  # fmt: skip
        return
    # each key is deleted only while it is still the object listed: another writer's newer one is a conflict, kept
    results = gate.apply("delete", ((prefix + k, etag) for k, etag in run.deletes.with_etags()),
                         lambda batch: storage.delete_batch(bucket, [(k, None) for k, _ in batch], etags={k: e for k, e in batch if e}),
                         describe=lambda item: f"s3://{bucket}/{item[0]}", batch_size=DELETE_BATCH, deletes=True)  # fmt: skip
    for result in results:
        yield run.count(result, deletion=True)
