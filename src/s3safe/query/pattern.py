"""Regular expressions for `matches`, run by RE2 (google-re2): linear time in the text, no backtracking.

Python's `re` backtracks: `(a+)+$` against 'aaaa…b' takes exponential time, and a match running inside C
code cannot be interrupted. RE2 guarantees time linear in the text whatever the pattern, and its compiled
program is capped (MAX_MEM). This module checks the language's documented syntax (a subset of Python's)
itself, so errors keep their wording and caret, and translates it into RE2 syntax where the two differ:

- `\\d \\w \\s` (and `\\D \\W \\S`) are Unicode classes as in Python (`str.isdecimal`, `isalnum() or '_'`,
  `isspace`); RE2's own are ASCII only, so they become `\\p{Nd}`, `[\\p{L}\\p{N}_]` and
  `[\\t\\n\\v\\f\\r\\x1c-\\x1f\\x85\\p{Z}]`. They agree with Python on every character Python's Unicode
  database knows; RE2's tables may be newer and also classify characters assigned since.
- `\\b \\B` are Unicode word boundaries as in Python; RE2's are ASCII only and RE2 has no lookaround, so
  a pattern using them runs on a marked copy of the text: each position between characters carries K marker
  characters (noncharacters U+FDD0…) that say whether it is a start, an end and a word boundary; each
  anchor consumes one marker and each character-matching item skips the markers before it. K is the number
  of anchors that can apply at one position (at most MAX_ANCHORS), so the text grows K+1 times, still linearly.
- `\\Z` is RE2's `\\z`; `^ $` are the start/end of the whole text; `.` matches any character (`(?s)`).
- A negated class inside a negated set (`[^\\W\\d]`) is an intersection, which RE2 lacks: it is worked out
  here on the disjoint pieces of the classes; a member that cuts into a category (`[^\\W5]`) is refused.
- RE2 closes a class under case folding, which adds U+0345 to `\\p{L}`: class escapes match case-sensitively.

Matching is case-insensitive like every text comparison of the language; a leading `(?-i)` makes it
case-sensitive (`(?i)` is accepted). The search is unanchored (like `re.search`).
"""

from __future__ import annotations

import functools
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

import re2

MAX_PROGRAM = 3_000  # instructions once repetitions are expanded (as counted before RE2 sees it)
MAX_NESTING = 50  # group depth
MAX_ANCHORS = 32  # \b \B ^ $ applying at one position, in a pattern that uses \b or \B
MAX_MEM = 8 << 20  # bytes RE2 may use for one compiled pattern (program and DFA cache)

_WORD = r"\p{L}\p{N}_"
_DIGIT = r"\p{Nd}"
_SPACE = r"\t\n\x0b\f\r\x1c-\x1f\x85\p{Z}"
# positive forms go inside [...]; negated ones are ("^", body) and cannot be merged into another set
_CLASS_BODY = {"d": _DIGIT, "w": _WORD, "s": _SPACE}
_CONTROL = {"t": "\t", "n": "\n", "r": "\r", "f": "\f", "v": "\v", "a": "\a"}
_MARK_BASE = 0xFDD0  # 4 sets of 8 noncharacters: U+FDD0..U+FDEF
_START, _END, _BOUNDARY = 1, 2, 4


class PatternError(ValueError):
    def __init__(self, message: str, index: int) -> None:
        super().__init__(message)
        self.message = message
        self.index = index


