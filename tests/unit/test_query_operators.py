"""Every operator, literal form and precedence rule of the condition language."""

from __future__ import annotations

import pytest

from s3safe.query import compile_where
from s3safe.query.tokens import Kind, tokenize
from tests.unit.test_query_support import ev

# ---- comparison operators on each type ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("size = 1536", True),
        ("size = 1537", False),
        ("size <> 1536", False),
        ("size != 1537", True),
        ("size < 1537", True),
        ("size < 1536", False),
        ("size <= 1536", True),
        ("size <= 1535", False),
        ("size > 1535", True),
        ("size > 1536", False),
        ("size >= 1536", True),
        ("size >= 1537", False),
        # text: case-insensitive, ordered case-insensitively too
        ("name = 'report.final.pdf'", True),
        ("name <> 'REPORT.FINAL.PDF'", False),
        ("name != 'other'", True),
        ("name < 'S'", True),
        ("name > 'r'", True),
        ("name >= 'REPORT.FINAL.PDF'", True),
        ("name <= 'a'", False),
        # booleans
        ("s3_acl_is_private = false", True),
        ("s3_acl_is_public_read = true", True),
        ("s3_acl_is_public_read <> true", False),
        ("s3_is_latest != false", True),
        # dates against dates
        ("mtime < s3_mtime", True),
        ("s3_mtime >= mtime", True),
        ("mtime = mtime", True),
    ],
)
def test_comparisons(text: str, expected: bool) -> None:
    assert ev(text) is expected


# ---- arithmetic ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "1 + 2 = 3",
        "5 - 7 = -2",
        "6 * 7 = 42",
        "7 / 2 = 3.5",
        "7 % 3 = 1",
        "-7 % 3 = 2",  # the sign follows the divisor, as in Python
        "7.5 % 2 = 1.5",
        "0.1 + 0.2 = 0.3",  # exact decimals, not binary floats
        "1 / 3 * 3 = 1",
        "- size = -1536",
        "-(size) + 1536 = 0",
        "--5 = 5",
        "size / 1024 = size_kb",
        "s3_size / 1MB = s3_size_mb",
        "hour + 10 < 40",
        "curr_day % 2 = 1",
        "curr_day % 5 = 0",
    ],
)
def test_arithmetic(text: str) -> None:
    assert ev(text) is True


@pytest.mark.parametrize("text", ["size / 0 > 1", "size / 0 = 0", "size % 0 = 0", "size / (curr_day - 15) < 0"])
def test_division_by_zero_gives_no_value_and_never_selects(text: str) -> None:
    assert ev(text) is False
    assert ev(f"NOT ({text})") is False  # NULL, not FALSE: negation does not select either


# ---- precedence ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("size > 1 OR size > 2 AND size > 3", "((size > 1) OR ((size > 2) AND (size > 3)))"),
        ("size > 1 AND size > 2 OR size > 3", "(((size > 1) AND (size > 2)) OR (size > 3))"),
        ("NOT size > 5", "(NOT (size > 5))"),
        ("NOT size > 5 AND day = 1", "((NOT (size > 5)) AND (day = 1))"),
        ("NOT (size > 5 AND day = 1)", "(NOT ((size > 5) AND (day = 1)))"),
        ("NOT NOT s3_is_latest", "(NOT (NOT s3_is_latest))"),
        ("1 + 2 * 3 = 7", "((1 + (2 * 3)) = 7)"),
        ("(1 + 2) * 3 = 9", "(((1 + 2) * 3) = 9)"),
        ("10 - 4 - 3 = 3", "(((10 - 4) - 3) = 3)"),
        ("2 * 3 % 4 = 2", "(((2 * 3) % 4) = 2)"),
        ("-2 * 3 = -6", "((-2 * 3) = -6)"),
        ("size + 1 > 2 * 3", "((size + 1) > (2 * 3))"),
    ],
)
def test_precedence(text: str, canonical: str) -> None:
    assert str(compile_where(text)) == canonical


def test_precedence_changes_results() -> None:
    assert ev("1 + 2 * 3 = 7") is True
    assert ev("(1 + 2) * 3 = 9") is True
    # AND binds tighter than OR: true OR (false AND false)
    assert ev("size = 1536 OR size = 0 AND size = 1") is True
    assert ev("(size = 1536 OR size = 0) AND size = 1") is False
    # NOT applies to the comparison, then AND
    assert ev("NOT size = 0 AND size = 1536") is True


@pytest.mark.parametrize(
    "text",
    [
        "size > 1 and size < 2000",
        "size > 1 And size < 2000",
        "SIZE > 1 AND Size < 2000",
        "ext ISONEOF {'.pdf'}",
        "not s3_acl_is_private",
        "s3_acl_is_public_read = TRUE",
        "name CONTAINS 'final'",
        "name Starts_With 'rep'",
        "name ENDS_WITH 'PDF'",
        "name MATCHES 'final'",
    ],
)
def test_keywords_and_names_are_case_insensitive(text: str) -> None:
    assert ev(text) is True


# ---- text tests ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("name contains 'FINAL'", True),
        ("name contains 'ab'", False),
        ("path contains '/'", True),
        ("s3_name starts_with 'h'", True),
        ("s3_name starts_with 'A'", False),
        ("s3_name ends_with '.jpg'", True),
        ("s3_name ends_with 'Z'", False),
        ("s3_path starts_with 'photos/2024/'", True),
        ("name contains ''", True),
        ("s3_name contains s3_ext", True),
        ("name ends_with ext", True),
    ],
)
def test_text_tests_are_case_insensitive(text: str, expected: bool) -> None:
    assert ev(text) is expected


