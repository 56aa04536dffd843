"""Run one command line and measure it: wall time, the child's user+sys CPU and peak RSS (os.wait4)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any


@dataclass
class Measurement:
    argv: list[str]
    returncode: int
    wall_s: float
    user_s: float
    sys_s: float
    maxrss_mb: float  # MiB; ru_maxrss of the command (floor ≈ 8 MB, the spawner's; see spawn.py)
    timed_out: bool
    stdout: str
    stderr: str

    @property
    def cpu_s(self) -> float:
        return self.user_s + self.sys_s

    def tail(self, chars: int = 600) -> str:
        """The end of what the command printed, for a failure note."""
        text = "\n".join(part for part in (_read_tail(self.stderr, chars), _read_tail(self.stdout, chars)) if part)
        return text[-chars:]

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["cpu_s"] = self.cpu_s
        return data


def _read_tail(path: str, chars: int) -> str:
    try:
        with open(path, "rb") as handle:
            handle.seek(0, os.SEEK_END)
            size = handle.tell()
            handle.seek(max(0, size - 4 * chars))
            return handle.read().decode(errors="replace").strip()
    except OSError:
        return ""


SPAWN = Path(__file__).resolve().parent / "spawn.py"


def run_measured(argv: Sequence[str], *, env: Mapping[str, str], cwd: Path, log_stem: Path, timeout: float) -> Measurement:
    """Run `argv` to completion (killing its process group after `timeout` s) and measure it.

    Output goes to `log_stem`.out / .err (never a pipe, so a chatty tool cannot block on it). The
    command is started by spawn.py, a small separate process, which reports wall time, user+sys CPU
    and peak RSS of the command alone (wait4): the client's, not the server's nor this process's.
    """
    out_path, err_path, result_path = (log_stem.with_suffix(s) for s in (".out", ".err", ".rusage"))
    result_path.unlink(missing_ok=True)
    timed_out = False
    with out_path.open("wb") as out, err_path.open("wb") as err:
        started = time.perf_counter()
        proc = subprocess.Popen(
            [sys.executable, "-I", "-S", str(SPAWN), str(result_path), "--", *argv],
            stdout=out, stderr=err, stdin=subprocess.DEVNULL, env=dict(env), cwd=cwd, start_new_session=True,
        )  # fmt: skip
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            timed_out = True
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            proc.wait()
        outer_wall = time.perf_counter() - started
    try:
        code_text, wall_text, user_text, sys_text, rss_text = result_path.read_text().split()
        code, wall, user, system, rss_kib = int(code_text), float(wall_text), float(user_text), float(sys_text), int(rss_text)
    except (OSError, ValueError):  # killed, or the spawner itself failed
        code, wall, user, system, rss_kib = (proc.returncode or -1), outer_wall, 0.0, 0.0, 0
    return Measurement(
        argv=list(argv),
        returncode=code,
        wall_s=wall,
        user_s=user,
        sys_s=system,
        maxrss_mb=rss_kib / 1024,
        timed_out=timed_out,
        stdout=str(out_path),
        stderr=str(err_path),
    )
