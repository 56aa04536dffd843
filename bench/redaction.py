"""Cost of redacting one output line as the number of registered secrets grows (issue 15.11).

    PYTHONPATH=src .venv/bin/python bench/redaction.py

Each AES Crypt file of a run registers a secret; redaction must stay flat in their number.
"""

from __future__ import annotations

import secrets
import time

from s3safe.core.redact import forget_secrets, redact, register_secret

LINE = "upload /data/file-01234.bin -> s3://bucket/backup/file-01234.bin.aes  [4096 bytes]"
LINES = 2_000


def per_line_microseconds(count: int) -> float:
    forget_secrets()
    for _ in range(count):
        register_secret(secrets.token_hex(32))
    start = time.perf_counter()
    for _ in range(LINES):
        redact(LINE)
    return (time.perf_counter() - start) / LINES * 1e6


def main() -> None:
    print("secrets  us/line")
    for count in (0, 10, 1_000, 50_000):
        print(f"{count:>7}  {per_line_microseconds(count):7.1f}")
    forget_secrets()


if __name__ == "__main__":
    main()
