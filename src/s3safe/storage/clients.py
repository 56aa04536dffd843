"""What the S3 backend needs from a connection: its clients, stores, settings and limiter.

storage/connection.py's Connection builds the S3 backend (Connection.objects, Connection.admin); the backend
modules see the connection only through this protocol, so the two never import each other.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from obstore.store import S3Store

    from s3safe.core.bandwidth import BandwidthLimiter
    from s3safe.core.concurrency import Budget
    from s3safe.core.settings import ConnectionSettings


class Clients(Protocol):
    settings: ConnectionSettings
    limiter: BandwidthLimiter | None
    budget: Budget
    ignores_range: bool | None  # the endpoint answers a ranged GET with the whole object (None: not known yet)
    ranges_via_botocore: bool  # it answers one with status 200 and exactly the range, which obstore refuses
    honours_conditions: bool | None  # it honours If-Match / If-None-Match on PUT (None: not probed yet)
    honours_delete_conditions: bool | None  # it honours an ETag in DeleteObjects (None: not probed yet)
    conditions_lock: threading.Lock

    @property
    def default_region(self) -> str: ...

    def client(self, region: str | None = None) -> S3Client: ...

    def client_for(self, bucket: str) -> S3Client: ...

    def bucket_region(self, bucket: str) -> str: ...

    def store(self, bucket: str, *, sse: str | None = None, kms_key_id: str | None = None, acl: str | None = None) -> S3Store: ...

    def listing_store(self, bucket: str, *, before_each_request: Callable[[], None]) -> S3Store: ...
