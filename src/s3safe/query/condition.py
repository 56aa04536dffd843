"""The public face of the language: compile once, then evaluate per object (in stages, if it pays)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from s3safe.query.evaluator import Compiler, Run
from s3safe.query.facts import Clock, LocalFacts, S3Facts, Subject, ValueSource
from s3safe.query.nodes import Expr, Var, walk
from s3safe.query.parser import Scope, parse
from s3safe.query.unparse import unparse
from s3safe.query.values import FETCH_ORDER, UNKNOWN, Cost


@dataclass(frozen=True, slots=True)
class Verdict:
    """The outcome of one evaluation. `result` None means unknown: fetch one of `pending` and evaluate again."""

    result: bool | None
    pending: frozenset[Cost]


class Condition:
    """A compiled --where condition. Immutable and safe to share between threads."""

    def __init__(self, text: str, scope: Scope, tree: Expr) -> None:
        self.text = text
        self.scope: Scope = scope
        self.tree = tree
        used = [n.var for n in walk(tree) if isinstance(n, Var)]
        self.variables: frozenset[str] = frozenset(v.name for v in used)
        self.needs: frozenset[Cost] = frozenset(v.cost for v in used if v.cost is not None)
        """Every cost class the condition may need; LISTING alone means no extra request per object."""
        self.uses_local = any(v.side == "local" for v in used)
        self.uses_s3 = any(v.side == "s3" for v in used)
        self._fn = Compiler(text).compile(tree)

    @property
    def extra_requests(self) -> frozenset[Cost]:
        """The per-object requests (HEAD, ACL, TAGS) the condition may need beyond the listing."""
        return self.needs - {Cost.LISTING}

    def check(self, source: ValueSource) -> Verdict:
        run = Run(source)
        value = self._fn(run)
        if value is True:
            return Verdict(True, frozenset())
        if value is UNKNOWN:
            return Verdict(None, frozenset(run.pending))
        return Verdict(False, frozenset())

    def evaluate(self, source: ValueSource) -> bool | None:
        """True (selected), False (not selected) or None (unknown until more facts are fetched)."""
        return self.check(source).result

    def __str__(self) -> str:
        """Canonical text: fully parenthesized, canonical variable names; parses back to the same tree."""
        return unparse(self.tree)

    def __repr__(self) -> str:
        return f"Condition({self.text!r}, scope={self.scope!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Condition) and self.tree == other.tree and self.scope == other.scope

    def __hash__(self) -> int:
        return hash((self.tree, self.scope))


def compile_where(text: str, *, scope: Scope = "any") -> Condition:
    """Parse and type-check `text`. Raises QueryError (exit code 2) with a caret and suggestions.

    scope: 's3' for commands that look only at S3 objects (ls, rm, cp, meta set, acl set, restore),
    'local' for local files only, 'any' where both sides exist (put/get/sync, --local-delete).
    """
    return Condition(text, scope, parse(text, scope))


Fetch = Callable[[S3Facts, Cost], S3Facts]


def resolve(
    condition: Condition,
    facts: S3Facts | None,
    fetch: Fetch,
    *,
    local: LocalFacts | None = None,
    clock: Clock,
) -> tuple[bool, S3Facts | None]:
    """Decide one object, fetching extra facts only while the answer is still unknown.

    Evaluates on what `facts` hold; while the answer is unknown, calls `fetch(facts, cost)` for the
    first missing cost class in FETCH_ORDER (HEAD, ACL, TAGS) among those the evaluation found
    missing, and evaluates again. Returns the decision and the (possibly enriched) facts.
    """
    while True:
        verdict = condition.check(Subject(s3=facts, local=local, clock=clock))
        if verdict.result is not None:
            return verdict.result, facts
        assert facts is not None  # only S3 facts can be unknown
        todo = [c for c in FETCH_ORDER if c in verdict.pending and c not in facts.fetched]
        if not todo:
            raise ValueError(f"condition still unknown with {sorted(c.value for c in facts.fetched)} fetched")
        enriched = fetch(facts, todo[0])
        if todo[0] not in enriched.fetched:
            raise ValueError(f"fetch({todo[0].value}) did not fill in the {todo[0].value} facts")
        facts = enriched
