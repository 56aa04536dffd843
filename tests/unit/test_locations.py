"""s3:// URLs, the AWS general-purpose bucket naming rules, and the download traversal guard."""

from __future__ import annotations

import os
import re
import tempfile
import unicodedata
from pathlib import Path

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from s3safe.core.errors import EXIT_USAGE, UsageError
from s3safe.core.locations import (
    MAX_KEY_BYTES,
    S3Url,
    bucket_name_problem,
    is_s3_url,
    parse_s3_url,
    safe_local_path,
    unsafe_key_reason,
    validate_bucket_name,
)

# --- the AWS rules, written out independently of the implementation ---------------------------------
# https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html (general purpose buckets)
GRAMMAR = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]", re.ASCII)
RESERVED_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
RESERVED_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")


def looks_like_ipv4(name: str) -> bool:
    parts = name.split(".")
    return len(parts) == 4 and all(p.isascii() and p.isdigit() and 1 <= len(p) <= 3 for p in parts)


def aws_allows(name: str) -> bool:
    return (
        GRAMMAR.fullmatch(name) is not None
        and ".." not in name
        and not looks_like_ipv4(name)
        and not name.startswith(RESERVED_PREFIXES)
        and not name.endswith(RESERVED_SUFFIXES)
    )


def s3safe_extra_rule(name: str) -> bool:
    """s3safe is stricter than AWS's current list: no '.-' or '-.' (the legacy DNS rule)."""
    return ".-" not in name and "-." not in name


# --- bucket names -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "abc",
        "a" * 63,
        "my-bucket",
        "my.bucket.example",
        "0bucket9",
        "123",
        "1.2.3",  # three numbers are not an IP address
        "1.2.3.4.5",
        "a-xn--b",  # reserved words only matter at the start / end
        "s3alias-bucket",
        "a-sthree-b",
    ],
)
def test_valid_bucket_names_are_accepted(name: str) -> None:
    assert bucket_name_problem(name) is None
    assert validate_bucket_name(name) == name


@pytest.mark.parametrize(
    "name",
    [
        "",
        "ab",  # too short
        "a" * 64,  # too long
        "MyBucket",  # uppercase
        "my_bucket",  # underscore
        "my bucket",
        "-bucket",
        "bucket-",
        ".bucket",
        "bucket.",
        "my..bucket",
        "192.168.5.4",
        "10.0.0.1",
        "xn--bucket",
        "sthree-bucket",
        "sthree-configurator",
        "amzn-s3-demo-bucket",
        "bucket-s3alias",
        "bucket--ol-s3",
        "bucket.mrap",
        "bucket--x-s3",
        "bucket--table-s3",
        "bücket",
        "bucket/",
        "abc\n",  # a trailing newline is not a letter or digit
        "\nabc",
        "abc\x00",
    ],
)
def test_invalid_bucket_names_are_refused(name: str) -> None:
    problem = bucket_name_problem(name)
    assert problem is not None and problem.strip()
    with pytest.raises(UsageError) as info:
        validate_bucket_name(name)
    assert info.value.exit_code == EXIT_USAGE
    assert repr(name) in str(info.value)


@settings(max_examples=300, deadline=None)
@given(st.from_regex(GRAMMAR, fullmatch=True))
def test_every_name_of_the_aws_grammar_that_passes_the_extra_rules_is_accepted(name: str) -> None:
    assume(aws_allows(name) and s3safe_extra_rule(name))
    assert bucket_name_problem(name) is None


@settings(max_examples=300, deadline=None)
@given(
    st.one_of(
        st.text(max_size=70),
        st.text(alphabet="ab9.-_A\n ", min_size=1, max_size=70),
        st.from_regex(GRAMMAR, fullmatch=True).flatmap(lambda n: st.sampled_from([n + "\n", n.upper(), n + "..x"])),
    )
)
def test_nothing_outside_the_aws_rules_is_accepted(name: str) -> None:
    if bucket_name_problem(name) is None:
        assert aws_allows(name), f"{name!r} was accepted but breaks the AWS bucket naming rules"


@given(st.integers(0, 255), st.integers(0, 255), st.integers(0, 255), st.integers(0, 255))
def test_ip_addresses_are_never_bucket_names(a: int, b: int, c: int, d: int) -> None:
    assert bucket_name_problem(f"{a}.{b}.{c}.{d}") is not None


