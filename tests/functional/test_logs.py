"""`s3safe logs` on moto: traffic against a bucket with access logging on, the log objects moto writes,
lines in AWS's documented format uploaded beside them (moto's own lines lack most fields), and the
answers: who read which key from which address, with anonymous and pre-signed requests flagged."""

from __future__ import annotations

import datetime as dt
import json
import urllib.request
from collections.abc import Callable
from subprocess import CompletedProcess
from typing import Any

import pytest

from s3safe.core.locations import S3Url
from s3safe.core.safety import SafetyGate
from s3safe.ops.access_logging import plan_enable
from s3safe.ops.logs import LogsRequest, open_logs
from s3safe.storage.connection import Connection
from tests.access_log_lines import record
from tests.servers.moto import MotoServer

ALICE = "arn:aws:iam::123456789012:user/alice"
BOB = "arn:aws:iam::123456789012:user/bob"
CAROL = "arn:aws:iam::123456789012:user/carol"
HOSTILE_AGENT = "curl/8.5 \x1b]0;owned\x07\x1b[2J \u202eevil"


def _documented_lines(bucket: str, when: dt.datetime) -> str:
    lines = [
        record(when, bucket=bucket, requester=ALICE, remote_ip="198.51.100.7"),
        record(when + dt.timedelta(seconds=1), bucket=bucket, requester=ALICE, remote_ip="198.51.100.7"),
        record(when, bucket=bucket, requester="-", remote_ip="203.0.113.9", key="public/index.html",
               request_uri=f"GET /{bucket}/public/index.html HTTP/1.1", signature_version="-", authentication_type="-",
               user_agent=HOSTILE_AGENT),
        record(when, bucket=bucket, requester=BOB, remote_ip="192.0.2.44", authentication_type="QueryString",
               request_uri=f"GET /{bucket}/reports/q1.csv?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Signature=0f0e HTTP/1.1"),
        record(when, bucket=bucket, requester=CAROL, remote_ip="192.0.2.50", operation="REST.PUT.OBJECT", key="reports/q2.csv",
               tls_version="-", cipher_suite="-"),
        record(when, bucket=bucket, requester=CAROL, remote_ip="192.0.2.50", operation="REST.DELETE.OBJECT", http_status="403",
               error_code="AccessDenied"),
        record(when, bucket=bucket, requester=ALICE, remote_ip="198.51.100.7", operation="REST.PUT.ACL", key="reports/q1.csv"),
    ]  # fmt: skip
    return "\n".join(lines) + "\n"


@pytest.fixture
def logged_bucket(moto: MotoServer, moto_client: Any, moto_conn: Connection, bucket_name: Callable[[str], str]) -> tuple[str, str, int]:
    """A bucket logging to LOGBUCKET/logs/ (enabled by s3safe), some traffic, and documented lines uploaded."""
    source, target = bucket_name("logsrc"), bucket_name("logdst")
    moto_client.create_bucket(Bucket=source)
    plan = plan_enable(moto_conn, S3Url(source), S3Url(target, "logs/"), gate=SafetyGate())
    assert all(r.ok for r in plan.results)
    moto_client.put_object(Bucket=source, Key="reports/q1.csv", Body=b"a,b\n1,2\n")
    for _ in range(2):
        moto_client.get_object(Bucket=source, Key="reports/q1.csv")["Body"].read()
    url = moto_client.generate_presigned_url("get_object", Params={"Bucket": source, "Key": "reports/q1.csv"}, ExpiresIn=300)
    with urllib.request.urlopen(url, timeout=10) as answer:  # loopback moto
        assert answer.read() == b"a,b\n1,2\n"
    written = [o["Key"] for o in moto_client.list_objects_v2(Bucket=target, Prefix="logs/").get("Contents", [])]
    assert len(written) >= 4, "moto writes one log object per request to a logging bucket"
    now = dt.datetime.now(dt.UTC)
    name = f"logs/{now:%Y-%m-%d-%H-%M-%S}-0A1B2C3D4E5F6789"
    moto_client.put_object(Bucket=target, Key=name, Body=_documented_lines(source, now - dt.timedelta(minutes=5)).encode())
    return source, target, len(written)


def _rows(answer: Any) -> list[dict[str, Any]]:
    return [dict(zip(answer.columns, row, strict=True)) for row in answer.rows]


