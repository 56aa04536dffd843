"""`audit --inventory` at scale: a generated S3 Inventory report (Parquet) of N rows, audited for public
ACLs, unencrypted and SSE-C objects by the same code the audit runs (s3safe.audit.inventory.scan_files).

The report is generated here, in a scratch folder, never committed: N rows in 4 Parquet files with the
columns S3 writes (bucket, key, size, last_modified_date, storage_class, encryption_status,
object_access_control_list as base64 JSON, object_owner, checksum_algorithm), a handful of public,
unencrypted and SSE-C rows spread through it. The scan runs in a child process started by spawn.py, so
its peak RSS is its own; the result is checked (exactly the planted keys) before the time counts.

    .venv/bin/python bench/inventory.py                 # 10,000,000 rows
    .venv/bin/python bench/inventory.py --rows 1000000
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
FILES = 4


def planted(rows: int) -> dict[str, list[int]]:
    step = max(1, rows // 11)
    return {"public": [step * i + 7 for i in range(1, 6)], "write": [step * 6 + 3], "unencrypted": [step * i + 5 for i in range(1, 9)],
            "sse_c": [step * 9 + 1, rows - 1]}  # fmt: skip


def _key(i: int) -> str:
    return f"data/{i // 1000:06d}/{i:010d}.bin"


def generate(folder: Path, rows: int, *, distinct_acls: bool = False) -> list[Path]:
    import duckdb

    sys.path.insert(0, str(ROOT / "src"))
    from s3safe.audit.inventory import acl_field

    owner = "75aa57f09aa0c8caeab4f8c24e99d10f8e7faeebf76c078efc7c6caea54ba06a"
    me = {"canonicalId": owner, "type": "CanonicalUser", "permission": "FULL_CONTROL"}
    private = acl_field([me])
    public = acl_field([me, {"uri": "http://acs.amazonaws.com/groups/global/AllUsers", "type": "Group", "permission": "READ"}])
    write = acl_field([me, {"uri": "http://acs.amazonaws.com/groups/global/AllUsers", "type": "Group", "permission": "WRITE_ACP"}])
    p = planted(rows)

    def in_list(name: str) -> str:
        return "i IN (" + ", ".join(str(i) for i in p[name]) + ")"

    # a bucket of one owner has one ACL value for almost every object; --distinct-acls makes each row's differ
    # (a grant to a per-object canonical id): the worst case for the match, as no value repeats
    private_sql = f"'{private}'"
    if distinct_acls:
        head = '{"version":"2022-11-10","status":"AVAILABLE","grants":[{"canonicalId":"'
        tail = '","type":"CanonicalUser","permission":"FULL_CONTROL"}]}'
        private_sql = f"to_base64(encode('{head}' || sha256(i::VARCHAR) || '{tail}'))"
    db = duckdb.connect()
    paths = []
    per_file = -(-rows // FILES)
    for n in range(FILES):
        path = folder / f"{n:04d}.parquet"
        lo, hi = n * per_file, min(rows, (n + 1) * per_file)
        db.execute(
            f"COPY (SELECT 'lake' AS bucket, printf('data/%06d/%010d.bin', i // 1000, i) AS key, (i % 100000)::BIGINT AS size, "  # noqa: S608 (generated, no input)
            f"TIMESTAMP '2026-12-01 00:00:00' + to_seconds(i % 86400) AS last_modified_date, 'STANDARD' AS storage_class, "
            f"CASE WHEN {in_list('unencrypted')} THEN 'NOT-SSE' WHEN {in_list('sse_c')} THEN 'SSE-C' ELSE 'SSE-S3' END AS encryption_status, "
            f"CASE WHEN {in_list('public')} THEN '{public}' WHEN {in_list('write')} THEN '{write}' ELSE {private_sql} END AS object_access_control_list, "
            f"'{owner}' AS object_owner, 'CRC64NVME' AS checksum_algorithm FROM range({lo}, {hi}) t(i)) TO '{path}' (FORMAT PARQUET)"
        )
        paths.append(path)
    db.close()
    return paths


def scan(folder: Path, out: Path) -> None:
    """The child: the audit's own scan over the files, its answer written as JSON."""
    from s3safe.audit.checks.objects import OBJECT_ACL_PUBLIC, OBJECT_NOT_ENCRYPTED, OBJECT_SSE_C
    from s3safe.audit.inventory import scan_files

    paths = sorted(folder.glob("*.parquet"))
    checks = frozenset({OBJECT_ACL_PUBLIC.id, OBJECT_NOT_ENCRYPTED.id, OBJECT_SSE_C.id})
    counts, findings, _ = scan_files("lake", "Parquet", (), paths, checks=checks, created="bench", threads=os.cpu_count() or 2)
    found = {c: sorted(f.key or "" for f in findings if f.check_id == c) for c in checks}
    out.write_text(json.dumps({"counts": counts, "found": found}))


def measure(folder: Path, rows: int) -> dict[str, object]:
    result, answer = folder / "spawn.txt", folder / "answer.json"
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    argv = [sys.executable, "-I", "-S", str(HERE / "spawn.py"), str(result), "--", sys.executable, str(Path(__file__)), "--scan",
            str(folder), "--out", str(answer)]  # fmt: skip
    subprocess.run(argv, env=env, check=True)
    code, wall, user, system, rss_kb = result.read_text().split()
    if int(code) != 0:
        raise SystemExit(f"the scan failed (exit {code})")
    got = json.loads(answer.read_text())
    p = planted(rows)
    expected = {"object-acl-public": sorted(_key(i) for i in p["public"] + p["write"]),
                "object-not-encrypted": sorted(_key(i) for i in p["unencrypted"]), "object-sse-c": sorted(_key(i) for i in p["sse_c"])}  # fmt: skip
    if got["found"] != expected or got["counts"]["scanned"] != rows:
        raise SystemExit(f"wrong answer: {got}")
    return {"rows": rows, "wall_s": round(float(wall), 2), "cpu_s": round(float(user) + float(system), 2),
            "peak_rss_mb": round(int(rss_kb) / 1024), "findings": sum(len(v) for v in expected.values())}  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--distinct-acls", action="store_true", help="Every row a different ACL value (worst case).")
    parser.add_argument("--scan", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.scan:
        scan(args.scan, args.out)
        return 0
    with tempfile.TemporaryDirectory(prefix="s3safe-bench-inventory-") as tmp:
        folder = Path(tmp)
        started = time.perf_counter()
        paths = generate(folder, args.rows, distinct_acls=args.distinct_acls)
        size = sum(p.stat().st_size for p in paths)
        print(f"generated {args.rows:,} rows in {len(paths)} Parquet files ({size / 2**20:.0f} MiB) in {time.perf_counter() - started:.1f} s")
        figures = measure(folder, args.rows)
    figures["parquet_mib"] = round(size / 2**20)
    print(json.dumps(figures))
    print(f"audit of {args.rows:,} inventory rows: {figures['wall_s']} s wall, {figures['cpu_s']} CPU-s, "
          f"{figures['peak_rss_mb']} MB peak RSS; found exactly the {figures['findings']} planted rows")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
