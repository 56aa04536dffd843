"""Issue 20.8, 20.12-20.14: where s3safe's policy evaluator disagreed with IAM (an independent IAM simulator
and the IAM User Guide), and robustness against hostile documents.

Wildcard matching is bounded by counting character comparisons (StepCounter), never by wall time.
"""

from __future__ import annotations

import json
import re
from typing import Any
from unittest import mock

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from s3safe.security import policy_conditions
from s3safe.security.policy_conditions import StepCounter, arn_match, glob_match, parse_template
from s3safe.security.policy_eval import PolicyError, evaluate, parse_policy, s3_request

B = "amzn-s3-demo-bucket"
ACCT = "111122223333"
ALICE = f"arn:aws:iam::{ACCT}:user/alice"


def _policy(condition: dict[str, Any], *, resource: str = f"arn:aws:s3:::{B}/*") -> dict[str, Any]:
    statement = {"Sid": "S", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": resource}
    if condition:
        statement["Condition"] = condition
    return {"Version": "2012-10-17", "Statement": [statement]}


# ------------------------------------------------------------------- 20.8: case of the tag key


@pytest.mark.parametrize(
    ("policy_key", "request_key"),
    [
        ("s3:ExistingObjectTag/Classification", "s3:ExistingObjectTag/classification"),
        ("s3:existingobjecttag/classification", "S3:ExistingObjectTag/CLASSIFICATION"),
        ("aws:PrincipalTag/TEAM", "aws:PrincipalTag/team"),
    ],
)
def test_tag_keys_in_condition_keys_are_case_insensitive(policy_key: str, request_key: str) -> None:
    policy = _policy({"StringEquals": {policy_key: "secret"}})
    request = s3_request("s3:GetObject", B, "doc.txt", extra={request_key: "secret"})
    assert evaluate(policy, request).decision == "allow"


def test_a_tag_key_variable_is_case_insensitive_too() -> None:
    policy = _policy({"StringEquals": {"s3:ExistingObjectTag/Team": "${aws:PrincipalTag/TEAM}"}})
    request = s3_request("s3:GetObject", B, "doc.txt", principal=ALICE, identity_allows=False,
                         extra={"aws:PrincipalTag/team": "blue", "s3:ExistingObjectTag/team": "blue"})  # fmt: skip
    assert evaluate(policy, request).decision == "allow"


# ---------------------------------------------------------------------- 20.12: duplicate keys

STORAGE_LENS = """{
  "Version": "2012-10-17",
  "Statement": [{
    "Sid": "S3StorageLensExamplePolicy",
    "Effect": "Allow",
    "Principal": {"Service": "storage-lens.s3.amazonaws.com"},
    "Action": "s3:PutObject",
    "Resource": ["arn:aws:s3:::amzn-s3-demo-destination-bucket/destination-prefix/StorageLens/111122223333/*"],
    "Condition": {
      "StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control"},
      "StringEquals": {"aws:SourceAccount": "111122223333"},
      "StringEquals": {"aws:SourceArn": "arn:aws:s3:region-code:111122223333:storage-lens/storage-lens-dashboard-configuration-id"}
    }
  }]
}"""


def test_duplicate_keys_are_rejected_not_collapsed_to_the_last() -> None:
    """The S3 User Guide's Storage Lens example repeats "StringEquals": a JSON reader keeps only the last of
    the three conditions; IAM refuses the document."""
    with pytest.raises(PolicyError, match="repeats the key 'StringEquals'"):
        parse_policy(STORAGE_LENS)


@pytest.mark.parametrize("text", ['{"Version": "2012-10-17", "Version": "2012-10-17", "Statement": []}',
                                  '{"Statement": [{"Effect": "Allow", "Effect": "Deny"}]}'])  # fmt: skip
def test_duplicate_keys_anywhere_are_rejected(text: str) -> None:
    with pytest.raises(PolicyError, match="repeats the key"):
        parse_policy(text)


# ------------------------------------------------------------------------ 20.13: Bool + variable


def test_bool_with_a_policy_variable_is_valid_and_resolved_per_request() -> None:
    policy = _policy({"Bool": {"aws:MultiFactorAuthPresent": "${aws:PrincipalTag/mfa}"}})
    parse_policy(policy)
    base = {"aws:MultiFactorAuthPresent": "true"}
    yes = s3_request("s3:GetObject", B, "doc.txt", principal=ALICE, identity_allows=False, extra={**base, "aws:PrincipalTag/mfa": "true"})
    no = s3_request("s3:GetObject", B, "doc.txt", principal=ALICE, identity_allows=False, extra={**base, "aws:PrincipalTag/mfa": "false"})
    absent = s3_request("s3:GetObject", B, "doc.txt", principal=ALICE, identity_allows=False, extra=base)
    assert [evaluate(policy, r).decision for r in (yes, no, absent)] == ["allow", "implicit-deny", "implicit-deny"]


def test_bool_with_a_variable_in_a_legacy_policy_is_still_a_bad_value() -> None:
    legacy = {**_policy({"Bool": {"aws:SecureTransport": "${aws:PrincipalTag/tls}"}}), "Version": "2008-10-17"}
    with pytest.raises(PolicyError, match="must be true or false"):
        parse_policy(legacy)


# --------------------------------------------------------------------------- 20.14: robustness


@pytest.mark.parametrize("depth", [1_000, 100_000])
def test_a_deeply_nested_policy_is_a_clear_error(depth: int) -> None:
    text = '{"Version": "2012-10-17", "Statement": ' + "[" * depth + "]" * depth + "}"
    with pytest.raises(PolicyError, match="nested too deeply"):
        parse_policy(text)


def test_the_hostile_resource_wildcard_of_the_issue_is_decided_in_bounded_work() -> None:
    """A 55-character Resource wildcard against a 40-character key took 272 s with a backtracking regex."""
    pattern = "*a" * 27 + "b"  # 55 characters
    key = "a" * 40
    counter = StepCounter()
    template = parse_template(f"arn:aws:s3:::{B}/{pattern}", variables=True)
    resolved = tuple((part.text, True) for part in template)  # type: ignore[union-attr]
    assert not arn_match(resolved, f"arn:aws:s3:::{B}/{key}", counter=counter)
    assert counter.steps <= (len(pattern) + 1) * (len(key) + 1)
    decision = evaluate(_policy({}, resource=f"arn:aws:s3:::{B}/{pattern}"), s3_request("s3:GetObject", B, key))
    assert decision.decision == "implicit-deny"


def _reference(pattern: str, value: str) -> bool:
    """The old regex translation, trusted on inputs too small to blow up."""
    regex = "".join(".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern)
    return re.fullmatch(regex, value, re.DOTALL) is not None


patterns = st.text(alphabet="ab*?", max_size=12)
values = st.text(alphabet="ab", max_size=12)


@settings(max_examples=400, deadline=None)
@given(patterns, values)
def test_wildcard_matching_agrees_with_the_regex_and_is_bounded_by_input_size(pattern: str, value: str) -> None:
    counter = StepCounter()
    assert glob_match(((pattern, True),), value, counter=counter) == _reference(pattern, value)
    assert counter.steps <= (len(pattern) + 1) * (len(value) + 1)


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="ab*?", min_size=1, max_size=60), st.text(alphabet="ab", max_size=200))
def test_wildcard_work_stays_within_pattern_times_value(pattern: str, value: str) -> None:
    counter = StepCounter()
    glob_match(((pattern, True),), value, counter=counter)
    assert counter.steps <= (len(pattern) + 1) * (len(value) + 1)


