"""`logs --athena`: the same questions, run by Amazon Athena over the same log objects.

s3safe creates (if missing) a database and the access-log table AWS documents: one string column per
field, parsed by Hive's RegexSerDe with the very pattern the local parser uses, and, for date-partitioned
log keys, partition projection on the day folder (no crawler, no ALTER TABLE ADD PARTITION). The
question then runs against a `logs` view made inline (WITH …) that gives the columns the same names and
types as the local table, so a ready question or a user's SQL reads the same on both engines.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass

from s3safe.core.errors import NotFoundError, UsageError
from s3safe.core.locations import S3Url
from s3safe.security.access_log import FIELDS, PATTERN, QUOTED
from s3safe.security.log_sql import key_filter, question, with_limit
from s3safe.storage.athena import Athena, AthenaTarget
from s3safe.storage.connection import Connection

from .logs import LogLocation, locate, partition_bases

_NAME = re.compile(r"[a-z_][a-z0-9_]{0,127}\Z")
_WITH = re.compile(r"\s*with\s+(?!recursive\b)", re.IGNORECASE)
PROJECTION_START = "2019/01/01"


@dataclass(frozen=True)
class AthenaPlan:
    location: LogLocation
    database: str
    table: str
    statements: tuple[str, ...]  # run in order; the last one is the question
    notes: tuple[str, ...] = ()


def _table_name(location: LogLocation, folder: str) -> str:
    stem = re.sub(r"[^a-z0-9]+", "_", (location.source or location.bucket).lower()).strip("_") or "bucket"
    digest = hashlib.sha256(folder.encode()).hexdigest()[:8]  # one table per log folder and layout
    return f"access_logs_{stem[:60]}_{digest}"


def table_ddl(database: str, table: str, *, folder: str, partitioned: bool) -> str:
    columns = ",\n  ".join(f"`{name}` string" for name, _ in FIELDS)
    regex = PATTERN.replace("\\", "\\\\")  # a Hive string literal reads backslash escapes
    lines = [f"CREATE EXTERNAL TABLE IF NOT EXISTS `{database}`.`{table}` (\n  {columns}\n)"]
    if partitioned:
        lines.append("PARTITIONED BY (`timestamp` string)")
    lines += [
        "ROW FORMAT SERDE 'org.apache.hadoop.hive.serde2.RegexSerDe'",
        f"WITH SERDEPROPERTIES ('input.regex' = '{regex}')",
        "STORED AS INPUTFORMAT 'org.apache.hadoop.mapred.TextInputFormat'",
        "OUTPUTFORMAT 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat'",
        f"LOCATION '{folder}'",
    ]
    if partitioned:
        lines.append(
            "TBLPROPERTIES (\n  'projection.enabled' = 'true',\n  'projection.timestamp.type' = 'date',\n"
            "  'projection.timestamp.format' = 'yyyy/MM/dd',\n  'projection.timestamp.interval' = '1',\n"
            f"  'projection.timestamp.interval.unit' = 'DAYS',\n  'projection.timestamp.range' = '{PROJECTION_START},NOW',\n"
            f"  'storage.location.template' = '{folder}${{timestamp}}'\n)"
        )  # fmt: skip
    return "\n".join(lines)


def _column(name: str, kind: str) -> str:
    raw = f'"{name}"'
    if name == "time":
        return f"CAST(parse_datetime({raw}, 'dd/MMM/yyyy:HH:mm:ss Z') AT TIME ZONE 'UTC' AS timestamp) AS \"time\""
    if name in QUOTED:
        raw = f"regexp_replace({raw}, '^\"(.*)\"$', '$1')"
    value = f"NULLIF(NULLIF({raw}, '-'), '')"
    if kind != "VARCHAR":
        return f'TRY_CAST({value} AS {"BIGINT" if kind == "BIGINT" else "INTEGER"}) AS "{name}"'
    return f'{value} AS "{name}"'


def _timestamp(when: dt.datetime) -> str:
    return f"TIMESTAMP '{when.astimezone(dt.UTC):%Y-%m-%d %H:%M:%S}'"


def question_sql(database: str, table: str, *, sql: str, partitioned: bool, since: dt.datetime | None, until: dt.datetime | None,
                 key_prefix: str | None = None) -> str:  # fmt: skip
    """`sql` (over `logs`) preceded by the inline view that makes `logs` out of the raw table."""
    where = ['"bucket_owner" IS NOT NULL']
    if partitioned and since is not None:
        where.append(f"\"timestamp\" >= '{since.astimezone(dt.UTC):%Y/%m/%d}'")
    if partitioned and until is not None:
        where.append(f"\"timestamp\" <= '{until.astimezone(dt.UTC):%Y/%m/%d}'")
    columns = ",\n    ".join(_column(name, kind) for name, kind in FIELDS)
    window = ['"time" IS NOT NULL']
    if since is not None:
        window.append(f'"time" >= {_timestamp(since)}')
    if until is not None:
        window.append(f'"time" < {_timestamp(until)}')
    if key_prefix is not None:
        window.append(key_filter(key_prefix))
    prelude = (f"WITH raw_logs AS (\n  SELECT\n    {columns}\n  FROM \"{database}\".\"{table}\"\n  WHERE {' AND '.join(where)}\n),\n"
               f"logs AS (SELECT * FROM raw_logs WHERE {' AND '.join(window)})")  # fmt: skip
    if (match := _WITH.match(sql)) is not None:
        return f"{prelude},\n{sql[match.end():]}"
    return f"{prelude}\n{sql}"


def plan(conn: Connection, *, url: S3Url | None, target_url: S3Url | None, question_name: str | None, sql: str | None,
         database: str, since: dt.datetime | None, until: dt.datetime | None, limit: int | None,
         key_prefix: str | None = None) -> AthenaPlan:  # fmt: skip
    """The statements that answer the question on Athena; nothing is run."""
    if not _NAME.match(database):
        raise UsageError(f"--athena-database {database!r} is not a valid Athena name", hint="lower-case letters, digits and _")
    if (question_name is None) == (sql is None):
        raise UsageError("ask one question: a ready one (--show) or --sql")
    location = locate(conn, url, target=target_url)
    notes: list[str] = []
    partitioned = bool(location.partitioned)
    if location.partitioned is not False:
        bases = list(partition_bases(conn.objects, location))
        if bases:
            partitioned = True
            folder = f"s3://{location.bucket}/{bases[0]}"
            if len(bases) > 1:
                notes.append(f"{len(bases)} partitioned log folders; Athena reads {folder}")
        elif location.partitioned:
            raise NotFoundError(f"no access logs delivered yet under {location.url}", hint="S3 delivers logs within hours of the requests")
    if not partitioned:
        if location.prefix and not location.prefix.endswith("/"):
            raise UsageError(f"Athena reads whole folders, and the logs in {location.url} share a folder with other objects",
                             hint="log to a prefix ending in '/', or switch the logging to date-partitioned keys")  # fmt: skip
        folder = location.url
        notes.append("log keys are not date-partitioned: Athena scans every log object (date-partitioned keys let it read only the days asked)")
    table = _table_name(location, folder)
    text = question(question_name).sql if question_name is not None else str(sql)
    statements = (
        f"CREATE DATABASE IF NOT EXISTS `{database}`",
        table_ddl(database, table, folder=folder, partitioned=partitioned),
        question_sql(database, table, sql=with_limit(text, limit), partitioned=partitioned, since=since, until=until, key_prefix=key_prefix),
    )
    return AthenaPlan(location, database, table, statements, tuple(notes))


@dataclass
class AthenaAnswer:
    execution_id: str
    columns: list[str]
    rows: Iterator[list[object]]


def run(conn: Connection, athena_plan: AthenaPlan, *, target: AthenaTarget, timeout: float) -> AthenaAnswer:
    """Run the plan's statements in order, waiting for each; stream the question's rows."""
    athena = Athena(conn)
    execution_id = ""
    for statement in athena_plan.statements:
        database = None if statement.startswith("CREATE DATABASE") else athena_plan.database
        execution_id = athena.start(statement, target, database=database)
        athena.wait(execution_id, timeout=timeout)
    rows = athena.rows(execution_id)
    header = next(rows, None)
    columns = [str(c) for c in header] if header is not None else []
    return AthenaAnswer(execution_id, columns, rows)


__all__ = ["AthenaAnswer", "AthenaPlan", "plan", "question_sql", "run", "table_ddl"]
