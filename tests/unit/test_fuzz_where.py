"""Fuzzing the --where language: any text compiles or fails with a QueryError; compiled conditions
evaluate to True/False/None on any facts (or a QueryEvaluationError), and print back to themselves."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from s3safe.core.errors import UsageError
from s3safe.query import (
    VARIABLES,
    AclSummary,
    Clock,
    HeadFacts,
    LocalFacts,
    QueryError,
    QueryEvaluationError,
    S3Facts,
    Subject,
    compile_where,
)

SCOPES = ("any", "s3", "local")
NAMES = sorted({alias for v in VARIABLES.values() for alias in (v.name, *v.aliases)})
FUNCTIONS = sorted(v.name for v in VARIABLES.values() if v.takes_arg)
OPERATORS = ["=", "<>", "!=", "<", "<=", ">", ">=", "+", "-", "*", "/", "%", "AND", "OR", "NOT", "and", "or", "not",
             "isoneof", "isnotoneof", "contains", "starts_with", "ends_with", "matches"]  # fmt: skip
LITERALS = ["0", "1", "-1", "10MB", "1.5GiB", "3KB", "1e309", "99999999999999999999999", "0.0", "true", "false",
            "'x'", "''", "'it''s'", "'2024-01-31'", "'2024-01-31 12:00:00'", "'2024-02-30'", "'*.jpg'", "'(a+)+$'",
            "'[unclosed'", "{'a', 'b'}", "{'*.jpg'; '?.png'}", "{}", "{1, 2}"]  # fmt: skip
PUNCT = ["(", ")", "(", ")", ",", ";", "{", "}", "'"]
QUIRKS = ["\x00", "\n", "\t", "\u202e", "é", "\udcff", "''''", "\\", "#", "$", "--", "..", "1..2", "0x10", "1_000"]


def _token() -> st.SearchStrategy[str]:
    functions = st.sampled_from(FUNCTIONS).flatmap(lambda f: st.sampled_from([f"{f}('owner')", f"{f}()", f"{f}('')", f"{f}(1)"]))
    return st.one_of(st.sampled_from(NAMES), st.sampled_from(OPERATORS), st.sampled_from(LITERALS), st.sampled_from(PUNCT),
                     functions, st.sampled_from(QUIRKS), st.text(max_size=4))  # fmt: skip


expressions = st.lists(_token(), min_size=1, max_size=14).map(" ".join)


def _compile(text: str, scope: str) -> object:
    try:
        return compile_where(text, scope=scope)  # type: ignore[arg-type]
    except QueryError as exc:
        error: QueryError = exc
    # a clear error: a usage error (exit 2) with a message, the caret inside the expression
    assert isinstance(error, UsageError) and error.exit_code == 2
    assert str(error).strip()
    assert 0 <= error.position <= len(text)
    return None


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=st.text(max_size=80), scope=st.sampled_from(SCOPES))
def test_arbitrary_text_compiles_or_raises_query_error(text: str, scope: str) -> None:
    _compile(text, scope)


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=expressions, scope=st.sampled_from(SCOPES))
def test_token_soup_compiles_or_raises_query_error_and_round_trips(text: str, scope: str) -> None:
    condition = _compile(text, scope)
    if condition is None:
        return
    # the canonical text parses back to the same tree
    assert compile_where(str(condition), scope=scope) == condition  # type: ignore[arg-type]


@settings(max_examples=80, deadline=None)
@given(depth=st.integers(min_value=1, max_value=5000), opener=st.sampled_from(["(", "NOT ", "-", "((", "NOT ("]))
def test_deep_nesting_is_a_clear_error_not_a_recursion_crash(depth: int, opener: str) -> None:
    _compile(opener * depth + "size > 1" + ")" * (depth * opener.count("(")), "any")


facts = st.builds(
    S3Facts,
    key=st.text(max_size=30),
    size=st.integers(min_value=0, max_value=2**63),
    last_modified=st.one_of(st.none(), st.datetimes(timezones=st.just(UTC))),
    etag=st.one_of(st.none(), st.text(max_size=40)),
    storage_class=st.one_of(st.none(), st.sampled_from(["STANDARD", "GLACIER", ""])),
    version_id=st.one_of(st.none(), st.text(max_size=8)),
    is_latest=st.one_of(st.none(), st.booleans()),
    is_delete_marker=st.booleans(),
    head=st.one_of(st.none(), st.builds(HeadFacts, content_type=st.one_of(st.none(), st.text(max_size=10)),
                                        sse_algorithm=st.one_of(st.none(), st.sampled_from(["AES256", "aws:kms"])),
                                        metadata=st.dictionaries(st.text(max_size=6), st.text(max_size=6), max_size=3))),
    acl=st.one_of(st.none(), st.builds(AclSummary, st.booleans(), st.booleans(), st.booleans(), st.integers(0, 100))),
    tags=st.one_of(st.none(), st.dictionaries(st.text(max_size=6), st.text(max_size=6), max_size=3)),
)  # fmt: skip
local = st.builds(LocalFacts, path=st.text(max_size=30), size=st.integers(min_value=0, max_value=2**63),
                  mtime=st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=st.just(UTC)))  # fmt: skip
clocks = st.builds(Clock, now=st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=st.just(UTC)),
                   zone=st.sampled_from([UTC, None, datetime.now(UTC).astimezone().tzinfo]))  # fmt: skip


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(text=expressions, s3=st.one_of(st.none(), facts), file=st.one_of(st.none(), local), clock=clocks)
def test_compiled_conditions_evaluate_on_any_facts(text: str, s3: S3Facts | None, file: LocalFacts | None, clock: Clock) -> None:
    condition = _compile(text, "any")
    if condition is None:
        return
    try:
        verdict = condition.evaluate(Subject(s3=s3, local=file, clock=clock))  # type: ignore[attr-defined]
    except QueryEvaluationError as exc:
        verdict = str(exc)
        assert verdict.strip()
        return
    assert verdict in (True, False, None)


def test_extreme_dates_and_sizes_evaluate() -> None:
    """The corners hypothesis might miss: epoch edges, year 1 and 9999, sizes near 2**63."""
    conditions = [compile_where(t, scope="any") for t in (
        "s3_age_days > 1", "age_days < 0", "s3_year = 1", "year >= 9999", "s3_size_gb * 1024 > 99999999999999999999",
        "s3_dayofweek = curr_dayofweek", "mtime < '2024-01-31'", "s3_age_hours % 7 = 3",
    )]  # fmt: skip
    for moment in (datetime(1, 1, 1, tzinfo=UTC), datetime(9999, 12, 31, 23, 59, tzinfo=UTC), datetime(1970, 1, 1, tzinfo=UTC)):
        for now in (moment, moment + timedelta(seconds=1) if moment.year < 9999 else moment):
            subject = Subject(
                s3=S3Facts(key="k", size=2**63 - 1, last_modified=moment),
                local=LocalFacts(path="k", size=2**63 - 1, mtime=moment),
                clock=Clock(now=now, zone=UTC),
            )
            for condition in conditions:
                try:
                    assert condition.evaluate(subject) in (True, False, None)
                except QueryEvaluationError:
                    pass
