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


def get_object(conn: Clients, bucket: str, key: str, *, version_id: str | None = None) -> BotocoreGet:
    """GET the whole object (or one version of it) through botocore (SSE-C headers, if set, are added by the
    connection's client)."""
    params: dict[str, Any] = {"Bucket": bucket, "Key": key}
    if version_id and version_id != "null":
        params["VersionId"] = version_id
    with translated("download", bucket=bucket, key=key):
        return BotocoreGet(conn.client_for(bucket).get_object(**params))
