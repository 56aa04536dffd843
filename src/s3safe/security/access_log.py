"""The S3 server access log format: one record per line, space-separated fields, `-` for "none".

The field list follows AWS's documentation ("Amazon S3 server access log format") in its order. Fields
were added over the years (version id, then host id … host header, TLS version, access point ARN,
aclRequired, source region): an older, shorter record ends early and is read with the later fields
empty; fields AWS appends after the last one known here are accepted and ignored.

One regular expression describes a record, and the same expression parses it in both places it is
read: here (Python, through RE2) and in DuckDB (RE2 too, see log_sql), so the library's `parse_line` and
the SQL engine agree on every line (tests/unit/test_access_log.py checks it on fuzzed lines). RE2 runs in
linear time: a hostile line cannot make the parser backtrack for ever.

Quoted fields (request URI, referer, user agent) may hold a quote themselves (AWS does not escape it); the
match takes the shortest reading after which the rest of the record still fits the documented shapes.
"""

from __future__ import annotations

import codecs
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, fields
from datetime import UTC, datetime, timedelta
from typing import Any

import re2

# (column name, SQL type, pattern of the field); the order is the documented order
_NUM = r"(-|\d{1,18})"  # at most 18 digits: every value fits a signed 64-bit integer in both engines
_TOKEN = r"(\S+)"  # noqa: S105 (a pattern, not a password)
_QUOTED = r'(-|".*?")'
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
# strict enough that both engines accept exactly the same times (only 31/Feb and the like are left to refuse)
_TIME = (r"(?:0[1-9]|[12]\d|3[01])/(?:" + "|".join(_MONTHS) + r")/[1-9]\d{3}:(?:[01]\d|2[0-3]):[0-5]\d:[0-5]\d"
         r" [+-](?:[01]\d|2[0-3])[0-5]\d")
REQUIRED: tuple[tuple[str, str, str], ...] = (
    ("bucket_owner", "VARCHAR", _TOKEN),
    ("bucket", "VARCHAR", _TOKEN),
    ("time", "TIMESTAMP", r"\[(" + _TIME + r")\]"),
    ("remote_ip", "VARCHAR", _TOKEN),
    ("requester", "VARCHAR", _TOKEN),
    ("request_id", "VARCHAR", _TOKEN),
    ("operation", "VARCHAR", _TOKEN),
    ("key", "VARCHAR", _TOKEN),
    ("request_uri", "VARCHAR", _QUOTED),
    ("http_status", "INTEGER", r"(-|\d{3})"),
    ("error_code", "VARCHAR", _TOKEN),
    ("bytes_sent", "BIGINT", _NUM),
    ("object_size", "BIGINT", _NUM),
    ("total_time", "BIGINT", _NUM),
    ("turnaround_time", "BIGINT", _NUM),
    ("referer", "VARCHAR", _QUOTED),
    ("user_agent", "VARCHAR", _QUOTED),
)
# each one present only if all before it are; their shapes are pinned where AWS documents a fixed set,
# so that a quote inside a user agent cannot shift the fields after it unnoticed
OPTIONAL: tuple[tuple[str, str, str], ...] = (
    ("version_id", "VARCHAR", _TOKEN),
    ("host_id", "VARCHAR", _TOKEN),
    ("signature_version", "VARCHAR", r"(-|SigV\w+)"),
    ("cipher_suite", "VARCHAR", _TOKEN),
    ("authentication_type", "VARCHAR", r"(-|AuthHeader|QueryString|\w+)"),
    ("host_header", "VARCHAR", _TOKEN),
    ("tls_version", "VARCHAR", r"(-|[Tt][Ll][Ss][Vv]\d[.\d]*)"),
    ("access_point_arn", "VARCHAR", r"(-|arn:\S+)"),
    ("acl_required", "VARCHAR", r"(-|Yes)"),
    ("source_region", "VARCHAR", r"(-|[a-z]{2}(?:-[a-z]+)+-\d+)"),
)
FIELDS: tuple[tuple[str, str], ...] = tuple((name, kind) for name, kind, _ in (*REQUIRED, *OPTIONAL))
COLUMNS: tuple[str, ...] = tuple(name for name, _ in FIELDS)
QUOTED = frozenset({"request_uri", "referer", "user_agent"})


def _pattern(*, plain: bool = False) -> str:
    """The record pattern; `plain`: the same records, restricted to those without a quote inside a field
    (and a CR at the end), whose fields a split on quotes and spaces finds (see log_sql)."""

    def field(p: str) -> str:
        return p.replace(_QUOTED, r'("[^"]*")').replace(r"\S", r'[^\s"]') if plain else p

    head = " ".join(field(p) for _, _, p in REQUIRED)
    tail = r'(?: [^\n"]*)?' if plain else r"(?: [^\n]*)?"  # fields added after the last known one: accepted, ignored
    for _, _, p in reversed(OPTIONAL):
        tail = f"(?: {field(p)}{tail})?"
    # a trailing CR (a file that went through a Windows tool) is not part of the last field
    return f"^{head}{tail}$" if plain else f"^{head}{tail}\r?$"


