"""Every variable of the catalogue against hand-derived values, both spellings, scopes, cost classes."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from fractions import Fraction
from pathlib import Path

import pytest

from s3safe.query import (
    NULL,
    UNKNOWN,
    VARIABLES,
    Clock,
    Cost,
    HeadFacts,
    LocalFacts,
    QueryError,
    S3Facts,
    Subject,
    compile_where,
)
from s3safe.query.values import Value, format_number
from s3safe.query.variables import lookup
from tests.unit.test_query_support import BOTH, CLOCK, ETAG, FULL, LISTED, LOCAL, ev, subject

# (canonical name, argument, expected value) - derived by hand in test_query_support's docstring
EXPECTED: list[tuple[str, str | None, Value]] = [
    ("name", None, "Report.Final.PDF"),
    ("path", None, "docs/Report.Final.PDF"),
    ("ext", None, ".pdf"),
    ("size", None, 1536),
    ("size_kb", None, Fraction(3, 2)),
    ("size_mb", None, Fraction(1536, 1024**2)),
    ("size_gb", None, Fraction(1536, 1024**3)),
    ("year", None, 2023),
    ("month", None, 12),
    ("day", None, 31),
    ("hour", None, 23),
    ("minute", None, 59),
    ("second", None, 59),
    ("dayofweek", None, 0),  # Sunday
    ("age_days", None, 166),
    ("age_hours", None, 3996),
    ("age_mins", None, 239760),
    ("mtime", None, datetime(2023, 12, 31, 23, 59, 59, tzinfo=UTC)),
    ("s3_name", None, "Holiday.JPG"),
    ("s3_path", None, "photos/2024/Holiday.JPG"),
    ("s3_ext", None, ".jpg"),
    ("s3_size", None, 3670016),
    ("s3_size_kb", None, 3584),
    ("s3_size_mb", None, Fraction(7, 2)),
    ("s3_size_gb", None, Fraction(7, 2048)),
    ("s3_year", None, 2024),
    ("s3_month", None, 6),
    ("s3_day", None, 10),
    ("s3_hour", None, 8),
    ("s3_minute", None, 30),
    ("s3_second", None, 45),
    ("s3_dayofweek", None, 1),  # Monday
    ("s3_age_days", None, 5),
    ("s3_age_hours", None, 123),
    ("s3_age_mins", None, 7409),
    ("s3_mtime", None, datetime(2024, 6, 10, 8, 30, 45, tzinfo=UTC)),
    ("s3_etag", None, ETAG),
    ("s3_md5", None, ""),  # SSE-KMS: the ETag is not the MD5
    ("s3_storage_class", None, "STANDARD_IA"),
    ("s3_content_type", None, "image/jpeg"),
    ("s3_cache_control", None, "max-age=60"),
    ("s3_sse_algorithm", None, "aws:kms"),
    ("s3_sse_kms_key_id", None, "arn:aws:kms:eu-west-1:111122223333:key/k1"),
    ("s3_acl_is_private", None, False),
    ("s3_acl_is_public_read", None, True),
    ("s3_acl_is_public_write", None, False),
    ("s3_acl_grants", None, 2),
    ("s3_version_id", None, "v1"),
    ("s3_is_latest", None, True),
    ("s3_is_delete_marker", None, False),
    ("s3_client_encrypted", None, True),
    ("s3_meta", "owner", "Alice"),
    ("s3_tag", "Env", "prod"),
    ("curr_year", None, 2024),
    ("curr_month", None, 6),
    ("curr_day", None, 15),
    ("curr_hour", None, 12),
    ("curr_minute", None, 0),
    ("curr_second", None, 0),
    ("curr_dayofweek", None, 6),  # Saturday
]


def test_the_table_covers_the_whole_catalogue() -> None:
    assert sorted(name for name, _, _ in EXPECTED) == sorted(VARIABLES)


def _literal(value: Value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    if isinstance(value, datetime):
        return "'" + value.strftime("%Y-%m-%d %H:%M:%S") + "'"
    assert isinstance(value, int | Fraction)
    return format_number(value)


@pytest.mark.parametrize(("name", "arg", "expected"), EXPECTED, ids=[e[0] for e in EXPECTED])
def test_each_variable_has_its_hand_derived_value(name: str, arg: str | None, expected: Value) -> None:
    var = VARIABLES[name]
    assert BOTH.value(var, arg) == expected
    ref = name if arg is None else f"{name}('{arg}')"
    # and through the language: '=' is true, '<>' is false, and the variable can be compared with itself
    assert ev(f"{ref} = {_literal(expected)}") is True
    assert ev(f"{ref} <> {_literal(expected)}") is False
    if var.type.name != "DATE":
        assert ev(f"{ref} = {ref}") is True


@pytest.mark.parametrize(
    ("alias", "canonical"),
    [
        ("sizekb", "size_kb"),
        ("sizemb", "size_mb"),
        ("sizegb", "size_gb"),
        ("agedays", "age_days"),
        ("agehours", "age_hours"),
        ("agemins", "age_mins"),
        ("day_of_week", "dayofweek"),
        ("s3_sizekb", "s3_size_kb"),
        ("s3_sizemb", "s3_size_mb"),
        ("s3_sizegb", "s3_size_gb"),
        ("s3_agedays", "s3_age_days"),
        ("s3_agehours", "s3_age_hours"),
        ("s3_agemins", "s3_age_mins"),
        ("s3_day_of_week", "s3_dayofweek"),
        ("s3_storageclass", "s3_storage_class"),
        ("s3_contenttype", "s3_content_type"),
        ("s3_cachecontrol", "s3_cache_control"),
        ("s3_ssealgorithm", "s3_sse_algorithm"),
        ("s3_ssekmskeyid", "s3_sse_kms_key_id"),
        ("s3_aclisprivate", "s3_acl_is_private"),
        ("s3_aclispublicread", "s3_acl_is_public_read"),
        ("s3_aclispublicwrite", "s3_acl_is_public_write"),
        ("s3_aclgrants", "s3_acl_grants"),
        ("s3_versionid", "s3_version_id"),
        ("s3_islatest", "s3_is_latest"),
        ("s3_isdeletemarker", "s3_is_delete_marker"),
        ("s3_clientencrypted", "s3_client_encrypted"),
        ("curr_day_of_week", "curr_dayofweek"),
        ("SizeMB", "size_mb"),
        ("S3_AGE_DAYS", "s3_age_days"),
    ],
)
def test_both_spellings_name_the_same_variable(alias: str, canonical: str) -> None:
    var = lookup(alias)
    assert var is not None and var.name == canonical
    assert ev(f"{alias} = {canonical}") is True
    assert str(compile_where(f"{alias} = {alias}")) == f"({canonical} = {canonical})"


def test_every_alias_resolves_to_its_variable() -> None:
    for var in VARIABLES.values():
        for alias in var.aliases:
            assert lookup(alias) is var


def test_cost_classes() -> None:
    by_cost: dict[Cost | None, set[str]] = {}
    for var in VARIABLES.values():
        by_cost.setdefault(var.cost, set()).add(var.name)
    assert by_cost[Cost.HEAD] == {
        "s3_md5",
        "s3_content_type",
        "s3_cache_control",
        "s3_sse_algorithm",
        "s3_sse_kms_key_id",
        "s3_client_encrypted",
        "s3_meta",
    }
    assert by_cost[Cost.ACL] == {"s3_acl_is_private", "s3_acl_is_public_read", "s3_acl_is_public_write", "s3_acl_grants"}
    assert by_cost[Cost.TAGS] == {"s3_tag"}
    assert by_cost[None] == {n for n in VARIABLES if n.startswith("curr_")}
    for name in ("s3_name", "s3_size", "s3_mtime", "s3_etag", "s3_storage_class", "s3_version_id", "s3_is_latest"):
        assert VARIABLES[name].cost is Cost.LISTING


@pytest.mark.parametrize(
    ("key", "name", "ext"),
    [
        ("a/b/c.TXT", "c.TXT", ".txt"),
        ("archive.tar.gz", "archive.tar.gz", ".gz"),
        ("dir/.bashrc", ".bashrc", ""),
        ("dir/.config.json", ".config.json", ".json"),
        ("noext", "noext", ""),
        ("folder/", "folder", ""),
        ("trailing.", "trailing.", "."),
    ],
)
def test_name_and_ext_rules(key: str, name: str, ext: str) -> None:
    s = subject(s3=replace(LISTED, key=key), local=replace(LOCAL, path=key))
    assert s.value(VARIABLES["s3_name"], None) == name == s.value(VARIABLES["name"], None)
    assert s.value(VARIABLES["s3_ext"], None) == ext == s.value(VARIABLES["ext"], None)


def test_date_parts_follow_the_clock_zone() -> None:
    plus2 = Clock(CLOCK.now, zone=timezone(timedelta(hours=2)))
    s = subject(clock=plus2)
    # 2023-12-31 23:59:59 UTC is 2024-01-01 01:59:59 at +02:00, a Monday
    assert [s.value(VARIABLES[n], None) for n in ("year", "month", "day", "hour", "dayofweek")] == [2024, 1, 1, 1, 1]
    assert ev("mtime = '2024-01-01'", s) is True
    assert ev("mtime = '2024-01-01'", BOTH) is False
    assert ev("curr_hour = 14", s) is True


def test_md5_is_the_etag_only_when_it_is_one() -> None:
    aes = replace(FULL, head=replace(FULL.head or HeadFacts(), sse_algorithm="AES256"))
    assert subject(s3=aes).value(VARIABLES["s3_md5"], None) == ETAG
    multipart = replace(LISTED, etag='"0123456789abcdef0123456789abcdef-3"')
    assert subject(s3=multipart).value(VARIABLES["s3_md5"], None) == ""  # known without HEAD
    assert subject(s3=LISTED).value(VARIABLES["s3_md5"], None) is UNKNOWN  # needs HEAD to rule out KMS
    ssec = replace(FULL, head=HeadFacts(sse_customer_algorithm="AES256"))
    assert subject(s3=ssec).value(VARIABLES["s3_md5"], None) == ""


def test_defaults_for_what_the_store_does_not_report() -> None:
    bare = S3Facts(key="k", size=0, last_modified=None, head=HeadFacts(), tags={})
    s = subject(s3=bare)
    for name in ("s3_content_type", "s3_cache_control", "s3_sse_algorithm", "s3_sse_kms_key_id", "s3_etag", "s3_version_id"):
        assert s.value(VARIABLES[name], None) == ""
    assert s.value(VARIABLES["s3_storage_class"], None) == "STANDARD"
    assert s.value(VARIABLES["s3_is_latest"], None) is True  # unversioned listing
    assert s.value(VARIABLES["s3_client_encrypted"], None) is False
    assert s.value(VARIABLES["s3_meta"], "missing") == ""
    assert s.value(VARIABLES["s3_tag"], "missing") == ""
    for name in ("s3_mtime", "s3_year", "s3_dayofweek", "s3_age_days"):
        assert s.value(VARIABLES[name], None) is NULL  # no last-modified time


def test_metadata_is_case_insensitive_and_tags_prefer_the_exact_key() -> None:
    s = subject(s3=replace(FULL, tags={"env": "lower", "Env": "upper", "Team": "x"}))
    assert ev("s3_meta('OWNER') = 'alice'", s) is True
    assert ev("s3_tag('Env') = 'upper'", s) is True
    assert ev("s3_tag('env') = 'lower'", s) is True
    assert ev("s3_tag('TEAM') = 'x'", s) is True


def test_delete_markers_and_old_versions() -> None:
    marker = replace(LISTED, is_delete_marker=True, is_latest=False, size=0, etag=None)
    s = subject(s3=marker)
    assert ev("s3_is_delete_marker AND NOT s3_is_latest", s) is True
    assert ev("s3_is_latest = false", s) is True


def test_future_times_give_negative_ages() -> None:
    future = replace(LISTED, last_modified=CLOCK.now + timedelta(hours=1, minutes=1))
    s = subject(s3=future)
    assert s.value(VARIABLES["s3_age_hours"], None) == -2  # floor of -1.0167
    assert s.value(VARIABLES["s3_age_days"], None) == -1


def test_naive_times_are_read_as_utc() -> None:
    naive = replace(LISTED, last_modified=datetime(2024, 6, 10, 8, 30, 45))
    s = subject(s3=naive)
    assert s.value(VARIABLES["s3_hour"], None) == 8
    assert s.value(VARIABLES["s3_age_days"], None) == 5
    assert ev("s3_mtime = '2024-06-10 08:30:45'", s) is True


def test_clock_must_be_aware() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        Clock(datetime(2024, 1, 1))


def test_local_facts_from_a_real_file(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    f = tmp_path / "sub" / "x.LOG"
    f.write_bytes(b"12345")
    facts = Subject(local=LocalFacts.from_path(tmp_path, f), clock=CLOCK)
    assert ev("path = 'sub/x.log' AND size = 5 AND ext = '.log' AND age_days >= 0", Subject(local=facts.local))


@pytest.mark.parametrize(
    ("text", "scope", "hint"),
    [
        ("size > 1", "s3", "did you mean 's3_size'?"),
        ("sizemb > 1", "s3", "did you mean 's3_size_mb'?"),
        ("s3_size > 1", "local", "did you mean 'size'?"),
        ("s3_acl_is_private", "local", None),
    ],
)
def test_variables_from_the_wrong_side_are_refused(text: str, scope: str, hint: str | None) -> None:
    with pytest.raises(QueryError) as info:
        compile_where(text, scope=scope)  # type: ignore[arg-type]
    assert info.value.hint == hint
    assert info.value.position == 0
    assert ("describes a local file" in info.value.message) == (scope == "s3")


def test_clock_variables_work_in_every_scope() -> None:
    for scope in ("local", "s3", "any"):
        assert compile_where("curr_day % 2 = 1", scope=scope).evaluate(BOTH) is True  # type: ignore[arg-type]
