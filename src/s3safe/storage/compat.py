"""Object GETs obstore cannot express, through botocore (DESIGN.md: "where obstore cannot express something,
the same operation goes through botocore").

obstore's paths are normalised: it refuses keys with empty, '.' or '..' segments ("h/./dot", "a//b",
"x/.") and silently drops a leading or trailing '/' (so "/k" would address the object "k"). S3 keys are
arbitrary, so such a key is fetched whole through botocore, with the same shape of result the download
pipeline reads from obstore.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from typing import Any

from s3safe.core import cancel
from s3safe.core.errors import ServiceError
from s3safe.storage.clients import Clients
from s3safe.storage.dataplane import backoff
from s3safe.storage.errors import translated
from s3safe.storage.requestlog import retry_log, where
from s3safe.storage.retries import attempts


def obstore_can_address(key: str) -> bool:
    """Whether obstore reaches exactly this key (no segment it would refuse or drop)."""
    return bool(key) and all(part not in ("", ".", "..") for part in key.split("/")) and key.isprintable()


def via_obstore(conn: Clients, key: str) -> bool:
    """Whether an object request for this key goes through obstore: a key it addresses exactly, and no SSE-C
    key. obstore's HTTP client follows a GET's redirect by itself and re-sends every header but Authorization
    to the Location's host, the SSE-C key among them; botocore's requests refuse redirects (connection.py)."""
    return obstore_can_address(key) and not conn.settings.sse_c_key


class BotocoreGet:
    """A whole-object GET answered by botocore: `attributes` (user metadata), `meta`, `range`, `stream()`."""

    def __init__(self, response: Mapping[str, Any]) -> None:
        self._body = response["Body"]
        size = int(response.get("ContentLength", 0))
        self.attributes: dict[str, str] = dict(response.get("Metadata") or {})
        self.meta: dict[str, Any] = {"size": size, "e_tag": response.get("ETag"), "version": response.get("VersionId")}
        self.range = (0, size)

    def stream(self, *, min_chunk_size: int) -> Iterator[bytes]:
        try:
            yield from self._body.iter_chunks(max(min_chunk_size, 1))
        finally:
            self._body.close()


class RangeRefused(Exception):
    """The answer to a ranged GET does not hold exactly the bytes asked for (a server that sends the whole object)."""


class RangeGet:
    """A ranged GET answered by botocore: `range` and `stream()`, as obstore's GetResult gives them. A body cut
    part-way (the connection closed or broke before Content-Length bytes came) is asked for again from the byte it
    reached, as dataplane.ResumingGet does for obstore: `resume(at)` sends that request (If-Match on the same ETag),
    at most `attempts` requests in all, each resume a "retrying GET" line at -v."""

    def __init__(self, body: Any, start: int, end: int, *, partial: bool, resume: Callable[[int], Any] | None = None,
                 attempts: int = 1, where: str = "") -> None:  # fmt: skip
        self._body = body
        self.range = (start, end)
        self.partial = partial  # answered 206 (else 200 with exactly the range)
        self.attributes: dict[str, str] = {}
        self.meta: dict[str, Any] = {}
        self._resume, self._attempts, self._where = resume, attempts, where

    def stream(self, *, min_chunk_size: int) -> Iterator[bytes | memoryview]:
        """The body in chunks read into one reused buffer (each chunk is valid until the next is asked for):
        a fresh megabyte per read costs page faults that add up to seconds per GiB."""
        at, stop = self.range
        buffer = memoryview(bytearray(max(min_chunk_size, 1)))
        body, attempt = self._body, 1
        while True:
            cut: Exception | None = None
            try:
                for chunk in _chunks(body, buffer):
                    at += len(chunk)
                    yield chunk
            except _cut_errors() as exc:
                cut = exc
            finally:
                body.close()
            if at >= stop:
                return
            if self._resume is None or attempt >= self._attempts:
                raise ServiceError(f"cannot download {self._where}: the connection was cut before the server's answer was "
                                   f"complete ({type(cut).__name__ if cut else 'closed'} at byte {at} of bytes {self.range[0]}-{stop - 1})",
                                   hint="nothing partial was kept; run the command again (check the network or a proxy in "
                                   "between)")  # fmt: skip
            delay = backoff(attempt)
            retry_log.info("retrying GET %s from byte %d in %.1f s, attempt %d/%d (connection cut)", self._where, at, delay,
                           attempt + 1, self._attempts)  # fmt: skip
            cancel.sleep(delay)
            attempt += 1
            body = self._resume(at)


def _chunks(body: Any, buffer: memoryview) -> Iterator[bytes | memoryview]:
    raw = getattr(getattr(body, "_raw_stream", None), "_fp", None)  # http.client's response, if reachable
    if raw is None or not hasattr(raw, "readinto"):
        yield from body.iter_chunks(len(buffer))
        return
    # http.client reads at most Content-Length bytes, and returns 0 at a connection closed early
    while got := raw.readinto(buffer):
        yield buffer[:got]


def _cut_errors() -> tuple[type[Exception], ...]:
    """What a body read raises when the connection breaks (a reset, a timeout, urllib3's or botocore's wrappers)."""
    from http.client import HTTPException

    import botocore.exceptions
    import urllib3.exceptions

    return OSError, HTTPException, urllib3.exceptions.HTTPError, botocore.exceptions.HTTPClientError


def get_range(conn: Clients, bucket: str, key: str, *, start: int, end: int, total: int | None, if_match: str | None = None,
              version_id: str | None = None) -> RangeGet:  # fmt: skip
    """The bytes [start, end) of an object of `total` bytes, through botocore, which (unlike obstore) hands over an
    answer whatever its status: `rclone serve s3` answers a Range with the right bytes and Content-Range, but 200.

    Accepted, 200 or 206, only when Content-Length is the range's length and Content-Range (if sent) names exactly
    this range of an object of `total` bytes: then the body cannot be the whole object (unless the range is), and
    the caller's checksums still check every byte. Anything else raises RangeRefused, the body unread.
    """
    params: dict[str, Any] = {"Bucket": bucket, "Key": key, "Range": f"bytes={start}-{end - 1}"}
    if if_match:
        params["IfMatch"] = f'"{if_match.strip(chr(34))}"'
    if version_id and version_id != "null":
        params["VersionId"] = version_id
    with translated("download", bucket=bucket, key=key):
        response = conn.client_for(bucket).get_object(**params)
    length, content_range = int(response.get("ContentLength", -1)), response.get("ContentRange")
    named = f"bytes {start}-{end - 1}/"
    # `total` None (the storage interface's ranged get does not know it): the range alone is checked
    exact = content_range is None or (content_range.startswith(named) if total is None else content_range == f"{named}{total}")
    if length != end - start or not exact:
        response["Body"].close()
        raise RangeRefused(f"asked for bytes {start}-{end - 1}, answered {length} bytes ({content_range or 'no Content-Range'})")
    etag = if_match or str(response.get("ETag") or "").strip('"') or None

    def rest(at: int) -> Any:
        """The body of bytes [at, end) of the version first answered (its ETag): the rest of a cut range."""
        try:
            return get_range(conn, bucket, key, start=at, end=end, total=total, if_match=etag, version_id=version_id)._body
        except RangeRefused as exc:
            raise ServiceError(f"cannot download s3://{bucket}/{key}: asked for the rest of a cut range, {exc}; nothing "
                               "partial was kept", hint="run the command again") from None  # fmt: skip

    return RangeGet(response["Body"], start, end, partial=response["ResponseMetadata"]["HTTPStatusCode"] == 206,
                    resume=rest if etag else None, attempts=attempts(conn.settings), where=where(bucket, key))  # fmt: skip
