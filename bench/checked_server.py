"""1 GiB upload and download against a server that checks checksums and answers Range with 206: LocalStack.

`bench/run.py` times every tool on `rclone serve s3`, which checks no checksum it is sent (so s3safe holds
each part to its ETag, an MD5 it must compute) and answers a ranged GET with status 200. This script times
s3safe and s5cmd on the other kind of server, the one AWS S3 is: LocalStack in the test suite's strict
configuration (tests/servers/localstack.py: 127.0.0.1 only, verified HTTPS with a throwaway CA, its own venv
made by `make localstack`). Same file, same server, runs alternated, medians; every run's result checked (the
object's size after an upload, the file's SHA-256 after a download). Client wall time, CPU and peak RSS come
from wait4 (spawn.py), as in run.py.

    PYTHONPATH=. .venv/bin/python bench/checked_server.py [--size-mib 1024] [--runs 3] [--s3safe PATH]

Writes bench/results/localstack/latest.md (and .json).
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
sys.path.insert(0, str(BENCH))
sys.path.insert(0, str(ROOT))

from measure import Measurement, run_measured  # noqa: E402
from peers import ensure_peers, find_s3safe  # noqa: E402
from tests.servers.localstack import LocalStackServer, running_localstack  # noqa: E402

BUCKET = "bench-checked"


def say(message: str) -> None:
    print(f"[checked-server] {message}", file=sys.stderr, flush=True)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while block := handle.read(8 * 1024 * 1024):
            digest.update(block)
    return digest.hexdigest()


def _environment(server: LocalStackServer, home: Path) -> dict[str, str]:
    home.mkdir(parents=True, exist_ok=True)
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home), "LANG": "C.UTF-8",
        "AWS_ACCESS_KEY_ID": server.access_key, "AWS_SECRET_ACCESS_KEY": server.secret_key, "AWS_REGION": server.region,
        "AWS_CA_BUNDLE": server.ca_bundle, "SSL_CERT_FILE": server.ca_bundle,
    }  # fmt: skip


def _commands(
    s3safe: Path, s5cmd: Path, server: LocalStackServer, src: Path, dest: Path, run: int
) -> dict[str, dict[str, list[str]]]:
    s3 = [str(s3safe), "--endpoint-url", server.endpoint_url, "--ca-bundle", server.ca_bundle]
    s5 = [str(s5cmd), "--endpoint-url", server.endpoint_url]
    return {
        "s3safe": {"up": [*s3, "put", str(src), f"s3://{BUCKET}/s3safe-{run}.bin"],
                   "down": [*s3, "get", f"s3://{BUCKET}/s3safe-{run}.bin", str(dest / f"s3safe-{run}.bin")]},
        "s5cmd": {"up": [*s5, "cp", str(src), f"s3://{BUCKET}/s5cmd-{run}.bin"],
                  "down": [*s5, "cp", f"s3://{BUCKET}/s5cmd-{run}.bin", str(dest / f"s5cmd-{run}.bin")]},
    }  # fmt: skip


def _measure(argv: list[str], env: dict[str, str], work: Path, label: str) -> Measurement:
    m = run_measured(argv, env=env, cwd=work, log_stem=work / label, timeout=900)
    if m.returncode != 0:
        raise SystemExit(f"{label} failed ({m.returncode}): {m.tail()}")
    return m


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size-mib", type=int, default=1024)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--s3safe", dest="s3safe_path", help="s3safe executable (default: the one beside this Python)")
    parser.add_argument("--peers-venv", default=str(BENCH / ".venv-peers"))
    parser.add_argument("--results", default=str(BENCH / "results" / "localstack"))
    args = parser.parse_args(argv)
    s5 = ensure_peers(Path(args.peers_venv), ["s5cmd"], say)["s5cmd"]
    s3safe = find_s3safe(args.s3safe_path)
    if s5.path is None or s3safe.path is None or not (s5.available and s3safe.available):
        raise SystemExit(f"missing tool: {s5.problem or s3safe.problem}")
    work = Path(tempfile.mkdtemp(prefix="s3safe-checked-"))
    started = time.time()
    load_before = os.getloadavg()[0]
    figures: dict[str, dict[str, list[Measurement]]] = {"s3safe": {"up": [], "down": []}, "s5cmd": {"up": [], "down": []}}
    try:
        src = work / "data.bin"
        with src.open("wb") as handle:
            for _ in range(args.size_mib):
                handle.write(os.urandom(1024 * 1024))
        expected = _sha256(src)
        dest = work / "down"
        dest.mkdir()
        with running_localstack(work / "localstack") as server:
            env = _environment(server, work / "home")
            made = run_measured([str(s3safe.path), "--endpoint-url", server.endpoint_url, "--ca-bundle", server.ca_bundle,
                                 "mb", f"s3://{BUCKET}"], env=env, cwd=work, log_stem=work / "mb", timeout=120)  # fmt: skip
            if made.returncode != 0:
                raise SystemExit(f"mb failed: {made.tail()}")
            for run in range(args.runs):
                commands = _commands(s3safe.path, s5.path, server, src, dest, run)
                for step in ("up", "down"):
                    for tool in ("s3safe", "s5cmd"):
                        say(f"run {run + 1}/{args.runs}: {tool} {step}")
                        m = _measure(commands[tool][step], env, work, f"{tool}-{step}-{run}")
                        if step == "down":
                            got = dest / f"{tool}-{run}.bin"
                            if _sha256(got) != expected:
                                raise SystemExit(f"{tool}'s download {run} does not match the file uploaded")
                            got.unlink()
                        figures[tool][step].append(m)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    _report(figures, args=args, started=started, loads=(load_before, os.getloadavg()[0]), s5_version=s5.version)
    return 0


def _median(ms: list[Measurement], attr: str) -> float:
    return statistics.median(getattr(m, attr) for m in ms)


def _report(figures: dict[str, dict[str, list[Measurement]]], *, args: argparse.Namespace, started: float,
            loads: tuple[float, float], s5_version: str) -> None:  # fmt: skip
    size = args.size_mib
    when = dt.datetime.fromtimestamp(started, dt.UTC).isoformat(timespec="seconds")
    lines = [
        "# s3safe and s5cmd against a server that checks checksums and answers 206 (LocalStack)", "",
        f"{when} · `bench/checked_server.py --size-mib {size} --runs {args.runs}` · medians of {args.runs} · "
        f"{os.cpu_count()} CPUs · load {loads[0]:.2f} → {loads[1]:.2f} · s5cmd {s5_version}", "",
        "LocalStack (tests/servers/localstack.py: strict, 127.0.0.1, verified HTTPS). One file of "
        f"{size} MiB, uploaded and downloaded by each tool, runs alternated. CPU and peak RSS are the client's.", "",
        "| step | tool | wall s | CPU s | peak RSS MB | MiB/s | s3safe/s5cmd wall | s3safe/s5cmd CPU |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]  # fmt: skip
    payload: dict[str, Any] = {"started": when, "size_mib": size, "runs": args.runs, "loads": loads, "steps": {}}
    for step, name in (("up", "upload"), ("down", "download")):
        mine, peer = figures["s3safe"][step], figures["s5cmd"][step]
        for tool, ms in (("s3safe", mine), ("s5cmd", peer)):
            wall, cpu, rss = _median(ms, "wall_s"), _median(ms, "cpu_s"), _median(ms, "maxrss_mb")
            ratios = ("—", "—") if tool == "s3safe" else (
                f"{_median(mine, 'wall_s') / wall:.2f}", f"{_median(mine, 'cpu_s') / cpu:.2f}")  # fmt: skip
            lines.append(
                f"| {name} | {tool} | {wall:.2f} | {cpu:.2f} | {rss:.0f} | {size / wall:.0f} | {ratios[0]} | {ratios[1]} |"
            )
            payload["steps"].setdefault(step, {})[tool] = {"wall_s": wall, "cpu_s": cpu, "maxrss_mb": rss,
                                                          "runs": [m.as_dict() for m in ms]}  # fmt: skip
    results = Path(args.results)
    results.mkdir(parents=True, exist_ok=True)
    (results / "latest.md").write_text("\n".join(lines) + "\n")
    (results / "latest.json").write_text(json.dumps(payload, indent=1, default=str) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    sys.exit(main())
