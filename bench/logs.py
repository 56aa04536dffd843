"""`s3safe logs` at scale (issue 18.5): parse N generated access-log lines and answer "top 10 requesters
by bytes read", measured end to end as a user runs it (wall, CPU, peak RSS of the command).

    PYTHONPATH=src .venv/bin/python bench/logs.py                 # 1,000,000 lines (~300 MB)
    PYTHONPATH=src .venv/bin/python bench/logs.py --lines 100000

The lines are generated here, in AWS's documented format (all 27 fields, realistic lengths), into a
scratch folder as 100 log files, and removed afterwards; the answer is checked against the totals the
generator kept, so a fast wrong answer does not count.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sys
import tempfile
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from measure import run_measured  # bench/ is not a package

OPERATIONS = ["REST.GET.OBJECT"] * 6 + ["REST.HEAD.OBJECT", "REST.PUT.OBJECT", "REST.GET.BUCKET", "REST.DELETE.OBJECT"]
AGENTS = ["aws-cli/2.22.0 Python/3.12.6 Linux/6.8 command/s3.cp", "Boto3/1.36.2 md/Botocore#1.36.2 os/linux#6.8",
          "Mozilla/5.0 (X11; Linux x86_64) Firefox/133.0", "s3safe/0.1.0 Botocore/1.36.2"]  # fmt: skip
FILES = 100


def generate(folder: Path, *, lines: int, seed: int) -> Counter[str]:
    """Write the log files; return bytes read (REST.GET.OBJECT bytes sent) per requester."""
    rng = random.Random(seed)
    requesters = [f"arn:aws:iam::123456789012:user/user{i:04d}" for i in range(500)] + ["-"]
    weights = [1.0 / (i + 1) for i in range(len(requesters))]
    totals: Counter[str] = Counter()
    per_file = -(-lines // FILES)
    written = 0
    for index in range(FILES):
        count = min(per_file, lines - written)
        if count <= 0:
            break
        out = []
        for n in range(count):
            who = rng.choices(requesters, weights)[0]
            op = rng.choice(OPERATIONS)
            size = rng.randint(1, 50_000_000)
            sent = size if op == "REST.GET.OBJECT" else 0
            if op == "REST.GET.OBJECT":
                totals[who] += sent
            key = f"data/{rng.randint(1, 12):02d}/p-{rng.randint(0, 99999):05d}.csv"
            second = (written + n) % 86400
            out.append(
                f"4f1e8b3c9d2a7e6f5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d4e3f2a bench-bucket "
                f"[05/Dec/2026:{second // 3600:02d}:{second // 60 % 60:02d}:{second % 60:02d} +0000] "
                f"10.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)} {who} {rng.getrandbits(64):016X} {op} {key} "
                f'"{op.split(".")[1]} /bench-bucket/{key} HTTP/1.1" 200 - {sent or "-"} {size} {rng.randint(5, 900)} {rng.randint(1, 80)} '
                f'"-" "{rng.choice(AGENTS)}" - {rng.getrandbits(192):048x}= SigV4 TLS_AES_128_GCM_SHA256 '
                f"{'QueryString' if n % 17 == 0 else 'AuthHeader'} bench-bucket.s3.us-east-1.amazonaws.com TLSv1.3 - - us-east-1"
            )  # fmt: skip
        (folder / f"2026-12-05-{index:02d}-00-00-{rng.getrandbits(64):016X}").write_text("\n".join(out) + "\n")
        written += count
    return totals


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=18)
    parser.add_argument("--s3safe", default=str(Path(sys.executable).with_name("s3safe")))
    parser.add_argument("--timeout", type=float, default=900)
    args = parser.parse_args(argv)
    scratch = Path(tempfile.mkdtemp(prefix="s3safe-bench-logs-"))
    try:
        logs = scratch / "logs"
        logs.mkdir()
        totals = generate(logs, lines=args.lines, seed=args.seed)
        size = sum(p.stat().st_size for p in logs.iterdir())
        command = [args.s3safe, "--json", "logs", "--local", str(logs), "--show", "top-requesters", "--limit", "10", "--since", "all"]
        result = run_measured(command, env=os.environ, cwd=scratch, log_stem=scratch / "run", timeout=args.timeout)
        records = [json.loads(line) for line in Path(result.stdout).read_text().splitlines() if line.strip()]
        rows = [r["row"] for r in records if r.get("type") == "row"]
        summary = next((r for r in records if r.get("type") == "summary"), {})
        expected = [(None if who == "-" else who, total) for who, total in totals.most_common(10)]
        got = [(r["requester"], r["bytes_read"]) for r in rows]
        ok = result.returncode == 0 and got == expected and summary.get("records") == args.lines
        print(f"lines {args.lines:,}  bytes {size / 1e6:,.0f} MB  files {FILES}")
        print(f"wall {result.wall_s:.2f} s  cpu {result.cpu_s:.2f} s  peak RSS {result.maxrss_mb:,.0f} MiB  "
              f"records {summary.get('records')}  malformed {summary.get('malformed_lines')}  answer {'correct' if ok else 'WRONG'}")  # fmt: skip
        if not ok:
            print(result.tail(), file=sys.stderr)
            print(f"expected {expected[:3]}…\ngot      {got[:3]}…", file=sys.stderr)
        return 0 if ok else 1
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
