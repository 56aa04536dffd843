"""`logs`: questions and SQL over a bucket's server access logs, read from its logging target.

Where the logs are comes from the bucket's logging configuration (what `logging status` shows), or
from --target. Log object names carry their delivery time (`PREFIX2026-12-05-10-00-00-UNIQUE`, or
`PREFIX/ACCOUNT/REGION/BUCKET/2026/12/05/2026-12-05-10-00-00-UNIQUE` with date-partitioned keys), so
only the objects of the time range are listed and read: a record is delivered after its request, so
an object named before --since cannot hold a request in the range, and one named up to a day after
--until still may. Records are then kept by their own request time.

The bytes go through s3safe's storage layer into private scratch files, DuckDB parses them (see
security/log_sql), and the question runs on a database that can reach nothing else.
"""

from __future__ import annotations

import datetime as dt
import re
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from s3safe.core.errors import NotFoundError, S3SafeError, UsageError
from s3safe.core.locations import S3Url
from s3safe.core.models import ObjectInfo, PrefixInfo
from s3safe.security.access_log import clean_text
from s3safe.security.log_sql import Answer, LoadStats, LogDatabase, question
from s3safe.storage.connection import Connection

DELIVERY_SLACK = dt.timedelta(days=1)
SCRATCH_FILE_BYTES = 4 * 1024 * 1024  # characters, about bytes
_STAMP = r"(\d{4})-(\d{2})-(\d{2})-(\d{2})-(\d{2})-(\d{2})-[^/]+"
SIMPLE_NAME = re.compile(_STAMP + r"\Z")
PARTITIONED_NAME = re.compile(r"([^/]+)/([^/]+)/([^/]+)/(\d{4})/(\d{2})/(\d{2})/" + _STAMP + r"\Z")
_RELATIVE = re.compile(r"(\d+)\s*([mhdw])\Z")
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


@dataclass(frozen=True)
class LogLocation:
    bucket: str  # where the logs are
    prefix: str
    source: str | None  # the bucket they are about (None: every bucket logging there)
    partitioned: bool | None  # None: not known, both name forms are read

    @property
    def url(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}"


@dataclass
class LogSession:
    """One run: the loaded database, what was read, what could not be."""

    db: LogDatabase
    stats: LoadStats
    location: LogLocation | None = None
    objects: int = 0
    bytes_read: int = 0
    failures: list[tuple[str, str]] = field(default_factory=list)

    def ask(self, *, name: str | None = None, sql: str | None = None, limit: int | None = None) -> Answer:
        if (name is None) == (sql is None):
            raise UsageError("ask one question: a ready one or --sql, not both")
        text = question(name).sql if name is not None else str(sql)
        answer = self.db.query(text, limit=limit)
        answer.stats = self.stats
        return answer

    def summary(self) -> dict[str, Any]:
        return {
            "type": "summary", "source": self.location.url if self.location else None, "log_objects": self.objects,
            "bytes_read": self.bytes_read, "lines": self.stats.lines, "records": self.stats.records,
            "malformed_lines": self.stats.malformed, "outside_range": self.stats.out_of_range,
            "other_buckets": self.stats.other_buckets,
            "failed_objects": len(self.failures),
        }  # fmt: skip


def parse_when(text: str, *, now: dt.datetime, option: str) -> dt.datetime:
    """`7d`, `12h`, `30m`, `2w` before now, or an ISO date/time (UTC unless it names an offset)."""
    value = text.strip()
    relative = _RELATIVE.match(value)
    try:
        if relative:
            when = now - dt.timedelta(**{_UNITS[relative.group(2)]: int(relative.group(1))})
        else:
            when = dt.datetime.fromisoformat(value)
            when = when if when.tzinfo else when.replace(tzinfo=dt.UTC)
        # the log objects are looked for a day either side of the range: that must stay a date too
        (when - dt.timedelta(days=2)).astimezone(dt.UTC), (when + dt.timedelta(days=2)).astimezone(dt.UTC)
    except ValueError:
        raise UsageError(f"{option} {text!r} is not a time", hint="write e.g. 7d, 12h, 2026-12-01 or 2026-12-01T08:00") from None
    except OverflowError:
        raise UsageError(f"{option} {text!r} is out of range", hint="give a time between the years 1 and 9999; --since all reads every log") from None
    return when


