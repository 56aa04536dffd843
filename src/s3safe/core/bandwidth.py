"""One token bucket shared by every transfer thread, so --max-bandwidth caps the total rate."""

from __future__ import annotations

import io
import threading
import time
from collections.abc import Callable
from pathlib import Path

from s3safe.core import cancel, progress


class BandwidthLimiter:
    def __init__(self, rate: int, *, clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = cancel.sleep) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.rate = rate
        # a quarter second of burst keeps throughput smooth without overshooting the cap
        self.capacity = max(rate // 4, 64 * 1024)
        self._tokens = float(self.capacity)
        self._clock = clock
        self._sleep = sleep
        self._last = clock()
        self._lock = threading.Lock()

    def consume(self, amount: int) -> None:
        """Block until `amount` bytes may pass; large amounts are paid for in capacity-sized steps."""
        while amount > 0:
            step = min(amount, self.capacity)
            with self._lock:
                now = self._clock()
                self._tokens = min(self.capacity, self._tokens + (now - self._last) * self.rate)
                self._last = now
                self._tokens -= step
                wait = -self._tokens / self.rate if self._tokens < 0 else 0.0
            if wait > 0:
                self._sleep(wait)
            amount -= step


PAY_STEP = 64 * 1024  # what a body held in memory pays for at a time, so its progress moves as the limiter lets it


def pay(limiter: BandwidthLimiter | None, amount: int) -> bool:
    """Pay the limiter for `amount` bytes about to be sent from memory, reporting them as they are let through.
    False without a limiter: nothing was paid or reported, the caller reports the bytes once they are sent."""
    if limiter is None:
        return False
    for start in range(0, amount, PAY_STEP):
        step = min(PAY_STEP, amount - start)
        limiter.consume(step)
        progress.moved(step)
    return True


class ThrottledFile(io.FileIO):
    """A file whose reads pass through the shared limiter (no limiter: a plain file)."""

    def __init__(self, path: Path, limiter: BandwidthLimiter | None) -> None:
        super().__init__(path, "rb")
        self._limiter = limiter
        self._high_water = 0

    def read(self, size: int | None = -1, /) -> bytes:
        start = self.tell()
        data = super().read(size) or b""
        # botocore may read the body twice (payload hash, then send); each byte is paid for once
        end = start + len(data)
        if end > self._high_water:
            fresh = end - max(start, self._high_water)
            if not pay(self._limiter, fresh):  # one read can be the whole body: paid for, and shown, in steps
                progress.moved(fresh)
            self._high_water = end
        return data
