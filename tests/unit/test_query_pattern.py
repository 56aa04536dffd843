"""`matches`: the linear-time regular-expression engine, its time bound, and agreement with Python's `re`."""

from __future__ import annotations

import re
import threading
import time
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from s3safe.query import QueryEvaluationError, compile_where
from s3safe.query.pattern import MAX_PROGRAM, Pattern, PatternError, PatternTimeout
from tests.unit.test_query_support import LOCAL, ev, subject

# ---- features ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "text", "expected"),
    [
        ("final", "Report.Final.PDF", True),  # unanchored search, case-insensitive
        ("(?-i)final", "Report.Final.PDF", False),  # (?-i): case-sensitive
        ("(?-i)Final", "Report.Final.PDF", True),
        ("(?i)FINAL", "Report.Final.PDF", True),
        ("^report", "Report.Final.PDF", True),
        ("^final", "Report.Final.PDF", False),
        ("pdf$", "Report.Final.PDF", True),
        (r"\Areport.*pdf\Z", "Report.Final.PDF", True),
        (r"\.pdf$", "report.pdf.bak", False),
        ("r.p", "rep", True),
        (".", "\n", True),  # '.' matches any character
        ("a|b", "xbx", True),
        ("^(ab|cd)+$", "abcdab", True),
        ("^(ab|cd)+$", "abca", False),
        ("^(?:x)?y$", "y", True),
        ("^(?P<year>\\d{4})-", "2024-01", True),
        ("^(?<year>\\d{4})-", "2024-01", True),
        ("colou?r", "COLOR", True),
        ("^a*$", "", True),
        ("^a+$", "", False),
        ("^a{3}$", "aaa", True),
        ("^a{3}$", "aaaa", False),
        ("^a{2,}$", "aaaaa", True),
        ("^a{2,3}$", "aaaa", False),
        ("^a{,2}$", "aa", True),
        ("^a{,2}$", "aaa", False),
        ("^a*?b+?$", "aab", True),  # lazy quantifiers: same language
        ("a{x}", "a{x}", True),  # not a quantifier: literal braces, as in Python
        ("[abc]+", "xxbxx", True),
        ("^[^abc]+$", "xyz", True),
        ("^[^abc]+$", "xaz", False),
        ("^[a-f0-9]{32}$", "0123456789ABCDEF0123456789abcdef", True),
        ("[]a]", "]", True),
        ("[a-]", "-", True),
        ("[\\d_]", "_", True),
        ("[\\]]", "]", True),
        ("\\d\\d", "a12", True),
        ("^\\D+$", "abc", True),
        ("\\w+@\\w+", "me@host", True),
        ("^\\W$", "-", True),
        ("\\s", "a b", True),
        ("^\\S+$", "a b", False),
        ("\\bfoo\\b", "a foo b", True),
        ("\\bfoo\\b", "afoob", False),
        ("\\Bfoo\\B", "afoob", True),
        ("\\t", "a\tb", True),
        ("\\x41", "a", True),
        ("\\u00e9", "É", True),
        ("\\.", "a.b", True),
        ("\\$", "a$", True),
        ("é", "CAFÉ", True),
        ("", "anything", True),
    ],
)
def test_pattern_features(pattern: str, text: str, expected: bool) -> None:
    assert Pattern(pattern).search(text) is expected


@pytest.mark.parametrize(
    ("pattern", "message"),
    [
        ("(a", "missing ')'"),
        ("a)", "unbalanced ')'"),
        ("*a", "nothing to repeat"),
        ("{2}", "nothing to repeat"),
        ("^*", "nothing to repeat"),
        ("a**", "multiple repeat"),
        ("a{2}{3}", "multiple repeat"),
        ("a++", "possessive quantifiers are not supported"),
        ("(a)\\1", "backreferences are not supported"),
        ("(?P<n>a)(?P=n)", "backreferences are not supported"),
        ("(?=a)", "lookahead and lookbehind are not supported"),
        ("(?!a)", "lookahead and lookbehind are not supported"),
        ("(?<=a)b", "lookahead and lookbehind are not supported"),
        ("(?<!a)b", "lookahead and lookbehind are not supported"),
        ("(?s)a", "unsupported group syntax"),
        ("(?P<1>a)", "bad group name"),
        ("[a", "unterminated character set"),
        ("[z-a]", "bad character range"),
        ("a{3,2}", "min repeat greater than max repeat"),
        ("a{99999}", "repeat count too large"),
        ("\\q", "bad escape \\q"),
        ("\\x4", "bad escape \\x4"),
        ("a\\", "bad escape (end of pattern)"),
        ("(" * 60 + ")" * 60, "too many nested groups"),
        ("(a{100}){100}", "regular expression too large"),
        ("x" * (MAX_PROGRAM + 1), "regular expression too large"),
    ],
)
def test_unsupported_or_invalid_patterns(pattern: str, message: str) -> None:
    with pytest.raises(PatternError) as info:
        Pattern(pattern)
    assert info.value.message.startswith(message)


