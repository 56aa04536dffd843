"""Regular expressions for `matches`, on a linear-time engine (no backtracking, so no ReDoS).

Python's `re` backtracks: `(a+)+$` against 'aaaa…b' takes exponential time, and a match running
inside C code cannot be interrupted from another thread. So `matches` does not use `re`. Patterns
are compiled to a Thompson NFA and run as a lazily built DFA (a cache of state sets): time is
linear in the length of the text, whatever the pattern. As defence in depth the program size is
capped (MAX_PROGRAM instructions) and a match that still runs past its deadline raises
PatternTimeout.

Supported syntax (a subset of Python's): literals, `.`, `[…]`/`[^…]` with ranges, `\\d \\D \\w \\W \\s \\S`,
`\\b \\B`, `^ $ \\A \\Z`, groups `( )`, `(?: )`, `(?P<name> )`, alternation `|`, quantifiers
`* + ? {n} {n,} {,m} {n,m}` and their lazy forms, escapes `\\t \\n \\r \\f \\v \\xhh \\uhhhh` and `\\` before any
punctuation. Not supported (refused with a clear error): backreferences, lookaround, possessive
quantifiers, other inline flags. The search is unanchored (like `re.search`), `^`/`$` are the
start/end of the whole text, `.` matches any character. Matching is case-insensitive like every text
comparison of the language; a leading `(?-i)` makes it case-sensitive (`(?i)` is accepted).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

MAX_PROGRAM = 3_000  # NFA instructions
MAX_NESTING = 50  # group depth
MAX_STATES = 4_096  # cached DFA states per pattern, then the cache starts over
MAX_EDGES = 256  # cached transitions per DFA state
DEFAULT_TIME_LIMIT = 0.5  # seconds per match (never reached in practice: the engine is linear)

Pred = Callable[[str], bool]


class PatternError(ValueError):
    def __init__(self, message: str, index: int) -> None:
        super().__init__(message)
        self.message = message
        self.index = index


class PatternTimeout(Exception):
    pass


# ---- syntax tree -----------------------------------------------------------------------------------


@dataclass(slots=True)
class _Char:
    pred: Pred


@dataclass(slots=True)
class _Assert:
    kind: str  # bol eol wordb nwordb


@dataclass(slots=True)
class _Cat:
    items: list[_Node] = field(default_factory=list)


@dataclass(slots=True)
class _Alt:
    items: list[_Node]


@dataclass(slots=True)
class _Rep:
    item: _Node
    lo: int
    hi: int | None


_Node = _Char | _Assert | _Cat | _Alt | _Rep


def _is_word(c: str) -> bool:
    return c.isalnum() or c == "_"


_CLASSES: dict[str, Pred] = {
    "d": str.isdecimal,
    "D": lambda c: not c.isdecimal(),
    "w": _is_word,
    "W": lambda c: not _is_word(c),
    "s": str.isspace,
    "S": lambda c: not c.isspace(),
}
_CONTROL = {"t": "\t", "n": "\n", "r": "\r", "f": "\f", "v": "\v", "a": "\a"}


class _Parser:
    def __init__(self, text: str, ignore_case: bool) -> None:
        self.text = text
        self.i = 0
        self.ic = ignore_case
        self.depth = 0

    def fail(self, message: str, index: int | None = None) -> PatternError:
        return PatternError(message, self.i if index is None else index)

    def peek(self) -> str:
        return self.text[self.i] if self.i < len(self.text) else ""

    def parse(self) -> _Node:
        node = self.alternation()
        if self.i < len(self.text):  # only an unmatched ')' stops alternation early
            raise self.fail("unbalanced ')'")
        return node

    def alternation(self) -> _Node:
        items = [self.sequence()]
        while self.peek() == "|":
            self.i += 1
            items.append(self.sequence())
        return items[0] if len(items) == 1 else _Alt(items)

    def sequence(self) -> _Node:
        items: list[_Node] = []
        while self.i < len(self.text) and self.peek() not in "|)":
            start = self.i
            atom = self.atom()
            items.append(self.quantified(atom, start))
        return items[0] if len(items) == 1 else _Cat(items)

    def quantified(self, atom: _Node, start: int) -> _Node:
        bounds = self.quantifier()
        if bounds is None:
            return atom
        if isinstance(atom, _Assert) and self.text[start] != "(":  # (^)* is fine, ^* is not (as in Python)
            raise self.fail("nothing to repeat", start)
        lo, hi = bounds
        if self.peek() == "?":  # lazy: the same language, and we only ask whether it matches
            self.i += 1
        elif self.peek() == "+":
            raise self.fail("possessive quantifiers are not supported")
        if self.quantifier_ahead():
            raise self.fail("multiple repeat")
        return _Rep(atom, lo, hi)

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

    def atom(self) -> _Node:
        ch = self.text[self.i]
        start = self.i
        self.i += 1
        if ch in "*+?" or (ch == "{" and self._brace_is_quantifier(start)):
            raise self.fail("nothing to repeat", start)
        if ch == "(":
            return self.group(start)
        if ch == "[":
            return _Char(self.char_class(start))
        if ch == ".":
            return _Char(lambda _c: True)
        if ch == "^":
            return _Assert("bol")
        if ch == "$":
            return _Assert("eol")
        if ch == "\\":
            return self.escape(in_class=False)
        return _Char(self.literal(ch))

    def _brace_is_quantifier(self, start: int) -> bool:
        saved = self.i
        self.i = start
        try:
            return self.quantifier() is not None
        finally:
            self.i = saved

    def group(self, start: int) -> _Node:
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
        node = self.alternation()
        self.depth -= 1
        if self.peek() != ")":
            raise self.fail("missing ')'", start)
        self.i += 1
        return node

    def literal(self, ch: str) -> Pred:
        if not self.ic:
            return ch.__eq__
        variants = frozenset({ch, ch.lower(), ch.upper()})
        return variants.__contains__

    def escape(self, *, in_class: bool) -> _Node:
        target = self.escape_target(in_class=in_class)
        if isinstance(target, str):
            return _Char(self.literal(target))
        if isinstance(target, _Assert):
            return target
        return _Char(target)

    def escape_target(self, *, in_class: bool) -> str | Pred | _Assert:
        """After a backslash: the character it stands for, a class predicate (\\d …) or an assertion."""
        if self.i >= len(self.text):
            raise self.fail("bad escape (end of pattern)", self.i - 1)
        ch = self.text[self.i]
        start = self.i - 1
        self.i += 1
        if ch in _CLASSES:
            return _CLASSES[ch]
        if ch == "b" and in_class:
            return "\b"
        if not in_class and ch in "bB":
            return _Assert("wordb" if ch == "b" else "nwordb")
        if not in_class and ch in "AZ":
            return _Assert("bol" if ch == "A" else "eol")
        if ch in _CONTROL:
            return _CONTROL[ch]
        if ch in "xuU":
            width = {"x": 2, "u": 4, "U": 8}[ch]
            digits = self.text[self.i : self.i + width]
            if len(digits) != width or any(d not in "0123456789abcdefABCDEF" for d in digits) or int(digits, 16) > 0x10FFFF:
                raise self.fail(f"bad escape \\{ch}{digits}", start)
            self.i += width
            return chr(int(digits, 16))
        if ch.isdigit():
            raise self.fail("backreferences are not supported", start)
        if ch.isascii() and ch.isalpha():
            raise self.fail(f"bad escape \\{ch}", start)
        return ch

    def char_class(self, start: int) -> Pred:
        negate = self.peek() == "^"
        if negate:
            self.i += 1
        singles: set[str] = set()
        ranges: list[tuple[str, str]] = []
        preds: list[Pred] = []
        first = True
        while True:
            if self.i >= len(self.text):
                raise self.fail("unterminated character set", start)
            ch = self.text[self.i]
            if ch == "]" and not first:
                self.i += 1
                break
            first = False
            low = self.class_char(preds)
            if low is None:
                continue
            if self.peek() == "-" and self.i + 1 < len(self.text) and self.text[self.i + 1] != "]":
                self.i += 1
                range_start = self.i
                high = self.class_char(preds)
                if high is None:
                    raise self.fail("bad character range", range_start)
                if high < low:
                    raise self.fail(f"bad character range {low}-{high}", range_start)
                ranges.append((low, high))
            else:
                singles.add(low)
        frozen = frozenset(singles)
        ic = self.ic

        def inner(c: str) -> bool:
            return c in frozen or any(lo <= c <= hi for lo, hi in ranges) or any(p(c) for p in preds)

        def pred(c: str) -> bool:
            hit = inner(c) or (ic and (inner(c.lower()) or inner(c.upper())))
            return hit != negate

        return pred

    def class_char(self, preds: list[Pred]) -> str | None:
        """One member of a class: a character, or None after adding a class escape like \\d to `preds`."""
        ch = self.text[self.i]
        self.i += 1
        if ch != "\\":
            return ch
        target = self.escape_target(in_class=True)
        if isinstance(target, str):
            return target
        assert not isinstance(target, _Assert)
        preds.append(target)
        return None


# ---- program and matcher ---------------------------------------------------------------------------

_CHAR, _SPLIT, _JMP, _ASSERT, _MATCH = range(5)


def _size(node: _Node) -> int:
    if isinstance(node, _Char | _Assert):
        return 1
    if isinstance(node, _Cat):
        return sum(_size(i) for i in node.items)
    if isinstance(node, _Alt):
        return sum(_size(i) for i in node.items) + 2 * (len(node.items) - 1)
    inner = _size(node.item)
    if node.hi is None:
        return inner * node.lo + inner + 2
    return inner * node.lo + (node.hi - node.lo) * (inner + 1)


@dataclass(slots=True)
class _DState:
    chars: tuple[int, ...]
    matched: bool
    edges: dict[str, frozenset[int]] = field(default_factory=dict)


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
            tree = _Parser(body, ignore_case).parse()
        except PatternError as exc:
            raise PatternError(exc.message, exc.index + offset) from None
        if _size(tree) + 1 > MAX_PROGRAM:
            raise PatternError(f"regular expression too large (more than {MAX_PROGRAM} steps once expanded)", 0)
        self._ops: list[int] = []
        self._args: list[Any] = []
        self._emit(tree)
        self._add(_MATCH, None)
        self._has_assert = _ASSERT in self._ops
        self._start = frozenset({0})
        self._states: dict[tuple[frozenset[int], int], _DState] = {}

    def _add(self, op: int, arg: Any) -> int:
        self._ops.append(op)
        self._args.append(arg)
        return len(self._ops) - 1

    def _emit(self, node: _Node) -> None:
        if isinstance(node, _Char):
            self._add(_CHAR, node.pred)
        elif isinstance(node, _Assert):
            self._add(_ASSERT, node.kind)
        elif isinstance(node, _Cat):
            for item in node.items:
                self._emit(item)
        elif isinstance(node, _Alt):
            jumps = []
            for item in node.items[:-1]:
                split = self._add(_SPLIT, None)
                self._emit(item)
                jumps.append(self._add(_JMP, None))
                self._args[split] = (split + 1, len(self._ops))
            self._emit(node.items[-1])
            for j in jumps:
                self._args[j] = len(self._ops)
        else:
            for _ in range(node.lo):
                self._emit(node.item)
            if node.hi is None:
                loop = self._add(_SPLIT, None)
                self._emit(node.item)
                self._add(_JMP, loop)
                self._args[loop] = (loop + 1, len(self._ops))
            else:
                for _ in range(node.hi - node.lo):
                    split = self._add(_SPLIT, None)
                    self._emit(node.item)
                    self._args[split] = (split + 1, len(self._ops))

    def _closure(self, pcs: frozenset[int], ctx: int) -> _DState:
        chars: list[int] = []
        matched = False
        seen: set[int] = set()
        stack = list(pcs)
        ops, args = self._ops, self._args
        while stack:
            pc = stack.pop()
            if pc in seen:
                continue
            seen.add(pc)
            op = ops[pc]
            if op == _CHAR:
                chars.append(pc)
            elif op == _SPLIT:
                x, y = args[pc]
                stack.append(y)
                stack.append(x)
            elif op == _JMP:
                stack.append(args[pc])
            elif op == _ASSERT:
                if _holds(args[pc], ctx):
                    stack.append(pc + 1)
            else:
                matched = True
        return _DState(tuple(sorted(chars)), matched)

    def search(self, text: str, *, deadline: float | None = None) -> bool:
        """Whether the pattern matches anywhere in `text`; PatternTimeout past `deadline` (time.monotonic)."""
        if deadline is None:
            deadline = time.monotonic() + DEFAULT_TIME_LIMIT
        states = self._states
        if len(states) > MAX_STATES:
            states = self._states = {}
        args = self._args
        has_assert = self._has_assert
        cur = self._start
        n = len(text)
        prev_word = False
        for i in range(n + 1):
            ctx = 0
            if has_assert:
                cur_word = i < n and _is_word(text[i])
                ctx = (i == 0) | (i == n) << 1 | prev_word << 2 | cur_word << 3
                prev_word = cur_word
            state = states.get((cur, ctx))
            if state is None:
                state = self._closure(cur, ctx)
                states[(cur, ctx)] = state
            if state.matched:
                return True
            if i == n:
                return False
            c = text[i]
            nxt = state.edges.get(c)
            if nxt is None:
                nxt = frozenset([0, *(pc + 1 for pc in state.chars if args[pc](c))])
                if len(state.edges) < MAX_EDGES:
                    state.edges[c] = nxt
            cur = nxt
            if i & 255 == 255 and time.monotonic() > deadline:
                raise PatternTimeout(f"gave up after {i + 1} of {n} characters")
        return False  # pragma: no cover - the loop always returns


def _holds(kind: str, ctx: int) -> bool:
    at_start, at_end, prev_word, cur_word = ctx & 1, ctx & 2, ctx & 4, ctx & 8
    if kind == "bol":
        return bool(at_start)
    if kind == "eol":
        return bool(at_end)
    boundary = bool(prev_word) != bool(cur_word)
    return boundary if kind == "wordb" else not boundary
