"""Live transfer progress in a real terminal (tmux, as in test_shell_tmux.py) against the real moto server.

A tree upload with one large file, slowed with --max-bandwidth so the display is seen mid-run (1 MiB at 512 KiB/s:
about two seconds): bytes, percent, ETA and the large file's own bar are on the screen while it runs; afterwards the
pane's whole scrollback holds only the object lines and the summary, no piece of the display. With stdout redirected
to a file the progress still shows on the terminal (it is on stderr) and the file gets only the object lines."""

from __future__ import annotations

import os
import re
import shlex
from collections.abc import Callable
from pathlib import Path
from subprocess import CompletedProcess

import pytest

from tests.cli.test_shell_tmux import Terminal, terminal  # noqa: F401  (the fixture)
from tests.conftest import S3SAFE
from tests.faults.conftest import Target, proxied, proxy  # noqa: F401  (the fixtures)
from tests.faults.proxy import FaultPlan, FaultProxy
from tests.servers.moto import MotoServer

Run = Callable[..., CompletedProcess[str]]
MIB = 1024 * 1024
LIVE = re.compile(r"\[[#-]{20}\] [\d.]+ (B|KiB|MiB) / 1\.0[\d.]* MiB \d+%, [^,]+/s, ETA \d+:\d\d, files \d/4, failed 0")
ONE_LINE = re.compile(r"\[[#-]{20}\] [\d.]+ (B|KiB|MiB) / 1\.0[\d.]* MiB \d+%, .* files \d/4, failed 0")
FILE_BAR = re.compile(r"^\s+big\.bin \[[#-]{20}\] [\d.]+ (B|KiB|MiB) / 1\.0 MiB \d+%", re.M)


def _tree(root: Path) -> None:
    root.mkdir()
    (root / "big.bin").write_bytes(os.urandom(MIB))
    for name in ("a.txt", "b.txt", "c.txt"):
        (root / name).write_text(f"{name}\n")


def _command(moto: MotoServer, bucket: str, *, redirect: Path | None = None, rate: str = "512KiB") -> list[str]:
    argv = [S3SAFE, "--endpoint-url", moto.endpoint_url, "--allow-http", "--max-bandwidth", rate,
            "put", "-r", "tree", f"s3://{bucket}/t/"]  # fmt: skip
    return ["sh", "-c", shlex.join(argv) + (f" > {shlex.quote(str(redirect))}" if redirect else "")]


def _wait_live(term: Terminal) -> str:
    return term.wait_for(lambda s: bool(LIVE.search(s) and FILE_BAR.search(s)), "the live display with a bar for big.bin")


def _leftovers(screen: str, bucket: str) -> list[str]:
    """Lines that are neither an object line, the summary nor the shell's exit line."""
    allowed = (f"upload s3://{bucket}/t/", "s3safe: warning: using plain HTTP", "[shell exited: 0]", "Pane is dead")
    summary = re.compile(r"^4 transferred \(1\.0 MiB\), 0 skipped, 0 deleted, 0 failed in ")
    return [line for line in screen.splitlines() if line.strip() and not line.startswith(allowed) and not summary.match(line)]


def test_tree_upload_shows_live_progress_and_leaves_no_remnant(
    terminal: Terminal, moto: MotoServer, run_cli: Run, bucket_name: Callable[[], str], tmp_path: Path  # noqa: F811
) -> None:
    bucket = bucket_name()
    assert run_cli("--endpoint-url", moto.endpoint_url, "--allow-http", "mb", f"s3://{bucket}").returncode == 0
    _tree(tmp_path / "tree")
    terminal.start(_command(moto, bucket), cwd=tmp_path)
    _wait_live(terminal)
    screen = terminal.wait_text("[shell exited: 0]")
    assert screen.count(f"upload s3://{bucket}/t/") == 4
    assert _leftovers(screen, bucket) == [], screen


