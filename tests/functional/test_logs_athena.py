"""`s3safe logs --athena` against moto's Athena over HTTP: the statements s3safe sends (database, the
documented access-log table, the question over the inline `logs` view) and the handling of the
results (moto answers queries with canned rows: it runs no SQL). moto's Athena is reached over HTTP
as botocore speaks it today (rest-json; see tests/servers/moto.py)."""

from __future__ import annotations

import datetime as dt
import json
import re
import urllib.request
from collections.abc import Callable
from subprocess import CompletedProcess
from typing import Any

import boto3
import pytest

from s3safe.core.locations import S3Url
from s3safe.core.safety import SafetyGate
from s3safe.ops.access_logging import plan_enable
from s3safe.security.access_log import PATTERN
from s3safe.storage.connection import Connection
from tests.access_log_lines import record
from tests.servers.moto import MotoServer

Run = Callable[..., CompletedProcess[str]]


def _athena(moto: MotoServer) -> Any:
    return boto3.client("athena", endpoint_url=moto.endpoint_url, region_name="us-east-1",
                        aws_access_key_id=moto.access_key, aws_secret_access_key=moto.secret_key)  # fmt: skip


def _canned(moto: MotoServer, rows: list[list[str | None]]) -> None:
    """moto hands queued results to queries in the order they start: none for the two DDL statements."""
    answer = {"rows": [{"Data": [{} if v is None else {"VarCharValue": v} for v in row]} for row in rows],
              "column_info": [{"Name": "remote_ip", "Type": "varchar"}, {"Name": "requests", "Type": "bigint"}]}  # fmt: skip
    body = {"results": [{"rows": [], "column_info": []}, {"rows": [], "column_info": []}, answer]}
    request = urllib.request.Request(moto.endpoint_url + "/moto-api/static/athena/query-results", data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"}, method="POST")  # fmt: skip
    with urllib.request.urlopen(request, timeout=10) as answer:  # loopback moto
        assert answer.status == 201


@pytest.fixture
def logging_source(moto_conn: Connection, moto_client: Any, bucket_name: Callable[[str], str]) -> tuple[str, str]:
    source, target = bucket_name("athsrc"), bucket_name("athlog")
    moto_client.create_bucket(Bucket=source)
    assert all(r.ok for r in plan_enable(moto_conn, S3Url(source), S3Url(target, "logs/"), gate=SafetyGate()).results)
    return source, target


def test_athena_creates_the_table_runs_the_question_and_streams_rows(moto: MotoServer, logging_source: tuple[str, str],
                                                                     bucket_name: Callable[[str], str], run_cli: Run) -> None:  # fmt: skip
    source, target = logging_source
    athena = _athena(moto)
    workgroup = bucket_name("wg")
    athena.create_work_group(Name=workgroup)
    _canned(moto, [["remote_ip", "requests"], ["203.0.113.9", "12"], ["198.51.100.7", None]])
    result = run_cli("--endpoint-url", moto.endpoint_url, "--allow-http", "--json", "logs", f"s3://{source}", "--show", "top-ips",
                     "--since", "2026-11-01", "--until", "2026-12-01", "--athena", "--workgroup", workgroup,
                     "--athena-output", f"s3://{target}/athena/")  # fmt: skip
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["row"] for r in records if r["type"] == "row"] == [
        {"remote_ip": "203.0.113.9", "requests": 12}, {"remote_ip": "198.51.100.7", "requests": None}]
    summary = next(r for r in records if r["type"] == "summary")
    assert summary["engine"] == "athena"

    ids = athena.list_query_executions(WorkGroup=workgroup)["QueryExecutionIds"]
    executions = [athena.get_query_execution(QueryExecutionId=i)["QueryExecution"] for i in ids]
    queries = {e["Query"].split(None, 3)[1]: e for e in executions}  # DATABASE / EXTERNAL / logs (the WITH)
    assert len(executions) == 3
    assert queries["DATABASE"]["Query"] == "CREATE DATABASE IF NOT EXISTS `s3safe_logs`"
    ddl = queries["EXTERNAL"]
    assert "org.apache.hadoop.hive.serde2.RegexSerDe" in ddl["Query"]
    assert f"LOCATION 's3://{target}/logs/'" in ddl["Query"]
    assert ddl["QueryExecutionContext"]["Database"] == "s3safe_logs"
    # the serde reads the same pattern as the local parser, backslashes escaped for the Hive string literal
    assert PATTERN.replace("\\", "\\\\") in ddl["Query"]
    question = next(e for e in executions if e["Query"].startswith("WITH raw_logs AS"))
    assert question["ResultConfiguration"]["OutputLocation"].startswith(f"s3://{target}/athena/")
    assert "\"time\" >= TIMESTAMP '2026-11-01 00:00:00'" in question["Query"]
    assert "\"time\" < TIMESTAMP '2026-12-01 00:00:00'" in question["Query"]
    assert "FROM logs GROUP BY 1 ORDER BY requests DESC" in question["Query"]


def test_athena_dry_run_shows_partition_projection_for_date_partitioned_logs(moto: MotoServer, moto_client: Any,
                                                                              bucket_name: Callable[[str], str], run_cli: Run) -> None:  # fmt: skip
    target = bucket_name("athpart")
    moto_client.create_bucket(Bucket=target)
    before = len(_athena(moto).list_query_executions()["QueryExecutionIds"])
    when = dt.datetime(2026, 12, 1, 8, 0, tzinfo=dt.UTC)
    folder = "plogs/123456789012/us-east-1/src-bucket/"
    moto_client.put_object(Bucket=target, Key=f"{folder}2026/12/01/2026-12-01-08-00-00-00FF00FF00FF00FF",
                           Body=record(when, bucket="src-bucket").encode())  # fmt: skip
    result = run_cli("--endpoint-url", moto.endpoint_url, "--allow-http", "--json", "logs", "s3://src-bucket", "--target",
                     f"s3://{target}/plogs/", "--sql", "WITH x AS (SELECT key FROM logs) SELECT * FROM x", "--since", "2026-11-30", "--key", "reports/",
                     "--limit", "0", "--athena", "--athena-output", f"s3://{target}/athena/", "--dry-run")  # fmt: skip
    assert result.returncode == 0, result.stderr
    steps = [json.loads(line) for line in result.stdout.splitlines()]
    ddl, question = steps[1]["sql"], steps[2]["sql"]
    assert "PARTITIONED BY (`timestamp` string)" in ddl
    assert "'projection.timestamp.format' = 'yyyy/MM/dd'" in ddl
    assert f"'storage.location.template' = 's3://{target}/{folder}${{timestamp}}'" in ddl
    assert "\"timestamp\" >= '2026/11/30'" in question
    assert "starts_with(coalesce(try(url_decode(key)), key), 'reports/')" in question
    assert question.rstrip().endswith("),\nx AS (SELECT key FROM logs) SELECT * FROM x")  # the user's WITH joined to the view's
    assert re.compile(PATTERN).groups == 27  # one serde column per capture group
    assert len(_athena(moto).list_query_executions()["QueryExecutionIds"]) == before  # nothing sent to Athena
