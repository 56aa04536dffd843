"""Upload options (--meta, ACL, SSE, part size), the multipart part-size rule, and --older-than ages."""

from __future__ import annotations

import math
from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from s3safe.core.errors import EXIT_USAGE, UsageError
from s3safe.ops.uploads import parse_age
from s3safe.storage.s3 import part_size_for
from s3safe.transfer.options import MAX_META_BYTES, UploadOptions, parse_meta

MiB = 1024**2
GiB = 1024**3
TiB = 1024**4
S3_MIN_PART = 5 * MiB  # AWS: every part but the last is at least 5 MiB
S3_MAX_PART = 5 * GiB  # AWS: no part is above 5 GiB
S3_MAX_PARTS = 10_000
S3_MAX_OBJECT = 5 * TiB

# --- --meta K=V -------------------------------------------------------------------------------------

meta_names = st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,15}", fullmatch=True)
meta_values = st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=30)


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(meta_names.map(str.lower), meta_values, max_size=8))
def test_valid_pairs_parse_to_the_same_mapping(expected: dict[str, str]) -> None:
    pairs = [f"{k}={v}" for k, v in expected.items()]
    assert parse_meta(pairs) == expected


@given(name=meta_names, value=meta_values)
def test_names_are_case_insensitive_like_http_headers(name: str, value: str) -> None:
    assert parse_meta([f"{name}={value}"]) == {name.lower(): value}


def test_value_may_contain_equals_signs() -> None:
    assert parse_meta(["query=a=b&c=d"]) == {"query": "a=b&c=d"}


def test_empty_input() -> None:
    assert parse_meta([]) == {}
    assert parse_meta(()) == {}


@pytest.mark.parametrize(
    "pair",
    [
        "novalue",
        "=x",
        " =x",
        "",
        "bad name=1",
        "a/b=1",
        "a:b=1",
        "ümlaut=1",  # header names are ASCII tokens
        "-lead=1",
        "_lead=1",
        "k=a\nb",
        "k=a\rb",
        "k=\x00",
        "k=\x7f",
        "k=\x1b[31m",
        "k=tab\there",
    ],
)
def test_malformed_pairs_are_usage_errors(pair: str) -> None:
    with pytest.raises(UsageError) as info:
        parse_meta([pair])
    assert info.value.exit_code == EXIT_USAGE


def test_the_error_names_the_offending_pair() -> None:
    with pytest.raises(UsageError) as info:
        parse_meta(["ok=1", "novalue"])
    assert "novalue" in str(info.value)


def test_metadata_limit_is_2_kib_of_utf8_bytes() -> None:
    """AWS: the sum of the UTF-8 bytes of every key and value is at most 2 KB (values are printable ASCII)."""
    assert MAX_META_BYTES == 2048
    assert parse_meta(["k=" + "v" * 2047]) == {"k": "v" * 2047}
    with pytest.raises(UsageError):
        parse_meta(["k=" + "v" * 2048])
    # non-ASCII never reaches the byte count: S3 would hand it back mangled
    with pytest.raises(UsageError, match="printable ASCII"):
        parse_meta(["k=" + "é"])
    # the limit is over all pairs together
    with pytest.raises(UsageError):
        parse_meta([f"k{i}=" + "v" * 300 for i in range(7)])  # 7 * (2 + 300) = 2114


# --- UploadOptions ----------------------------------------------------------------------------------


@pytest.mark.parametrize("acl", ["public-read", "public-read-write", "authenticated-read"])
def test_public_acl_needs_allow_public(acl: str) -> None:
    with pytest.raises(UsageError) as info:
        UploadOptions(acl=acl).validate()
    assert "--allow-public" in str(info.value)
    options = UploadOptions(acl=acl, allow_public=True)
    assert options.validate() is options


@pytest.mark.parametrize("acl", [None, "private", "bucket-owner-full-control", "bucket-owner-read"])
def test_private_acls_need_nothing(acl: str | None) -> None:
    UploadOptions(acl=acl).validate()


@pytest.mark.parametrize("acl", ["public", "PUBLIC-READ", "Private", "", "authenticated"])
def test_unknown_acl(acl: str) -> None:
    with pytest.raises(UsageError):
        UploadOptions(acl=acl, allow_public=True).validate()


@pytest.mark.parametrize("sse", [None, "AES256", "aws:kms"])
def test_sse_choices(sse: str | None) -> None:
    UploadOptions(sse=sse).validate()


@pytest.mark.parametrize("sse", ["aes256", "AES", "kms", "none", "aws:kms:dsse-x"])
def test_unknown_sse(sse: str) -> None:
    with pytest.raises(UsageError):
        UploadOptions(sse=sse).validate()


@pytest.mark.parametrize("sse", [None, "AES256"])
def test_kms_key_needs_aws_kms(sse: str | None) -> None:
    with pytest.raises(UsageError) as info:
        UploadOptions(sse=sse, sse_kms_key_id="alias/my-key").validate()
    assert "aws:kms" in str(info.value)
    UploadOptions(sse="aws:kms", sse_kms_key_id="alias/my-key").validate()


