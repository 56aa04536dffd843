"""A `FaultPlan.rewrite_request` hook for write races: on the first PUT of a key, another client writes that key
straight to the server (bypassing the proxy) before the PUT is forwarded, as a concurrent writer would between
s3safe's planning and its transfer."""

from __future__ import annotations

import threading
from typing import Any

from tests.faults.flip import key_of
from tests.faults.proxy import Request


class ConcurrentWriter:
    """`parts`: fire on the key's first multipart part too (the race then ends at CompleteMultipartUpload)."""

    def __init__(self, client: Any, bucket: str, key: str, body: bytes, *, parts: bool = False) -> None:
        self.client = client  # talks to the server directly
        self.bucket = bucket
        self.key = key
        self.body = body
        self.written = False
        self.parts = parts
        self._lock = threading.Lock()

    def __call__(self, request: Request, body: bytes) -> bytes:
        if request.is_upload and (self.parts or "uploadId=" not in request.target) and key_of(request, self.bucket) == self.key:
            with self._lock:
                if not self.written:
                    self.client.put_object(Bucket=self.bucket, Key=self.key, Body=self.body)
                    self.written = True
        return body