def locate(conn: Connection, url: S3Url | None, *, target: S3Url | None = None) -> LogLocation:
    """Where the access logs of `url`'s bucket are: --target, else its logging configuration."""
    source = url.bucket if url is not None else None
    if url is not None and not url.is_bucket:
        raise UsageError(f"'logs' takes a bucket, not an object path: {url}", hint=f"write s3://{url.bucket}")
    if target is not None:
        return LogLocation(target.bucket, target.key, source, None)
    if source is None:
        raise UsageError("name the bucket whose logs to read, or the logs themselves with --target s3://LOGBUCKET/prefix/")
    enabled = conn.admin.logging(source)
    if not enabled:
        raise NotFoundError(f"access logging is off for s3://{source}: there are no logs to read",
                            hint=f"turn it on with 's3safe logging enable s3://{source} --target s3://LOGBUCKET/', or pass --target")  # fmt: skip
    key_format = enabled.get("TargetObjectKeyFormat") or {}
    return LogLocation(str(enabled["TargetBucket"]), str(enabled.get("TargetPrefix", "")), source, "PartitionedPrefix" in key_format)


def name_time(location: LogLocation, key: str) -> dt.datetime | None:
    """The delivery time a log object's name carries; None for an object that is not a log of `location`."""
    if not key.startswith(location.prefix):
        return None
    rest = key[len(location.prefix):]
    stamp: Sequence[str] | None = None
    if location.partitioned is not False and (m := PARTITIONED_NAME.match(rest)):
        if location.source is not None and m.group(3) != location.source:
            return None
        stamp = m.groups()[6:12]
    elif location.partitioned is not True and (m := SIMPLE_NAME.match(rest)):
        stamp = m.groups()
    if stamp is None:
        return None
    try:
        year, month, day, hour, minute, second = (int(part) for part in stamp)
        return dt.datetime(year, month, day, hour, minute, second, tzinfo=dt.UTC)
    except ValueError:
        return None


def partition_bases(storage: Any, location: LogLocation) -> Iterator[str]:
    """`PREFIX/ACCOUNT/REGION/BUCKET/` folders under a date-partitioned target."""
    for account in storage.iter_entries(location.bucket, location.prefix, recursive=False):
        if not isinstance(account, PrefixInfo):
            continue
        for region in storage.iter_entries(location.bucket, account.prefix, recursive=False):
            if not isinstance(region, PrefixInfo):
                continue
            if location.source is not None:
                yield f"{region.prefix}{location.source}/"
                continue
            for bucket in storage.iter_entries(location.bucket, region.prefix, recursive=False):
                if isinstance(bucket, PrefixInfo):
                    yield bucket.prefix


def log_objects(storage: Any, location: LogLocation, *, since: dt.datetime | None, until: dt.datetime | None) -> Iterator[ObjectInfo]:
    """The log objects that can hold requests of [since, until), in name order."""
    from dataclasses import replace

    last = until + DELIVERY_SLACK if until is not None else None
    if location.partitioned is not False:
        form = replace(location, partitioned=True)
        for base in partition_bases(storage, location):
            start = f"{base}{since:%Y/%m/%d}/" if since else None
            for entry in storage.iter_entries(location.bucket, base, recursive=True, start_after=start):
                if not isinstance(entry, ObjectInfo) or (when := name_time(form, entry.key)) is None:
                    continue
                if last is not None and entry.key[len(base):len(base) + 10] > f"{last:%Y/%m/%d}":
                    break  # a later day's folder: its requests come after the range too
                if (since is None or when >= since) and (last is None or when < last):
                    yield entry
    if location.partitioned is not True:
        form = replace(location, partitioned=False)
        start = f"{location.prefix}{since:%Y-%m-%d-%H-%M-%S}" if since else None
        for entry in storage.iter_entries(location.bucket, location.prefix, recursive=True, start_after=start):
            if not isinstance(entry, ObjectInfo) or (when := name_time(form, entry.key)) is None:
                continue
            if last is not None and when >= last:
                break  # names sort by delivery time
            if since is None or when >= since:
                yield entry


