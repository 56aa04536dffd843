"""Whole-tree get and sync down: list, plan, download in parallel, then (and only then) delete local files.

Written against the storage interface (storage/base.py: conn.objects), so the in-memory store drives it in the
engine tests as S3 does in the functional ones. Deletions run after every download has finished, and not at all if
any failed; every download and deletion passes through the SafetyGate, which is what makes --dry-run print the plan.
"""

from __future__ import annotations

import logging
import os
import stat
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from s3safe.core import cancel
from s3safe.core.errors import (
    DeleteCapRefusal,
    IntegrityError,
    NotFoundAtTime,
    NotFoundError,
    S3SafeError,
    UsageError,
)
from s3safe.core.locations import S3Url, local_parts, names_folder, unsafe_key_reason
from s3safe.core.models import ActionResult, ObjectInfo
from s3safe.core.progress import TransferProgress, watching
from s3safe.core.safety import SafetyGate
from s3safe.storage.base import ObjectStore, VersionListing
from s3safe.storage.connection import Connection
from s3safe.storage.local import LocalStorage
from s3safe.transfer import planner
from s3safe.transfer.compare import ContentComparator
from s3safe.transfer.download import Expected, fetch_object
from s3safe.transfer.local_delete import KEEP
from s3safe.transfer.localdest import Destination, NameClaims, is_own_temp, local_error
from s3safe.transfer.state import StateCache, Verified
from s3safe.transfer.tree_run import (
    DeleteSpool,
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
from s3safe.transfer.versions import as_of

log = logging.getLogger("s3safe.engine")


def download_tree(
    conn: Connection, source: S3Url, root: Path, *, options: TreeOptions, gate: SafetyGate, summary: TreeSummary,
    cache: StateCache | None = None, progress: TransferProgress | None = None,
) -> Iterator[ActionResult]:  # fmt: skip
    """Mirror an S3 prefix into a local folder; keys that would escape it are refused and reported."""
    options.validate()
    if options.move:
        raise UsageError("--move applies to uploads only")
    prefix = source.folder
    storage = conn.objects
    keep = planner.Filter(options.include, options.exclude)
    listed = listing(storage, source.bucket, prefix, options) if options.as_of is None else as_of(
        _versions(storage, source.bucket, prefix), options.as_of)  # fmt: skip
    # made before the listing is read: its source filter counts what --include/--exclude leave out
    run = Run(summary, select=decider(conn, options.where, root, upload=False), local_target=True)
    remote = objects_in(listed, run.source_filter(keep), prefix)
    has_source, remote = peek(remote)
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
    local = objects_in(walker.iter_entries(str(root), "", recursive=True), keep, "")
    temps: list[str] = []  # temp files of downloads in progress, or left by interrupted runs
    local = (e for e in local if not _is_temp(e.key, temps))
    started_at = time.time()
    decryption = options.decryption if options.decrypting else None
    content = ContentComparator(storage, cache, local_root=root, upload=False, encrypted=decryption is not None,
                                digest_key=decryption.digest_key if decryption else None,
                                settle=dest.restamp if dest is not None else None)  # fmt: skip
    actions = planner.plan(remote, local, upload=False, compare=comparator(options.mode, content),
                           purge=options.purge, source_prefix=prefix, names=(f"s3://{source.bucket}/{prefix}", str(root)))  # fmt: skip
    actions = compared(_one_key_per_file(actions, root, run, compare=comparator(options.mode, content)), options.mode, content, conn)

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
        downloads = progress.plan(downloads, size_of=action_size)
    try:
        for result in gate.apply_each("download", downloads, watching(progress, fetch, name_of=action_key, size_of=action_size),
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
        run.finish(content, cache, own_cache=own_cache)


def _one_key_per_file(
    actions: Iterator[planner.Action], root: Path, run: Run, *, compare: planner.Comparator
) -> Iterator[planner.Action]:  # fmt: skip
    """Keys that name one local file (`a/b`, `a//b`, `a/./b`): the first in listing order owns it, the others
    are refused (failed, so nothing is purged on their account). A folded owner is compared with that file, so
    a sync settles; the planner's merge, by exact key, paired the file with no key or with another."""
    claims = NameClaims()
    for action in actions:
        obj = action.source
        if obj is None or unsafe_key_reason(action.key):  # deletions; unsafe keys are refused by fetch
            yield action
            continue
        parts = local_parts(action.key)
        if not parts:
            yield action
            continue
        url = f"s3://{obj.bucket}/{obj.key}"
        if names_folder(action.key):
            run.summary.refused += 1
            run.fail(ActionResult("refuse", url, ok=False, error="key ends in '.' and names a folder, not a file; not written"))
            continue
        other = claims.claim(action.key, parts)
        if other is not None:
            run.summary.refused += 1
            run.fail(ActionResult("refuse", url, ok=False, error=f"key names the same local file as {other!r}; not written"))
            continue
        name = "/".join(parts)
        if name != action.key and action.target is None:
            yield _against_local(action, root, name, compare=compare)
        else:
            yield action


def _against_local(action: planner.Action, root: Path, name: str, *, compare: planner.Comparator) -> planner.Action:
    """A folded key's action, compared with the local file it names (if there is one, and a regular file)."""
    assert action.source is not None
    try:
        info = os.lstat(root.joinpath(*name.split("/")))
    except OSError:
        return action
    if not stat.S_ISREG(info.st_mode):
        return action
    local = ObjectInfo(bucket=str(root), key=name, size=info.st_size,
                       last_modified=datetime.fromtimestamp(info.st_mtime, tz=UTC))  # fmt: skip
    reason = compare(action.source, local)
    if reason is None:
        return planner.Action(planner.Kind.SKIP, action.key, action.source, local, "unchanged")
    return planner.Action(planner.Kind.DOWNLOAD, action.key, action.source, local, reason)


def _destination_walk_failure(root: Path, run: Run) -> Callable[[str, OSError], None]:
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


def _versions(storage: ObjectStore, bucket: str, prefix: str) -> Iterator[Any]:
    """What --as-of picks from: every version under the prefix, from a store that keeps and lists them."""
    if not storage.features.versions or not isinstance(storage, VersionListing):
        raise UsageError("--as-of needs a store that keeps object versions; this one does not")
    return storage.iter_versions(bucket, prefix)


def _refuse_empty_source(storage: ObjectStore, source: S3Url, prefix: str, *, filtered: bool, as_of: datetime | None) -> None:
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
    what = f"nothing to download: no object{matching} under s3://{source.bucket}/{prefix}"
    hint = "check the URL" + (" and the time ('ls -r --versions' shows what there was)" if as_of else "")
    hint += "; add --allow-empty if an empty source is expected"
    if as_of is not None:  # the CLI shows the time as it shows every time (--utc or local)
        raise NotFoundAtTime(f"{what} at ", as_of, hint=hint)
    raise NotFoundError(what, hint=hint)


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
    root: Path, spool: DeleteSpool, run: Run, gate: SafetyGate, *, action: str, dest: Destination | None
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
    yield from count_local(run, gate.apply(action, spool.entries(), remove, batch_size=256, deletes=True,
                                            describe=lambda e: str(root.joinpath(*e[0].split("/")))))  # fmt: skip
