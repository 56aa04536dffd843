"""obstore's listing with a watchdog: obstore pages inside Rust, where s3safe cannot see the tokens.

A server that answers with empty pages, each asking for another, keeps obstore busy forever without a
single key coming back. Each batch is awaited with a time limit instead; past it the request in flight is
cancelled and the caller carries on with botocore's listing, whose guards count pages and tokens.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from typing import TypeVar

T = TypeVar("T")

# obstore asks for 1,000 keys a batch: one page on S3, a few on servers with smaller pages; no batch
# within this many request timeouts means no progress (a false alarm only costs the botocore listing)
STALL_TIMEOUTS = 3


class ListingStalled(TimeoutError):
    """No batch arrived in time: the listing made no progress."""


async def _next(stream: AsyncIterator[T], limit: float) -> T:
    # obstore makes its awaitable only inside a running loop, so anext() is called in here
    return await asyncio.wait_for(anext(stream), limit)


def batches(stream: AsyncIterator[T], *, limit: float) -> Iterator[T]:
    """The batches of `stream`, each awaited at most `limit` seconds (then ListingStalled)."""
    loop = asyncio.new_event_loop()
    try:
        while True:
            try:
                batch = loop.run_until_complete(_next(stream, limit))
            except StopAsyncIteration:
                return
            except TimeoutError as exc:
                raise ListingStalled(f"no keys in {limit:g} s") from exc
            yield batch
    finally:
        loop.close()
