"""Three-valued partial evaluation: what a condition needs, what it can decide from the listing alone,
and how `resolve` fetches only what is still needed."""

from __future__ import annotations

import itertools
from dataclasses import replace

import pytest

from s3safe.query import (
    NULL,
    UNKNOWN,
    AclSummary,
    Cost,
    HeadFacts,
    MappingSource,
    S3Facts,
    compile_where,
    resolve,
)
from s3safe.query.values import Value
from tests.unit.test_query_support import ACL, CLOCK, FULL, HEAD, LISTED, LOCAL, TAGS, cond, ev, subject


@pytest.mark.parametrize(
    ("text", "needs"),
    [
        ("s3_size > 1", {Cost.LISTING}),
        ("s3_size_mb > 100 AND s3_age_days > 30", {Cost.LISTING}),
        ("s3_etag = 'x' OR s3_storage_class = 'GLACIER' OR s3_version_id = 'v' OR s3_is_latest", {Cost.LISTING}),
        ("s3_sse_algorithm <> 'AES256'", {Cost.HEAD}),
        ("s3_meta('owner') = 'x'", {Cost.HEAD}),
        ("s3_client_encrypted", {Cost.HEAD}),
        ("s3_md5 = ''", {Cost.HEAD}),
        ("s3_acl_is_private = false", {Cost.ACL}),
        ("s3_tag('env') = 'prod'", {Cost.TAGS}),
        ("s3_size > 1 AND (s3_acl_grants > 1 OR s3_tag('a') = 'b' OR s3_content_type = 'x')", set(Cost)),
        ("curr_day % 2 = 0", set()),
        ("size > 1", {Cost.LISTING}),
    ],
)
def test_needs(text: str, needs: set[Cost]) -> None:
    c = cond(text)
    assert c.needs == frozenset(needs)
    assert c.extra_requests == frozenset(needs) - {Cost.LISTING}


def test_variables_and_sides() -> None:
    c = cond("sizemb > 1 AND s3_agedays > 2 AND curr_day = 3 AND s3_meta('x') = ''")
    assert c.variables == {"size_mb", "s3_age_days", "curr_day", "s3_meta"}
    assert c.uses_local and c.uses_s3
    assert not cond("s3_size > 1").uses_local


# ---- Kleene logic ----------------------------------------------------------------------------------


def _truth(value: Value) -> str:
    return {True: "T", False: "F"}.get(value, "U" if value is UNKNOWN else "N")  # type: ignore[call-overload]


VALUES: list[Value] = [True, False, UNKNOWN, NULL]


def _kleene_and(a: Value, b: Value) -> Value:
    if a is False or b is False:
        return False
    if a is True:
        return b
    if b is True:
        return a
    return UNKNOWN if UNKNOWN in (a, b) else NULL


def _kleene_or(a: Value, b: Value) -> Value:
    if a is True or b is True:
        return True
    if a is False:
        return b
    if b is False:
        return a
    return UNKNOWN if UNKNOWN in (a, b) else NULL


def _final(value: Value) -> bool | None:
    return None if value is UNKNOWN else value is True


@pytest.mark.parametrize(("a", "b"), list(itertools.product(VALUES, VALUES)), ids=lambda v: _truth(v))
def test_kleene_truth_tables(a: Value, b: Value) -> None:
    def source(a: Value, b: Value) -> MappingSource:
        values = {k: v for k, v in (("s3_acl_is_private", a), ("s3_client_encrypted", b)) if v is not UNKNOWN}
        return MappingSource(values)

    src = source(a, b)
    assert cond("s3_acl_is_private AND s3_client_encrypted").evaluate(src) is _final(_kleene_and(a, b))
    assert cond("s3_acl_is_private OR s3_client_encrypted").evaluate(src) is _final(_kleene_or(a, b))
    negated = {True: False, False: True}.get(a, a)  # type: ignore[call-overload]
    assert cond("NOT s3_acl_is_private").evaluate(src) is _final(negated)
    assert cond("NOT (s3_acl_is_private AND s3_client_encrypted)").evaluate(src) is _final(
        {True: False, False: True}.get(_kleene_and(a, b), _kleene_and(a, b))  # type: ignore[call-overload]
    )


def test_listing_alone_decides_when_the_cheap_part_rules_out() -> None:
    c = cond("s3_size > 100MB AND s3_acl_is_private = false", "s3")
    small = subject(s3=LISTED, local=None)  # 3.5 MiB: FALSE AND UNKNOWN = FALSE
    assert c.check(small).result is False
    assert c.check(small).pending == frozenset()
    c2 = cond("s3_size < 100MB OR s3_acl_is_private = false", "s3")  # TRUE OR UNKNOWN = TRUE
    assert c2.evaluate(small) is True
    c3 = cond("s3_size < 100MB AND s3_acl_is_private = false", "s3")  # TRUE AND UNKNOWN = UNKNOWN
    verdict = c3.check(small)
    assert verdict.result is None and verdict.pending == {Cost.ACL}
    assert c3.evaluate(subject(s3=replace(LISTED, acl=ACL), local=None)) is True