@dataclass(frozen=True, slots=True)
class _Zero:
    """How many anchors a piece can apply at one text position (each consumes one marker there)."""

    nullable: bool  # can match consuming no character
    whole: int  # most anchors on a path consuming no character (0 when not nullable)
    pre: int  # most anchors before the first character consumed (or on a whole nullable path)
    post: int  # most anchors after the last character consumed (or on a whole nullable path)
    most: int  # most anchors at any one position

    def then(self, b: _Zero) -> _Zero:
        return _Zero(
            self.nullable and b.nullable,
            self.whole + b.whole if self.nullable and b.nullable else 0,
            max(self.pre, self.whole + b.pre) if self.nullable else self.pre,
            max(b.post, b.whole + self.post) if b.nullable else b.post,
            max(self.most, b.most, self.post + b.pre),
        )

    def either(self, b: _Zero) -> _Zero:
        whole = max(z.whole for z in (self, b) if z.nullable) if self.nullable or b.nullable else 0
        return _Zero(self.nullable or b.nullable, whole, max(self.pre, b.pre), max(self.post, b.post), max(self.most, b.most))

    def repeated(self, lo: int, hi: int | None) -> _Zero:
        made = self
        for _ in range((hi if hi is not None else max(lo, 1) + 1) - 1):
            made = made.then(self)  # more copies than the upper count (or lo + 1) add nothing new
        return made.either(_NOTHING) if lo == 0 else made


_CONSUMES = _Zero(False, 0, 0, 0, 0)
_NOTHING = _Zero(True, 0, 0, 0, 0)
_ONE_ANCHOR = _Zero(True, 1, 1, 1, 1)


@dataclass(frozen=True, slots=True)
class _Frag:
    text: str  # RE2 syntax, with "\0A<kind>\0" placeholders for anchors (kind: ^ $ b B)
    size: int  # instructions once expanded
    zero: _Zero
    is_assert: bool = False


def _lit(ch: str) -> str:
    return ch if ch.isalnum() or ch == "_" else f"\\x{{{ord(ch):x}}}"


def _is_word(c: str) -> bool:
    return c.isalnum() or c == "_"


