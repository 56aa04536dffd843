"""`audit --objects`: every object's ACL, server-side encryption and client-side encryption marker.

Objects stream from the listing in key order through a bounded pool (`-t/--threads` requests in flight);
results come back in the same order, which is what makes the checkpoint a single "last key". A bucket
with ACLs disabled (BucketOwnerEnforced) needs no ACL request: its objects' ACLs grant nothing. `--sample N`
checks N objects drawn uniformly from the whole listing (reservoir sampling, so listing a huge bucket costs
only its list requests and memory stays at N keys).
"""

from __future__ import annotations

import contextlib
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from s3safe.audit.checkpoint import Checkpoint, ScanState
from s3safe.audit.checks.objects import OBJECT_ACL_PUBLIC, OBJECT_NOT_ENCRYPTED
from s3safe.audit.model import Finding, ObjectScan, Severity, shell_url
from s3safe.core.concurrency import run_bounded
from s3safe.core.errors import NotFoundError, S3SafeError, UsageError
from s3safe.core.models import AclInfo, ObjectDetails, ObjectInfo
from s3safe.query.facts import CLIENT_ENCRYPTION_META_KEY
from s3safe.storage.connection import Connection
from s3safe.storage.s3 import S3Storage

# (bucket, objects checked so far, objects to check or None when unknown, object findings so far)
ProgressFn = Callable[[str, int, int | None, int], None]
SAVE_EVERY = 500
SAVE_SECONDS = 5.0
PUBLIC_GROUPS = ("AllUsers", "AuthenticatedUsers")
WRITE_PERMISSIONS = ("WRITE", "WRITE_ACP", "FULL_CONTROL")


@dataclass(frozen=True)
class ScanOptions:
    acls: bool = True  # apply object-acl-public (only where ACLs are enabled)
    encryption: bool = True  # apply object-not-encrypted
    sample: int | None = None
    resume: bool = False


@dataclass(frozen=True)
class _Checked:
    key: str
    acl: AclInfo | None
    head: ObjectDetails | None
    error: str | None = None
    gone: bool = False


def _listing(conn: Connection, bucket: str, *, start_after: str | None) -> Iterator[ObjectInfo]:
    # through the storage listing: its order and continuation tokens are checked, so a looping server ends the scan
    for entry in S3Storage(conn).iter_entries(bucket, "", recursive=True, start_after=start_after):
        if isinstance(entry, ObjectInfo):
            yield entry


def _sample(objects: Iterator[ObjectInfo], size: int) -> list[ObjectInfo]:
    chosen: list[ObjectInfo] = []
    rng = random.Random()
    for seen, obj in enumerate(objects):
        if seen < size:
            chosen.append(obj)
        elif (slot := rng.randint(0, seen)) < size:
            chosen[slot] = obj
    return sorted(chosen, key=lambda o: o.key.encode("utf-8"))


def _client_encrypted(head: ObjectDetails) -> bool:
    return any(k.lower() == CLIENT_ENCRYPTION_META_KEY and v for k, v in head.metadata.items())


class _Scan:
    def __init__(self, conn: Connection, bucket: str, *, options: ScanOptions, state: ScanState) -> None:
        self.storage = S3Storage(conn)
        self.bucket = bucket
        self.options = options
        self.state = state
        for name in ("scanned", "public", "unencrypted", "client_encrypted", "errors"):
            state.counts.setdefault(name, 0)

    def inspect(self, obj: ObjectInfo) -> _Checked:
        try:
            acl = self.storage.get_acl(self.bucket, obj.key) if self.options.acls else None
            head = self.storage.head(self.bucket, obj.key) if self.options.encryption else None
        except NotFoundError:
            return _Checked(obj.key, None, None, gone=True)  # deleted while we looked
        except S3SafeError as exc:
            return _Checked(obj.key, None, None, error=str(exc))
        return _Checked(obj.key, acl, head)

    def record(self, checked: _Checked) -> None:
        counts = self.state.counts
        self.state.last_key = checked.key
        if checked.gone:
            return
        counts["scanned"] += 1
        if checked.error:
            counts["errors"] += 1
            return
        if checked.acl is not None:
            grants = [g for g in checked.acl.grants if g.grantee in PUBLIC_GROUPS]
            if grants:
                counts["public"] += 1
                severity = Severity.CRITICAL if any(g.permission in WRITE_PERMISSIONS for g in grants) else Severity.HIGH
                found = "object ACL grants " + ", ".join(f"{g.permission} to {g.grantee}" for g in grants)
                fix = f"s3safe acl set private {shell_url(self.bucket, checked.key)}"
                self._add(OBJECT_ACL_PUBLIC.id, checked.key, severity=severity, found=found, fix=fix)
        if checked.head is not None:
            client_side = _client_encrypted(checked.head)
            counts["client_encrypted"] += client_side
            if checked.head.sse_algorithm is None and not client_side:
                counts["unencrypted"] += 1
                url = shell_url(self.bucket, checked.key)
                fix = f"upload it again, encrypted: s3safe get {url} FILE, then s3safe put FILE {url}"
                found = "stored without server-side or client-side encryption"
                self._add(OBJECT_NOT_ENCRYPTED.id, checked.key, severity=OBJECT_NOT_ENCRYPTED.severity, found=found, fix=fix)

    def _add(self, check_id: str, key: str, *, severity: Severity, found: str, fix: str) -> None:
        self.state.findings.append({"check": check_id, "key": key, "severity": severity.label, "found": found, "fix": fix})


