"""Scenario helpers for the fault proxy: object bodies far longer than the listing promised.

The extra bytes are generated lazily (Rewritten.tail), so the proxy itself never holds them.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

from tests.faults.proxy import Request, Rewritten, build_response

PIECE = 1024 * 1024


def _zeros(total: int) -> Iterator[bytes]:
    piece = b"\0" * PIECE
    for start in range(0, total, PIECE):  # bounded: exactly `total` bytes
        yield piece[: min(PIECE, total - start)]


def longer_bodies(bucket: str, *, extra: int) -> Callable[[Request, int, dict[str, str], bytes], Rewritten | None]:
    """A rewrite_response hook: every object GET in `bucket` answers its real body plus `extra` bytes, with
    a Content-Length that promises all of them (as a hostile server, or an object rewritten mid-run, does)."""

    def rewrite(request: Request, status: int, headers: dict[str, str], body: bytes) -> Rewritten | None:
        path = request.target.split("?", 1)[0]
        if request.method != "GET" or status not in (200, 206) or not path.startswith(f"/{bucket}/") or path == f"/{bucket}/":
            return None
        head = build_response(status, headers, body, content_length=len(body) + extra)
        return Rewritten(head, close=True, tail=_zeros(extra))

    return rewrite


_WRAPPER = (
    "import resource, subprocess, sys\n"
    "r = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
    "sys.stdout.write(r.stdout)\n"
    "sys.stderr.write(r.stderr)\n"
    "print('PEAK_RSS_KIB', resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr)\n"
    "sys.exit(r.returncode)\n"
)


def run_measured(command: list[str], *, env: dict[str, str], timeout: float) -> tuple[subprocess.CompletedProcess[str], int]:
    """Run `command` under a fresh wrapper process; (its result, its peak RSS in bytes)."""
    result = subprocess.run([sys.executable, "-c", _WRAPPER, *command], capture_output=True, text=True,
                            env={**os.environ, **env}, timeout=timeout, check=False)  # fmt: skip
    lines = result.stderr.splitlines()
    peak = [line for line in lines if line.startswith("PEAK_RSS_KIB ")]
    assert peak, result.stderr[-2000:]
    result.stderr = "\n".join(line for line in lines if not line.startswith("PEAK_RSS_KIB "))
    return result, int(peak[-1].split()[1]) * 1024


def temp_files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()]