PATTERN = _pattern()
PLAIN_PATTERN = _pattern(plain=True)
_COMPILED = re2.compile(PATTERN)


@dataclass(frozen=True, slots=True)
class LogRecord:
    """One request. Text fields are None where the log says `-` (or the record is too old to have them)."""

    bucket_owner: str | None
    bucket: str | None
    time: datetime
    remote_ip: str | None
    requester: str | None
    request_id: str | None
    operation: str | None
    key: str | None
    request_uri: str | None
    http_status: int | None
    error_code: str | None
    bytes_sent: int | None
    object_size: int | None
    total_time: int | None
    turnaround_time: int | None
    referer: str | None
    user_agent: str | None
    version_id: str | None = None
    host_id: str | None = None
    signature_version: str | None = None
    cipher_suite: str | None = None
    authentication_type: str | None = None
    host_header: str | None = None
    tls_version: str | None = None
    access_point_arn: str | None = None
    acl_required: str | None = None
    source_region: str | None = None

    @property
    def anonymous(self) -> bool:
        return self.requester is None

    @property
    def presigned(self) -> bool:
        return self.authentication_type == "QueryString"

    def to_dict(self) -> dict[str, Any]:
        out = {f.name: getattr(self, f.name) for f in fields(self)}
        out["time"] = self.time.isoformat()
        return out


def _value(raw: str | None, *, name: str, kind: str) -> Any:
    if raw is None or raw in ("", "-"):
        return None
    if name in QUOTED:  # the pattern guarantees the quotes
        inner = raw[1:-1]
        return inner if inner not in ("", "-") else None
    if kind in ("INTEGER", "BIGINT"):
        return int(raw)
    return raw


def parse_time(raw: str) -> datetime | None:
    """`06/Feb/2019:00:00:38 +0000` (as the pattern admits it) in UTC; None when it is no real date.

    Month names are read here, not by strptime, whose %b follows the process's locale."""
    try:
        day, month, rest = raw.split("/", 2)
        year, hour, minute, second = rest[:4], rest[5:7], rest[8:10], rest[11:13]
        sign = -1 if raw[-5] == "-" else 1
        offset = timedelta(hours=int(raw[-4:-2]), minutes=int(raw[-2:])) * sign
        local = datetime(int(year), _MONTHS.index(month) + 1, int(day), int(hour), int(minute), int(second), tzinfo=UTC)
    except (ValueError, IndexError):
        return None
    try:
        return local - offset
    except OverflowError:
        return None


def parse_line(line: str) -> LogRecord | None:
    """One record, or None when the line is not a server access log record (malformed, or blank)."""
    match = _COMPILED.match(line)
    if match is None:
        return None
    groups = match.groups()
    when = parse_time(groups[2])
    if when is None:
        return None
    values = [_value(raw, name=name, kind=kind) for raw, (name, kind) in zip(groups, FIELDS, strict=True)]
    values[2] = when
    return LogRecord(*values)


@dataclass
class ParseStats:
    records: int = 0
    malformed: int = 0
    examples: list[int] | None = None  # line numbers of the first malformed lines


def iter_records(lines: Iterable[str], stats: ParseStats | None = None) -> Iterator[LogRecord]:
    """Records of a stream of lines; malformed ones are counted in `stats`, never raised; blank lines skipped."""
    stats = stats if stats is not None else ParseStats()
    if stats.examples is None:
        stats.examples = []
    for number, line in enumerate(lines, 1):
        line = line.removesuffix("\n")
        if line in ("", "\r"):  # what the SQL engine skips too
            continue
        record = parse_line(line)
        if record is None:
            stats.malformed += 1
            if len(stats.examples) < 5:
                stats.examples.append(number)
            continue
        stats.records += 1
        yield record


def clean_text(chunks: Iterable[bytes]) -> Iterator[str]:
    """Bytes of a log object as text both engines can read: invalid UTF-8 becomes U+FFFD, NUL too."""
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    for chunk in chunks:
        text = decoder.decode(chunk)
        if text:
            yield text.replace("\x00", "\ufffd")
    tail = decoder.decode(b"", final=True)
    if tail:
        yield tail.replace("\x00", "\ufffd")


__all__ = ["COLUMNS", "FIELDS", "PATTERN", "PLAIN_PATTERN", "LogRecord", "ParseStats", "clean_text", "iter_records", "parse_line", "parse_time"]
