"""A local cache of what was verified to match, so `--only-diff` needs no HEAD per unchanged file.

An entry says: the local file with this size and mtime had this SHA-256, and the object with this
ETag holds the same bytes. It is trusted only while size, mtime and the listed ETag all still agree.
`proof` says how the server itself showed it holds those bytes (its MD5 ETag, per-part MD5s, a read-back);
empty when the match rests on s3safe's own metadata, which is not enough to delete a local file.
"""

from __future__ import annotations

import os
import sqlite3
import sys
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from s3safe.core.errors import AccessDeniedError, S3SafeError

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


_SELECT = "SELECT size, mtime_ns, etag, sha256, proof FROM verified WHERE bucket = ? AND key = ?"
_SELECT_OLD = "SELECT size, mtime_ns, etag, sha256, '' FROM verified WHERE bucket = ? AND key = ?"  # read-only, older cache
REFUTED = "refuted"


def _reason(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror.lower()
    return str(exc)


def unwritable_state(path: Path, exc: OSError, *, what: str) -> S3SafeError:
    """A state file that must be written (a resume journal) and cannot be: one line naming the remedy."""
    hint = "set S3SAFE_STATE_DIR to a writable folder"
    if isinstance(exc, PermissionError):
        return AccessDeniedError(f"cannot write {what} in {path.parent}: permission denied", hint=hint)
    return S3SafeError(f"cannot write {what} in {path.parent}: {_reason(exc)}", hint=hint)


@dataclass(frozen=True, slots=True)
class Verified:
    size: int
    mtime_ns: int
    etag: str
    sha256: str
    proof: str = ""

    @property
    def refuted(self) -> bool:
        """The object with this ETag was shown NOT to hold the local bytes (an upload that arrived corrupted)."""
        return self.proof == REFUTED

    @staticmethod
    def refuting(etag: str) -> Verified:
        return Verified(-1, 0, etag, "", REFUTED)


FLUSH_EVERY = 512


class StateCache:
    """Thread-safe; one connection guarded by a lock (lookups are tiny).

    Writes are buffered and committed in batches: one transaction per file would cost a WAL write
    each, which dominates a run of many small files. close() (or flush()) commits the rest.
    """

    def __init__(self, path: Path | None = None, *, read_only: bool = False) -> None:
        """`read_only` (a dry run): reads what is there, writes nothing anywhere, not even the folder."""
        path = path or state_dir() / "verified.sqlite"
        self._lock = threading.Lock()
        self._read_only = read_only
        self._pending: dict[tuple[str, str], Verified | None] = {}
        self._has_proof = True
        # why the cache lives in memory for this run only (None: on disk); the caller shows it as a warning
        self.unavailable: str | None = None
        try:
            self._db = _open_read_only(path) if read_only else _open_writable(path)
            if read_only:
                self._has_proof = "proof" in {row[1] for row in self._db.execute("PRAGMA table_info(verified)")}
        except (OSError, sqlite3.Error) as exc:
            # an optimisation only: cron, DynamicUser or a read-only container must still be able to transfer
            verb = "read" if read_only else "write"
            self.unavailable = (f"the verified-state cache is off for this run (cannot {verb} {path}: {_reason(exc)}); "
                                "set S3SAFE_STATE_DIR to a writable folder to keep it")  # fmt: skip
            self._db = _prepare(sqlite3.connect(":memory:", check_same_thread=False, isolation_level=None))

    def get(self, bucket: str, key: str) -> Verified | None:
        with self._lock:
            if (bucket, key) in self._pending:
                return self._pending[(bucket, key)]
            try:
                row = self._db.execute(_SELECT if self._has_proof else _SELECT_OLD, (bucket, key)).fetchone()
            except sqlite3.Error:  # read-only: no cache yet
                return None
        return Verified(*row) if row else None

    def put(self, bucket: str, key: str, entry: Verified) -> None:
        if self._read_only:
            return  # a dry run learns nothing it would keep
        with self._lock:
            self._pending[(bucket, key)] = entry
            if len(self._pending) >= FLUSH_EVERY:
                self._flush_locked()

    def forget(self, bucket: str, key: str) -> None:
        if self._read_only:
            return
        with self._lock:
            self._pending[(bucket, key)] = None
            if len(self._pending) >= FLUSH_EVERY:
                self._flush_locked()

    def flush(self) -> None:
        with self._lock:
            self._flush_locked()

    def _flush_locked(self) -> None:
        if not self._pending or self._read_only:
            return
        rows = [(b, k, e.size, e.mtime_ns, e.etag, e.sha256, e.proof) for (b, k), e in self._pending.items() if e is not None]
        gone = [(b, k) for (b, k), e in self._pending.items() if e is None]
        with self._db:  # one transaction
            self._db.execute("BEGIN")
            self._db.executemany(
                "INSERT OR REPLACE INTO verified (bucket, key, size, mtime_ns, etag, sha256, proof) VALUES (?, ?, ?, ?, ?, ?, ?)",
                rows,
            )
            self._db.executemany("DELETE FROM verified WHERE bucket = ? AND key = ?", gone)
        self._pending.clear()

    def close(self) -> None:
        with self._lock:
            self._flush_locked()
            self._db.close()


def _prepare(db: sqlite3.Connection) -> sqlite3.Connection:
    db.execute(_SCHEMA)
    columns = {row[1] for row in db.execute("PRAGMA table_info(verified)")}
    if "proof" not in columns:  # a cache written before proofs were recorded: its entries prove nothing
        db.execute("ALTER TABLE verified ADD COLUMN proof TEXT NOT NULL DEFAULT ''")
    return db


def _open_writable(path: Path) -> sqlite3.Connection:
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
    try:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        _prepare(db)
        os.chmod(path, 0o600)
    except BaseException:
        db.close()
        raise
    return db


def _open_read_only(path: Path) -> sqlite3.Connection:
    """The cache as it is, opened so that nothing is created or changed (immutable: no -wal/-shm files)."""
    if not path.exists():
        return sqlite3.connect(":memory:", check_same_thread=False, isolation_level=None)
    return sqlite3.connect(f"{path.as_uri()}?mode=ro&immutable=1", uri=True, check_same_thread=False, isolation_level=None)
