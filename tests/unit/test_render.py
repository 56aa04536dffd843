"""What the user sees: sizes, JSON lines, plain tables, one-line errors, all redacted (DESIGN §3.4, §4)."""

from __future__ import annotations

import io
import json
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from s3safe.cli.render import Renderer, human_size
from s3safe.core.redact import MASK, register_secret

UNITS = {"B": 1, "KiB": 1024, "MiB": 1024**2, "GiB": 1024**3, "TiB": 1024**4}


def renderer(*, json_mode: bool = False, quiet: bool = False) -> tuple[Renderer, io.StringIO, io.StringIO]:
    out, err = io.StringIO(), io.StringIO()
    return Renderer(json_mode=json_mode, quiet=quiet, out=out, err=err), out, err


# --- human_size -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("size", "text"),
    [
        (0, "0 B"),
        (1, "1 B"),
        (1023, "1023 B"),
        (1024, "1.0 KiB"),
        (1536, "1.5 KiB"),
        (1024**2, "1.0 MiB"),
        (1024**2 - 1, "1.0 MiB"),  # 1023.999 KiB rounds to 1024.0 KiB: show it as the next unit
        (1024**3 - 1, "1.0 GiB"),
        (1024**4, "1.0 TiB"),
        (5 * 1024**4, "5.0 TiB"),
        (2048 * 1024**4, "2048.0 TiB"),  # TiB is the largest unit
    ],
)
def test_human_size_examples(size: int, text: str) -> None:
    assert human_size(size) == text


@settings(max_examples=500, deadline=None)
@given(st.integers(0, 4096 * 1024**4) | st.sampled_from([1024**k + d for k in range(1, 5) for d in (-1, 0, 1)]))
def test_human_size_is_close_and_uses_the_largest_fitting_unit(size: int) -> None:
    text = human_size(size)
    match = re.fullmatch(r"(\d+(?:\.\d)?) (B|KiB|MiB|GiB|TiB)", text)
    assert match, text
    number, unit = float(match.group(1)), match.group(2)
    if unit == "B":
        assert number == size and size < 1024
        return
    assert "." in match.group(1)
    factor = UNITS[unit]
    # one decimal: the shown number is within half a tenth of the true value
    assert abs(number * factor - size) <= 0.05 * factor + 1e-6 * size
    if unit != "TiB":
        assert number < 1024, f"{size} shown as {text}: should use the next unit"
    assert number >= 1.0


# --- JSON lines -------------------------------------------------------------------------------------


def test_json_record_is_one_object_per_line() -> None:
    r, out, err = renderer(json_mode=True)
    first = {"type": "object", "key": "a\nb", "size": 3, "name": "ü€😀"}
    second = {"type": "object", "key": "c", "size": None}
    r.record(first, "ignored text")
    r.record(second, None)
    lines = out.getvalue().splitlines()
    assert len(lines) == 2
    assert [json.loads(line) for line in lines] == [first, second]
    assert err.getvalue() == ""


def test_json_info_writes_only_data() -> None:
    r, out, _ = renderer(json_mode=True)
    r.info("narrative only")
    assert out.getvalue() == ""
    r.info("narrative", data={"type": "summary", "count": 2})
    assert [json.loads(line) for line in out.getvalue().splitlines()] == [{"type": "summary", "count": 2}]


json_text = st.lists(
    st.sampled_from(
        ['"', "\\", "'", "\n", " ", "=", ":", "}", "{", ",", "&", "password=", "passphrase: ", "X-Amz-Signature=",
         "SSECustomerKey", "Credential=", "abc", "é", "\u2028", "0123456789abcdef0123"]
    ),
    max_size=12,
).map("".join)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(st.lists(st.dictionaries(st.sampled_from(["type", "key", "message", "detail"]), json_text, max_size=4), max_size=4))
def test_json_mode_always_writes_valid_json_lines(records: list[dict[str, str]]) -> None:
    r, out, _ = renderer(json_mode=True)
    for data in records:
        r.record(data, None)
    lines = out.getvalue().split("\n")
    assert lines[-1] == ""
    assert len(lines) - 1 == len(records)
    for line in lines[:-1]:
        assert isinstance(json.loads(line), dict)


def test_json_record_of_a_quoted_password_stays_valid_json_and_hides_it() -> None:
    r, out, _ = renderer(json_mode=True)
    r.record({"type": "error", "message": 'config line password="hunter2-hunter2" is not allowed'}, None)
    data = json.loads(out.getvalue())
    assert "hunter2" not in data["message"]


