"""A hostile-server scenario for the fault proxy: flip one byte of selected PUT bodies on their way to the server.

moto and `rclone serve s3` store such a body without checking the x-amz-checksum-sha256 that came with it,
which is what a server that does not validate checksums does: the client must notice on its own.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from tests.faults.proxy import Request


class ByteFlipper:
    """A `FaultPlan.rewrite_request` hook: flips one byte in the middle of the body of the PUTs `select` picks,
    at most `limit` times; `flipped` lists the request targets it changed."""

    def __init__(self, select: Callable[[Request], bool], *, limit: int = 1) -> None:
        self.select = select
        self.limit = limit
        self.flipped: list[str] = []
        self._lock = threading.Lock()

    def __call__(self, request: Request, body: bytes) -> bytes:
        if not request.is_upload or not body or "chunked" in request.headers.get("transfer-encoding", "").lower():
            return body
        with self._lock:
            if len(self.flipped) >= self.limit or not self.select(request):
                return body
            self.flipped.append(request.target)
        middle = len(body) // 2
        return body[:middle] + bytes([body[middle] ^ 0x01]) + body[middle + 1 :]


def key_of(request: Request, bucket: str) -> str:
    """The object key a path-style request addresses (query string dropped, not unquoted)."""
    path = request.target.split("?", 1)[0]
    prefix = f"/{bucket}/"
    return path[len(prefix) :] if path.startswith(prefix) else ""
