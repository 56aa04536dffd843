"""Errors: one line saying what is wrong, the expression, a caret under the offending token, suggestions."""

from __future__ import annotations

import pytest

from s3safe.core.errors import EXIT_USAGE, UsageError, exit_code_for
from s3safe.query import QueryError, compile_where
from s3safe.query.errors import caret_lines
from s3safe.query.parser import MAX_DEPTH, MAX_NESTING
from s3safe.query.tokens import MAX_LENGTH


def error(text: str, scope: str = "any") -> QueryError:
    with pytest.raises(QueryError) as info:
        compile_where(text, scope=scope)  # type: ignore[arg-type]
    return info.value


def test_error_is_a_usage_error_with_three_lines() -> None:
    err = error("sizmb > 5")
    assert isinstance(err, UsageError)
    assert exit_code_for(err) == EXIT_USAGE == 2
    assert str(err) == "unknown variable 'sizmb' (did you mean 'sizemb'?)\n  sizmb > 5\n  ^^^^^"
    assert err.summary == "unknown variable 'sizmb' (did you mean 'sizemb'?)"
    assert err.pointer == ("sizmb > 5", "^^^^^")
    assert (err.position, err.end, err.expression) == (0, 5, "sizmb > 5")
    assert err.to_dict()["hint"] == "did you mean 'sizemb'?"


