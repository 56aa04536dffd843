"""logs: ready questions and SQL over a bucket's server access logs (DuckDB here, or Athena)."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import click

from s3safe.cli.app import App
from s3safe.cli.numbers import WHOLE
from s3safe.cli.prechecks import precheck
from s3safe.core.errors import EXIT_PARTIAL, PartialFailure, UsageError
from s3safe.core.locations import S3Url, parse_s3_url
from s3safe.security.log_sql import QUESTIONS

pass_app = click.make_pass_decorator(App)
SHOW_HELP = "; ".join(f"{q.name}: {q.title}" for q in QUESTIONS.values())


@click.command("logs")
@click.argument("url", required=False, metavar="[S3URL]")
@click.option("--show", "show", type=click.Choice(list(QUESTIONS)), help=f"A ready question. {SHOW_HELP}.")
@click.option("--sql", metavar="QUERY", help="Your own SQL over the table 'logs' (see --columns).")
@click.option("--columns", "list_columns", is_flag=True, help="List the columns of 'logs' and exit.")
@click.option("--since", default="1d", show_default=True, metavar="TIME", help="From (7d, 12h, 2026-12-01, 2026-12-01T08:00 UTC, or all).")
@click.option("--until", metavar="TIME", help="Up to, not including (default: now).")
@click.option("--key", "key_prefix", metavar="PREFIX", help="Only requests for keys starting with PREFIX (the key itself, not URL-encoded).")
@click.option("--target", metavar="s3://LOGBUCKET/prefix/", help="Read the logs here instead of where the bucket's logging points.")
@click.option("--local", "local_paths", multiple=True, metavar="PATH",
              help="Read log files (or folders of them) already on disk (repeatable).")  # fmt: skip
@click.option("--limit", type=WHOLE, default=100, show_default=True, metavar="N", help="At most N rows (0: all).")
@click.option("--csv", "as_csv", is_flag=True, help="Print CSV instead of a table.")
@click.option("--athena", is_flag=True, help="Run the question on Amazon Athena over the same logs.")
@click.option("--workgroup", metavar="NAME", help="--athena: the workgroup to run in.")
@click.option("--athena-output", metavar="s3://BUCKET/prefix/", help="--athena: where Athena writes result files.")
@click.option("--athena-database", default="s3safe_logs", show_default=True, metavar="NAME", help="--athena: database of the log table.")
@click.option("--athena-timeout", type=float, default=900, show_default=True, metavar="SECONDS", help="--athena: wait at most this long per query.")
@click.option("--dry-run", is_flag=True, help="--athena: print the statements; run nothing.")
@pass_app
def logs(app: App, url: str | None, show: str | None, sql: str | None, list_columns: bool, since: str, until: str | None,
         key_prefix: str | None, target: str | None, local_paths: tuple[str, ...], limit: int, as_csv: bool, athena: bool, workgroup: str | None,
         athena_output: str | None, athena_database: str, athena_timeout: float, dry_run: bool) -> None:  # fmt: skip
    """Who read or wrote what, from where: questions over a bucket's server access logs.

    The logs are read from the bucket's logging target (see 'logging status') for the time range,
    parsed, and queried with an embedded DuckDB that can reach nothing but them. Ready questions
    (--show) or your own SQL (--sql) over the table 'logs'; --athena runs the same question on Athena.
    """
    if list_columns:
        _columns(app)
        return
    precheck_logs({"local_paths": local_paths, "show": show, "sql": sql, "limit": limit})
    local = tuple(Path(p) for p in local_paths)
    from s3safe.ops.logs import parse_when

    now = dt.datetime.now(dt.UTC)
    start = None if since in ("all", "") else parse_when(since, now=now, option="--since")
    end = parse_when(until, now=now, option="--until") if until else now  # the help says so: a record dated later is not real yet
    source = parse_s3_url(url) if url else None
    where = parse_s3_url(target) if target else None
    if athena:
        if local:
            raise UsageError("--athena reads the logs where they are in S3, not --local files")
        _athena(app, source=source, where=where, show=show, sql=sql, since=start, until=end, key_prefix=key_prefix, limit=limit or None, as_csv=as_csv,
                workgroup=workgroup, output=athena_output, database=athena_database, timeout=athena_timeout, dry_run=dry_run)  # fmt: skip
        return
    if dry_run:
        raise UsageError("--dry-run goes with --athena (a local question changes nothing)")
    _local(app, source=source, where=where, local=local, show=show, sql=sql, since=start, until=end, key_prefix=key_prefix, limit=limit or None,
           as_csv=as_csv)  # fmt: skip



@precheck("logs")
def precheck_logs(params: Mapping[str, Any]) -> None:
    """logs' checks that need neither the store nor the disk (exec runs them before line 1)."""
    if params.get("list_columns"):  # --columns alone answers, whatever else was given
        return
    if any(not p for p in params.get("local_paths") or ()):  # Path("") is the current folder: never read it by accident
        raise UsageError("--local is empty", hint="name the log file or folder to read")
    if (params.get("show") is None) == (params.get("sql") is None):
        raise UsageError("ask one question: --show NAME or --sql QUERY", hint="ready questions: " + ", ".join(QUESTIONS))
    if (params.get("limit") or 0) < 0:
        raise UsageError("--limit must be zero or more")