class _Parser:
    def __init__(self, text: str, *, ignore_case: bool) -> None:
        self.text = text
        self.i = 0
        self.depth = 0
        self.ignore_case = ignore_case

    def fail(self, message: str, index: int | None = None) -> PatternError:
        return PatternError(message, self.i if index is None else index)

    def peek(self) -> str:
        return self.text[self.i] if self.i < len(self.text) else ""

    def parse(self) -> _Frag:
        frag = self.alternation()
        if self.i < len(self.text):  # only an unmatched ')' stops alternation early
            raise self.fail("unbalanced ')'")
        return frag

    def alternation(self) -> _Frag:
        items = [self.sequence()]
        while self.peek() == "|":
            self.i += 1
            items.append(self.sequence())
        if len(items) == 1:
            return items[0]
        return _Frag("|".join(f.text for f in items), sum(f.size for f in items) + 2 * (len(items) - 1), functools.reduce(_Zero.either, (f.zero for f in items)))

    def sequence(self) -> _Frag:
        items: list[_Frag] = []
        while self.i < len(self.text) and self.peek() not in "|)":
            start = self.i
            items.append(self.quantified(self.atom(), start))
        if len(items) == 1:
            return items[0]
        return _Frag("".join(f.text for f in items), sum(f.size for f in items), functools.reduce(_Zero.then, (f.zero for f in items), _NOTHING))

    def quantified(self, atom: _Frag, start: int) -> _Frag:
        bounds = self.quantifier()
        if bounds is None:
            return atom
        if atom.is_assert and self.text[start] != "(":  # (^)* is fine, ^* is not (as in Python)
            raise self.fail("nothing to repeat", start)
        lo, hi = bounds
        if self.peek() == "?":  # lazy: the same language, and we only ask whether it matches
            self.i += 1
        elif self.peek() == "+":
            raise self.fail("possessive quantifiers are not supported")
        if self.quantifier_ahead():
            raise self.fail("multiple repeat")
        size = atom.size * lo + atom.size + 2 if hi is None else atom.size * lo + (hi - lo) * (atom.size + 1)
        suffix = {(0, None): "*", (1, None): "+", (0, 1): "?"}.get((lo, hi))
        if suffix is None:
            suffix = f"{{{lo},}}" if hi is None else f"{{{lo},{hi}}}"
        return _Frag(f"(?:{atom.text}){suffix}", size, atom.zero.repeated(lo, hi))

    def quantifier_ahead(self) -> bool:
        saved = self.i
        try:
            return self.quantifier() is not None
        finally:
            self.i = saved

    def quantifier(self) -> tuple[int, int | None] | None:
        ch = self.peek()
        if ch in ("*", "+", "?") and ch:
            self.i += 1
            return {"*": (0, None), "+": (1, None), "?": (0, 1)}[ch]
        if ch != "{":
            return None
        close = self.text.find("}", self.i)
        body = self.text[self.i + 1 : close] if close > 0 else ""
        lo_text, comma, hi_text = body.partition(",")
        if close < 0 or not (lo_text.isdigit() or (comma and not lo_text)) or (hi_text and not hi_text.isdigit()):
            return None  # not a quantifier: '{' is a literal, as in Python
        if not lo_text and not hi_text:
            return None
        if len(lo_text) > 4 or len(hi_text) > 4:
            raise self.fail("repeat count too large")
        lo = int(lo_text) if lo_text else 0
        hi = (int(hi_text) if hi_text else None) if comma else lo
        if hi is not None and hi < lo:
            raise self.fail("min repeat greater than max repeat")
        self.i = close + 1
        return lo, hi

    def atom(self) -> _Frag:
        ch = self.text[self.i]
        start = self.i
        self.i += 1
        if ch in "*+?" or (ch == "{" and self._brace_is_quantifier(start)):
            raise self.fail("nothing to repeat", start)
        if ch == "(":
            return self.group(start)
        if ch == "[":
            return _Frag("\0S\0" + self.char_class(start), 1, _CONSUMES)
        if ch == ".":
            return _Frag("\0S\0\0.\0", 1, _CONSUMES)
        if ch in "^$":
            return _anchor(ch)
        if ch == "\\":
            return self.escape()
        return _Frag("\0S\0" + _lit(ch), 1, _CONSUMES)

    def _brace_is_quantifier(self, start: int) -> bool:
        saved = self.i
        self.i = start
        try:
            return self.quantifier() is not None
        finally:
            self.i = saved

    def group(self, start: int) -> _Frag:
        if self.text.startswith("?", self.i):
            rest = self.text[self.i :]
            if rest.startswith("?:"):
                self.i += 2
            elif rest.startswith(("?P<", "?<")) and not rest.startswith(("?<=", "?<!")):
                close = self.text.find(">", self.i)
                name = self.text[self.i + (3 if rest.startswith("?P<") else 2) : close] if close > 0 else ""
                if close < 0 or not name.isidentifier():
                    raise self.fail("bad group name", start)
                self.i = close + 1
            elif rest.startswith(("?=", "?!", "?<=", "?<!")):
                raise self.fail("lookahead and lookbehind are not supported", start)
            elif rest.startswith("?P="):
                raise self.fail("backreferences are not supported", start)
            else:
                raise self.fail("unsupported group syntax (only (…), (?:…) and (?P<name>…))", start)
        self.depth += 1
        if self.depth > MAX_NESTING:
            raise self.fail("too many nested groups", start)
        inner = self.alternation()
        self.depth -= 1
        if self.peek() != ")":
            raise self.fail("missing ')'", start)
        self.i += 1
        return _Frag(f"(?:{inner.text})", inner.size, inner.zero)

    def escape(self) -> _Frag:
        target = self.escape_target(in_class=False)
        if isinstance(target, _Frag):
            return target
        if isinstance(target, tuple):
            body = f"(?-i:[^{target[1]}\0M\0])" if target[0] == "^" else f"(?-i:[{target[1]}])"
            return _Frag("\0S\0" + body, 1, _CONSUMES)
        return _Frag("\0S\0" + _lit(target), 1, _CONSUMES)

    def escape_target(self, *, in_class: bool) -> str | tuple[str, str] | _Frag:
        """After a backslash: the character it stands for, a class ("" or "^", body) or an anchor."""
        if self.i >= len(self.text):
            raise self.fail("bad escape (end of pattern)", self.i - 1)
        ch = self.text[self.i]
        start = self.i - 1
        self.i += 1
        if ch.lower() in _CLASS_BODY:
            return ("^" if ch.isupper() else "", _CLASS_BODY[ch.lower()])
        if ch == "b" and in_class:
            return "\b"
        if not in_class and ch in "bBAZ":
            return _anchor({"A": "^", "Z": "$"}.get(ch, ch))
        if ch in _CONTROL:
            return _CONTROL[ch]
        if ch in "xuU":
            return self.code_point(ch, start)
        if ch.isdigit():
            raise self.fail("backreferences are not supported", start)
        if ch.isascii() and ch.isalpha():
            raise self.fail(f"bad escape \\{ch}", start)
        return ch

    def code_point(self, ch: str, start: int) -> str:
        width = {"x": 2, "u": 4, "U": 8}[ch]
        digits = self.text[self.i : self.i + width]
        if len(digits) != width or any(d not in "0123456789abcdefABCDEF" for d in digits) or int(digits, 16) > 0x10FFFF:
            raise self.fail(f"bad escape \\{ch}{digits}", start)
        if 0xD800 <= int(digits, 16) <= 0xDFFF:
            raise self.fail(f"bad escape \\{ch}{digits} (a surrogate is not a character)", start)
        self.i += width
        return chr(int(digits, 16))

    def char_class(self, start: int) -> str:
        negate = self.peek() == "^"
        if negate:
            self.i += 1
        ranges: list[tuple[str, str]] = []
        positive: list[str] = []  # bodies of \d \w \s
        negated: list[str] = []  # bodies of \D \W \S: each is a set of its own
        first = True
        while True:
            if self.i >= len(self.text):
                raise self.fail("unterminated character set", start)
            if self.text[self.i] == "]" and not first:
                self.i += 1
                break
            first = False
            if self.text.startswith(("[:", "[=", "[."), self.i):
                # POSIX classes ([[:alpha:]]) would silently read as the characters "[:alph" plus a literal "]"
                # (as in Python's re): refuse, so that NOT … matches '[[:digit:]]' cannot select everything
                raise self.fail("POSIX classes such as [:alpha:] are not supported: use \\w, \\d, \\s or a range "
                                "such as [a-z], and \\[ for a literal '['", self.i)  # fmt: skip
            low = self.class_char(positive, negated)
            if low is None:
                continue
            if self.peek() == "-" and self.i + 1 < len(self.text) and self.text[self.i + 1] != "]":
                self.i += 1
                range_start = self.i
                high = self.class_char(positive, negated)
                if high is None:
                    raise self.fail("bad character range", range_start)
                if high < low:
                    raise self.fail(f"bad character range {low}-{high}", range_start)
                ranges.append((low, high))
            else:
                ranges.append((low, low))
        if negate and negated:
            return _negated_set_with_negated_classes(ranges, positive, negated, fail=lambda m: self.fail(m, start))
        return self.render_set(ranges, positive, negated, negate=negate)

    def render_set(self, ranges: list[tuple[str, str]], positive: list[str], negated: list[str], *, negate: bool) -> str:
        # class bodies go case-sensitive: RE2 would close \p{L} under case folding and add U+0345
        members = "".join(_lit(lo) if lo == hi else f"{_lit(lo)}-{_lit(hi)}" for lo, hi in ranges)
        if negate:
            made = f"[^{members}{''.join(positive)}\0M\0]"
            if self.ignore_case and _WORD in positive and not any(lo <= c <= hi for lo, hi in ranges for c in _FOLDS_TO_0345):
                made = f"(?:{made}|(?-i:\\x{{345}}))"  # Python's \w leaves U+0345 out even ignoring case
            return made
        parts = [f"[{members}]"] if members else []
        parts += [f"(?-i:[{''.join(positive)}])"] if positive else []
        parts += [f"(?-i:[^{body}\0M\0])" for body in negated]
        return parts[0] if len(parts) == 1 else f"(?:{'|'.join(parts)})"

    def class_char(self, positive: list[str], negated: list[str]) -> str | None:
        """One member of a set: a character, or None after adding a class escape like \\d."""
        ch = self.text[self.i]
        self.i += 1
        if ch != "\\":
            return ch
        target = self.escape_target(in_class=True)
        if isinstance(target, str):
            return target
        assert isinstance(target, tuple)
        (negated if target[0] == "^" else positive).append(target[1])
        return None