@pytest.mark.parametrize(
    ("text", "message", "caret"),
    [
        # unknown names, with suggestions
        (
            "s3_size_mb > 1 AND s3_agedayz > 3",
            "unknown variable 's3_agedayz' (did you mean 's3_agedays'?)",
            "                   ^^^^^^^^^^",
        ),
        ("size_mbb > 1", "unknown variable 'size_mbb' (did you mean 'size_mb'?)", "^^^^^^^^"),
        ("s3_metta('x') = 'y'", "unknown function 's3_metta' (did you mean 's3_meta'?)", "^^^^^^^^"),
        ("xyzzy = 1", "unknown variable 'xyzzy' (see 'Variables' in the README)", "^^^^^"),
        (
            "size > 5 ANDD size < 9",
            "unexpected 'ANDD': expected AND, OR or the end of the condition (did you mean 'AND'?)",
            "         ^^^^",
        ),
        (
            "ext isoneoff {'.jpg'}",
            "unexpected 'isoneoff': expected AND, OR or the end of the condition (did you mean 'isoneof'?)",
            "    ^^^^^^^^",
        ),
        (
            "name startswith 'a'",
            "unexpected 'startswith': expected AND, OR or the end of the condition (did you mean 'starts_with'?)",
            "     ^^^^^^^^^^",
        ),
        # syntax
        ("size >", "the condition ends too early: expected a value, a variable or '('", "      ^"),
        ("size > 5 AND", "the condition ends too early: expected a value, a variable or '('", "            ^"),
        ("(size > 5", "the condition ends too early: expected ')' to close the '(' at character 1", "         ^"),
        ("size > 5)", "unexpected ')': there is no '(' to close", "        ^"),
        ("size > > 5", "unexpected '>': expected a value, a variable or '('", "       ^"),
        ("name = 'abc", "text is not closed (end it with a single quote; write '' for a quote inside text)", "       ^"),
        ('name = "abc"', "unexpected '\"' (text is written in single quotes: 'like this')", "       ^"),
        ("size == 5", "unexpected '==' (use = to compare)", "     ^^"),
        ("size > 1 && size < 5", "unexpected '&&' (use AND)", "         ^^"),
        ("size > 1 || size < 5", "unexpected '||' (use OR)", "         ^^"),
        ("size > 1 # x", "unexpected character '#'", "         ^"),
        (
            "size > 10 MB",
            "unexpected 'MB': expected AND, OR or the end of the condition (write size units right after the number, without a space: 10MB)",
            "          ^^",
        ),
        ("size > 10XB", "unknown size unit 'XB' (use B, KB, MB, GB, TB (1024-based) or KiB, MiB, GiB, TiB)", "         ^^"),
        ("size > 10MBB", "unknown size unit 'MBB' (did you mean 'MB'?)", "         ^^^"),
        (
            "1 < size < 5",
            "comparisons do not chain: unexpected '<' (combine comparisons with AND, e.g. size > 1 AND size < 5)",
            "         ^",
        ),
        ("ext isoneof {}", "the list is empty or ends with a separator (e.g. {'.jpg', '.png'})", "             ^"),
        ("ext isoneof {'.a',}", "the list is empty or ends with a separator (e.g. {'.jpg', '.png'})", "                  ^"),
        ("ext isoneof ('.a')", "unexpected '(': expected '{' and a list of values, e.g. {'.jpg', '.png'}", "            ^"),
        (
            "ext isoneof {name}",
            "unexpected 'name': expected a number, 'text', true or false (lists hold literal values)",
            "             ^^^^",
        ),
        ("s3_meta = 'x'", "'s3_meta' needs a name in parentheses: s3_meta('name')", "^^^^^^^"),
        ("s3_meta(owner) = 'x'", "unexpected 'owner': expected a name in single quotes: s3_meta('name')", "        ^^^^^"),
        ("s3_meta('') = 'x'", "s3_meta() needs a non-empty name", "        ^^"),
        ("size('x') = 1", "'size' is a variable, not a function", "    ^"),
        ("", "the condition is empty (e.g. s3_size_mb > 100 AND s3_age_days > 30)", "^"),
        ("   ", "the condition is empty (e.g. s3_size_mb > 100 AND s3_age_days > 30)", "   ^"),
        ("name matches 'a(b'", "invalid regular expression: missing ')'", "               ^"),
        ("name matches 'a**'", "invalid regular expression: multiple repeat", "                ^"),
        ("name matches '(?=x)'", "invalid regular expression: lookahead and lookbehind are not supported", "              ^"),
        ("name matches '(a)\\1'", "invalid regular expression: backreferences are not supported", "                 ^"),
        ("name matches 'it''s('", "invalid regular expression: missing ')'", "             ^^^^^^^^"),
        (
            "name matches name",
            "unexpected 'name': expected a regular expression in single quotes, e.g. '^logs/.*\\.gz$'",
            "             ^^^^",
        ),
        # types
        (
            "name = 5",
            "cannot compare text with a number: name is text, 5 is a number (write text in single quotes: '5')",
            "       ^",
        ),
        (
            "size = '5'",
            "cannot compare a number with text: size is a number, '5' is text (write numbers without quotes)",
            "       ^^^",
        ),
        ("size = name", "cannot compare a number with text: size is a number, name is text", "       ^^^^"),
        (
            "s3_is_latest = 1",
            "cannot compare true/false with a number: s3_is_latest is true/false, 1 is a number (true/false values compare only with true or false)",
            "               ^",
        ),
        ("s3_is_latest < true", "true/false values compare only with = or <>, not <", "               ^^^^"),
        (
            "mtime > 'yesterday'",
            "'yesterday' is not a date (write dates as 'YYYY-MM-DD', 'YYYY-MM-DD HH:MM' or 'YYYY-MM-DD HH:MM:SS' (optionally with Z or +HH:MM))",
            "        ^^^^^^^^^^^",
        ),
        (
            "mtime = '2024-02-30'",
            "'2024-02-30' is not a date (write dates as 'YYYY-MM-DD', 'YYYY-MM-DD HH:MM' or 'YYYY-MM-DD HH:MM:SS' (optionally with Z or +HH:MM))",
            "        ^^^^^^^^^^^^",
        ),
        ("mtime > 5", "cannot compare a date with a number: mtime is a date, 5 is a number", "        ^"),
        ("mtime = name", "cannot compare a date with text: mtime is a date, name is text", "        ^^^^"),
        (
            "mtime + 1 > 5",
            "'+' needs a number, but mtime is a date (dates do not take arithmetic; use age_days, age_hours or age_mins, or compare with a date)",
            "^^^^^",
        ),
        ("name + 1 = 5", "'+' needs a number, but name is text", "^^^^"),
        ("-name = 'x'", "'-' needs a number, but name is text", " ^^^^"),
        (
            "name contains 2024",
            "contains needs text, but 2024 is a number (write text in single quotes: '2024')",
            "              ^^^^",
        ),
        ("size starts_with '1'", "starts_with needs text, but size is a number", "^^^^"),
        ("size matches '1'", "matches needs text, but size is a number", "^^^^"),
        ("ext isoneof {1, 2}", "list item 1 is a number, but ext is text (write text in single quotes: '1')", "             ^"),
        ("size isoneof {'1'}", "list item '1' is text, but size is a number", "              ^^^"),
        (
            "mtime isoneof {'2024-13-01'}",
            "'2024-13-01' is not a date (write dates as 'YYYY-MM-DD', 'YYYY-MM-DD HH:MM' or 'YYYY-MM-DD HH:MM:SS' (optionally with Z or +HH:MM))",
            "               ^^^^^^^^^^^^",
        ),
        ("size", "a condition needs true/false, but size is a number (compare it with something, e.g. size = …)", "^^^^"),
        (
            "size + 1",
            "a condition needs true/false, but size + 1 is a number (compare it with something, e.g. size + 1 = …)",
            "^^^^^^^^",
        ),
        (
            "size > 1 AND size",
            "AND needs true/false, but size is a number (compare it with something, e.g. size = …)",
            "             ^^^^",
        ),
        ("name OR size > 1", "OR needs true/false, but name is text (compare it with something, e.g. name = …)", "^^^^"),
        ("NOT size", "NOT needs true/false, but size is a number (compare it with something, e.g. size = …)", "    ^^^^"),
    ],
)
def test_messages_and_carets(text: str, message: str, caret: str) -> None:
    err = error(text)
    assert err.summary == message
    shown, line = err.pointer
    assert line == caret, f"\n  {shown}\n  {line}\nwanted\n  {caret}"
    assert str(err) == f"{message}\n  {shown}\n  {caret}"


