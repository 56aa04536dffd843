"""A local cache of what was verified to match, so `--only-diff` needs no HEAD per unchanged file.

An entry says: the local file with this size and mtime had this SHA-256, and the object with this
ETag holds the same bytes. It is trusted only while size, mtime and the listed ETag all still agree.
"""

from __future__ import annotations

import os
import sqlite3
import sys
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

_SCHEMA = """
CREATE TABLE IF NOT EXISTS verified (
    bucket TEXT NOT NULL,
    key TEXT NOT NULL,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    etag TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    PRIMARY KEY (bucket, key)
)
"""


def state_dir(env: Mapping[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    if env.get("S3SAFE_STATE_DIR"):
        return Path(env["S3SAFE_STATE_DIR"])
    if os.name == "nt" and env.get("LOCALAPPDATA"):
        return Path(env["LOCALAPPDATA"]) / "s3safe" / "state"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Application Support" / "s3safe" / "state"
    base = env.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "s3safe"


@dataclass(frozen=True, slots=True)
class Verified:
    size: int
    mtime_ns: int
    etag: str
    sha256: str


FLUSH_EVERY = 512


class StateCache:
    """Thread-safe; one connection guarded by a lock (lookups are tiny).

    Writes are buffered and committed in batches: one transaction per file would cost a WAL write
    each, which dominates a run of many small files. close() (or flush()) commits the rest.
    """

    def __init__(self, path: Path | None = None) -> None:
        path = path or state_dir() / "verified.sqlite"
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.execute(_SCHEMA)
        os.chmod(path, 0o600)
        self._pending: dict[tuple[str, str], Verified | None] = {}

    def get(self, bucket: str, key: str) -> Verified | None:
        with self._lock:
            if (bucket, key) in self._pending:
                return self._pending[(bucket, key)]
            row = self._db.execute(
                "SELECT size, mtime_ns, etag, sha256 FROM verified WHERE bucket = ? AND key = ?", (bucket, key)
            ).fetchone()
        return Verified(*row) if row else None

    def put(self, bucket: str, key: str, entry: Verified) -> None:
        with self._lock:
            self._pending[(bucket, key)] = entry
            if len(self._pending) >= FLUSH_EVERY:
                self._flush_locked()

    def forget(self, bucket: str, key: str) -> None:
        with self._lock:
            self._pending[(bucket, key)] = None
            if len(self._pending) >= FLUSH_EVERY:
                self._flush_locked()

    def flush(self) -> None:
        with self._lock:
            self._flush_locked()

    def _flush_locked(self) -> None:
        if not self._pending:
            return
        rows = [(b, k, e.size, e.mtime_ns, e.etag, e.sha256) for (b, k), e in self._pending.items() if e is not None]
        gone = [(b, k) for (b, k), e in self._pending.items() if e is None]
        with self._db:  # one transaction
            self._db.execute("BEGIN")
            self._db.executemany("INSERT OR REPLACE INTO verified VALUES (?, ?, ?, ?, ?, ?)", rows)
            self._db.executemany("DELETE FROM verified WHERE bucket = ? AND key = ?", gone)
        self._pending.clear()

    def close(self) -> None:
        with self._lock:
            self._flush_locked()
            self._db.close()