_FOLDS_TO_0345 = "\u0345\u0399\u03b9\u1fbe"
# what \w \d \s hold, as disjoint pieces: Unicode categories ("p:…") and single characters
_PIECES = {
    _WORD: frozenset({"p:L", "p:Nd", "p:Nl", "p:No", "_"}),
    _DIGIT: frozenset({"p:Nd"}),
    _SPACE: frozenset({"p:Z", "\t", "\n", "\x0b", "\f", "\r", "\x1c", "\x1d", "\x1e", "\x1f", "\x85"}),
}
_MAX_SUBTRACTED = 0x3000  # characters of explicit members checked against the categories left


def _negated_set_with_negated_classes(
    ranges: list[tuple[str, str]], positive: list[str], negated: list[str], *, fail: Callable[[str], PatternError]
) -> str:
    """[^…\\W…] is the intersection of the negated classes' complements minus the rest: RE2 has no
    intersection, so it is worked out here on the disjoint pieces of \\w \\d \\s (e.g. [^\\W\\d] = letters,
    Nl, No and '_')."""
    pieces = functools.reduce(frozenset.intersection, (_PIECES[body] for body in negated))
    for body in positive:
        pieces -= _PIECES[body]
    categories = {p[2:] for p in pieces if p.startswith("p:")}
    if sum(ord(hi) - ord(lo) + 1 for lo, hi in ranges) > _MAX_SUBTRACTED:
        raise fail("a negated class (\\D, \\W, \\S) inside [^…] with a wide range is not supported")
    for lo, hi in ranges:
        for cp in range(ord(lo), ord(hi) + 1):
            c = chr(cp)
            if any(unicodedata.category(x).startswith(tuple(categories)) for x in {c, c.lower(), c.upper()} if len(x) == 1):
                raise fail(f"a negated class (\\D, \\W, \\S) inside [^…] with {_show(c)} in it is not supported")
            pieces -= {c}
    if not pieces:
        return "[^\\x00-\\x{10ffff}]"  # nothing is in the set
    body = "".join(f"\\p{{{p[2:]}}}" if p.startswith("p:") else _lit(p) for p in sorted(pieces))
    return f"(?-i:[{body}])"