def test_long_expressions_are_windowed_around_the_error() -> None:
    text = "size > 1 AND " * 20 + "bogus = 1 AND " + "size > 1 AND " * 20 + "true"
    err = error(text)
    shown, caret = err.pointer
    assert shown.startswith("…") and shown.endswith("…")
    assert len(shown) < 120
    assert shown[caret.index("^") : caret.index("^") + 5] == "bogus"


def test_control_characters_are_shown_as_spaces_so_the_caret_lines_up() -> None:
    err = error("size > 1 AND\n\tbogus = 1")
    shown, caret = err.pointer
    assert shown == "size > 1 AND  bogus = 1"
    assert caret == "              ^^^^^"


def test_caret_lines_clamps_positions() -> None:
    assert caret_lines("abc", 10, 20) == ("abc", "   ^")
    assert caret_lines("", 0, 0) == ("", "^")


def test_limits_are_errors_not_crashes() -> None:
    too_nested = "(" * (MAX_NESTING + 1) + "size > 1" + ")" * (MAX_NESTING + 1)
    assert "nested too deeply" in error(too_nested).message
    assert "nested too deeply" in error("NOT " * 500 + "true").message
    assert "nested too deeply" in error("- " * 500 + "1 = 1").message
    assert "too complex" in error("1" + " + 1" * (MAX_DEPTH + 5) + " > 0").message
    assert "too long" in error("size > 1 AND " * (MAX_LENGTH // 10)).message
    assert "number too long" in error("size > " + "9" * 100).message
    # within the limits, nesting works
    assert compile_where("(" * 30 + "size > 1" + ")" * 30).evaluate is not None
    assert compile_where(" OR ".join(["size > 1"] * 1500)) is not None  # flat, not deep


def test_scope_is_checked() -> None:
    with pytest.raises(ValueError, match="scope"):
        compile_where("size > 1", scope="both")  # type: ignore[arg-type]
