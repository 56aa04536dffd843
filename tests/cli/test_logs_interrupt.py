"""rt18 F6: Ctrl-C stops a long --sql (DuckDB is interrupted, not waited for) and SIGTERM unwinds like it:
the scratch folder holding the raw log copies is removed either way."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import time
from pathlib import Path

from tests.access_log_lines import record
from tests.conftest import S3SAFE

LONG_SQL = "SELECT max(hash(range)) FROM range(1000000000000)"  # hours of work: only an interrupt ends it


def _run_and_signal(tmp_path: Path, signum: int) -> tuple[int, list[Path], str]:
    logs = tmp_path / "2026-12-01-10-00-00-0123456789ABCDEF"
    logs.write_text(record(dt.datetime(2026, 12, 1, 9, 30, tzinfo=dt.UTC)) + "\n")
    scratch_root = tmp_path / "tmp"
    scratch_root.mkdir(exist_ok=True)
    env = {**os.environ, "TMPDIR": str(scratch_root)}
    proc = subprocess.Popen([S3SAFE, "logs", "--local", str(logs), "--since", "all", "--sql", LONG_SQL], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while not list(scratch_root.glob("s3safe-logs-*/logs-*.txt")) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert list(scratch_root.glob("s3safe-logs-*")), "the run never began reading the logs"
        time.sleep(1.0)  # well inside the query by now (no assertion on timing: only on what is left)
        proc.send_signal(signum)
        _, err = proc.communicate(timeout=60)
        code = proc.returncode
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    return code, list(scratch_root.glob("s3safe-logs-*")), err.decode()


def test_ctrl_c_stops_a_long_query_and_removes_the_scratch(tmp_path: Path) -> None:
    code, left, err = _run_and_signal(tmp_path, signal.SIGINT)
    assert (code, left) == (130, [])
    assert err.splitlines() == ["s3safe: error: interrupted; nothing half-written was left behind (run the command again to finish)"]


def test_sigterm_removes_the_scratch_too(tmp_path: Path) -> None:
    # 143 (128 + SIGTERM), not Ctrl-C's 130; one line naming the signal, no blank line (rt17 #8)
    code, left, err = _run_and_signal(tmp_path, signal.SIGTERM)
    assert (code, left) == (143, [])
    assert err.splitlines() == ["s3safe: error: stopped by SIGTERM; nothing half-written was left behind (run the command again to finish)"]
