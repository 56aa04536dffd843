"""Tiny spawner: run a command and write its exit code, CPU and peak RSS (from wait4) to a file.

Why a separate process: on Linux a child's ru_maxrss starts from the RSS of the process that forked
it (fork/vfork copies the high-water mark and exec keeps it), so spawning tools straight from the
benchmark (boto3 loaded, hashes of big files) would report ~70 MB for a tool that needs 15. This
script runs with `python -I -S` (≈8 MB), so that is the floor of every peak RSS measured.

usage: python -I -S spawn.py RESULT_FILE -- ARGV...   (stdin/stdout/stderr and env are passed through)
"""

import os
import sys
import time


def main() -> int:
    result_path, sep, argv = sys.argv[1], sys.argv[2], sys.argv[3:]
    if sep != "--" or not argv:
        print("usage: spawn.py RESULT_FILE -- ARGV...", file=sys.stderr)
        return 2
    started = time.perf_counter()
    try:
        pid = os.posix_spawnp(argv[0], argv, os.environ)
    except OSError as exc:
        print(f"cannot run {argv[0]}: {exc}", file=sys.stderr)
        return 127
    _, status, usage = os.wait4(pid, 0)
    wall = time.perf_counter() - started
    code = os.waitstatus_to_exitcode(status)
    with open(result_path, "w") as out:
        out.write(f"{code} {wall!r} {usage.ru_utime!r} {usage.ru_stime!r} {usage.ru_maxrss}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
