"""--profile: run s3safe once more per scenario under py-spy and name its hot spots (file:function)."""

from __future__ import annotations

import re
import shutil
import subprocess
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import store
from s3server import BUCKET

if TYPE_CHECKING:
    from commands import Tool
    from datagen import Dataset
    from run import Bench

FRAME = re.compile(r"^(?P<func>.*?) \((?P<file>[^()]*?)(?::(?P<line>\d+))?\)$")


def _py_spy(venv: Path, say: Callable[[str], None]) -> Path | None:
    binary = venv / "bin" / "py-spy"
    if not binary.exists():
        say("installing py-spy into the peers' venv for --profile")
        done = subprocess.run(
            [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "py-spy"],
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            say("py-spy could not be installed: " + done.stderr.strip()[-300:])
            return None
    return binary


def _short(file: str) -> str:
    for marker in ("site-packages/", "/src/", "/lib/python3"):
        if marker in file:
            return file.split(marker, 1)[1]
    return file


def summarize(raw: Path, top: int = 12) -> str:
    """Top functions by own samples and by inclusive samples, from py-spy's collapsed-stack output."""
    self_count: Counter[str] = Counter()
    incl_count: Counter[str] = Counter()
    total = 0
    for line in raw.read_text(errors="replace").splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        total += count
        names = []
        for frame in stack.split(";"):
            match = FRAME.match(frame)
            names.append(f"{_short(match['file'])}:{match['func']}" if match else frame)
        if names:
            self_count[names[-1]] += count
        for name in set(names):
            incl_count[name] += count
    if not total:
        return "(no samples)"
    out = [f"{total} samples (all threads, idle included)", "", "own time:"]
    out += [f"  {100 * n / total:5.1f}%  {name}" for name, n in self_count.most_common(top)]
    out += ["", "inclusive (s3safe frames):"]
    ours = [(name, n) for name, n in incl_count.most_common() if name.startswith("s3safe/")][:top]
    out += [f"  {100 * n / total:5.1f}%  {name}" for name, n in ours]
    return "\n".join(out)


def profile_s3safe(bench: Bench, tool: Tool, data: dict[str, Dataset], wanted: list[str], venv: Path, results: Path,
                   say: Callable[[str], None]) -> dict[str, str]:  # fmt: skip
    py_spy = _py_spy(venv, say)
    if py_spy is None:
        return {}
    results.mkdir(parents=True, exist_ok=True)
    summaries: dict[str, str] = {}
    for sid in wanted:
        kind, _, name = sid.partition("-")
        ds = data.get(name)
        if ds is None:
            continue
        prefix = f"profile/{name}/" if kind != "sync" else f"profile/sync-{name}/"
        dest = bench.workdir / "download" / "profile" / name
        if kind in ("up", "down") or not store.listing(bench.s3, BUCKET, prefix):
            store.clear(bench.s3, BUCKET, prefix)
        if kind == "down" or kind == "sync":
            # fill the prefix first (not profiled)
            fill = tool.upload(ds.root, prefix) if kind == "down" else tool.sync(ds.root, prefix)
            subprocess.run(fill, env=bench.env_for(tool), capture_output=True, check=False)
        if kind == "up":
            argv = tool.upload(ds.root, prefix)
        elif kind == "down":
            shutil.rmtree(dest, ignore_errors=True)
            dest.mkdir(parents=True)
            argv = tool.download(prefix, dest)
        else:
            argv = tool.sync(ds.root, prefix)
        out = results / f"profile-{sid}.txt"
        say(f"profiling s3safe {sid} with py-spy -> {out}")
        done = subprocess.run([str(py_spy), "record", "--rate", "250", "--idle", "--format", "raw", "--output", str(out), "--", *argv],
                              env=bench.env_for(tool), capture_output=True, text=True, check=False)  # fmt: skip
        if done.returncode != 0 or not out.exists():
            summaries[sid] = "py-spy failed: " + done.stderr.strip()[-300:]
            continue
        summaries[sid] = summarize(out)
        say(f"{sid}:\n{summaries[sid]}")
        shutil.rmtree(dest, ignore_errors=True)
        store.clear(bench.s3, BUCKET, prefix)
    return summaries
