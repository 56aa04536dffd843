"""Access-log questions in SQL, on an embedded DuckDB that can read nothing but the loaded logs.

Log text is written by s3safe into private scratch files; DuckDB splits and parses them with the same
pattern as access_log.parse_line (RE2 in both). Then external access is switched off and the
configuration locked, so a user's SQL (`--sql`) sees the table `logs` and nothing else: no COPY … TO,
no read_csv('/etc/passwd'), no ATTACH, no INSTALL/LOAD of an extension, no way to switch it back on.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Any

from s3safe.core.errors import UsageError
from s3safe.core.interruptible import run_interruptible
from s3safe.security.access_log import COLUMNS, FIELDS, PATTERN, PLAIN_PATTERN, QUOTED


class LogQueryError(UsageError):
    """The SQL was refused or failed (exit 2: it is the user's question that needs changing)."""


@dataclass(frozen=True)
class Question:
    name: str
    title: str
    sql: str  # over `logs`; the SQL both DuckDB and Athena (Trino) understand


_READS = "('REST.GET.OBJECT', 'REST.HEAD.OBJECT', 'WEBSITE.GET.OBJECT', 'WEBSITE.HEAD.OBJECT', 'REST.COPY.OBJECT_GET')"
_WRITES = "('REST.PUT.OBJECT', 'REST.POST.OBJECT', 'REST.COPY.OBJECT', 'REST.PUT.PART', 'REST.COPY.PART', 'REST.POST.UPLOAD')"
# every flag that applies, comma-separated (an anonymous request over plain HTTP is both); NULLs are skipped
_FLAGS = ("concat_ws(',', CASE WHEN requester IS NULL THEN 'anonymous' END, "
          "CASE WHEN authentication_type = 'QueryString' THEN 'presigned' END, "
          "CASE WHEN tls_version IS NULL AND host_header IS NOT NULL THEN 'plain-http' END)")  # fmt: skip
_CHANGES = ("operation LIKE '%.DELETE.%' OR operation IN ('REST.POST.MULTI_OBJECT_DELETE', 'BATCH.DELETE.OBJECT') "
            "OR (operation LIKE 'REST.PUT.%' AND (operation LIKE '%ACL%' OR operation LIKE '%POLICY%' "
            "OR operation LIKE '%PUBLIC%ACCESS%' OR operation LIKE '%OWNERSHIP%' OR operation LIKE '%LOGGING%' "
            "OR operation LIKE '%ENCRYPTION%' OR operation LIKE '%VERSIONING%' OR operation LIKE '%LIFECYCLE%' "
            "OR operation LIKE '%CORS%' OR operation LIKE '%REPLICATION%'))")  # fmt: skip


def _access(ops: str) -> str:
    return (f'SELECT key, requester, remote_ip, user_agent, {_FLAGS} AS flags, count(*) AS requests, '
            f'sum(coalesce(bytes_sent, 0)) AS bytes_sent, min("time") AS first_seen, max("time") AS last_seen '
            f"FROM logs WHERE operation IN {ops} GROUP BY 1, 2, 3, 4, 5 ORDER BY key, first_seen")  # fmt: skip


QUESTIONS: dict[str, Question] = {q.name: q for q in (
    Question("reads", "who read which keys (GET/HEAD)", _access(_READS)),
    Question("writes", "who wrote which keys (PUT, POST, copy, multipart)", _access(_WRITES)),
    Question("anonymous", "requests without credentials",
             'SELECT "time", remote_ip, operation, key, http_status, user_agent FROM logs WHERE requester IS NULL ORDER BY "time"'),
    Question("presigned", "requests authenticated by a pre-signed URL (auth type QueryString)",
             'SELECT "time", requester, remote_ip, operation, key, http_status, user_agent FROM logs '
             "WHERE authentication_type = 'QueryString' ORDER BY \"time\""),
    Question("errors", "403 and 404 answers per hour, busiest first",
             "SELECT date_trunc('hour', \"time\") AS hour, http_status, count(*) AS requests, count(DISTINCT remote_ip) AS ips, "
             "count(DISTINCT key) AS keys FROM logs WHERE http_status IN (403, 404) GROUP BY 1, 2 ORDER BY requests DESC, hour"),
    Question("top-ips", "addresses by number of requests",
             "SELECT remote_ip, count(*) AS requests, sum(coalesce(bytes_sent, 0)) AS bytes_sent, count(DISTINCT key) AS keys, "
             "sum(CASE WHEN http_status >= 400 THEN 1 ELSE 0 END) AS errors FROM logs GROUP BY 1 ORDER BY requests DESC, remote_ip"),
    Question("top-keys", "keys by number of requests",
             "SELECT key, count(*) AS requests, sum(coalesce(bytes_sent, 0)) AS bytes_sent, count(DISTINCT remote_ip) AS ips "
             "FROM logs WHERE key IS NOT NULL GROUP BY 1 ORDER BY requests DESC, key"),
    Question("top-requesters", "requesters by bytes read (GET)",
             "SELECT requester, sum(coalesce(bytes_sent, 0)) AS bytes_read, count(*) AS requests FROM logs "
             "WHERE operation IN ('REST.GET.OBJECT', 'WEBSITE.GET.OBJECT') GROUP BY 1 ORDER BY bytes_read DESC, requests DESC"),
    Question("plain-http", "requests over plain HTTP (TLS version '-')",
             'SELECT "time", requester, remote_ip, operation, key, http_status, user_agent FROM logs '
             'WHERE tls_version IS NULL AND host_header IS NOT NULL ORDER BY "time"'),
    Question("changes", "deletes and ACL, policy and other configuration changes",
             f'SELECT "time", requester, remote_ip, operation, key, http_status, user_agent FROM logs WHERE {_CHANGES} ORDER BY "time"'),
)}  # fmt: skip


def with_limit(sql: str, limit: int | None) -> str:
    return f"SELECT * FROM ({sql}) AS answer LIMIT {int(limit)}" if limit is not None else sql


@dataclass
class LoadStats:
    lines: int = 0
    records: int = 0
    malformed: int = 0
    out_of_range: int = 0
    other_buckets: int = 0  # records about another bucket logging to the same place, left out


@dataclass
class Answer:
    columns: list[str]
    rows: Iterator[tuple[Any, ...]]
    stats: LoadStats = field(default_factory=LoadStats)
    cut: bool = False  # set once the rows are read: the limit left rows out


def _sql_string(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def key_filter(prefix: str) -> str:
    """Keys starting with `prefix` as stored; the log's key is URL-encoded (a key whose encoding is not valid
    UTF-8 is compared as logged). The same SQL in DuckDB and Athena."""
    return f"starts_with(coalesce(try(url_decode(key)), key), {_sql_string(prefix)})"


def _timestamp(when: dt.datetime) -> str:
    return f"TIMESTAMP '{when.astimezone(dt.UTC):%Y-%m-%d %H:%M:%S.%f}'"


def _typed(name: str, kind: str) -> str:
    raw = f"f.{name}"
    if name == "time":
        # the offset is read apart: strptime's %z needs the ICU extension, which is never loaded here
        sign = f"(CASE WHEN substr({raw}, 22, 1) = '-' THEN -1 ELSE 1 END)"
        minutes = f"(TRY_CAST(substr({raw}, 23, 2) AS INTEGER) * 60 + TRY_CAST(substr({raw}, 25, 2) AS INTEGER))"
        return f"try_strptime(substr({raw}, 1, 20), '%d/%b/%Y:%H:%M:%S') - to_minutes({sign} * {minutes}) AS \"time\""
    if name in QUOTED:
        inner = f"substr({raw}, 2, length({raw}) - 2)"
        return f"CASE WHEN {raw} IN ('', '-') OR {inner} IN ('', '-') THEN NULL ELSE {inner} END AS {name}"
    if kind != "VARCHAR":
        return f"CASE WHEN {raw} IN ('', '-') THEN NULL ELSE CAST({raw} AS {kind}) END AS {name}"
    return f"CASE WHEN {raw} IN ('', '-') THEN NULL ELSE {raw} END AS {name}"


def _plain_struct() -> str:
    """The fields of a plain line, cut apart: h = the 9 words before the first quote (the time is two), q = the
    parts between quotes, m = the 6 words between the request URI and the referer, t = the words after the agent."""
    head = ["h[1]", "h[2]", "substr(h[3], 2) || ' ' || substr(h[4], 1, 5)", "h[5]", "h[6]", "h[7]", "h[8]", "h[9]",
            "'\"' || q[2] || '\"'", "m[1]", "m[2]", "m[3]", "m[4]", "m[5]", "m[6]", "'\"' || q[4] || '\"'", "'\"' || q[6] || '\"'"]  # fmt: skip
    tail = [f"coalesce(t[{i}], '')" for i in range(1, len(COLUMNS) - len(head) + 1)]
    return "struct_pack(" + ", ".join(f"{name} := {value}" for name, value in zip(COLUMNS, head + tail, strict=True)) + ")"


_PLAIN_STRUCT = _plain_struct()


class LogDatabase:
    """One in-memory DuckDB holding one run's logs."""

    def __init__(self, scratch: Path, *, threads: int | None = None, memory_limit: str | None = None) -> None:
        import duckdb

        config: dict[str, Any] = {
            "autoinstall_known_extensions": False,
            "autoload_known_extensions": False,
            "allow_community_extensions": False,
            "temp_directory": str(scratch / "spill"),
        }
        if threads:
            config["threads"] = threads
        if memory_limit:
            config["memory_limit"] = memory_limit
        self._duckdb = duckdb
        self.con = duckdb.connect(":memory:", config=config)
        self.locked = False

    def load(self, files: Sequence[Path], *, since: dt.datetime | None = None, until: dt.datetime | None = None,
             key_prefix: str | None = None, bucket: str | None = None) -> LoadStats:  # fmt: skip
        """Parse the text files into `logs` (records outside [since, until), or for keys not starting with
        `key_prefix` (the key as stored: the log has it URL-encoded), left out), then lock. With `bucket`, only
        that bucket's records: several buckets may log to one prefix."""
        names = ", ".join(f"'{n}'" for n in COLUMNS)
        listing = "[" + ", ".join(_sql_string(str(p)) for p in files) + "]"
        typed = ", ".join(_typed(name, kind) for name, kind in FIELDS)
        # Capturing 27 groups costs RE2 far more than deciding a match: a line of the plain shape (no quote
        # inside a field, the case of nearly every line) is only matched, then cut on quotes and spaces; the
        # rest are taken apart by the full pattern, exactly as parse_line does
        self._run(
            f"CREATE TEMP TABLE all_lines AS SELECT {typed} FROM ("
            "WITH lines AS (SELECT unnest(string_split(content, chr(10))) AS line "
            f"               FROM read_text({listing if files else '[]'})), "
            "kept AS (SELECT line, regexp_matches(line, " + _sql_string(PLAIN_PATTERN) + ") AS plain "
            "         FROM lines WHERE line NOT IN ('', chr(13))), "
            "quoted AS (SELECT line, plain, CASE WHEN plain THEN string_split(line, '\"') END AS q FROM kept), "
            "cut AS (SELECT line, plain, q, string_split(trim(q[1]), ' ') AS h, string_split(trim(q[3]), ' ') AS m, "
            "        CASE WHEN q[7] = '' THEN [] ELSE string_split(substr(q[7], 2), ' ') END AS t FROM quoted) "
            f"SELECT CASE WHEN plain THEN {_PLAIN_STRUCT} "
            "ELSE regexp_extract(line, " + _sql_string(PATTERN) + f", [{names}]) END AS f FROM cut) AS parsed"
        )  # fmt: skip
        # one row per line (all NULL where the line is no record): `logs` is a view of the records in range
        window = ['"time" IS NOT NULL']
        if since is not None:
            window.append(f"\"time\" >= {_timestamp(since)}")
        if until is not None:
            window.append(f"\"time\" < {_timestamp(until)}")
        if key_prefix is not None:
            window.append(key_filter(key_prefix))
        mine = f"bucket = {_sql_string(bucket)}" if bucket is not None else "true"
        self.con.execute(f"CREATE TEMP VIEW logs AS SELECT * FROM all_lines WHERE {' AND '.join([*window, mine])}")
        lines, records, others, kept = self._counts('SELECT count(*), count("time") FROM all_lines',
                                                    f'SELECT count(*) FROM all_lines WHERE "time" IS NOT NULL AND NOT ({mine})',
                                                    "SELECT count(*) FROM logs")  # fmt: skip
        self.lock()
        return LoadStats(lines=lines, records=kept, malformed=lines - records, out_of_range=records - others - kept, other_buckets=others)

    def _run(self, sql: str) -> None:
        run_interruptible(lambda: self.con.execute(sql), interrupt=self.con.interrupt)

    def _counts(self, *queries: str) -> list[int]:
        out: list[int] = []
        for sql in queries:
            row = self.con.execute(sql).fetchone()
            out.extend(int(v) for v in row or ())
        return out

    def _scalar(self, sql: str) -> int:
        row = self.con.execute(sql).fetchone()
        return int(row[0]) if row else 0

    def lock(self) -> None:
        """From here on no SQL reaches a file, the network or the settings."""
        self.con.execute("SET enable_external_access = false")
        self.con.execute("SET lock_configuration = true")
        self.locked = True

    def _one_query(self, sql: str) -> Any:
        """The user's SQL as exactly one read-only statement, parsed by DuckDB itself: text is never wrapped
        around it, so a `-- comment` cannot break it and `); ATTACH …` cannot break out of it."""
        kinds = self._duckdb.StatementType
        try:
            statements = self.con.extract_statements(sql)
        except self._duckdb.Error as exc:
            raise LogQueryError(f"the SQL was refused: {_first_line(exc)}", hint="query the table 'logs'") from None
        if len(statements) != 1:
            raise LogQueryError(f"the SQL was refused: one statement, not {len(statements)}", hint="one SELECT (WITH, PIVOT) over the table 'logs'")
        statement = statements[0]
        pivot = statement.type == kinds.MULTI and re.match(r"\s*(UN)?PIVOT\b", sql, re.IGNORECASE) is not None
        if statement.type != kinds.SELECT and not pivot:
            raise LogQueryError(f"the SQL was refused: only a query is run, not {statement.type.name}",
                                hint="one SELECT (WITH, PIVOT) over the table 'logs'")  # fmt: skip
        return statement

    def query(self, sql: str, *, batch: int = 1000, limit: int | None = None) -> Answer:
        if not self.locked:
            raise AssertionError("query before lock")
        statement = self._one_query(sql)
        try:
            cursor = run_interruptible(lambda: self.con.execute(statement), interrupt=self.con.interrupt)
        except self._duckdb.Error as exc:
            raise LogQueryError(f"the SQL was refused: {_first_line(exc)}", hint="query the table 'logs'; files and network are not reachable") from None
        if cursor.description is None:
            return Answer([], iter(()))
        columns = [str(d[0]) for d in cursor.description]

        def fetch(size: int) -> list[Any]:
            try:
                return list(run_interruptible(partial(cursor.fetchmany, size), interrupt=self.con.interrupt))
            except self._duckdb.Error as exc:
                raise LogQueryError(f"the SQL failed: {_first_line(exc)}") from None

        def rows() -> Iterator[tuple[Any, ...]]:
            left = limit
            while left is None or left > 0:
                chunk = fetch(batch if left is None else min(batch, left))
                if not chunk:
                    return
                left = None if left is None else left - len(chunk)
                yield from (tuple(plain(v) for v in row) for row in chunk)
            answer.cut = bool(fetch(1))  # one row past the limit tells whether it left any out

        answer = Answer(columns, iter(()))
        answer.rows = rows()
        return answer

    def close(self) -> None:
        self.con.close()


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def plain(value: Any) -> Any:
    """A cell as JSON can carry it: times in ISO form (UTC), decimals as numbers."""
    if isinstance(value, dt.datetime):
        return (value if value.tzinfo else value.replace(tzinfo=dt.UTC)).isoformat()
    if isinstance(value, dt.date | dt.time | dt.timedelta):
        return str(value)
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).hex()
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def question(name: str) -> Question:
    try:
        return QUESTIONS[name]
    except KeyError:
        raise UsageError(f"no question named {name!r}", hint="one of: " + ", ".join(QUESTIONS)) from None


__all__ = ["QUESTIONS", "Answer", "LoadStats", "LogDatabase", "LogQueryError", "Question", "key_filter", "plain", "question", "with_limit"]
