"""Fuzzing the bucket-policy parser and evaluator, and the helpers `policy show/apply` run on a stored policy.

Any document (text or JSON value) either compiles or raises PolicyError; any request against a compiled
policy gets a decision or a UsageError; summarising, validating and merging never crash on what a bucket
may already hold.
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from s3safe.core.errors import UsageError
from s3safe.security.policy_eval import PolicyError, RequestContext, evaluate, parse_policy, s3_request
from s3safe.security.policy_summary import summarize_policy
from s3safe.security.policy_templates import TemplateOptions, build_statements, dump_policy, merge, policy_problems

BUCKET = "fuzz-bucket"
OPERATORS = ["StringEquals", "StringNotEquals", "StringLike", "StringNotLike", "StringEqualsIgnoreCase", "NumericLessThan",
             "NumericGreaterThanEquals", "DateLessThan", "DateGreaterThan", "Bool", "IpAddress", "NotIpAddress", "ArnLike",
             "ArnNotEquals", "Null", "BinaryEquals", "ForAnyValue:StringLike", "ForAllValues:StringEquals",
             "StringEqualsIfExists", "NumericEqualsIfExists", "Bogus", "ForAnyValue:Null", ""]  # fmt: skip
KEYS = ["aws:SourceIp", "aws:SecureTransport", "s3:x-amz-acl", "aws:CurrentTime", "aws:EpochTime", "aws:username",
        "s3:x-amz-server-side-encryption", "aws:PrincipalArn", "aws:PrincipalTag/team", "s3:prefix", "weird key", ""]  # fmt: skip
VALUES = ["true", "false", "10.0.0.0/8", "192.168.143.188/32", "::1/128", "300.1.1.1/33", "2024-01-01T00:00:00Z", "1700000000",
          "-1", "1e400", "${aws:username}", "${", "$${}", "*", "?", "arn:aws:s3:::fuzz-bucket/*", "private", "", "\x00", "é"]  # fmt: skip
ACTIONS = ["s3:GetObject", "s3:*", "*", "s3:Get*", "s3:PutObject", "iam:PassRole", "s3:", "GetObject", "s3:?et*"]
RESOURCES = ["arn:aws:s3:::fuzz-bucket", "arn:aws:s3:::fuzz-bucket/*", "*", "arn:aws:s3:::other/*", "arn:aws:s3:::fuzz-bucket/${aws:username}/*",
             "arn:aws:s3:::*", "arn:aws-cn:s3:::fuzz-bucket/a", "not-an-arn", "arn:aws:s3:::fuzz-bucket/${aws:username"]  # fmt: skip
PRINCIPALS: list[Any] = ["*", {"AWS": "*"}, {"AWS": "arn:aws:iam::111122223333:root"}, {"AWS": ["111122223333", "arn:aws:iam::444455556666:user/x"]},
                         {"Service": "logging.s3.amazonaws.com"}, {"CanonicalUser": "a" * 64}, {"Federated": "x"}, {"AWS": 5}, [], {}]  # fmt: skip

json_leaf = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True), st.text(max_size=10), st.sampled_from(VALUES)
)
json_values = st.recursive(
    json_leaf, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4), max_leaves=20
)


def _one_or_many(values: list[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(st.sampled_from(values), st.lists(st.sampled_from(values), max_size=3), json_values)


conditions = st.dictionaries(
    st.sampled_from(OPERATORS), st.dictionaries(st.sampled_from(KEYS), _one_or_many(VALUES), max_size=3) | json_values, max_size=3
)
statement = st.fixed_dictionaries(
    {"Effect": st.sampled_from(["Allow", "Deny", "allow", "Maybe", 1])},
    optional={
        "Sid": st.one_of(st.text(max_size=8), st.integers()),
        "Principal": st.one_of(st.sampled_from(PRINCIPALS), json_values),
        "NotPrincipal": st.sampled_from(PRINCIPALS),
        "Action": _one_or_many(ACTIONS),
        "NotAction": _one_or_many(ACTIONS),
        "Resource": _one_or_many(RESOURCES),
        "NotResource": _one_or_many(RESOURCES),
        "Condition": conditions | json_values,
    },
)
documents = st.fixed_dictionaries(
    {},
    optional={
        "Version": st.sampled_from(["2012-10-17", "2008-10-17", "2020-01-01", 2012]),
        "Statement": st.one_of(statement, st.lists(statement, max_size=4), json_values),
        "Id": st.text(max_size=5),
        "Extra": json_values,
    },
)
requests = st.builds(
    s3_request,
    st.sampled_from([*ACTIONS, "s3:ListBucket", "noaction"]),
    st.sampled_from([BUCKET, "other"]),
    st.one_of(st.none(), st.text(max_size=12)),
    principal=st.sampled_from(["anonymous", "arn:aws:iam::111122223333:user/x", "111122223333", "logging.s3.amazonaws.com",
                               "a" * 64, "arn:aws:sts::111122223333:assumed-role/r/s", "garbage", ""]),
    source_ip=st.one_of(st.none(), st.sampled_from(["10.1.2.3", "192.168.143.188", "::1", "not-an-ip", "300.1.1.1"])),
    secure_transport=st.booleans(),
    acl=st.one_of(st.none(), st.sampled_from(["private", "public-read", ""])),
    extra=st.one_of(st.none(), st.dictionaries(st.sampled_from(KEYS), st.one_of(st.text(max_size=8), st.lists(st.text(max_size=5), max_size=3), st.none()), max_size=3)),
)  # fmt: skip


def _parse(document: Any) -> Any:
    try:
        return parse_policy(document)
    except PolicyError as exc:
        error: PolicyError = exc
    assert isinstance(error, UsageError) and str(error).strip()
    return None


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=st.text(max_size=200))
def test_any_text_parses_or_raises_policy_error(text: str) -> None:
    _parse(text)


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(document=st.one_of(documents, json_values), request=requests)
def test_documents_compile_or_fail_cleanly_and_evaluation_decides(document: Any, request: RequestContext) -> None:
    compiled = _parse(document)
    # what `policy show` prints for a stored policy, and what `policy apply` checks, must not crash either
    if isinstance(document, dict):
        assert all(isinstance(line, str) for line in summarize_policy(document))
        assert isinstance(policy_problems(document, BUCKET), list)
        try:
            merged = merge(document, build_statements(BUCKET, TemplateOptions(require_tls=True)))
        except PolicyError as exc:
            merged = {"error": str(exc)}
        assert json.loads(dump_policy(merged))
    if compiled is None:
        return
    try:
        result = evaluate(compiled, request)
    except UsageError as exc:
        assert ":" not in request.action  # the one request evaluate() refuses
        assert str(exc).strip()  # noqa: PT017
        return
    assert result.decision in ("allow", "explicit-deny", "implicit-deny")
    assert result.explanation


@settings(max_examples=500, deadline=None)
@given(text=st.text(max_size=300))
def test_policy_problems_on_any_text_is_a_list(text: str) -> None:
    assert isinstance(policy_problems(text, BUCKET), list)
    assert isinstance(policy_problems(json.dumps(text), BUCKET), list)