@pytest.mark.parametrize("secret", ["plain-secret-value", 'with"quote', "with\\backslash", "with\nnewline", "tab\there"])
def test_json_record_hides_registered_secrets_whatever_their_characters(secret: str) -> None:
    register_secret(secret)
    r, out, _ = renderer(json_mode=True)
    r.record({"type": "x", "message": f"using {secret} now"}, None)
    data = json.loads(out.getvalue())
    assert secret not in data["message"]
    assert MASK in data["message"]


def test_text_record_is_redacted() -> None:
    secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
    register_secret(secret)
    r, out, _ = renderer()
    r.record({"k": secret}, f"key {secret}")
    r.info(f"info {secret}")
    assert secret not in out.getvalue()
    assert out.getvalue().count(MASK) == 2


def test_quiet_hides_narrative_but_not_results() -> None:
    r, out, _ = renderer(quiet=True)
    r.info("narrative")
    r.record({}, "result line")
    r.record({}, None)
    assert out.getvalue() == "result line\n"


# --- plain tables -----------------------------------------------------------------------------------


def test_plain_table_columns_line_up_when_not_a_tty() -> None:
    r, out, _ = renderer()
    assert not r.fancy
    rows = [["a", "1", "x"], ["a-much-longer-name", "123456", "y"], ["mid", "", "zz"]]
    r.table(["NAME", "SIZE", "CLASS"], rows, title="listing")
    lines = out.getvalue().splitlines()
    assert lines[0] == "listing"
    header, *body = lines[1:]
    assert len(body) == 3
    name_width = len("a-much-longer-name")
    size_width = len("123456")
    size_col = name_width + 2
    class_col = size_col + size_width + 2
    for line, row in zip([header, *body], [["NAME", "SIZE", "CLASS"], *rows], strict=True):
        assert line[:size_col].rstrip() == row[0]
        assert line[size_col:class_col].rstrip() == row[1]
        assert line[class_col:] == row[2]
        assert line == line.rstrip()


def test_plain_table_widths_follow_redaction() -> None:
    secret = "a-long-registered-secret-value"
    register_secret(secret)
    r, out, _ = renderer()
    r.table(["K", "V"], [[secret, "1"], ["b", "2"]])
    lines = out.getvalue().splitlines()
    assert secret not in out.getvalue()
    assert lines[1] == f"{MASK}  1"
    assert lines[2] == "b     2"


def test_quiet_table_has_no_title() -> None:
    r, out, _ = renderer(quiet=True)
    r.table(["A"], [["1"]], title="title")
    assert out.getvalue().splitlines() == ["A", "1"]


def test_no_color_is_never_fancy(monkeypatch: pytest.MonkeyPatch) -> None:
    class FakeTty(io.StringIO):
        def isatty(self) -> bool:
            return True

    r = Renderer(json_mode=False, quiet=False, out=FakeTty())
    monkeypatch.setenv("NO_COLOR", "1")
    assert not r.fancy
    monkeypatch.delenv("NO_COLOR")
    monkeypatch.setenv("TERM", "xterm")
    assert r.fancy
    assert not Renderer(json_mode=True, quiet=False, out=FakeTty()).fancy


# --- stderr -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("message", ["first\nsecond", "a\r\nb", "tabs\tand  spaces", "trailing\n", "x\u2028y", "\n\nleading"])
def test_error_is_one_line(message: str) -> None:
    r, out, err = renderer()
    r.error(message, code=2)
    text = err.getvalue()
    assert text.startswith("s3safe: error: ")
    assert text.endswith("\n")
    assert len(text.splitlines()) == 1
    assert out.getvalue() == ""


@pytest.mark.parametrize("message", ["first\nsecond", 'quote " and \\ backslash'])
def test_json_error_is_one_object_with_the_exit_code(message: str) -> None:
    r, out, err = renderer(json_mode=True)
    r.error(message, code=4)
    lines = err.getvalue().splitlines()
    assert len(lines) == 1
    data = json.loads(lines[0])
    assert data["type"] == "error" and data["exit_code"] == 4
    assert "\n" not in data["message"]
    assert data["message"].split() == message.split()
    assert out.getvalue() == ""