def _show(c: str) -> str:
    return repr(c) if c.isprintable() else f"U+{ord(c):04X}"


def _anchor(kind: str) -> _Frag:
    return _Frag(f"\0A{kind}\0", 1, _ONE_ANCHOR, is_assert=True)


# ---- compiling and matching -------------------------------------------------------------------------


def _marks(kind: str, base: int) -> str:
    """The set of markers (of one marker set) that satisfy an anchor."""
    need = {"^": _START, "$": _END, "b": _BOUNDARY, "B": _BOUNDARY}[kind]
    chosen = [b for b in range(8) if bool(b & need) == (kind != "B")]
    return "[" + "".join(f"\\x{{{base + b:x}}}" for b in chosen) + "]"


def _render(template: str, *, base: int | None) -> str:
    """The RE2 text for a template: plain anchors without markers, marker-consuming ones with them."""
    mark_range = "" if base is None else f"\\x{{{base:x}}}-\\x{{{base + 7:x}}}"
    out = template.replace("\0.\0", "." if base is None else "[^\0M\0]")
    for kind, plain in (("^", r"\A"), ("$", r"\z"), ("b", r"\b"), ("B", r"\B")):
        out = out.replace(f"\0A{kind}\0", plain if base is None else _marks(kind, base))
    # every character-matching item skips the markers standing before it
    out = out.replace("\0S\0", "" if base is None else f"[{mark_range}]*")
    return out.replace("\0M\0", mark_range)