# ---- the time bound ----------------------------------------------------------------------------------

PATHOLOGICAL = ["(a+)+$", "(a|a)*$", "(a|aa)+$", "(a*)*b", "(.*a){12}$", "(\\w+\\s?)+$", "^(a?){30}a{30}$", "(x+x+)+y"]


@pytest.mark.parametrize("pattern", PATHOLOGICAL)
def test_catastrophic_patterns_run_in_linear_time(pattern: str) -> None:
    # Python's re would take years on several of these (exponential backtracking)
    text = "a" * 20_000 + "!"
    start = time.monotonic()
    result = Pattern(pattern).search(text, deadline=time.monotonic() + 5)
    assert time.monotonic() - start < 2.0
    assert isinstance(result, bool)


def test_catastrophic_pattern_through_the_language() -> None:
    c = compile_where("name matches '(a+)+$'", scope="local")
    long_name = subject(local=replace(LOCAL, path="dir/" + "a" * 50_000 + "b"), s3=None)
    start = time.monotonic()
    assert c.evaluate(long_name) is False
    assert time.monotonic() - start < 2.0


def test_past_the_deadline_the_match_raises() -> None:
    with pytest.raises(PatternTimeout):
        Pattern("(a+)+$").search("a" * 10_000, deadline=time.monotonic() - 1)
    c = compile_where("name matches '(a+)+$'", scope="local", regex_timeout=0.0)
    long_name = subject(local=replace(LOCAL, path="a" * 10_000), s3=None)
    with pytest.raises(QueryEvaluationError) as info:
        c.evaluate(long_name)
    assert "regular expression took longer than 0 s" in info.value.message
    assert info.value.pointer[1] == "^" * len("name matches '(a+)+$'")


def test_short_texts_never_time_out() -> None:
    # the deadline is checked every 256 characters: short texts finish first
    assert Pattern("a").search("a" * 10, deadline=time.monotonic() - 1) is True


def test_cache_stays_bounded_and_results_stay_right() -> None:
    pattern = Pattern("^(a|b)*a(a|b){8}$")  # a DFA with ~2^9 states
    for n in range(3000):
        text = format(n, "b").replace("0", "a").replace("1", "b")
        expected = re.search("^(a|b)*a(a|b){8}$", text) is not None
        assert pattern.search(text) is expected
    assert len(pattern._states) <= 4096 + 10


def test_one_pattern_shared_between_threads() -> None:
    pattern = Pattern("^(a|b)*a(a|b){6}$")
    texts = [format(n, "b").replace("0", "a").replace("1", "b") for n in range(2000)]
    expected = [re.search("^(a|b)*a(a|b){6}$", t) is not None for t in texts]
    failures: list[int] = []

    def work() -> None:
        for i, t in enumerate(texts):
            if pattern.search(t) is not expected[i]:
                failures.append(i)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []


# ---- agreement with Python's re on random patterns --------------------------------------------------

_atoms = st.sampled_from(["a", "b", "A", ".", "[ab]", "[^a]", "\\w", "\\d", "(a|b)", "(?:ab)", "x", "\\b", "^", "$"])


@st.composite
def _regex(draw: st.DrawFn, depth: int = 0) -> str:
    parts = []
    for _ in range(draw(st.integers(1, 4))):
        if depth < 2 and draw(st.booleans()):
            inner = draw(_regex(depth + 1))
            alt = draw(_regex(depth + 1)) if draw(st.booleans()) else None
            atom = f"({inner}|{alt})" if alt is not None else f"({inner})"
        else:
            atom = draw(_atoms)
        if atom not in ("^", "$", "\\b"):
            atom += draw(st.sampled_from(["", "", "*", "+", "?", "{2}", "{1,3}", "{,2}", "*?"]))
        parts.append(atom)
    return "".join(parts)


@settings(max_examples=300, deadline=None)
@given(pattern=_regex(), texts=st.lists(st.text(alphabet="abAB1 x_-", max_size=12), min_size=1, max_size=5))
def test_agrees_with_python_re(pattern: str, texts: list[str]) -> None:
    ours = Pattern(pattern)
    theirs = re.compile(pattern, re.IGNORECASE | re.DOTALL)
    for text in texts:
        assert ours.search(text) is (theirs.search(text) is not None), (pattern, text)


def test_matches_in_conditions() -> None:
    assert ev("name matches '^report\\.'") is True
    assert ev("s3_path matches '^photos/\\d{4}/'") is True
    assert ev("s3_etag matches '^[0-9a-f]{32}$'") is True
    assert ev("s3_etag matches '-\\d+$'") is False
    assert ev("NOT name matches 'x'") is True
    assert ev("s3_meta('owner') matches '^al'") is True
