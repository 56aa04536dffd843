"""`s3safe logs --local` as a user runs it: CSV that a spreadsheet reads back, and SQL that tries to leave
the logs refused with one line and exit 2."""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
from collections.abc import Callable
from pathlib import Path
from subprocess import CompletedProcess

from tests.access_log_lines import record

Run = Callable[..., CompletedProcess[str]]
WHEN = dt.datetime(2026, 12, 1, 9, 30, tzinfo=dt.UTC)


def _logs(tmp_path: Path) -> Path:
    path = tmp_path / "2026-12-01-10-00-00-0123456789ABCDEF"
    agent = 'Go-http-client/1.1, "crawler" \x1b[31mred'
    path.write_text(record(WHEN, user_agent=agent, requester="-") + "\n" + record(WHEN, key="b.csv") + "\nnot a log line\n")
    return path


def test_csv_output_reads_back_with_escapes_shown_not_obeyed(run_cli: Run, tmp_path: Path) -> None:
    result = run_cli("logs", "--local", str(_logs(tmp_path)), "--show", "reads", "--csv", "--since", "all")
    assert result.returncode == 0, result.stderr
    assert "\x1b" not in result.stdout
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [(r["key"], r["requester"], r["flags"]) for r in rows] == [("b.csv", "arn:aws:iam::123456789012:user/alice", ""),
                                                                      ("reports/q1.csv", "", "anonymous")]  # fmt: skip
    assert rows[1]["user_agent"] == 'Go-http-client/1.1, "crawler" \\x1b[31mred'
    assert "1 line(s) are not access-log records" in result.stderr


def test_sql_reaching_for_files_is_refused_with_exit_2(run_cli: Run, tmp_path: Path) -> None:
    stolen = tmp_path / "stolen.csv"
    result = run_cli("logs", "--local", str(_logs(tmp_path)), "--since", "all",
                     "--sql", f"COPY (SELECT * FROM read_csv('/etc/passwd')) TO '{stolen}'")  # noqa: S608  # fmt: skip
    assert result.returncode == 2
    errors = [line for line in result.stderr.splitlines() if line.startswith("s3safe: error:")]
    assert len(errors) == 1 and "refused" in errors[0] and "Traceback" not in result.stderr
    assert not stolen.exists()


def test_out_of_range_times_and_unusable_local_paths_are_one_line_usage_errors(run_cli: Run, tmp_path: Path) -> None:
    """rt18 F8, F9: no OverflowError, no reading the current folder for an empty --local, no 'no such file' for a FIFO."""
    logs = str(_logs(tmp_path))
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    cases = [
        (("--local", logs, "--show", "reads", "--until", "9999-12-31"), "--until '9999-12-31' is out of range"),
        (("--local", logs, "--show", "reads", "--since", "99999999d"), "--since '99999999d' is out of range"),
        (("--local", "", "--show", "reads", "--since", "all"), "--local is empty"),
        (("--local", str(fifo), "--show", "reads", "--since", "all"), "is not a regular file or a folder"),
    ]
    for args, message in cases:
        result = run_cli("logs", *args, cwd=tmp_path)
        assert (result.returncode, result.stdout) == (2, ""), (args, result.stderr)
        assert message in result.stderr and len(result.stderr.strip().splitlines()) <= 2 and "Traceback" not in result.stderr


def test_sql_is_one_query_a_comment_keeps_it_whole_and_a_second_statement_is_refused(run_cli: Run, tmp_path: Path) -> None:
    """rt18 F16: the SQL is parsed as one statement by DuckDB, not wrapped in text it could close."""
    base = ("logs", "--local", str(_logs(tmp_path)), "--since", "all", "--csv", "--sql")
    commented = run_cli(*base, "SELECT count(*) AS n FROM logs -- every record")
    assert (commented.returncode, commented.stdout.splitlines()) == (0, ["n", "2"]), commented.stderr
    for escape in ("SELECT 1 AS a); ATTACH ':memory:' AS m2; SELECT (1", "SELECT 1; ATTACH ':memory:' AS m2", "ATTACH ':memory:' AS m2"):
        refused = run_cli(*base, escape)
        assert (refused.returncode, refused.stdout) == (2, ""), (escape, refused.stderr)
        assert "the SQL was refused" in refused.stderr and "Traceback" not in refused.stderr
    pivot = run_cli(*base, "PIVOT (SELECT key FROM logs) ON key USING count(*)")
    assert pivot.returncode == 0 and pivot.stdout.splitlines()[0] == "b.csv,reports/q1.csv", pivot.stderr


def test_column_headers_made_from_log_values_are_escaped_in_the_table(run_cli: Run, tmp_path: Path) -> None:
    """rt18 F5: a PIVOT names columns after values (here a user agent holding ESC and BEL)."""
    result = run_cli("logs", "--local", str(_logs(tmp_path)), "--since", "all", "--sql",
                     "PIVOT (SELECT user_agent FROM logs) ON user_agent USING count(*)")  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "\x1b" not in result.stdout and "\\x1b[31mred" in result.stdout.splitlines()[0]


def test_a_cut_answer_says_so_on_stderr(run_cli: Run, tmp_path: Path) -> None:
    """rt18 F14: --limit (default 100) never cuts silently."""
    base = ("logs", "--local", str(_logs(tmp_path)), "--since", "all", "--csv", "--sql", "SELECT range FROM range(500)")
    cut = run_cli(*base)
    assert cut.returncode == 0 and len(cut.stdout.splitlines()) == 101, cut.stderr
    assert "only the first 100 row(s) are shown; --limit 0 for all" in cut.stderr
    whole = run_cli(*base, "--limit", "0")
    assert len(whole.stdout.splitlines()) == 501 and "only the first" not in whole.stderr
    exact = run_cli(*base[:-1], "SELECT range FROM range(100)")
    assert len(exact.stdout.splitlines()) == 101 and "only the first" not in exact.stderr


def test_flags_list_every_one_that_applies(run_cli: Run, tmp_path: Path) -> None:
    """rt18 F10: an anonymous read over plain HTTP is both, in one row."""
    path = tmp_path / "2026-12-01-10-00-00-0123456789ABCDEF"
    path.write_text(record(WHEN, requester="-", tls_version="-", cipher_suite="-", key="open.txt") + "\n")
    result = run_cli("logs", "--local", str(path), "--show", "reads", "--csv", "--since", "all")
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert [(r["key"], r["flags"]) for r in rows] == [("open.txt", "anonymous,plain-http")], result.stderr


def test_records_dated_in_the_future_are_left_out_as_until_defaults_to_now(run_cli: Run, tmp_path: Path) -> None:
    """rt18 F17: --until defaults to now, so a record stamped next week is not counted."""
    now = dt.datetime.now(dt.UTC)
    path = tmp_path / f"{now:%Y-%m-%d-%H-%M-%S}-0123456789ABCDEF"
    path.write_text(record(now - dt.timedelta(minutes=5), key="past.txt") + "\n" + record(now + dt.timedelta(days=7), key="later.txt") + "\n")
    result = run_cli("logs", "--local", str(path), "--show", "reads", "--csv", "--since", "all")
    assert [r["key"] for r in csv.DictReader(io.StringIO(result.stdout))] == ["past.txt"], result.stderr