def findings_of(bucket: str, state: ScanState) -> list[Finding]:
    checks = {OBJECT_ACL_PUBLIC.id: OBJECT_ACL_PUBLIC, OBJECT_NOT_ENCRYPTED.id: OBJECT_NOT_ENCRYPTED}
    return [
        checks[f["check"]].finding(bucket, f["found"], fix=f["fix"], key=f["key"], severity=Severity.parse(f["severity"]))
        for f in state.findings
        if f.get("check") in checks
    ]


def _scope(options: ScanOptions) -> dict[str, bool]:
    return {"acls": options.acls, "encryption": options.encryption}


def _scope_text(scope: dict[str, bool]) -> str:
    ids = [
        check.id for check, on in ((OBJECT_ACL_PUBLIC, scope.get("acls")), (OBJECT_NOT_ENCRYPTED, scope.get("encryption"))) if on
    ]
    return ", ".join(ids) or "no object check"


def _resumable(saved: ScanState, bucket: str, *, scope: dict[str, bool]) -> ScanState:
    """The saved state, if its keys got the checks this run asks for; resuming otherwise skips keys never checked."""
    if saved.scope != scope:
        raise UsageError(
            f"the interrupted object scan of s3://{bucket} applied {_scope_text(saved.scope)}, this run asks for "
            f"{_scope_text(scope)}: resuming would leave its first {saved.counts.get('scanned', 0)} object(s) unchecked",
            hint="use --resume with the same --check options (and the same bucket ACL setting), or leave out --resume to scan from the start",
        )
    return saved


def scan_objects(
    conn: Connection, bucket: str, *, options: ScanOptions, progress: ProgressFn | None = None, notes: list[str] | None = None
) -> tuple[ObjectScan, list[Finding]]:
    """Check the bucket's objects; returns the counts and the object findings (resumed ones included)."""
    if options.sample is not None and options.sample < 1:
        raise UsageError("--sample must be 1 or more")
    if options.sample is not None and options.resume:
        raise UsageError("--resume continues a full scan; a --sample run is not resumable", hint="leave out one of them")
    notes = notes if notes is not None else []
    checkpoint = Checkpoint(conn.settings.endpoint_url, bucket)
    state = ScanState(scope=_scope(options))
    if options.resume:
        saved = checkpoint.load()
        if saved is None:
            notes.append("no interrupted object scan to resume: scanning from the start")
        else:
            state = _resumable(saved, bucket, scope=state.scope)
    resumed_after = state.last_key
    scan = _Scan(conn, bucket, options=options, state=state)
    listing = _listing(conn, bucket, start_after=resumed_after)
    objects: Iterator[ObjectInfo] | list[ObjectInfo]
    total = None
    if options.sample is not None:
        objects = _sample(listing, options.sample)
        total = len(objects)
    else:
        objects = listing
    threads = max(1, conn.settings.threads)
    last_save = time.monotonic()
    done = 0
    try:
        for checked in run_bounded(scan.inspect, objects, threads=threads):
            scan.record(checked)
            done += 1
            if progress is not None:
                progress(bucket, state.counts["scanned"], total, len(state.findings))
            if options.sample is None and (done % SAVE_EVERY == 0 or time.monotonic() - last_save > SAVE_SECONDS):
                checkpoint.save(state)
                last_save = time.monotonic()
    except BaseException:
        if options.sample is None and state.last_key is not None:
            checkpoint.save(state)  # what was checked stays checked: --resume goes on from here
        raise
    if options.sample is None:
        with contextlib.suppress(OSError):  # nothing to remove when the folder cannot even be read
            checkpoint.clear()
    if checkpoint.unavailable is not None:
        notes.append(checkpoint.unavailable)
    if state.counts["errors"]:
        notes.append(f"{state.counts['errors']} object(s) could not be checked (see -v for the requests)")
    counts = state.counts
    result = ObjectScan(counts["scanned"], counts["public"], counts["unencrypted"], counts["client_encrypted"], counts["errors"],
                        sampled=options.sample is not None, resumed_after=resumed_after, acls_read=options.acls)  # fmt: skip
    return result, findings_of(bucket, state)