# --- s3:// URLs -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "bucket", "key"),
    [
        ("s3://bucket", "bucket", ""),
        ("s3://bucket/", "bucket", ""),
        ("s3://bucket/a.txt", "bucket", "a.txt"),
        ("s3://bucket/dir/sub/", "bucket", "dir/sub/"),
        ("s3://bucket/a//b", "bucket", "a//b"),  # S3 keys may hold empty segments
        ("s3://bucket/with space/ü€😀", "bucket", "with space/ü€😀"),
        ("s3://bucket/q?versionId=1", "bucket", "q?versionId=1"),
        ("S3://bucket/k", "bucket", "k"),  # the scheme is case-insensitive
    ],
)
def test_parse_valid_urls(text: str, bucket: str, key: str) -> None:
    url = parse_s3_url(text)
    assert url == S3Url(bucket, key)
    assert url.is_bucket == (key == "")
    assert url.is_prefix == (key == "" or key.endswith("/"))


@pytest.mark.parametrize(
    "text",
    [
        "s3://",
        "s3:///",
        "s3:///key",
        "http://bucket/key",
        "bucket/key",
        "/tmp/file",
        "",
        "s3:/bucket/key",
        "s3://Bucket/key",
        "s3://ab/key",
        "s3://b..c/key",
        "s3://192.168.1.1/key",
    ],
)
def test_parse_invalid_urls_is_a_usage_error(text: str) -> None:
    with pytest.raises(UsageError) as info:
        parse_s3_url(text)
    assert info.value.exit_code == EXIT_USAGE


def test_url_without_bucket_says_so() -> None:
    with pytest.raises(UsageError) as info:
        parse_s3_url("s3://")
    assert info.value.exit_code == 2
    assert "bucket" in str(info.value)


@pytest.mark.parametrize("text", ["s3://bucket", "s3://bucket/"])
def test_require_key_refuses_a_bare_bucket(text: str) -> None:
    assert parse_s3_url(text).key == ""
    with pytest.raises(UsageError) as info:
        parse_s3_url(text, require_key=True)
    assert info.value.exit_code == EXIT_USAGE
    assert "key" in str(info.value)


def test_require_key_accepts_a_key() -> None:
    assert parse_s3_url("s3://bucket/k", require_key=True).key == "k"