def test_progress_shows_on_the_terminal_with_stdout_redirected(
    terminal: Terminal, moto: MotoServer, run_cli: Run, bucket_name: Callable[[], str], tmp_path: Path  # noqa: F811
) -> None:
    bucket = bucket_name()
    assert run_cli("--endpoint-url", moto.endpoint_url, "--allow-http", "mb", f"s3://{bucket}").returncode == 0
    _tree(tmp_path / "tree")
    out = tmp_path / "out.txt"
    terminal.start(_command(moto, bucket, redirect=out), cwd=tmp_path)
    _wait_live(terminal)
    screen = terminal.wait_text("[shell exited: 0]")
    assert "upload s3://" not in screen and _leftovers(screen, bucket) == [], screen
    lines = out.read_text().splitlines()
    assert sorted(lines[:4]) == [f"upload s3://{bucket}/t/{n}  [new]" for n in ("a.txt", "b.txt", "big.bin", "c.txt")]
    assert lines[4].startswith("4 transferred (1.0 MiB)") and len(lines) == 5
    assert "ETA" not in out.read_text()


# --- stdout a pipe to the same terminal, a narrower terminal, streams (rt17 #1) ---------------------------------
def _piped(moto: MotoServer, bucket: str, pipe: str, *, rate: str = "512KiB") -> list[str]:
    argv = [S3SAFE, "--endpoint-url", moto.endpoint_url, "--allow-http", "--max-bandwidth", rate, "put", "-r", "tree", f"s3://{bucket}/t/"]
    return ["sh", "-c", shlex.join(argv) + f" | {pipe}"]


@pytest.mark.parametrize("pipe", ["cat", "head -n 1"])  # `| tee` is `| cat` to the display: a reader writing to it
def test_progress_leaves_no_remnant_when_stdout_is_piped_to_the_same_terminal(
    terminal: Terminal, moto: MotoServer, run_cli: Run, bucket_name: Callable[[], str], tmp_path: Path, pipe: str  # noqa: F811
) -> None:
    """The pipe's reader writes the object lines to the terminal whenever it likes: the display is one line,
    erased before each object line and drawn again only once stdout has been quiet (failed on main: pieces of the
    two-line display were left between and inside the object lines)."""
    bucket = bucket_name()
    assert run_cli("--endpoint-url", moto.endpoint_url, "--allow-http", "mb", f"s3://{bucket}").returncode == 0
    _tree(tmp_path / "tree")
    terminal.start(_piped(moto, bucket, pipe), cwd=tmp_path)
    terminal.wait_for(lambda s: bool(ONE_LINE.search(s)), "the live display")
    screen = terminal.wait_text("[shell exited: 0]")
    assert screen.count(f"upload s3://{bucket}/t/") == (1 if pipe.startswith("head") else 4), screen
    gone = "s3safe: warning: standard output was closed during the run"
    assert [line for line in _leftovers(screen, bucket) if not line.startswith(gone)] == [], screen


def test_a_narrower_terminal_leaves_no_wrapped_remnant(
    terminal: Terminal, moto: MotoServer, run_cli: Run, bucket_name: Callable[[], str], tmp_path: Path  # noqa: F811
) -> None:
    """The pane shrinks from 160 to 50 columns mid-run: the terminal rewraps the display's long lines, and the next
    redraw erases them all and draws lines cut to the new width (failed on main: wrapped pieces stayed)."""
    bucket = bucket_name()
    assert run_cli("--endpoint-url", moto.endpoint_url, "--allow-http", "mb", f"s3://{bucket}").returncode == 0
    _tree(tmp_path / "tree")
    terminal.start(_command(moto, bucket, rate="1MiB"), cwd=tmp_path)
    _wait_live(terminal)
    terminal.tmux("resize-window", "-t", "main", "-x", "50")
    terminal.wait_for(lambda s: any(line.startswith("[#") and len(line) < 50 for line in s.splitlines()), "a redraw cut to 50 columns")
    screen = terminal.wait_text("[shell exited: 0]")
    assert screen.count(f"upload s3://{bucket}/t/") == 4
    assert _leftovers(screen, bucket) == [], screen