def _old_arn_regex(pattern: str) -> re.Pattern[str]:
    out, colons = [], 0
    for ch in pattern:
        head = colons < 5
        out.append(("[^:]*" if head else ".*") if ch == "*" else ("[^:]" if head else ".") if ch == "?" else re.escape(ch))
        colons += ch == ":"
    return re.compile("".join(out), re.DOTALL)


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet="a:*?", max_size=14), st.text(alphabet="a:", max_size=14))
def test_arn_matching_keeps_wildcards_inside_the_first_five_components(pattern: str, value: str) -> None:
    counter = StepCounter()
    got = arn_match(((pattern, True),), value, counter=counter)
    if pattern.count(":") < 5:
        expected = _reference(pattern, value)
    else:
        expected = value.count(":") >= 5 and _old_arn_regex(pattern).fullmatch(value) is not None
    assert got == expected
    assert counter.steps <= (len(pattern) + 1) * (len(value) + 1)


def test_policy_json_round_trip_still_works() -> None:
    assert parse_policy(json.dumps(_policy({"StringEquals": {"aws:username": "alice"}}))).version == "2012-10-17"


def _area(pattern: str, value: str) -> int:
    return (len(pattern) + 1) * (len(value) + 1)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.text(alphabet="ab*?", min_size=1, max_size=30), min_size=1, max_size=4), st.text(alphabet="ab", min_size=1, max_size=60))
def test_evaluation_work_is_bounded_by_policy_and_request_size(patterns: list[str], key: str) -> None:
    """Every wildcard comparison of a whole evaluation (Action, Resource, StringLike) is counted through the
    matcher's one inner step; the count stays within the sum of pattern x value sizes."""
    resources = [f"arn:aws:s3:::{B}/{p}" for p in patterns]
    policy = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": "*", "Action": "s3:Get*", "Resource": resources,
        "Condition": {"StringLike": {"s3:prefix": patterns}}}]}  # fmt: skip
    request = s3_request("s3:GetObject", B, key, extra={"s3:prefix": key})
    calls = 0
    real = policy_conditions._segment_at

    def counting(*args: Any) -> bool:
        nonlocal calls
        calls += 1
        return real(*args)

    with mock.patch.object(policy_conditions, "_segment_at", counting):
        evaluate(policy, request)
    bound = _area("s3:Get*", "s3:GetObject") + sum(_area(r, request.resource) + _area(p, key) for r, p in zip(resources, patterns, strict=True))
    assert 0 < calls <= bound


def test_local_validation_reports_a_repeated_key_of_a_stored_policy() -> None:
    from s3safe.security.policy_templates import policy_problems

    problems = policy_problems(STORAGE_LENS.replace("amzn-s3-demo-destination-bucket", B), B)
    assert problems and problems[0].startswith("repeats the key 'StringEquals'")