@pytest.mark.parametrize("json_mode", [False, True])
def test_error_and_warning_redact_secrets(json_mode: bool) -> None:
    secret = "my-passphrase-is-long"
    register_secret(secret)
    r, _, err = renderer(json_mode=json_mode)
    r.error(f"cannot decrypt with {secret}\nsecond line", code=6)
    r.warn(f"careful with {secret}")
    r.error("GET https://b/k?X-Amz-Signature=" + "f" * 64, code=1)
    text = err.getvalue()
    assert secret not in text
    assert "f" * 64 not in text
    assert len(text.splitlines()) == 3


def test_json_warning() -> None:
    r, _, err = renderer(json_mode=True)
    r.warn("plain HTTP in use")
    assert json.loads(err.getvalue()) == {"type": "warning", "message": "plain HTTP in use"}


# --- hostile names cannot drive the terminal (issue 14.8) -------------------------------------------

HOSTILE = [
    "t/title\x1b]0;pwned\x07.txt",  # OSC 0: set the window title
    "t/clip\x1b]52;c;ZWNobyBwd25lZA==\x07",  # OSC 52: write the clipboard
    "t/clear\x1b[2J\x1b[1;1H",  # CSI: clear the screen, home the cursor
    "t/c1\x9b2J",  # the 8-bit CSI
    "t/bidi\u202etxt.exe",  # right-to-left override: shows exe.txt
    "t/new\nline s3safe: all good",
]
RAW = ("\x1b", "\x07", "\x9b", "\u202e")


def _shown(text: str) -> bool:
    return not any(c in text for c in RAW) and "\nline" not in text


@pytest.mark.parametrize("key", HOSTILE)
def test_a_table_title_is_escaped(key: str) -> None:
    """`meta get` titles its table with the key."""
    r, out, _ = renderer()
    r.table(["field", "value"], [["size", "1"]], title=f"s3://b/{key}")
    assert _shown(out.getvalue()), repr(out.getvalue())
    assert len(out.getvalue().splitlines()) == 3


@pytest.mark.parametrize("key", HOSTILE)
def test_lines_to_either_stream_are_escaped_and_redacted(key: str) -> None:
    register_secret("sekrit-passphrase")
    r, out, err = renderer()
    r.line(f"FAILED upload {key}: sekrit-passphrase", err=True)
    r.line(f"upload {key}")
    for stream in (out, err):
        assert _shown(stream.getvalue()) and len(stream.getvalue().splitlines()) == 1, repr(stream.getvalue())
    assert "sekrit" not in err.getvalue() and MASK in err.getvalue()


@pytest.mark.parametrize("key", HOSTILE)
def test_json_lines_are_inert_and_still_give_the_key_back(key: str) -> None:
    r, out, _ = renderer(json_mode=True)
    r.record({"type": "object", "key": key}, None)
    r.reveal_json({"url": key})
    lines = out.getvalue().splitlines()
    assert len(lines) == 2 and all(_shown(line) for line in lines), lines
    assert json.loads(lines[0])["key"] == key and json.loads(lines[1])["url"] == key


def test_a_fancy_table_shows_markup_in_a_key_as_text() -> None:
    """rich would read '[link=…]' in a key as markup and emit an OSC 8 hyperlink to a terminal."""

    class FakeTty(io.StringIO):
        def isatty(self) -> bool:
            return True

    out = FakeTty()
    r = Renderer(json_mode=False, quiet=False, out=out)
    key = "[link=https://evil.example]report[/link][bold]x[/bold]"
    r.table(["key"], [[key]], title=key)
    text = re.sub(r"\s+", "", out.getvalue())
    assert text.count("[link=https://evil.example]report[/link][bold]x[/bold]") == 2, out.getvalue()


def test_debug_log_lines_are_escaped() -> None:
    import logging

    r, _, err = renderer()
    handler = r.log_handler("%(message)s")
    logger = logging.getLogger("s3safe.test.render")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.warning("response body: <Key>t/title\x1b]0;pwned\x07</Key>")
    finally:
        logger.removeHandler(handler)
    assert "\x1b" not in err.getvalue() and "\\x1b]0;pwned" in err.getvalue()


def test_a_tab_in_a_name_is_escaped_so_it_cannot_fake_a_column() -> None:
    """Found by an outside tester: `ls` printed a key's TAB raw, so `cut -f2` saw a column the key made up."""
    from s3safe.cli.render import clean

    assert clean("s3://b/tab\tq") == "s3://b/tab\\x09q"
