"""What the live transfer display says, as plain text (render.py draws it; nothing here writes).

The first line is the whole run: bytes done / total, percent, current rate, ETA, files done / total, failures.
Until the listing is complete the totals are only what was found so far: the line starts with "scanning …" and
shows neither percent nor ETA (as rclone does). Under it, one bar per large file in flight."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from typing import Any

from s3safe.cli.sizes import human_size
from s3safe.core.progress import ProgressSnapshot

LARGE_FILE = 1024 * 1024  # a file this big gets a bar of its own while it moves
MAX_FILE_BARS = 4
BAR_WIDTH = 20
RATE_WINDOW = 5.0  # seconds: the "current" rate, not the average since the start


def bar(fraction: float, width: int = BAR_WIDTH) -> str:
    filled = round(max(0.0, min(1.0, fraction)) * width)
    return "[" + "#" * filled + "-" * (width - filled) + "]"


def duration(seconds: float) -> str:
    seconds = int(seconds + 0.5)
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else f"{rest // 60}:{rest % 60:02d}"


class RateMeter:
    """The recent rate from (time, bytes done) samples."""

    def __init__(self, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._samples: deque[tuple[float, int]] = deque()

    def rate(self, done: int) -> float | None:
        now = self._clock()
        self._samples.append((now, done))
        while len(self._samples) > 2 and now - self._samples[0][0] > RATE_WINDOW:
            self._samples.popleft()
        first_time, first_done = self._samples[0]
        if now - first_time < 0.5:
            return None
        return max(0.0, (done - first_done) / (now - first_time))


def overall_line(snap: ProgressSnapshot, rate: float | None) -> str:
    speed = f"{human_size(int(rate))}/s" if rate is not None else "-/s"
    files = f"files {snap.files_done}/{snap.files_total}"
    failed = f"failed {snap.failed}"
    if not snap.planned:
        return (f"scanning … {human_size(snap.bytes_done)} of {human_size(snap.bytes_total)} found so far, {speed}, "
                f"{files}+, {failed}")  # fmt: skip
    percent = snap.percent if snap.percent is not None else 100.0
    left = snap.bytes_total - snap.bytes_done
    eta = duration(left / rate) if rate else ("0:00" if left <= 0 else "-")
    return (f"{bar(percent / 100)} {human_size(snap.bytes_done)} / {human_size(snap.bytes_total)} {percent:.0f}%, "
            f"{speed}, ETA {eta}, {files}, {failed}")  # fmt: skip


def file_lines(snap: ProgressSnapshot) -> list[tuple[str, str]]:
    """(name, rest) of each large file in flight: the name is the caller's to escape."""
    large = sorted((f for f in snap.in_flight if f.size >= LARGE_FILE), key=lambda f: f.name)[:MAX_FILE_BARS]
    return [(f.name, f"{bar(f.done / f.size)} {human_size(f.done)} / {human_size(f.size)} {100 * f.done / f.size:.0f}%")
            for f in large]  # fmt: skip


def progress_record(snap: ProgressSnapshot, rate: float | None) -> dict[str, Any]:
    """The `--json --progress-json` record."""
    left = snap.bytes_total - snap.bytes_done
    return {
        "type": "progress", "planned": snap.planned, "bytes": snap.bytes_done, "bytes_total": snap.bytes_total,
        "percent": None if snap.percent is None else round(snap.percent, 1), "files": snap.files_done,
        "files_total": snap.files_total, "failed": snap.failed,
        "bytes_per_second": None if rate is None else int(rate),
        "eta_seconds": None if not (snap.planned and rate) else round(left / rate, 1),
        "elapsed_seconds": round(snap.elapsed, 2),
    }  # fmt: skip


def stream_line(snap: ProgressSnapshot, rate: float | None, *, source: str) -> str:
    """A transfer whose size is unknown until it ends (standard input): bytes so far and the rate, no total."""
    speed = f"{human_size(int(rate))}/s" if rate is not None else "-/s"
    return f"{human_size(snap.bytes_done)} from {source}, {speed}, {duration(snap.elapsed)} elapsed"


def scan_line(bucket: str, checked: int, total: int | None, *, findings: int, rate: float | None, elapsed: float) -> str:
    """`audit --objects`: objects checked / total, percent, rate, ETA and findings so far. A full scan's total is
    unknown until its listing ends (objects are checked as they are listed): then what was checked so far."""
    speed = f"{rate:.1f}/s" if rate is not None else "-/s"
    if total is None:
        return (f"scanning … {checked} objects checked in {bucket} so far, {speed}, findings {findings}, "
                f"{duration(elapsed)} elapsed")  # fmt: skip
    fraction = checked / total if total else 1.0
    left = total - checked
    eta = duration(left / rate) if rate else ("0:00" if left <= 0 else "-")
    return (f"{bar(fraction)} {checked}/{total} objects checked in {bucket} {100 * fraction:.0f}%, {speed}, ETA {eta}, "
            f"findings {findings}")  # fmt: skip