class _Scratch:
    """Text files in a private folder, each ending on a whole line, a new one begun past SCRATCH_FILE_BYTES
    (DuckDB reads each file as one string: many small files parse much faster than one large)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.files: list[Path] = []
        self._out: IO[str] | None = None
        self._size = 0  # characters in the current file

    def _open(self, path: Path, *, mode: str) -> IO[str]:
        self.close()
        self._out = path.open(mode, encoding="utf-8", newline="")
        return self._out

    def _next(self) -> IO[str]:
        path = self.folder / f"logs-{len(self.files):05d}.txt"
        self.files.append(path)
        self._size = 0
        return self._open(path, mode="w")

    def _write(self, text: str) -> None:
        out = self._out if self._out is not None else self._next()
        cut = text.rfind("\n") + 1 if self._size + len(text) >= SCRATCH_FILE_BYTES else 0
        if cut:  # past the size: the whole lines end this file, the rest begins the next
            out.write(text[:cut])
            out = self._next()
            text = text[cut:]
        out.write(text)
        self._size += len(text)

    def add(self, chunks: Iterable[bytes]) -> int:
        """One log object's text, whole or not at all; returns its size in bytes as read."""
        out = self._out if self._out is not None else self._next()
        first, start, size_before = len(self.files) - 1, out.tell(), self._size
        size = 0
        ends_line = True

        def counted() -> Iterator[bytes]:
            nonlocal size
            for chunk in chunks:
                size += len(chunk)
                yield chunk

        try:
            for text in clean_text(counted()):
                self._write(text)
                ends_line = text.endswith("\n")
        except BaseException:
            # an object cut off midway is reported as unread: none of its lines may count in the answer
            self.close()
            for path in self.files[first + 1 :]:
                path.unlink()
            del self.files[first + 1 :]
            with self.files[first].open("r+b") as handle:
                handle.truncate(start)
            self._open(self.files[first], mode="a")
            self._size = size_before
            raise
        if not ends_line:
            self._write("\n")  # the next object's first record must not join this one's last
        return size

    def close(self) -> None:
        if self._out is not None:
            self._out.close()
            self._out = None


@dataclass(frozen=True)
class LogsRequest:
    url: S3Url | None = None
    target: S3Url | None = None
    local: tuple[Path, ...] = ()
    since: dt.datetime | None = None
    until: dt.datetime | None = None
    key_prefix: str | None = None  # only requests for keys starting with this (as stored, not URL-encoded)
    memory_limit: str | None = None


def _local_files(paths: Sequence[Path]) -> Iterator[Path]:
    for path in paths:
        if path.is_dir():
            try:
                found = sorted(p for p in path.rglob("*") if p.is_file())  # regular files: no FIFO, no device
            except OSError as exc:
                raise S3SafeError(f"cannot list the log folder {path}: {exc.strerror or exc}", hint="check its permissions") from None
            yield from found
        elif path.is_file():
            yield path
        elif path.exists():
            raise UsageError(f"{path} is not a regular file or a folder (a device, FIFO or socket)", hint="name a log file or a folder of them")
        else:
            raise NotFoundError(f"no such log file or folder: {path}")


def _read_file(path: Path) -> Iterator[bytes]:
    with path.open("rb") as handle:
        while chunk := handle.read(1024 * 1024):
            yield chunk


@contextmanager
def open_logs(conn: Connection | None, request: LogsRequest) -> Iterator[LogSession]:
    """Read the logs of the request into a locked DuckDB; the session lives as long as the block."""
    if request.since and request.until and request.since >= request.until:
        raise UsageError("--since must be before --until")
    with tempfile.TemporaryDirectory(prefix="s3safe-logs-") as folder:  # mode 0700: logs name people and keys
        scratch = _Scratch(Path(folder))
        failures: list[tuple[str, str]] = []
        objects = size = 0
        location: LogLocation | None = None
        try:
            if request.local:
                for path in _local_files(request.local):
                    try:
                        size += scratch.add(_read_file(path))
                        objects += 1
                    except OSError as exc:
                        failures.append((str(path), f"cannot read {path}: {exc.strerror or exc}"))
            else:
                if conn is None:
                    raise UsageError("no connection to read the logs through")
                location = locate(conn, request.url, target=request.target)
                storage = conn.objects
                for info in log_objects(storage, location, since=request.since, until=request.until):
                    try:
                        size += scratch.add(storage.read_chunks(info.bucket, info.key))
                        objects += 1
                    except S3SafeError as exc:  # one unreadable object: reported, the rest goes on
                        failures.append((f"s3://{info.bucket}/{info.key}", str(exc)))
        finally:
            scratch.close()
        db = LogDatabase(Path(folder), memory_limit=request.memory_limit)
        try:
            about = location.source if location is not None else None  # local files: every bucket in them
            stats = db.load(scratch.files, since=request.since, until=request.until, key_prefix=request.key_prefix, bucket=about)
            yield LogSession(db, stats, location, objects, size, failures)
        finally:
            db.close()


__all__ = ["LogLocation", "LogSession", "LogsRequest", "locate", "log_objects", "name_time", "open_logs", "parse_when"]
