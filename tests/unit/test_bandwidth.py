"""The shared token bucket, driven by a fake clock (no timing in unit tests)."""

from __future__ import annotations

import io
import threading
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from s3safe.core.bandwidth import pay
from s3safe.core.progress import TransferProgress, counting_stream
from s3safe.transfer.bandwidth import BandwidthLimiter, ThrottledFile


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0
        self.lock = threading.Lock()

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        with self.lock:
            self.now += seconds


@settings(max_examples=60, deadline=None)
@given(rate=st.integers(1_000, 50_000_000), chunks=st.lists(st.integers(1, 5_000_000), min_size=1, max_size=30))
def test_total_time_matches_the_rate(rate: int, chunks: list[int]) -> None:
    clock = FakeClock()
    limiter = BandwidthLimiter(rate, clock=clock, sleep=clock.sleep)
    total = sum(chunks)
    for chunk in chunks:
        limiter.consume(chunk)
    # the initial burst may pass for free; after that every byte costs 1/rate seconds
    expected = max(0.0, (total - limiter.capacity) / rate)
    assert abs(clock.now - expected) <= 1e-6 * max(1.0, expected)


def test_idle_time_refills_but_never_beyond_capacity() -> None:
    clock = FakeClock()
    limiter = BandwidthLimiter(1_000_000, clock=clock, sleep=clock.sleep)
    limiter.consume(limiter.capacity)
    assert clock.now == 0.0
    clock.now += 100.0  # a long idle pause
    limiter.consume(limiter.capacity * 3)
    # only one capacity's worth was saved up, so two must be paid for
    assert abs((clock.now - 100.0) - 2 * limiter.capacity / 1_000_000) < 1e-9


def test_throttled_file_pays_once_per_byte_even_when_reread(tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_bytes(b"x" * 1_000_000)
    paid: list[int] = []

    class Counting(BandwidthLimiter):
        def consume(self, amount: int) -> None:
            paid.append(amount)

    with ThrottledFile(path, Counting(10)) as handle:
        assert len(handle.read()) == 1_000_000
        handle.seek(0)
        assert len(handle.read(4096)) == 4096
    assert sum(paid) == 1_000_000


def test_a_limited_stream_counts_its_bytes_as_the_limiter_lets_them_through() -> None:
    """rt17 #7: `put -` with --max-bandwidth counted stdin as read, so the display ran ahead of what was sent."""
    clock = FakeClock()
    limiter = BandwidthLimiter(100_000, clock=clock, sleep=clock.sleep)
    meter = TransferProgress()
    with counting_stream(io.BytesIO(b"x" * 300_000), meter, limited=True) as source:
        data = source.read()
        assert meter.bytes_done == 0  # read into a part, not sent yet
        pay(limiter, len(data))  # what the part upload does before it sends
    assert meter.bytes_done == meter.bytes_total == 300_000 and clock.now > 0
    unlimited = TransferProgress()
    with counting_stream(io.BytesIO(b"y" * 1000), unlimited, limited=False) as source:
        source.read()
    assert unlimited.bytes_done == unlimited.bytes_total == 1000  # no limiter: counted as read, as before