def test_quotes_inside_text() -> None:
    tokens = tokenize("'it''s' '' ''''")
    assert [t.value for t in tokens if t.kind is Kind.TEXT] == ["it's", "", "'"]
    assert ev("s3_meta('owner') <> 'O''Brien'") is True


# ---- isoneof / isnotoneof -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ext isoneof {'.jpg', '.png'}", False),
        ("ext isoneof {'.jpg', '.PDF'}", True),
        ("s3_ext isoneof {'.jpg','.png'}", True),
        ("ext isnotoneof {'.jpg', '.png'}", True),
        ("name isoneof {'*.css', '*.ini'}", False),
        ("name isoneof {'*.css'; '*.pdf'}", True),
        ("name isoneof {'report*'}", True),
        ("name isoneof {'?eport.*.pdf'}", True),
        ("name isoneof {'?report*'}", False),
        ("name isoneof {'*'}", True),
        ("name isoneof {'report'}", False),  # whole-text match
        ("name isnotoneof {'*.css','*.ini'}", True),
        ("s3_path isoneof {'photos/*/holiday.*'}", True),
        ("day isoneof {1,2,3,4,5,6,7,8}", False),
        ("s3_day isoneof {1,2,3,4,5,6,7,8,9,10}", True),
        ("month isoneof {1;3;7;12}", True),
        ("day isnotoneof {1,2,3,4,5,6,7,8}", True),
        ("size_kb isoneof {1.5, 2}", True),
        ("size isoneof {1.5KB}", True),
        ("size - 1537 isoneof {-1, -2}", True),
        ("s3_acl_is_private isoneof {false}", True),
        ("s3_mtime isoneof {'2024-06-09', '2024-06-10'}", True),
        ("s3_mtime isnotoneof {'2024-06-09', '2024-06-10 08:30'}", False),
    ],
)
def test_isoneof(text: str, expected: bool) -> None:
    assert ev(text) is expected


def test_wildcards_are_literal_outside_lists() -> None:
    assert ev("name = '*.pdf'") is False
    assert ev("name contains '*'") is False


# ---- numbers and sizes --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("literal", "value"),
    [
        ("10", 10),
        ("1.5", "3/2"),
        ("1b", 1),
        ("1KB", 1024),
        ("1kb", 1024),
        ("1Kb", 1024),
        ("10MB", 10 * 1024**2),
        ("2GB", 2 * 1024**3),
        ("1TB", 1024**4),
        ("1KiB", 1024),
        ("1.5GiB", 1610612736),
        ("3mib", 3 * 1024**2),
        ("1TiB", 1024**4),
        ("0.5KB", 512),
        ("1.3KB", "6656/5"),
    ],
)
def test_number_literals_and_size_units(literal: str, value: int | str) -> None:
    from fractions import Fraction

    token = tokenize(literal)[0]
    assert token.kind is Kind.NUMBER
    assert token.value == (Fraction(value) if isinstance(value, str) else value)


def test_sizes_compare_with_suffixes() -> None:
    assert ev("s3_size > 3MB AND s3_size < 4MB") is True
    assert ev("s3_size = 3.5MiB") is True
    assert ev("s3_size_mb = 3.5") is True
    assert ev("s3_sizemb >= 20 AND s3_sizemb <= 30") is False


# ---- dates --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("s3_mtime = '2024-06-10'", True),  # a date-only literal is the whole day
        ("s3_mtime <> '2024-06-10'", False),
        ("s3_mtime > '2024-06-10'", False),  # after the whole day
        ("s3_mtime >= '2024-06-10'", True),
        ("s3_mtime < '2024-06-11'", True),
        ("s3_mtime <= '2024-06-10'", True),
        ("s3_mtime < '2024-06-10'", False),
        ("s3_mtime > '2024-06-09'", True),
        ("s3_mtime = '2024/6/10'", True),
        ("s3_mtime = '2024-06-10 08:30'", True),  # minute precision
        ("s3_mtime = '2024-06-10 08:31'", False),
        ("s3_mtime = '2024-06-10 08:30:45'", True),
        ("s3_mtime = '2024-06-10T08:30:45'", True),
        ("s3_mtime = '2024-06-10 08:30:46'", False),
        ("s3_mtime > '2024-06-10 08:30:44'", True),
        ("s3_mtime = '2024-06-10 10:30:45+02:00'", True),  # an explicit offset
        ("s3_mtime = '2024-06-10 08:30:45Z'", True),
        ("s3_mtime = '2024-06-10 03:30:45 -0500'", True),
        ("'2024-06-01' < s3_mtime", True),  # literal on the left
        ("'2024-06-10' = s3_mtime", True),
        ("'2024-06-10' > s3_mtime", False),
        ("mtime < '2024-01-01'", True),
        ("mtime >= '2023-12-31 23:59'", True),
    ],
)
def test_dates(text: str, expected: bool) -> None:
    assert ev(text) is expected


def test_a_date_literal_is_typed_as_a_date_at_parse_time() -> None:
    tree = compile_where("s3_mtime > '2024-01-31'").tree
    assert type(tree).__name__ == "Compare"
    assert type(tree.right).__name__ == "DateConst"  # type: ignore[union-attr]
    # the same text next to a text variable stays text
    assert type(compile_where("s3_name > '2024-01-31'").tree.right).__name__ == "Const"  # type: ignore[union-attr]


# ---- booleans as conditions ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("true", True),
        ("false", False),
        ("s3_is_latest", True),
        ("NOT s3_is_delete_marker", True),
        ("s3_client_encrypted AND s3_acl_is_public_read", True),
        ("(size > 1) = true", True),
        ("(size > 1) <> (size > 2)", False),
    ],
)
def test_booleans(text: str, expected: bool) -> None:
    assert ev(text) is expected