def test_pending_names_only_what_the_evaluation_missed() -> None:
    c = cond("s3_sse_algorithm <> 'AES256' OR s3_acl_is_private = false OR s3_tag('env') = 'x'", "s3")
    assert c.check(subject(s3=LISTED, local=None)).pending == {Cost.HEAD, Cost.ACL, Cost.TAGS}
    with_head = replace(LISTED, head=replace(HEAD, sse_algorithm="AES256"))
    assert c.check(subject(s3=with_head, local=None)).pending == {Cost.ACL, Cost.TAGS}
    assert c.check(subject(s3=replace(LISTED, head=HEAD), local=None)).result is True  # aws:kms <> AES256


def test_unknown_inside_arithmetic_and_lists_stays_unknown() -> None:
    partial = subject(s3=LISTED, local=None)
    assert cond("s3_acl_grants * 2 > 3").evaluate(partial) is None
    assert cond("s3_tag('env') isoneof {'prod', 'dev'}").evaluate(partial) is None
    assert cond("s3_content_type contains 'image'").evaluate(partial) is None
    assert cond("s3_meta('owner') matches '^al'").evaluate(partial) is None
    assert cond("-s3_acl_grants < 0").evaluate(partial) is None


def test_a_missing_side_is_null_and_never_selects() -> None:
    only_local = subject(s3=None)
    for text in ("s3_size > 1", "s3_size <= 1", "NOT s3_size > 1", "s3_name isnotoneof {'x'}", "NOT s3_is_latest"):
        assert ev(text, only_local) is False
    # NULL OR TRUE is still TRUE, NULL AND FALSE is FALSE
    assert ev("s3_size > 1 OR size > 1", only_local) is True
    assert ev("NOT (s3_size > 1 AND size < 1)", only_local) is True
    only_s3 = subject(local=None)
    assert ev("NOT size > 1", only_s3) is False
    assert ev("NOT mtime > '2020-01-01'", only_s3) is False


def test_null_beats_unknown_in_a_comparison() -> None:
    # nothing to fetch can make a comparison with no value true or false
    verdict = cond("size = s3_acl_grants").check(subject(s3=LISTED, local=None))
    assert verdict.result is False


# ---- resolve: staged fetching ----------------------------------------------------------------------


class Fetcher:
    def __init__(self) -> None:
        self.calls: list[Cost] = []

    def __call__(self, facts: S3Facts, cost: Cost) -> S3Facts:
        self.calls.append(cost)
        if cost is Cost.HEAD:
            return replace(facts, head=self.head)
        if cost is Cost.ACL:
            return replace(facts, acl=self.acl)
        return replace(facts, tags=TAGS)

    head = HEAD
    acl = ACL


def test_resolve_makes_no_request_when_the_listing_decides() -> None:
    fetch = Fetcher()
    c = compile_where("s3_size > 100MB AND s3_acl_is_private = false", scope="s3")
    assert resolve(c, LISTED, fetch, clock=CLOCK) == (False, LISTED)
    assert fetch.calls == []


def test_resolve_fetches_in_order_and_stops_when_decided() -> None:
    c = compile_where("s3_sse_algorithm <> 'AES256' OR s3_acl_is_private = false", scope="s3")
    fetch = Fetcher()  # aws:kms: the HEAD alone decides
    selected, facts = resolve(c, LISTED, fetch, clock=CLOCK)
    assert selected is True and fetch.calls == [Cost.HEAD]
    assert facts is not None and facts.head == HEAD and facts.acl is None
    fetch = Fetcher()
    fetch.head = replace(HEAD, sse_algorithm="AES256")
    fetch.acl = AclSummary(is_private=True, is_public_read=False, is_public_write=False, grants=1)
    selected, _ = resolve(c, LISTED, fetch, clock=CLOCK)
    assert selected is False and fetch.calls == [Cost.HEAD, Cost.ACL]


def test_resolve_reuses_facts_already_fetched() -> None:
    c = compile_where("s3_acl_is_public_read AND s3_tag('Env') = 'prod'", scope="s3")
    fetch = Fetcher()
    assert resolve(c, replace(LISTED, acl=ACL), fetch, clock=CLOCK)[0] is True
    assert fetch.calls == [Cost.TAGS]


def test_resolve_with_local_facts_and_no_object() -> None:
    c = compile_where("size > 1 AND s3_acl_is_private = false", scope="any")
    fetch = Fetcher()
    assert resolve(c, None, fetch, local=LOCAL, clock=CLOCK) == (False, None)
    assert resolve(c, LISTED, fetch, local=LOCAL, clock=CLOCK)[0] is True
    assert fetch.calls == [Cost.ACL]


def test_resolve_refuses_a_fetch_that_fills_nothing() -> None:
    c = compile_where("s3_acl_is_private", scope="s3")
    with pytest.raises(ValueError, match="did not fill"):
        resolve(c, LISTED, lambda facts, _cost: facts, clock=CLOCK)


def test_fetched_reports_what_is_present() -> None:
    assert LISTED.fetched == {Cost.LISTING}
    assert FULL.fetched == set(Cost)
    assert replace(LISTED, head=HeadFacts()).fetched == {Cost.LISTING, Cost.HEAD}


def test_mapping_source_function_keys() -> None:
    src = MappingSource({"s3_meta:owner": "bob", "s3_size": 5})
    assert cond("s3_meta('owner') = 'BOB' AND s3_size = 5").evaluate(src) is True
    assert cond("s3_meta('other') = 'x'").check(src).pending == {Cost.HEAD}
