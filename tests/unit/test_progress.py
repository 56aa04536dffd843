"""The transfer progress counters (core/progress.py) and the text the live display shows (cli/progress_text.py)."""

from __future__ import annotations

from s3safe.cli.progress_text import RateMeter, file_lines, overall_line
from s3safe.core import progress
from s3safe.core.models import ActionResult
from s3safe.core.progress import TransferProgress, watching


def test_totals_are_final_only_when_the_plan_is_exhausted() -> None:
    meter = TransferProgress()
    plan = meter.plan(iter([("a", 10), ("b", 2 * 1024 * 1024)]), size_of=lambda item: item[1])
    next(plan)
    snap = meter.snapshot()
    assert (snap.files_total, snap.bytes_total, snap.planned, snap.percent) == (1, 10, False, None)
    assert overall_line(snap, None).startswith("scanning … 0 B of 10 B found so far")
    assert list(plan) == [("b", 2 * 1024 * 1024)]
    assert meter.snapshot().planned and meter.snapshot().bytes_total == 10 + 2 * 1024 * 1024


def test_bytes_count_for_the_file_in_flight_and_a_failure_takes_them_back() -> None:
    meter = TransferProgress()
    list(meter.plan(["big", "bad"], size_of=lambda _: 2 * 1024 * 1024))

    def send(name: str) -> ActionResult:
        progress.moved(1024 * 1024)
        progress.moved(5 * 1024 * 1024)  # a retried body is read again: never more than the file's size
        snap = meter.snapshot()
        assert [f.done for f in snap.in_flight] == [2 * 1024 * 1024]
        assert file_lines(snap) == [(name, "[####################] 2.0 MiB / 2.0 MiB 100%")]
        return ActionResult("upload", name, ok=name != "bad", error=None if name == "big" else "refused")

    watched = watching(meter, send, name_of=str, size_of=lambda _: 2 * 1024 * 1024)
    assert [watched(n).ok for n in ("big", "bad")] == [True, False]
    snap = meter.snapshot()
    assert (snap.files_done, snap.failed, snap.bytes_done, snap.in_flight) == (1, 1, 2 * 1024 * 1024, ())
    progress.moved(100)  # outside any file: nobody is counting
    assert meter.snapshot().bytes_done == 2 * 1024 * 1024


def test_overall_line_has_bytes_percent_rate_eta_files_and_failures() -> None:
    meter = TransferProgress()
    list(meter.plan(["a"], size_of=lambda _: 4 * 1024 * 1024))
    with meter.file("a", 4 * 1024 * 1024):
        progress.moved(1024 * 1024)
        line = overall_line(meter.snapshot(), 1024 * 1024.0)
    assert line == "[#####---------------] 1.0 MiB / 4.0 MiB 25%, 1.0 MiB/s, ETA 0:03, files 0/1, failed 0"


def test_rate_is_over_the_recent_window() -> None:
    now = [0.0]
    rates = RateMeter(clock=lambda: now[0])
    assert rates.rate(0) is None
    for second in range(1, 11):
        now[0] = float(second)
        rate = rates.rate(second * 100 if second <= 5 else 500)  # stalls after five seconds
    assert rate is not None and rate < 50


def test_live_display_lines_are_cut_below_the_width_and_erased_by_rows_at_the_current_width() -> None:
    from s3safe.cli.live import fit, rows_taken

    assert fit("x" * 10, 11) == "x" * 10 and fit("x" * 10, 10) == "x" * 9  # never as wide as the terminal
    assert fit("名前" * 5, 8).rstrip() == "名前名"  # cells, not characters: wide characters count twice
    # a 90-column line drawn on 160 columns takes 2 rows once the terminal is 50 wide (it rewraps it)
    assert rows_taken(["y" * 90, "", "z" * 49], 50) == 2 + 1 + 1


def test_the_erase_never_clears_the_screen_from_the_display_s_first_row() -> None:
    """tmux (scroll-on-clear) moves the whole screen into the scrollback when it is cleared from its top-left corner:
    a display whose first row was the screen's top (after a resize reflowed it there) left a copy of itself at every
    redraw (failed before: "\\r" and "clear to the end of the screen" from the first row)."""
    from s3safe.cli.live import erase_sequence

    assert erase_sequence([], 80) == ""
    assert erase_sequence(["one line"], 80) == "\r\x1b[2K"  # that row cleared alone
    # up to the first of the 3 rows, clear it, clear from the row below to the end, back to the first row
    assert erase_sequence(["a" * 90, "b"], 50) == "\r\x1b[2A\x1b[2K\x1b[1B\x1b[J\x1b[1A"


def test_the_audit_scan_line_shows_checked_total_rate_eta_and_findings() -> None:
    from s3safe.cli.progress_text import scan_line

    sampled = scan_line("s3://b1", 250, 1000, findings=3, rate=80.0, elapsed=3.1)
    assert sampled == "[#####---------------] 250/1000 objects checked in s3://b1 25%, 80.0/s, ETA 0:09, findings 3"
    # a full scan's total is known only when its listing ends: what was checked so far, and for how long
    full = scan_line("s3://b1", 250, None, findings=3, rate=None, elapsed=3.1)
    assert full == "scanning … 250 objects checked in s3://b1 so far, -/s, findings 3, 0:03 elapsed"
    assert scan_line("s3://b1", 0, 0, findings=0, rate=None, elapsed=0).endswith("0/0 objects checked in s3://b1 100%, -/s, ETA 0:00, findings 0")