@pytest.mark.parametrize(
    ("key", "ok"),
    [
        ("a" * MAX_KEY_BYTES, True),
        ("a" * (MAX_KEY_BYTES + 1), False),
        ("é" * (MAX_KEY_BYTES // 2), True),  # 1024 bytes, 512 characters
        ("é" * (MAX_KEY_BYTES // 2) + "a", False),  # 1025 bytes, 513 characters: bytes count, not characters
        ("€" * 341 + "a", True),  # 1023 + 1 bytes
        ("€" * 342, False),  # 1026 bytes
    ],
)
def test_key_length_is_measured_in_utf8_bytes(key: str, ok: bool) -> None:
    assert MAX_KEY_BYTES == 1024
    if ok:
        assert parse_s3_url(f"s3://bucket/{key}").key == key
    else:
        with pytest.raises(UsageError) as info:
            parse_s3_url(f"s3://bucket/{key}")
        assert "1024" in str(info.value)


@pytest.mark.parametrize("key", ["a\x00b", "\x00", "dir/\x00"])
def test_nul_in_key_is_refused(key: str) -> None:
    with pytest.raises(UsageError):
        parse_s3_url(f"s3://bucket/{key}")


def test_key_that_is_not_valid_utf8_is_a_usage_error() -> None:
    # argv bytes that are not UTF-8 arrive as lone surrogates (surrogateescape); S3 keys must be UTF-8
    with pytest.raises(UsageError):
        parse_s3_url("s3://bucket/\udcff")


@settings(max_examples=200, deadline=None)
@given(
    bucket=st.sampled_from(["bucket", "my.bucket-1", "a" * 63]),
    key=st.text(alphabet=st.characters(exclude_categories=["Cs"], exclude_characters="\x00"), max_size=300),
)
def test_str_and_parse_round_trip(bucket: str, key: str) -> None:
    assume(len(key.encode()) <= MAX_KEY_BYTES)
    url = S3Url(bucket, key)
    assert str(url) == f"s3://{bucket}/{key}"
    assert parse_s3_url(str(url)) == url


def test_is_s3_url() -> None:
    assert is_s3_url("s3://b/k")
    assert is_s3_url("S3://B")
    assert not is_s3_url("s3:/b")
    assert not is_s3_url("./s3://b")


def test_child_and_name() -> None:
    assert S3Url("b", "").child("x.txt") == S3Url("b", "x.txt")
    assert S3Url("b", "dir/").child("x.txt") == S3Url("b", "dir/x.txt")
    assert S3Url("b", "dir").child("x.txt") == S3Url("b", "dir/x.txt")
    assert S3Url("b", "dir/x.txt").name == "x.txt"


# --- the traversal guard ----------------------------------------------------------------------------

UNSAFE_KEYS = [
    "",
    "..",
    "../x",
    "a/../../x",
    "a/..",
    "a/b/../../../etc/passwd",
    "..\\x",
    "a\\..\\..\\x",
    "/etc/passwd",
    "//server/share",
    "\\x",
    "\\\\server\\share\\x",
    "C:",
    "C:x",
    "c:\\windows\\x",
    "Z:/x",
    "a\x00b",
    "a\nb",
    "a\rb",
    "a\tb",
    "\x1b[31mred",
    "a\x7fb",
    "a\x9bb",  # C1 control (CSI) - still a control character (Unicode category Cc)
]


@pytest.mark.parametrize("key", UNSAFE_KEYS)
def test_unsafe_keys_have_a_reason_and_are_refused(key: str, tmp_path: Path) -> None:
    reason = unsafe_key_reason(key)
    assert reason is not None and reason.strip()
    with pytest.raises(UsageError) as info:
        safe_local_path(tmp_path, key)
    assert info.value.exit_code == EXIT_USAGE


@pytest.mark.parametrize(
    "key", ["a.txt", "dir/a.txt", "...", "..a", "a..", "a/..b/c", "ab:c", "ü/€ 😀", "./a", "a//b", ".hidden"]
)
def test_safe_keys_land_inside_root(key: str, tmp_path: Path) -> None:
    assert unsafe_key_reason(key) is None
    target = safe_local_path(tmp_path, key)
    assert target.resolve().is_relative_to(tmp_path.resolve())
    assert target != tmp_path
    assert ".." not in target.relative_to(tmp_path).parts


def test_backslashes_separate_folders_only_on_windows(tmp_path: Path) -> None:
    expected = tmp_path / "dir" / "a.txt" if os.name == "nt" else tmp_path / "dir\\a.txt"
    assert safe_local_path(tmp_path, "dir\\a.txt") == expected


@pytest.mark.parametrize("key", [".", "./", "/", "a/.."])
def test_keys_naming_no_file_are_refused(key: str, tmp_path: Path) -> None:
    with pytest.raises(UsageError):
        safe_local_path(tmp_path, key)


def test_a_symlink_inside_root_cannot_lead_outside(tmp_path: Path) -> None:
    root = tmp_path / "root"
    outside = tmp_path / "outside"
    root.mkdir()
    outside.mkdir()
    (root / "link").symlink_to(outside, target_is_directory=True)
    with pytest.raises(UsageError):
        safe_local_path(root, "link/x.txt")


def test_every_control_character_is_refused() -> None:
    for code in range(0x110000):
        char = chr(code)
        if unicodedata.category(char) == "Cc":
            assert unsafe_key_reason(f"a{char}b") is not None, f"U+{code:04X} was accepted"


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet=["a", "b", ".", "/", "\\", ":", "C", " ", "é", "\x00", "\n", "\x1b"], max_size=24))
def test_safe_local_path_never_escapes_root(text: str) -> None:
    root = Path(tempfile.gettempdir()) / "s3safe-unit-root"
    try:
        target = safe_local_path(root, text)
    except UsageError:
        return
    assert unsafe_key_reason(text) is None
    resolved_root = root.resolve()
    assert target.resolve().is_relative_to(resolved_root)
    assert target.resolve() != resolved_root
    assert all(part not in ("..", ".", "") for part in target.relative_to(root).parts)
    assert not any(ch in str(target.relative_to(root)) for ch in ("\x00", "\n", "\x1b"))
    assert os.name != "nt" or "\\" not in str(target.relative_to(root))
    assert os.sep == "/" or "/" not in str(target.relative_to(root))


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=30))
def test_any_key_with_a_dotdot_segment_is_refused(text: str) -> None:
    key = text + "/../" + text
    assert unsafe_key_reason(key) is not None
