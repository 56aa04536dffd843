"""The S3 server access log parser: every documented field, old short records, fields added later,
hostile content, and agreement with the DuckDB engine that parses the same lines in `s3safe logs`."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from s3safe.core.errors import UsageError
from s3safe.security.access_log import COLUMNS, FIELDS, LogRecord, ParseStats, clean_text, iter_records, parse_line
from s3safe.security.log_sql import QUESTIONS, LogDatabase, LogQueryError
from tests.access_log_lines import DEFAULTS, record

WHEN = dt.datetime(2026, 11, 30, 23, 59, 58, tzinfo=dt.UTC)


def _parsed(line: str) -> LogRecord:
    parsed = parse_line(line)
    assert parsed is not None, line
    return parsed


def test_every_documented_field_is_read_in_order() -> None:
    values = {name: f"v{i}-{name}" for i, (name, kind) in enumerate(FIELDS) if kind == "VARCHAR"}
    values.update(http_status="206", bytes_sent="512", object_size="4096", total_time="40", turnaround_time="9",
                  signature_version="SigV4", authentication_type="QueryString", tls_version="TLSv1.2",
                  access_point_arn="arn:aws:s3:us-east-1:123456789012:accesspoint/ap1", acl_required="Yes",
                  source_region="eu-west-3")  # fmt: skip
    got = _parsed(record(WHEN, **values))
    assert len(COLUMNS) == 27
    for name in COLUMNS:
        if name == "time":
            assert got.time == WHEN
        elif name in ("http_status", "bytes_sent", "object_size", "total_time", "turnaround_time"):
            assert getattr(got, name) == int(values[name]), name
        else:
            assert getattr(got, name) == values[name], name
    assert got.presigned and not got.anonymous


def test_the_time_offset_is_applied_and_dashes_are_none() -> None:
    got = _parsed(record(WHEN, time="01/Dec/2026:01:59:58 +0200", requester="-", error_code="-", bytes_sent="-",
                         referer="-", version_id="-", signature_version="-", authentication_type="-"))  # fmt: skip
    assert got.time == WHEN
    assert got.anonymous and got.requester is None
    assert (got.error_code, got.bytes_sent, got.referer, got.version_id, got.signature_version) == (None,) * 5


@pytest.mark.parametrize("fields", [17, 18, 23, 24, 25, 26, 27])
def test_old_short_records_are_read_with_the_later_fields_empty(fields: int) -> None:
    got = _parsed(record(WHEN, fields=fields))
    present = COLUMNS[:fields]
    for name in COLUMNS:
        value = getattr(got, name)
        if name in present:
            assert value is not None or DEFAULTS[name] == "-", name
        else:
            assert value is None, name
    assert got.user_agent == DEFAULTS["user_agent"]


@pytest.mark.parametrize("fields", [3, 9, 16])
def test_a_record_without_the_fields_every_record_has_is_malformed(fields: int) -> None:
    assert parse_line(record(WHEN, fields=fields)) is None


def test_fields_added_after_the_known_ones_are_accepted_and_ignored() -> None:
    got = _parsed(record(WHEN, extra=["future-field", '"quoted future"', "-"]))
    assert got.source_region == "us-east-1"
    assert got.to_dict()["source_region"] == "us-east-1"


def test_hostile_quotes_spaces_and_control_characters() -> None:
    agent = 'Mozilla/5.0 "evil" agent \x1b]0;owned\x07 \x1b[2J "-" x'
    got = _parsed(record(WHEN, user_agent=agent, referer='https://a.example/"q" r', key="a%20b/\x1b[31mred\x07",
                         request_uri='GET /source-bucket/a%20b/%1B[31m" HTTP/1.1'))  # fmt: skip
    assert got.user_agent == agent
    assert got.referer == 'https://a.example/"q" r'
    assert got.key == "a%20b/\x1b[31mred\x07"
    assert got.request_uri == 'GET /source-bucket/a%20b/%1B[31m" HTTP/1.1'
    assert got.signature_version == "SigV4" and got.tls_version == "TLSv1.3"  # nothing after the agent shifted


def test_duckdb_agrees_on_plain_and_hostile_lines(tmp_path: Path) -> None:
    # plain lines are cut on quotes and spaces, the others matched with the full pattern: both as parse_line
    lines = [record(WHEN), record(WHEN, fields=17), record(WHEN, fields=24, user_agent='a "b" c', referer='x"'),
             record(WHEN, key='k"ey', extra=['"z z"']), record(WHEN) + "\r", record(WHEN, extra=["\tx"])]  # fmt: skip
    (tmp_path / "logs.txt").write_text("\n".join(lines) + "\n", encoding="utf-8", newline="")
    db = LogDatabase(tmp_path)
    try:
        assert db.load([tmp_path / "logs.txt"]).malformed == 0
        got = [tuple(_norm(v) for v in row) for row in db.query("SELECT * FROM logs").rows]
    finally:
        db.close()
    assert got == [tuple(_norm(getattr(_parsed(line), n)) for n in COLUMNS) for line in lines]


@pytest.mark.parametrize("line", [
    "", "garbage", "-" * 5000, '"' * 300, "a b [c] d",
    record(WHEN, time="31/Feb/2026:00:00:00 +0000"),  # no such day
    record(WHEN, time="30/Foo/2026:00:00:00 +0000"),
    record(WHEN, http_status="2000"),
    record(WHEN, bytes_sent="1" * 19),  # past a 64-bit integer
    record(WHEN, key="a b"),  # keys are URL-encoded in the log: a raw space breaks the record
    record(WHEN).replace('"', "", 1),
])  # fmt: skip
def test_malformed_lines_are_none_not_errors(line: str) -> None:
    assert parse_line(line) is None


def test_a_stream_counts_malformed_lines_and_skips_blank_ones() -> None:
    lines = [record(WHEN), "not a record", "", "\r", record(WHEN, key="b") + "\r", "\x00\x01", record(WHEN, key="c")]
    stats = ParseStats()
    keys = [r.key for r in iter_records(lines, stats)]
    assert keys == ["reports/q1.csv", "b", "c"]
    assert (stats.records, stats.malformed, stats.examples) == (3, 2, [2, 6])


def test_bytes_that_are_not_utf8_become_replacement_characters() -> None:
    text = "".join(clean_text([b"ok \xff\xfe ", "é".encode()[:1], "é".encode()[1:], b" \x00 end"]))
    assert text == "ok \ufffd\ufffd é \ufffd end"


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=st.text(max_size=400))
def test_arbitrary_text_never_raises(text: str) -> None:
    got = parse_line(text)
    assert got is None or isinstance(got, LogRecord)


_token = st.text(st.characters(min_codepoint=33, max_codepoint=0x2FFF, blacklist_categories=("Cs", "Zs", "Zl", "Zp")),
                 min_size=1, max_size=12).filter(lambda t: t != "-" and not t.startswith('"'))  # fmt: skip
_quoted = st.text(st.characters(min_codepoint=1, max_codepoint=0x2FFF, blacklist_categories=("Cs",),
                                blacklist_characters='"\n\r\x85'), max_size=20).filter(lambda t: t not in ("", "-"))  # fmt: skip
_number = st.integers(min_value=0, max_value=10**18 - 1).map(str)


@st.composite
def _records(draw: st.DrawFn) -> tuple[str, dict[str, object]]:
    when = draw(st.datetimes(min_value=dt.datetime(1990, 1, 1), max_value=dt.datetime(2200, 1, 1))).replace(microsecond=0, tzinfo=dt.UTC)
    fields = draw(st.sampled_from([17, 18, 23, 24, 25, 26, 27]))
    values: dict[str, str] = {}
    for name, kind in FIELDS[:fields]:
        if name == "time":
            continue
        if name in ("request_uri", "referer", "user_agent"):
            values[name] = draw(_quoted)
        elif name == "http_status":
            values[name] = str(draw(st.integers(100, 599)))
        elif kind != "VARCHAR":
            values[name] = draw(_number)
        else:
            values[name] = DEFAULTS[name] if name in ("signature_version", "authentication_type", "tls_version",
                                                     "access_point_arn", "acl_required", "source_region") else draw(_token)  # fmt: skip
    line = record(when, fields=fields, **values)
    expected: dict[str, object] = {name: None for name in COLUMNS}
    for name, kind in FIELDS[:fields]:
        expected[name] = when if name == "time" else int(values[name]) if kind != "VARCHAR" else None if values[name] == "-" else values[name]
    return line, expected


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=_records())
def test_generated_records_read_back_exactly(case: tuple[str, dict[str, object]]) -> None:
    line, expected = case
    got = _parsed(line)
    assert {name: getattr(got, name) for name in COLUMNS} == expected


def _mutations() -> st.SearchStrategy[str]:
    """Valid records, records cut or spliced at random, and hostile noise."""
    def splice(case: tuple[str, dict[str, object]], at: int, cut: int, insert: str) -> str:
        line = case[0]
        at %= len(line) + 1
        return line[:at] + insert + line[at + cut:]

    noise = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\n"), max_size=6)
    return st.one_of(
        _records().map(lambda c: c[0]),
        st.builds(splice, _records(), st.integers(0, 400), st.integers(0, 4), st.sampled_from(['"', " ", "-", '" "', "[", "]", "\r", "\x00"]) | noise),
        noise,
    )


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(lines=st.lists(_mutations(), min_size=1, max_size=60))
def test_duckdb_reads_every_line_as_parse_line_does(tmp_path_factory: pytest.TempPathFactory, lines: list[str]) -> None:
    folder = tmp_path_factory.mktemp("agree")
    text = "".join(clean_text([("\n".join(lines) + "\n").encode()]))
    (folder / "logs.txt").write_text(text, encoding="utf-8", newline="")
    stats = ParseStats()
    expected = sorted((tuple(_norm(getattr(r, n)) for n in COLUMNS) for r in iter_records(text.split("\n"), stats)), key=repr)
    db = LogDatabase(folder)
    try:
        loaded = db.load([folder / "logs.txt"])
        got = sorted((tuple(_norm(v) for v in row) for row in db.query("SELECT * FROM logs").rows), key=repr)
    finally:
        db.close()
    assert got == expected
    assert (loaded.records, loaded.malformed) == (stats.records, stats.malformed)


def _norm(value: object) -> object:
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).replace(tzinfo=None).isoformat()
    if isinstance(value, str) and len(value) >= 19 and value[4] == "-" and "T" in value and value.endswith("+00:00"):
        return value.removesuffix("+00:00")
    return value


@pytest.fixture
def loaded(tmp_path: Path) -> LogDatabase:
    (tmp_path / "logs.txt").write_text(record(WHEN) + "\n" + record(WHEN, requester="-", key="public/x") + "\n")
    db = LogDatabase(tmp_path)
    db.load([tmp_path / "logs.txt"])
    return db


@pytest.mark.parametrize("sql", [
    "COPY logs TO '{out}'",
    "COPY (SELECT 1) TO '{out}' (FORMAT csv)",
    "SELECT * FROM read_csv('/etc/passwd')",
    "SELECT * FROM read_text('/etc/hostname')",
    "SELECT * FROM glob('/etc/*')",
    "ATTACH '{out}' AS other",
    "INSTALL httpfs",
    "SELECT * FROM read_csv('https://example.com/x.csv')",
    "SET enable_external_access = true",
    "SET lock_configuration = false",
    "RESET enable_external_access",
])  # fmt: skip
def test_user_sql_cannot_reach_files_network_or_settings(loaded: LogDatabase, tmp_path: Path, sql: str) -> None:
    out = tmp_path / "stolen.csv"
    with pytest.raises(LogQueryError) as refused:
        list(loaded.query(sql.format(out=out)).rows)
    assert isinstance(refused.value, UsageError) and refused.value.exit_code == 2
    assert not out.exists()
    # and the database still answers afterwards, from the logs only
    assert list(loaded.query("SELECT count(*) FROM logs").rows) == [(2,)]


def test_key_prefix_matches_the_key_as_stored_not_as_logged(tmp_path: Path) -> None:
    keys = ["reports/q%201.csv", "reports/q%202.csv", "public/x", "reports%2Fq%201.csv", "bad%FF%FEkey", "-"]
    (tmp_path / "logs.txt").write_text("".join(record(WHEN, key=k) + "\n" for k in keys))
    db = LogDatabase(tmp_path)
    try:
        stats = db.load([tmp_path / "logs.txt"], key_prefix="reports/q 1")
        assert (stats.records, stats.out_of_range) == (2, 4)
        assert sorted(k for (k,) in db.query("SELECT key FROM logs").rows) == ["reports%2Fq%201.csv", "reports/q%201.csv"]
    finally:
        db.close()
    other = LogDatabase(tmp_path)
    try:  # a key whose encoding is no UTF-8 is compared as logged, never an error
        assert other.load([tmp_path / "logs.txt"], key_prefix="bad%FF").records == 1
    finally:
        other.close()


def test_every_ready_question_runs(loaded: LogDatabase) -> None:
    for question in QUESTIONS.values():
        answer = loaded.query(question.sql)
        assert answer.columns, question.name
        list(answer.rows)
    anonymous = list(loaded.query(QUESTIONS["anonymous"].sql).rows)
    assert [row[3] for row in anonymous] == ["public/x"]
