"""The one place `--retries N` becomes each client's retry setting: N retries, N+1 attempts, everywhere.

botocore's `max_attempts` counts retries in legacy mode and attempts in standard mode, and `total_max_attempts`
counts attempts in both; obstore's `max_retries` counts retries. Each client used to build its own, and one
(STS) got it wrong by one. Every boto3 client and obstore store takes its setting from here.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from s3safe.core.settings import ConnectionSettings

if TYPE_CHECKING:
    from botocore.config import _RetryDict

# obstore also gives up when a request's retries have taken this long, whatever the count
RETRY_TIMEOUT = timedelta(minutes=3)


def attempts(settings: ConnectionSettings) -> int:
    """How many times one request is sent at most: the first try and --retries more."""
    return max(settings.retries, 0) + 1


def botocore_retries(settings: ConnectionSettings, *, at_most: int | None = None) -> _RetryDict:
    """botocore's `retries` config; `at_most`: fewer attempts (never more), for lookups an S3-only endpoint
    cannot answer anyway."""
    total = attempts(settings) if at_most is None else max(1, min(at_most, attempts(settings)))
    return {"total_max_attempts": total, "mode": "standard"}


def obstore_retries(settings: ConnectionSettings) -> dict[str, Any]:
    """obstore's `retry_config`: none of its own. storage/dataplane.py sends each request up to
    `attempts(settings)` times itself (registered with the store), so that every retry is seen at -v and counted;
    obstore would retry silently."""
    del settings  # the count goes to dataplane.register; obstore's own stays 0
    return {"max_retries": 0, "retry_timeout": RETRY_TIMEOUT}