def test_logs_answer_who_read_which_key_from_where(moto_conn: Connection, logged_bucket: tuple[str, str, int]) -> None:
    source, target, moto_objects = logged_bucket
    request = LogsRequest(url=S3Url(source), since=dt.datetime.now(dt.UTC) - dt.timedelta(days=1))
    with open_logs(moto_conn, request) as session:
        assert session.location is not None and session.location.url == f"s3://{target}/logs/"
        # moto's own lines (request URI unquoted, most fields missing) are counted, not fatal
        assert session.objects >= moto_objects + 1
        assert session.stats.malformed >= moto_objects
        assert session.stats.records == 7
        reads = _rows(session.ask(name="reads"))
        seen = {(r["key"], r["requester"], r["remote_ip"], r["flags"]): r["requests"] for r in reads}
        assert seen == {
            ("reports/q1.csv", ALICE, "198.51.100.7", ""): 2,
            ("public/index.html", None, "203.0.113.9", "anonymous"): 1,
            ("reports/q1.csv", BOB, "192.0.2.44", "presigned"): 1,
        }
        assert [r["remote_ip"] for r in _rows(session.ask(name="anonymous"))] == ["203.0.113.9"]
        assert [r["requester"] for r in _rows(session.ask(name="presigned"))] == [BOB]
        assert [(r["requester"], r["key"]) for r in _rows(session.ask(name="plain-http"))] == [(CAROL, "reports/q2.csv")]
        assert sorted(r["operation"] for r in _rows(session.ask(name="changes"))) == ["REST.DELETE.OBJECT", "REST.PUT.ACL"]
        assert [(r["http_status"], r["requests"]) for r in _rows(session.ask(name="errors"))] == [(403, 1)]
        writes = _rows(session.ask(sql="SELECT requester, count(*) AS n FROM logs WHERE operation LIKE 'REST.PUT.%' GROUP BY 1"))
        assert sorted((r["requester"], r["n"]) for r in writes) == [(ALICE, 1), (CAROL, 1)]


def test_logs_command_prints_the_answer_and_no_terminal_escapes(moto: MotoServer, logged_bucket: tuple[str, str, int],
                                                                run_cli: Callable[..., CompletedProcess[str]]) -> None:  # fmt: skip
    source = logged_bucket[0]
    base = ("--endpoint-url", moto.endpoint_url, "--allow-http")
    result = run_cli(*base, "--json", "logs", f"s3://{source}", "--show", "reads", "--since", "2h")
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    rows = [r["row"] for r in records if r["type"] == "row"]
    assert {(r["key"], r["remote_ip"], r["flags"]) for r in rows} == {
        ("reports/q1.csv", "198.51.100.7", ""), ("public/index.html", "203.0.113.9", "anonymous"),
        ("reports/q1.csv", "192.0.2.44", "presigned"),
    }  # fmt: skip
    assert next(r["user_agent"] for r in rows if r["flags"] == "anonymous") == HOSTILE_AGENT  # JSON keeps it, escaped
    summary = next(r for r in records if r["type"] == "summary")
    assert summary["records"] == 7 and summary["malformed_lines"] >= 1 and summary["failed_objects"] == 0
    shown = run_cli(*base, "logs", f"s3://{source}", "--show", "anonymous", "--since", "2h")  # a table (CSV: tests/cli)
    assert shown.returncode == 0, shown.stderr
    assert "203.0.113.9" in shown.stdout
    assert "\x1b" not in shown.stdout and "\x07" not in shown.stdout and "\u202e" not in shown.stdout
    assert "\\x1b]0;owned\\x07" in shown.stdout
    assert "line(s) are not access-log records" in shown.stderr and "Traceback" not in shown.stderr


def test_date_partitioned_logs_are_read_for_the_days_asked(moto_conn: Connection, moto_client: Any,
                                                           bucket_name: Callable[[str], str]) -> None:  # fmt: skip
    target = bucket_name("logpart")
    moto_client.create_bucket(Bucket=target)
    now = dt.datetime.now(dt.UTC)
    old = now - dt.timedelta(days=10)
    for when, key in ((now, "reports/new.csv"), (old, "reports/old.csv")):
        name = f"plogs/123456789012/us-east-1/src-bucket/{when:%Y/%m/%d}/{when:%Y-%m-%d-%H-%M-%S}-00FF00FF00FF00FF"
        moto_client.put_object(Bucket=target, Key=name, Body=record(when - dt.timedelta(minutes=1), bucket="src-bucket", key=key).encode())
    moto_client.put_object(Bucket=target, Key="plogs/readme.txt", Body=b"not a log")
    request = LogsRequest(url=S3Url("src-bucket"), target=S3Url(target, "plogs/"), since=now - dt.timedelta(days=2))
    with open_logs(moto_conn, request) as session:
        assert session.objects == 1
        assert [r["key"] for r in _rows(session.ask(name="top-keys"))] == ["reports/new.csv"]


def test_a_bucket_without_logging_is_exit_3_with_the_way_to_turn_it_on(moto: MotoServer, moto_client: Any, bucket_name: Callable[[str], str],
                                                                       run_cli: Callable[..., CompletedProcess[str]]) -> None:  # fmt: skip
    source = bucket_name("nolog")
    moto_client.create_bucket(Bucket=source)
    result = run_cli("--endpoint-url", moto.endpoint_url, "--allow-http", "logs", f"s3://{source}", "--show", "reads")
    assert result.returncode == 3
    errors = [line for line in result.stderr.splitlines() if line.startswith("s3safe: error:")]
    assert len(errors) == 1 and "logging enable" in errors[0] and "Traceback" not in result.stderr
