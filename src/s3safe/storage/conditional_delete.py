"""Conditional deletes: a key planned for deletion from a listing is deleted only while it is still the object
listed (its ETag), so another writer's object put there since is kept and named as a conflict.

AWS S3, Ceph and moto honour an ETag in DeleteObjects' <Object> (the object is refused with PreconditionFailed
when the current one differs); servers that do not know the element simply delete. Which kind an endpoint is,
is probed once per run, and only by a run that has something to delete: an empty probe object is put and then
deleted with an ETag no object has; if it survives, conditions are honoured. Where they are ignored, each key is
re-checked by a HEAD just before its batch is sent instead, which is not atomic: a warning says so, once.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Protocol

from s3safe.core.concurrency import run_bounded
from s3safe.core.errors import AccessDeniedError, S3SafeError
from s3safe.core.models import ActionResult, ObjectInfo
from s3safe.storage.base import PROBE_PREFIX
from s3safe.storage.errors import translated
from s3safe.storage.probes import NO_SUCH_ETAG, probed_once, remove_probe, sweep_probe

if TYPE_CHECKING:
    from s3safe.storage.clients import Clients as Connection

log = logging.getLogger("s3safe.conditional")

GONE = "already gone (deleted by another client after the listing)"

Items = Sequence[tuple[str, str | None]]


class Deleting(Protocol):
    """What this module needs of the S3 storage (a Protocol, so that storage/s3.py, which calls in here, is not
    imported back: no import cycle)."""

    @property
    def conn(self) -> Connection: ...

    def current_etag(self, bucket: str, key: str) -> str | None: ...

    def delete_batch(self, bucket: str, items: list[tuple[str, str | None]]) -> list[ActionResult]: ...

    def iter_versions(self, bucket: str, prefix: str) -> Iterator[ObjectInfo]: ...


def quoted(etag: str) -> str:
    return '"' + etag.strip('"') + '"'


def conflict_error(bucket: str, key: str, etag: str) -> str:
    return (f"conflict: s3://{bucket}/{key} was changed by another writer after this run listed it for deletion "
            f"(ETag {etag.strip(chr(34))} listed); the newer object was left as it was")  # fmt: skip


def honours_delete_conditions(storage: Deleting, bucket: str) -> bool:
    """Whether the endpoint honours an ETag in DeleteObjects; probed once per run (per connection)."""
    return probed_once(storage.conn, "honours_delete_conditions", lambda: _probe(storage, bucket),
                       ignored="conditional deletes (the ETag of DeleteObjects): each object planned for deletion from a "
                               "listing is re-checked by a HEAD just before it is deleted, which is not atomic there")  # fmt: skip


def _probe(storage: Deleting, bucket: str) -> bool | None:
    """True: the impossible ETag kept the probe object; False: it was deleted; None: the probe could not be made
    (no permission to write, say), which tells nothing (the HEAD check is then the safe side, quietly)."""
    key = PROBE_PREFIX + uuid.uuid4().hex
    client = storage.conn.client_for(bucket)
    try:
        with translated("probe conditional deletes in", bucket=bucket, key=key):
            put = client.put_object(Bucket=bucket, Key=key, Body=b"", ServerSideEncryption="AES256")
            answer = client.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": key, "ETag": NO_SUCH_ETAG}], "Quiet": False})
    except S3SafeError as exc:
        log.info("could not probe conditional deletes in s3://%s (%s); re-checking by HEAD instead", bucket, exc)
        if not isinstance(exc, AccessDeniedError):  # refused outright, it wrote nothing; else its answer may be lost
            sweep_probe(storage, bucket, key)
        return None
    refused = any(e.get("Key") == key for e in answer.get("Errors", []))
    # what the probe left: its object (refused), or on a versioned bucket its version and the marker over it
    left = [(key, put.get("VersionId"))] if refused or put.get("VersionId") else []
    left += [(key, d["DeleteMarkerVersionId"]) for d in answer.get("Deleted", []) if d.get("DeleteMarkerVersionId")]
    remove_probe(storage.delete_batch, bucket, left)
    return refused


def prepare(storage: Deleting, bucket: str, items: Items, etags: Mapping[str, str]) -> tuple[Items, list[ActionResult], Mapping[str, str]]:
    """(items to send, results of keys held back, ETags to send with them). Where the endpoint ignores conditional
    deletes, each conditioned key is HEADed now: one changed since the listing is a conflict, one gone is done."""
    if honours_delete_conditions(storage, bucket):
        return items, [], etags
    send: list[tuple[str, str | None]] = []
    held: list[ActionResult] = []
    for (key, version), current in zip(items, _current_etags(storage, bucket, items, etags), strict=True):
        listed = etags.get(key) if version is None else None
        if listed and current is None:
            held.append(ActionResult("delete", f"s3://{bucket}/{key}", detail=GONE))
        elif listed and quoted(current or "") != quoted(listed):
            held.append(ActionResult("delete", f"s3://{bucket}/{key}", ok=False, error=conflict_error(bucket, key, listed)))
        else:
            send.append((key, version))
    return send, held, {}


def _current_etags(storage: Deleting, bucket: str, items: Items, etags: Mapping[str, str]) -> Iterator[str | None]:
    """Each conditioned key's ETag now (None: gone, or not conditioned), HEADed -t at a time: one after another,
    a batch of 1,000 took ~0.7 s of round trips even on loopback."""

    def current(item: tuple[str, str | None]) -> str | None:
        key, version = item
        return storage.current_etag(bucket, key) if version is None and etags.get(key) else None

    return run_bounded(current, items, threads=max(1, storage.conn.settings.threads))


def outcome(error: str | None, *, bucket: str, key: str, etag: str | None) -> tuple[str | None, str | None]:
    """(error, detail) of one conditioned key from DeleteObjects' answer: PreconditionFailed is a conflict (the
    other writer's object kept); NoSuchKey means the listed object is gone already, which is what was asked."""
    if error is None or etag is None:
        return error, None
    if error.startswith("PreconditionFailed"):
        return conflict_error(bucket, key, etag), None
    if error.startswith("NoSuchKey"):
        return None, GONE
    return error, None