def _options(*, ignore_case: bool) -> re2.Options:
    options = re2.Options()
    options.case_sensitive = not ignore_case
    options.dot_nl = True
    options.never_capture = True
    options.log_errors = False  # RE2 would write its own lines to stderr
    options.max_mem = MAX_MEM
    return options


@functools.lru_cache(maxsize=256)
def _compile(text: str, *, ignore_case: bool) -> re2._Regexp:
    return re2.compile(text, _options(ignore_case=ignore_case))


_SURROGATES = {cp: 0xFFFD for cp in range(0xD800, 0xE000)}


class Pattern:
    """A compiled pattern. `search(text)` is True when the pattern matches somewhere in `text`."""

    def __init__(self, source: str, *, ignore_case: bool = True) -> None:
        self.source = source
        body = source
        if body.startswith("(?-i)"):
            ignore_case, body = False, body[5:]
        elif body.startswith("(?i)"):
            ignore_case, body = True, body[4:]
        offset = len(source) - len(body)
        self.ignore_case = ignore_case
        try:
            frag = _Parser(body, ignore_case=ignore_case).parse()
        except PatternError as exc:
            raise PatternError(exc.message, exc.index + offset) from None
        if frag.size + 1 > MAX_PROGRAM:
            raise PatternError(f"regular expression too large (more than {MAX_PROGRAM} steps once expanded)", 0)
        self._template = frag.text
        # only RE2's \b \B are ASCII: without them, ^ $ are RE2's own and the text is matched as it is
        self.marked = "\0Ab\0" in frag.text or "\0AB\0" in frag.text
        self.copies = max(1, frag.zero.most)
        if self.marked and self.copies > MAX_ANCHORS:
            raise PatternError(f"too many anchors (\\b \\B ^ $: more than {MAX_ANCHORS} at one position)", 0)
        self._regex(None if not self.marked else _MARK_BASE)  # errors now, not at the first match

    def _regex(self, base: int | None) -> re2._Regexp:
        try:
            return _compile(_render(self._template, base=base), ignore_case=self.ignore_case)
        except re2.error as exc:
            raise PatternError(f"regular expression too large or not accepted by RE2 ({exc})", 0) from None

    def subject(self, text: str) -> tuple[str, int | None]:
        """The text RE2 runs on (marked when the pattern has \\b or \\B) and the marker set used."""
        if not text.isascii():
            text = text.translate(_SURROGATES)  # undecodable file-name bytes: RE2 reads UTF-8 only
        if not self.marked:
            return text, None
        base = next((b for b in range(_MARK_BASE, _MARK_BASE + 32, 8) if not any(b <= ord(c) < b + 8 for c in text)), None)
        if base is None:
            base = _MARK_BASE  # all four marker sets occur in the text: those characters simply do not match
        return _marked(text, base=base, copies=self.copies), base

    def search(self, text: str) -> bool:
        """Whether the pattern matches anywhere in `text`, in time linear in its length."""
        subject, base = self.subject(text)
        return self._regex(base).search(subject) is not None


def _marked(text: str, *, base: int, copies: int) -> str:
    n = len(text)
    out: list[str] = []
    prev_word = False
    for i in range(n + 1):
        cur_word = i < n and _is_word(text[i])
        bits = (_START if i == 0 else 0) | (_END if i == n else 0) | (_BOUNDARY if prev_word != cur_word else 0)
        out.append(chr(base + bits) * copies)
        if i < n:
            out.append(text[i])
        prev_word = cur_word
    return "".join(out)
