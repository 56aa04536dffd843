"""exec scripts: word splitting, comments, variables, whole-script checks, stop/keep-going and the worst exit code."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from s3safe.core.errors import UsageError
from s3safe.ops.script import (
    ScriptError,
    ScriptLine,
    Variables,
    command_name,
    parse_script,
    run_script,
    split_line,
    worst_exit_code,
)

NOW = datetime(2026, 3, 1, 13, 45, 7, tzinfo=timezone(timedelta(hours=1)))
VARS = Variables(NOW, {"PREFIX": "nightly", "SPACED": "a b", "QUOTE": "it's"})


@pytest.mark.parametrize(
    ("line", "words"),
    [
        ("ls s3://b/x", ["ls", "s3://b/x"]),
        ("  put  'my file.txt'   s3://b/ ", ["put", "my file.txt", "s3://b/"]),
        ("ls --where \"s3_name = 'a b'\"", ["ls", "--where", "s3_name = 'a b'"]),
        ("ls s3://b/a#b  # a comment", ["ls", "s3://b/a#b"]),
        ("# whole line", []),
        ("ls '#not a comment'", ["ls", "#not a comment"]),
        (r"put C:\data\x.txt s3://b/", ["put", r"C:\data\x.txt", "s3://b/"]),
        ("ls ''", ["ls", ""]),
        ("ls a'b c'd", ["ls", "ab cd"]),
        ("", []),
    ],
)
def test_split_line(line: str, words: list[str]) -> None:
    assert split_line(line) == words


def test_unclosed_quote_is_refused() -> None:
    with pytest.raises(UsageError, match="unclosed ' quote"):
        split_line("ls 's3://b")


_plain = st.text(st.characters(blacklist_characters="'\"#", blacklist_categories=("Cs", "Zs", "Cc")), min_size=1, max_size=12)
_word = st.text(st.characters(blacklist_characters="'", blacklist_categories=("Cs",)), max_size=12)


@given(st.lists(_word, max_size=6))
def test_single_quoting_round_trips_any_words(words: list[str]) -> None:
    assert split_line(" ".join(f"'{w}'" for w in words)) == words


@given(st.lists(_plain, max_size=6))
def test_plain_words_split_on_blanks(words: list[str]) -> None:
    assert split_line(" \t".join(words)) == words


def test_variables_expand_inside_words_without_resplitting() -> None:
    assert VARS.expand("s3://b/%date%/") == "s3://b/2026-03-01/"
    assert VARS.expand("%TIME%") == "13-45-07"
    assert VARS.expand("%datetime%.log") == "2026-03-01_13-45-07.log"
    assert VARS.expand("s3://b/${PREFIX}/x") == "s3://b/nightly/x"
    assert VARS.expand("$${PREFIX}") == "${PREFIX}"
    assert VARS.expand("s3_size % 2 = 0 AND 100%") == "s3_size % 2 = 0 AND 100%"  # only the three names
    lines = parse_script("put ${SPACED} ${QUOTE} s3://b/%date%/\n", variables=VARS)
    assert lines[0].argv == ("put", "a b", "it's", "s3://b/2026-03-01/")


def test_unset_variable_is_an_error_never_an_empty_string() -> None:
    with pytest.raises(UsageError, match="MISSING is not set"):
        VARS.expand("rm -r s3://b/${MISSING}")
    with pytest.raises(UsageError, match="invalid variable name"):
        VARS.expand("${1x}")


def test_whole_script_is_checked_before_anything_runs() -> None:
    text = "ls s3://b\nls 'unclosed\n\n# fine\nrm s3://b/${NOPE}\nexec other.txt\n--json shell\n"
    with pytest.raises(ScriptError) as info:
        parse_script(text, variables=VARS, refuse={"exec", "shell"}, valued_options={"--profile"})
    assert [p.split(":")[0] for p in info.value.problems] == ["line 2", "line 5", "line 6", "line 7"]
    assert "cannot run inside a script" in info.value.problems[2]
    assert info.value.exit_code == 2


def test_parse_script_keeps_line_numbers_and_skips_comments_and_bom() -> None:
    lines = parse_script("\ufeff# header\n\nls s3://b   # list\r\n  mb s3://c\n", variables=VARS)
    assert [(line.number, line.argv) for line in lines] == [(3, ("ls", "s3://b")), (4, ("mb", "s3://c"))]
    assert lines[0].text == "ls s3://b   # list"


def test_command_name_skips_global_options_and_their_values() -> None:
    assert command_name(["--profile", "exec", "ls"], valued_options={"--profile"}) == "ls"
    assert command_name(["--json", "-v", "exec"], valued_options={"--profile"}) == "exec"
    assert command_name(["--json"], valued_options=()) is None


def _lines(n: int) -> list[ScriptLine]:
    return [ScriptLine(i, f"cmd {i}", ("cmd", str(i))) for i in range(1, n + 1)]


def test_run_stops_at_first_failure() -> None:
    codes = {1: 0, 2: 0, 3: 3, 4: 0, 5: 0}
    ran: list[int] = []
    report = run_script(_lines(5), lambda line: ran.append(line.number) or codes[line.number])
    assert ran == [1, 2, 3]
    assert report.exit_code == 3 and report.not_run == 2
    assert report.stopped_at is not None and report.stopped_at.line.number == 3
    assert report.to_dict()["failures"] == [{"line": 3, "command": "cmd 3", "exit_code": 3}]


def test_keep_going_runs_all_and_reports_the_worst() -> None:
    codes = {1: 5, 2: 0, 3: 3, 4: 7, 5: 0}
    report = run_script(_lines(5), lambda line: codes[line.number], keep_going=True)
    assert len(report.steps) == 5 and report.not_run == 0 and report.stopped_at is None
    assert report.exit_code == 7
    assert [s.line.number for s in report.failed] == [1, 3, 4]


def test_interrupt_stops_even_with_keep_going() -> None:
    def execute(line: ScriptLine) -> int:
        if line.number == 2:
            raise KeyboardInterrupt
        return 1

    report = run_script(_lines(4), execute, keep_going=True)
    assert report.interrupted and len(report.steps) == 2 and report.exit_code == 130


@given(st.lists(st.sampled_from([0, 1, 2, 3, 4, 5, 6, 7, 8, 130]), max_size=8))
def test_worst_exit_code_is_the_highest_and_130_wins(codes: list[int]) -> None:
    worst = worst_exit_code(codes)
    assert worst == (max(codes) if codes else 0)
    assert (worst == 130) == (130 in codes)
    assert (worst == 0) == all(code == 0 for code in codes)


def test_an_empty_variable_in_an_s3_url_is_an_error_unless_the_script_says_so() -> None:
    """`rm -r s3://b/${DIR}` with DIR set but empty would plan deleting the whole bucket (issue 14.9)."""
    variables = Variables(NOW, {"DIR": "", "BUCKET": "", "NAME": "x"})
    for word in ("s3://b/${DIR}", "s3://b/${DIR}/", "s3://${BUCKET}/a", "S3://b/${NAME}${DIR}"):
        with pytest.raises(UsageError, match=r"(DIR|BUCKET) is empty") as info:
            variables.expand(word)
        assert info.value.hint is not None and ":-}" in info.value.hint
    with pytest.raises(ScriptError) as script:
        parse_script("ls s3://b/\nrm -r s3://b/${DIR}\n", variables=variables)
    assert script.value.problems[0].startswith("line 2: environment variable DIR is empty")
    # the script says otherwise: an explicit empty default, or a default of its own
    assert variables.expand("s3://b/${DIR:-}") == "s3://b/"
    assert variables.expand("s3://b/${DIR:-tmp/}") == "s3://b/tmp/"
    assert variables.expand("s3://b/${UNSET:-tmp/}") == "s3://b/tmp/"
    assert variables.expand("s3://b/${NAME:-tmp/}") == "s3://b/x"
    # outside an S3 URL too: an empty local path is the current folder, an empty --where no filter
    for word in ("${DIR}", "./${DIR}", "--meta=k=${DIR}"):
        with pytest.raises(UsageError, match=r"DIR is empty in '"):
            variables.expand(word)
    assert variables.expand("--meta=k=${DIR:-}") == "--meta=k="
