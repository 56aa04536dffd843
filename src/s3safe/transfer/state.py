"""A local cache of what was verified to match, so `--only-diff` needs no HEAD per unchanged file.

An entry says: the local file with this size, mtime and ctime had this SHA-256, and the object with this
ETag holds the same bytes. It is trusted only while size, mtime, ctime and the listed ETag all still agree:
anyone can set a file's mtime back after rewriting it (ransomware does), but a write moves its ctime to now.
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
from typing import Any

from s3safe.core.errors import AccessDeniedError, S3SafeError

# One row per (server, local folder, bucket, key): an entry describes one file and one object on one
# server, and a different folder with the same sizes and mtimes must not borrow it. The first table,
# keyed by bucket and key alone, cannot say which folder or server its rows were about: it is dropped, and so
# is the second, whose rows lack the ctime (a file rewritten with its mtime set back would match them).
_SCHEMA = """
CREATE TABLE IF NOT EXISTS verified_v3 (
    endpoint TEXT NOT NULL,
    root TEXT NOT NULL,
    bucket TEXT NOT NULL,
    key TEXT NOT NULL,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    etag TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    proof TEXT NOT NULL DEFAULT '',
    ctime_ns INTEGER NOT NULL DEFAULT -1,
    PRIMARY KEY (endpoint, root, bucket, key)
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


_SELECT = "SELECT size, mtime_ns, etag, sha256, proof, ctime_ns FROM verified_v3 WHERE endpoint = ? AND root = ? AND bucket = ? AND key = ?"
# the rows from one key on, in key order: SQLite compares TEXT by its UTF-8 bytes, the order S3 lists keys in
_SELECT_FROM = ("SELECT key, size, mtime_ns, etag, sha256, proof, ctime_ns FROM verified_v3"
                " WHERE endpoint = ? AND root = ? AND bucket = ? AND key >= ? ORDER BY key LIMIT ?")  # fmt: skip
_DELETE = "DELETE FROM verified_v3 WHERE endpoint = ? AND root = ? AND bucket = ? AND key = ?"
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
    ctime_ns: int = -1  # -1: unknown, matches no file

    @staticmethod
    def of(size: int, stat: os.stat_result, etag: str, sha256: str, proof: str = "") -> Verified:
        """The entry for a file as `stat` describes it (its size as compared, which a listing gave)."""
        return Verified(size, stat.st_mtime_ns, etag, sha256, proof, stat.st_ctime_ns)

    def describes(self, size: int, stat: os.stat_result, etag: str) -> bool:
        """Whether this entry is about that file as it is now and that object."""
        return (self.size, self.mtime_ns, self.ctime_ns, self.etag) == (size, stat.st_mtime_ns, stat.st_ctime_ns, etag)

    @property
    def refuted(self) -> bool:
        """The object with this ETag was shown NOT to hold the local bytes (an upload that arrived corrupted)."""
        return self.proof == REFUTED

    @staticmethod
    def refuting(etag: str) -> Verified:
        return Verified(-1, 0, etag, "", REFUTED)


FLUSH_EVERY = 512


Scope = tuple[str, str]  # (endpoint, local root)


def _scope(endpoint: str | None, root: Path | str | None) -> Scope:
    server = (endpoint or "").strip().rstrip("/").lower()  # "" is AWS S3 (bucket names are global there)
    folder = str(Path(root).resolve()) if root is not None else ""
    return server, folder


class _Store:
    """The database and the writes not yet committed, shared by every scoped view of one cache."""

    def __init__(self, db: sqlite3.Connection, *, read_only: bool) -> None:
        self.db = db
        self.read_only = read_only
        self.lock = threading.Lock()
        self.pending: dict[tuple[str, str, str, str], Verified | None] = {}
        self.flushes = 0  # a window of rows read before a flush may be older than the table: read again after one

    def flush_locked(self) -> None:
        if not self.pending or self.read_only:
            return
        self.flushes += 1
        rows = [(*ident, e.size, e.mtime_ns, e.etag, e.sha256, e.proof, e.ctime_ns) for ident, e in self.pending.items() if e and _storable(e)]
        # an entry SQLite cannot hold (a file dated past 2262) is not kept: that file is compared afresh each run
        gone = [ident for ident, e in self.pending.items() if not (e and _storable(e))]
        with self.db:  # one transaction
            self.db.execute("BEGIN")
            self.db.executemany(
                "INSERT OR REPLACE INTO verified_v3 (endpoint, root, bucket, key, size, mtime_ns, etag, sha256, proof, ctime_ns)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                rows,
            )
            self.db.executemany(_DELETE, gone)
        self.pending.clear()


_INT64 = 2**63
WINDOW_ROWS = 1024


class _Window:
    """The rows of one bucket from key `low` on, read in one query: a tree run asks for its keys in key order,
    and one query per key cost more than the rest of a no-change sync's planning (2,000 files: ~0.1 s)."""

    def __init__(self, bucket: str, low: str, rows: list[tuple[Any, ...]], *, complete: bool, flushes: int) -> None:
        self.bucket, self.low, self.flushes = bucket, low, flushes
        self.rows = {row[0]: Verified(*row[1:]) for row in rows}
        # None: every row from `low` on is here; else the rows up to and including this key
        self.high: str | None = None if complete else rows[-1][0]

    def covers(self, bucket: str, key: str, flushes: int) -> bool:
        # Python orders str by code point, which is the UTF-8 byte order SQLite used for the same keys
        return bucket == self.bucket and flushes == self.flushes and self.low <= key and (self.high is None or key <= self.high)


def _storable(entry: Verified) -> bool:
    return all(-_INT64 <= n < _INT64 for n in (entry.size, entry.mtime_ns, entry.ctime_ns))


class StateCache:
    """Thread-safe; one connection guarded by a lock (lookups are tiny).

    Writes are buffered and committed in batches: one transaction per file would cost a WAL write
    each, which dominates a run of many small files. close() (or flush()) commits the rest.
    Entries belong to a scope, the server and the local folder: `scoped()` gives the view a tree
    transfer uses; the unscoped cache is a scope of its own.
    """

    def __init__(self, path: Path | None = None, *, read_only: bool = False) -> None:
        """`read_only` (a dry run): reads what is there, writes nothing anywhere, not even the folder."""
        path = path or state_dir() / "verified.sqlite"
        self._scope: Scope = ("", "")
        # why the cache lives in memory for this run only (None: on disk); the caller shows it as a warning
        self.unavailable: str | None = None
        try:
            db = _open_read_only(path) if read_only else _open_writable(path)
        except (OSError, sqlite3.Error) as exc:
            # an optimisation only: cron, DynamicUser or a read-only container must still be able to transfer
            verb = "read" if read_only else "write"
            self.unavailable = (f"the verified-state cache is off for this run (cannot {verb} {path}: {_reason(exc)}); "
                                "set S3SAFE_STATE_DIR to a writable folder to keep it")  # fmt: skip
            db = _prepare(sqlite3.connect(":memory:", check_same_thread=False, isolation_level=None))
        self._store = _Store(db, read_only=read_only)
        self._window: _Window | None = None

    def scoped(self, *, endpoint: str | None, root: Path | str | None) -> StateCache:
        """A view of the same cache whose entries are those of one server and one local folder."""
        view = object.__new__(StateCache)
        view._store, view.unavailable, view._scope = self._store, self.unavailable, _scope(endpoint, root)
        view._window = None
        return view

    def get(self, bucket: str, key: str) -> Verified | None:
        ident = (*self._scope, bucket, key)
        store = self._store
        with store.lock:
            if ident in store.pending:
                return store.pending[ident]
            try:
                row = store.db.execute(_SELECT, ident).fetchone()
            except sqlite3.Error:  # read-only: no cache yet, or one older than this table
                return None
        return Verified(*row) if row else None

    def get_in_order(self, bucket: str, key: str) -> Verified | None:
        """get(), for keys asked for in ascending order (a tree run's planner): the rows are read WINDOW_ROWS at a
        time. A key outside the window read last (out of order, or past it) reads a new window from that key."""
        ident = (*self._scope, bucket, key)
        store = self._store
        with store.lock:
            if ident in store.pending:
                return store.pending[ident]
            window = self._window
            if window is None or not window.covers(bucket, key, store.flushes):
                try:
                    rows = store.db.execute(_SELECT_FROM, (*ident, WINDOW_ROWS)).fetchall()
                except sqlite3.Error:  # read-only: no cache yet, or one older than this table
                    rows = []
                window = self._window = _Window(bucket, key, rows, complete=len(rows) < WINDOW_ROWS, flushes=store.flushes)
            return window.rows.get(key)

    def put(self, bucket: str, key: str, entry: Verified) -> None:
        self._set(bucket, key, entry)

    def forget(self, bucket: str, key: str) -> None:
        self._set(bucket, key, None)

    def _set(self, bucket: str, key: str, entry: Verified | None) -> None:
        store = self._store
        if store.read_only:
            return  # a dry run learns nothing it would keep
        with store.lock:
            store.pending[(*self._scope, bucket, key)] = entry
            if len(store.pending) >= FLUSH_EVERY:
                store.flush_locked()

    def flush(self) -> None:
        with self._store.lock:
            self._store.flush_locked()

    def close(self) -> None:
        with self._store.lock:
            self._store.flush_locked()
            self._store.db.close()


def _prepare(db: sqlite3.Connection) -> sqlite3.Connection:
    db.execute(_SCHEMA)
    for old in ("verified", "verified_v2"):  # the old tables: cost one hash or HEAD per file, once
        db.execute(f"DROP TABLE IF EXISTS {old}")
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