def test_streams_show_progress_on_the_terminal(
    terminal: Terminal, moto: MotoServer, run_cli: Run, bucket_name: Callable[[], str], tmp_path: Path  # noqa: F811
) -> None:
    """`put -` shows the bytes read from standard input and the rate (the size is unknown); `get … -` shows bytes,
    percent and ETA from the object's size (failed on main: nothing at all while a stream ran)."""
    bucket = bucket_name()
    base = [S3SAFE, "--endpoint-url", moto.endpoint_url, "--allow-http"]
    assert run_cli(*base[1:], "mb", f"s3://{bucket}").returncode == 0
    (tmp_path / "half").write_bytes(os.urandom(MIB))
    slow_input = "cat half; sleep 1; cat half"  # standard input that takes a while
    put = shlex.join([*base, "put", "-", f"s3://{bucket}/s.bin"])
    get = shlex.join([*base, "--max-bandwidth", "1MiB", "get", f"s3://{bucket}/s.bin", "-"])
    terminal.start(["sh", "-c", f"({slow_input}) | {put} && {get} > back.bin"], cwd=tmp_path)
    terminal.wait_for(lambda s: bool(re.search(r"^1\.0 MiB from standard input, [^,]+/s, 0:0\d elapsed", s, re.M)), "put's line")
    terminal.wait_for(lambda s: bool(re.search(r"\] [\d.]+ (B|KiB|MiB) / 2\.0 MiB \d+%, [^,]+/s, ETA \d:\d\d, files 0/1", s)), "get's display")
    screen = terminal.wait_text("[shell exited: 0]")
    assert (tmp_path / "back.bin").read_bytes() == (tmp_path / "half").read_bytes() * 2
    ours = (f"upload s3://{bucket}/s.bin  [", f"download s3://{bucket}/s.bin to standard output  [", "1 done")
    assert [line for line in _leftovers(screen, bucket) if not line.startswith(ours)] == [], screen


# --- audit --objects: the same display (#17 item 1) -------------------------------------------------------------
AUDIT_LIVE = re.compile(r"\[[#-]{20}\] \d+/12 objects checked in s3://\S+ \d+%, [^,]+/s, ETA \d+:\d\d, findings \d+")


def test_audit_objects_shows_progress_and_leaves_no_remnant_when_piped(
    terminal: Terminal, proxy: FaultProxy, proxied: Target, bucket_name: Callable[[], str], tmp_path: Path  # noqa: F811
) -> None:
    """`audit --objects --sample` of 12 objects whose ACL requests the fault proxy holds for 0.12 s each (-t 1:
    about 1.5 seconds), stdout piped to `cat`: the scan's line (checked / total, percent, rate, ETA, findings so far)
    is on the screen while it runs and is cut to the width when the terminal gets narrower, and nothing of it is left
    afterwards (failed on main: rich's bar showed neither rate, ETA nor findings, and left a wrapped piece behind
    after the resize)."""
    bucket = bucket_name()
    client = proxied.client()
    client.create_bucket(Bucket=bucket)
    for i in range(12):
        client.put_object(Bucket=bucket, Key=f"k{i:02d}", Body=b"x")
    proxy.set_plan(FaultPlan(stall=1.0, stall_seconds=0.12, eligible=lambda r: r.method == "GET" and "acl" in r.target))
    argv = [S3SAFE, "--endpoint-url", proxied.endpoint_url, "--allow-http", "-t", "1", "audit", "--objects",
            "--sample", "12", "--fail-on", "critical", f"s3://{bucket}"]  # fmt: skip
    terminal.start(["sh", "-c", shlex.join(argv) + " | cat"], cwd=tmp_path)
    terminal.wait_for(lambda s: bool(AUDIT_LIVE.search(s)), "audit's live display")
    terminal.tmux("resize-window", "-t", "main", "-x", "60")  # and a narrower terminal mid-scan (SIGWINCH)
    terminal.wait_for(lambda s: any(line.startswith("[") and "objects checked" in line and len(line) < 60
                                    for line in s.splitlines()), "a redraw cut to 60 columns")  # fmt: skip
    screen = terminal.wait_text("[shell exited: ")
    assert "objects: a sample of 12 checked" in screen and "audit: " in screen, screen
    assert not AUDIT_LIVE.search(screen) and "objects in s3://" not in screen and "━" not in screen, screen
