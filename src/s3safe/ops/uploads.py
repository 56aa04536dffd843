"""`uploads ls|abort`: unfinished multipart uploads, which cost money until aborted."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

from s3safe.core.errors import UsageError
from s3safe.core.locations import S3Url
from s3safe.core.models import ActionResult
from s3safe.core.safety import SafetyGate
from s3safe.storage.connection import Connection
from s3safe.storage.s3 import S3Storage, UploadInfo
from s3safe.transfer.multipart import forget_journal

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
MAX_AGE_SECONDS = int(timedelta.max.total_seconds())


def parse_age(text: str) -> timedelta:
    """'7d', '12h', '30m', '90s', '2w' -> timedelta."""
    text = text.strip().lower()
    if len(text) < 2 or text[-1] not in _UNITS or not (text[:-1].isascii() and text[:-1].isdigit()):
        raise UsageError(f"invalid age {text!r}", hint="a whole number with s, m, h, d or w, e.g. 7d")
    seconds = int(text[:-1]) * _UNITS[text[-1]]
    if seconds > MAX_AGE_SECONDS:
        raise UsageError(f"age {text!r} is too large", hint="use at most 999999999d")
    return timedelta(seconds=seconds)


def list_uploads(conn: Connection, url: S3Url, *, older_than: timedelta | None = None) -> Iterator[UploadInfo]:
    try:
        cutoff = datetime.now(UTC) - older_than if older_than else None
    except OverflowError:  # before year 1: no upload is that old
        return
    for upload in S3Storage(conn).iter_uploads(url.bucket, url.key):
        if upload.key != url.key and not upload.key.startswith(url.folder):
            continue  # s3://b/big names big and big/…, never bigger (README "Which objects -r selects")
        if cutoff is None or (upload.initiated is not None and upload.initiated <= cutoff):
            yield upload


def _abort(storage: S3Storage, upload: UploadInfo) -> ActionResult:
    result = storage.abort_upload(upload)
    if result.ok:  # the resume journal of an encrypted upload holds its payload key: it must not outlive the upload
        forget_journal(upload.bucket, upload.key, upload.upload_id)
    return result


def abort_uploads(
    conn: Connection, url: S3Url, *, older_than: timedelta | None, upload_id: str | None, gate: SafetyGate
) -> Iterator[ActionResult]:
    storage = S3Storage(conn)
    uploads = (u for u in list_uploads(conn, url, older_than=older_than) if upload_id is None or u.upload_id == upload_id)
    yield from gate.apply(
        "abort-upload", uploads, lambda batch: [_abort(storage, u) for u in batch],
        describe=lambda u: f"s3://{u.bucket}/{u.key}?uploadId={u.upload_id}", deletes=True,
    )  # fmt: skip
