"""Object GETs obstore cannot express, through botocore (DESIGN.md: "where obstore cannot express something,
the same operation goes through botocore").

obstore's paths are normalised: it refuses keys with empty, '.' or '..' segments ("h/./dot", "a//b",
"x/.") and silently drops a leading or trailing '/' (so "/k" would address the object "k"). S3 keys are
arbitrary, so such a key is fetched whole through botocore, with the same shape of result the download
pipeline reads from obstore.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from s3safe.storage.clients import Clients
from s3safe.storage.errors import translated


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
    """A ranged GET answered by botocore: `range` and `stream()`, as obstore's GetResult gives them."""

    def __init__(self, body: Any, start: int, end: int, *, partial: bool) -> None:
        self._body = body
        self.range = (start, end)
        self.partial = partial  # answered 206 (else 200 with exactly the range)
        self.attributes: dict[str, str] = {}
        self.meta: dict[str, Any] = {}

    def stream(self, *, min_chunk_size: int) -> Iterator[bytes | memoryview]:
        """The body in chunks read into one reused buffer (each chunk is valid until the next is asked for):
        a fresh megabyte per read costs page faults that add up to seconds per GiB."""
        raw = getattr(getattr(self._body, "_raw_stream", None), "_fp", None)  # http.client's response, if reachable
        try:
            if raw is None or not hasattr(raw, "readinto"):
                yield from self._body.iter_chunks(max(min_chunk_size, 1))
                return
            buffer = memoryview(bytearray(max(min_chunk_size, 1)))
            while got := raw.readinto(buffer):
                yield buffer[:got]
        finally:
            self._body.close()


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
    return RangeGet(response["Body"], start, end, partial=response["ResponseMetadata"]["HTTPStatusCode"] == 206)