def _columns(app: App) -> None:
    from s3safe.security.access_log import FIELDS

    for name, kind in FIELDS:
        app.render.record({"type": "column", "name": name, "sql_type": kind}, f"{name}  {kind}")


def _local(app: App, *, source: S3Url | None, where: S3Url | None, local: tuple[Path, ...], show: str | None, sql: str | None,
           since: dt.datetime | None, until: dt.datetime | None, key_prefix: str | None, limit: int | None, as_csv: bool) -> None:  # fmt: skip
    from s3safe.ops.logs import LogsRequest, open_logs

    if local and (source or where):
        raise UsageError("read either --local files or a bucket's logs, not both")
    request = LogsRequest(url=source, target=where, local=local, since=since, until=until, key_prefix=key_prefix)
    with open_logs(None if local else app.conn, request) as session:
        answer = session.ask(name=show, sql=sql, limit=limit)
        _render(app, answer.columns, rows=answer.rows, as_csv=as_csv, title=QUESTIONS[show].title if show else None)
        if answer.cut:  # never a silent cut: a CSV or JSON reader would take the rows for the whole answer
            app.render.warn(f"only the first {limit} row(s) are shown; --limit 0 for all, or --limit N")
        for _, error in session.failures:  # each message names its object; with --json a JSON error record
            app.render.error(error, code=EXIT_PARTIAL)
        summary = session.summary()
        _summary(app, summary, lines=[
            f"{session.objects} log object(s) read ({session.bytes_read} bytes) from "
            f"{session.location.url if session.location else 'local files'}: {session.stats.records} request(s) in range"
            + (f", {session.stats.out_of_range} left out by the time range or --key" if session.stats.out_of_range else ""),
        ] + ([f"{session.stats.malformed} line(s) are not access-log records and were skipped"] if session.stats.malformed else [])
          + ([f"{session.stats.other_buckets} record(s) about other buckets logging to the same place were left out"]
             if session.stats.other_buckets else []))  # fmt: skip
        if session.failures:
            raise PartialFailure(f"{len(session.failures)} log object(s) could not be read; the answer leaves them out",
                                 failed=len(session.failures), succeeded=session.objects)  # fmt: skip


def _athena(app: App, *, source: S3Url | None, where: S3Url | None, show: str | None, sql: str | None, since: dt.datetime | None,
            until: dt.datetime | None, key_prefix: str | None, limit: int | None, as_csv: bool, workgroup: str | None, output: str | None,
            database: str, timeout: float, dry_run: bool) -> None:  # fmt: skip
    from s3safe.ops.logs_athena import plan, run
    from s3safe.storage.athena import AthenaTarget

    if not workgroup and not output:
        raise UsageError("--athena needs --athena-output s3://BUCKET/prefix/ or a --workgroup that sets its own output location")
    if output is not None:
        parse_s3_url(output)
    athena_plan = plan(app.conn, url=source, target_url=where, question_name=show, sql=sql, database=database,
                       since=since, until=until, limit=limit, key_prefix=key_prefix)  # fmt: skip
    for note in athena_plan.notes:
        app.render.warn(note)
    if dry_run:
        for index, statement in enumerate(athena_plan.statements, 1):
            app.render.record({"type": "athena_statement", "step": index, "sql": statement}, None)
            if not app.render.json_mode:
                app.render.block(f"-- step {index}\n{statement};")
        app.render.info("dry run: nothing was sent to Athena", data={"type": "summary", "planned": len(athena_plan.statements)})
        return
    answer = run(app.conn, athena_plan, target=AthenaTarget(workgroup, output, database), timeout=timeout)
    _render(app, answer.columns, rows=answer.rows, as_csv=as_csv, title=QUESTIONS[show].title if show else None)
    _summary(app, {"type": "summary", "engine": "athena", "query_execution_id": answer.execution_id,
                   "table": f"{athena_plan.database}.{athena_plan.table}"},
             lines=[f"answered by Athena (query {answer.execution_id}, table {athena_plan.database}.{athena_plan.table})"])  # fmt: skip


def _cell(value: Any) -> str:
    return "-" if value is None else str(value)


def _render(app: App, columns: Sequence[str], *, rows: Iterable[Sequence[Any]], as_csv: bool, title: str | None) -> None:
    render = app.render
    if render.json_mode:
        for row in rows:
            render.record({"type": "row", "row": dict(zip(columns, row, strict=False))}, None)
        return
    if as_csv:
        render.line(_csv_line(columns))
        for row in rows:
            render.line(_csv_line(["" if v is None else str(v) for v in row]))
        return
    render.table(list(columns), [[_cell(v) for v in row] for row in rows], title=title)


def _csv_line(cells: Sequence[str]) -> str:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="").writerow(cells)
    return buffer.getvalue()


def _summary(app: App, data: dict[str, Any], *, lines: list[str]) -> None:
    """After the answer: a JSON record, or lines on stderr (stdout holds only the answer, e.g. CSV)."""
    if app.render.json_mode:
        app.render.record(data, None)
        return
    if not app.render.quiet:
        for line in lines:
            app.render.line(f"s3safe: {line}", err=True)