def test_storage_class() -> None:
    for name in ("STANDARD", "STANDARD_IA", "GLACIER", "DEEP_ARCHIVE", "INTELLIGENT_TIERING", "GLACIER_IR"):
        UploadOptions(storage_class=name).validate()
    with pytest.raises(UsageError):
        UploadOptions(storage_class="standard").validate()


@pytest.mark.parametrize(
    ("size", "ok"), [(S3_MIN_PART - 1, False), (1, False), (0, False), (S3_MIN_PART, True), (64 * MiB, True), (S3_MAX_PART, True)]
)
def test_part_size_lower_bound(size: int, ok: bool) -> None:
    if ok:
        UploadOptions(part_size=size).validate()
    else:
        with pytest.raises(UsageError) as info:
            UploadOptions(part_size=size).validate()
        assert "5MiB" in str(info.value) or "5 MiB" in str(info.value)


def test_part_size_above_the_s3_maximum_is_refused() -> None:
    """S3 refuses parts above 5 GiB; finding out after reading 6 GiB is too late."""
    with pytest.raises(UsageError):
        UploadOptions(part_size=S3_MAX_PART + 1).validate()


# --- part_size_for ----------------------------------------------------------------------------------


@settings(max_examples=500, deadline=None)
@given(
    st.one_of(
        st.integers(0, S3_MAX_OBJECT),
        st.integers(0, 200 * MiB),
        st.sampled_from([0, 1, S3_MAX_OBJECT, 50_000 * MiB, 50_000 * MiB + 1]),
    )
)
def test_part_size_fits_the_multipart_limits(size: int) -> None:
    part = part_size_for(size)
    assert part >= S3_MIN_PART
    assert part <= S3_MAX_PART
    assert part % MiB == 0
    assert math.ceil(size / part) <= S3_MAX_PARTS
    # and it is the smallest such size: one MiB less breaks a limit
    smaller = part - MiB
    assert smaller < S3_MIN_PART or math.ceil(size / smaller) > S3_MAX_PARTS


@pytest.mark.parametrize(
    ("size", "part"),
    [
        (0, 5 * MiB),
        (1, 5 * MiB),
        (50_000 * MiB, 5 * MiB),  # exactly 10,000 parts of 5 MiB
        (50_000 * MiB + 1, 6 * MiB),
        (S3_MAX_OBJECT, 525 * MiB),  # ceil(5 TiB / 10,000) = 524.288 MiB -> 525 MiB
    ],
)
def test_part_size_examples(size: int, part: int) -> None:
    assert part_size_for(size) == part


@given(size=st.integers(0, S3_MAX_OBJECT), minimum=st.sampled_from([5 * MiB, 8 * MiB, 64 * MiB]))
def test_part_size_honours_a_larger_minimum(size: int, minimum: int) -> None:
    part = part_size_for(size, minimum=minimum)
    assert part >= minimum
    assert math.ceil(size / part) <= S3_MAX_PARTS


# --- parse_age --------------------------------------------------------------------------------------

AGE_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


@settings(max_examples=200, deadline=None)
@given(
    n=st.integers(0, 100_000), unit=st.sampled_from(sorted(AGE_UNITS)), upper=st.booleans(), pad=st.sampled_from(["", " ", "\t"])
)
def test_parse_age_round_trip(n: int, unit: str, upper: bool, pad: str) -> None:
    text = f"{pad}{n}{unit.upper() if upper else unit}{pad}"
    assert parse_age(text) == timedelta(seconds=n * AGE_UNITS[unit])


def test_parse_age_examples() -> None:
    assert parse_age("7d") == timedelta(days=7)
    assert parse_age("12h") == timedelta(hours=12)
    assert parse_age("30m") == timedelta(minutes=30)
    assert parse_age("90s") == timedelta(seconds=90)
    assert parse_age("2w") == timedelta(weeks=2)


@pytest.mark.parametrize(
    "text", ["", "d", "7", "7y", "-1d", "+1d", "1.5h", "7 d", "d7", "7dd", "seven d", "1e3s", "²d", "½d", "Ⅻd"]
)
def test_parse_age_refuses_nonsense(text: str) -> None:
    with pytest.raises(UsageError) as info:
        parse_age(text)
    assert info.value.exit_code == EXIT_USAGE


@settings(max_examples=300, deadline=None)
@given(
    st.text(max_size=8)
    | st.tuples(st.text(st.characters(categories=["N"]), min_size=1, max_size=3), st.sampled_from("smhdw")).map("".join)
)
def test_parse_age_gives_a_timedelta_or_a_usage_error(text: str) -> None:
    try:
        age = parse_age(text)
    except UsageError:
        return
    assert isinstance(age, timedelta)
    assert age >= timedelta(0)
