"""The audit's public-policy check against policies an outside tester found it passed while `policy simulate`
lets a stranger in: a condition on aws:SourceIp that every request meets, a Deny that spares a prefix the probe
never visited, a Deny on "no organization" that any organization escapes, and aws:PrincipalType, which any
account's role or user matches. Each is decided here the way the evaluator decides a stranger's request."""

from __future__ import annotations

import json
from typing import Any, cast

import pytest

from s3safe.audit.checks import BY_ID
from s3safe.audit.facts import AuditContext, BucketFacts
from s3safe.audit.model import Finding
from s3safe.security.policy_eval import evaluate, s3_request
from s3safe.storage.buckets import Setting
from s3safe.storage.connection import Connection

B = "audit-escape-bucket"
OBJECTS = f"arn:aws:s3:::{B}/*"


def _findings(statements: list[dict[str, Any]], *, version: str | None = "2012-10-17") -> list[Finding]:
    ctx = AuditContext(cast(Connection, None))
    ctx._account = ("123456789012",)  # what STS would say; no request is made
    document: dict[str, Any] = {"Statement": statements} | ({"Version": version} if version else {})
    settings = {"policy": Setting("policy", "set", "", {"Policy": json.dumps(document)}),
                "block public access": Setting("block public access", "not set", "not set")}  # fmt: skip
    return list(BY_ID["bucket-policy-public"].evaluate(BucketFacts(B, "us-east-1", settings, None), ctx))


def _get(condition: dict[str, Any] | None = None) -> dict[str, Any]:
    statement = {"Sid": "Get", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": OBJECTS}
    return statement | ({"Condition": condition} if condition else {})


def _deny(**rest: Any) -> dict[str, Any]:
    return {"Sid": "Fence", "Effect": "Deny", "Principal": "*", "Action": "s3:*", **rest}


@pytest.mark.parametrize(
    "condition",
    [
        {"Null": {"aws:SourceIp": "false"}},  # every request from the internet carries the key
        {"StringLike": {"aws:SourceIp": "*"}},
        {"StringEquals": {"aws:PrincipalType": "AssumedRole"}},  # any account's role
        {"StringEquals": {"aws:PrincipalType": "User"}},  # any account's user
    ],
    ids=["null-source-ip", "any-source-ip", "any-role", "any-user"],
)
def test_allow_conditions_every_stranger_meets_are_public(condition: dict[str, Any]) -> None:
    [finding] = _findings([_get(condition)])
    assert "statement Get allows s3:GetObject to anyone" in finding.found


@pytest.mark.parametrize(
    "deny",
    [
        _deny(NotResource=f"arn:aws:s3:::{B}/public/*"),  # spares public/: GetObject there is open
        _deny(Resource=OBJECTS, Condition={"StringNotLike": {"aws:PrincipalOrgID": "*"}}),  # any org escapes
        _deny(Resource=OBJECTS, Condition={"Null": {"aws:PrincipalOrgID": "true"}}),
        _deny(Resource=OBJECTS, Condition={"StringNotEquals": {"aws:PrincipalType": "AssumedRole"}}),
        _deny(Resource=OBJECTS, Condition={"StringNotLike": {"aws:SourceVpce": "vpce-*"}}),  # any VPC endpoint
    ],
    ids=["not-resource", "not-any-org", "null-org", "not-a-role", "not-any-endpoint"],
)
def test_a_deny_strangers_escape_leaves_the_allow_public(deny: dict[str, Any]) -> None:
    [finding] = _findings([_get(), deny])
    assert "statement Get allows s3:GetObject to anyone" in finding.found


@pytest.mark.parametrize(
    "deny",
    [
        _deny(Resource=OBJECTS, Condition={"StringNotEquals": {"aws:PrincipalOrgID": "o-abc123"}}),
        _deny(Resource=OBJECTS, Condition={"StringNotEqualsIfExists": {"aws:SourceVpce": "vpce-1a2b3c4d"}}),
        _deny(NotResource=f"arn:aws:s3:::{B}", Condition={"NotIpAddress": {"aws:SourceIp": "192.0.2.0/24"}}),
        _deny(Resource=OBJECTS),
        # a data perimeter: the bucket's own account or organization, or roles of one account
        _deny(Resource=OBJECTS, Condition={"StringNotEquals": {"aws:PrincipalAccount": "${aws:ResourceAccount}"}}),
        _deny(Resource=OBJECTS, Condition={"StringNotEquals": {"aws:PrincipalOrgID": "${aws:ResourceOrgID}"}}),
        _deny(Resource=OBJECTS, Condition={"ArnNotLike": {"aws:PrincipalArn": "arn:aws:iam::123456789012:role/*"}}),
    ],
    ids=["my-org", "my-endpoint", "my-office", "everyone", "my-account", "bucket-org", "my-roles"],
)
def test_a_deny_no_stranger_escapes_keeps_the_allow_private(deny: dict[str, Any]) -> None:
    assert _findings([_get(), deny]) == []


def test_the_not_resource_case_agrees_with_the_evaluator() -> None:
    """The audit's finding is the evaluator's answer for an anonymous caller inside the spared prefix."""
    policy = {"Version": "2012-10-17", "Statement": [_get(), _deny(NotResource=f"arn:aws:s3:::{B}/public/*")]}
    inside = evaluate(policy, s3_request("s3:GetObject", B, "public/x", source_ip="198.51.100.7"))
    outside = evaluate(policy, s3_request("s3:GetObject", B, "private/x", source_ip="198.51.100.7"))
    assert (inside.decision, outside.decision) == ("allow", "explicit-deny")
    assert len(_findings(policy["Statement"])) == 1


def test_a_literal_variable_under_2008_10_17_is_a_fixed_organization() -> None:
    """Before Version 2012-10-17 "${aws:PrincipalOrgID}" is the literal text no organization id equals."""
    statement = _get({"StringEquals": {"aws:PrincipalOrgID": "${aws:PrincipalOrgID}"}})
    assert _findings([statement], version="2008-10-17") == []
    assert _findings([statement], version=None) == []
    assert len(_findings([statement])) == 1  # a variable under 2012-10-17: every caller equals its own org


@pytest.mark.parametrize(
    ("principal", "principal_type"),
    [
        ("arn:aws:iam::444455556666:role/r", "AssumedRole"),
        ("arn:aws:sts::444455556666:assumed-role/r/session", "AssumedRole"),
        ("arn:aws:iam::444455556666:user/u", "User"),
        ("arn:aws:iam::444455556666:root", "Account"),
    ],
)
def test_simulate_derives_the_principal_type_from_the_arn(principal: str, principal_type: str) -> None:
    policy = {"Version": "2012-10-17", "Statement": [_get({"StringEquals": {"aws:PrincipalType": principal_type}})]}
    request = s3_request("s3:GetObject", B, "k", principal=principal, source_ip="198.51.100.7", bucket_account="123456789012")
    result = evaluate(policy, request)  # another account's caller: the bucket policy's Allow must apply
    assert (result.decision, result.sid) == ("allow", "Get")


@pytest.mark.parametrize(
    ("condition", "public"),
    [
        ({"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::111122223333:role/*"}}, False),  # one account's roles
        ({"StringEquals": {"aws:PrincipalAccount": "${aws:ResourceAccount}"}}, False),
        ({"ArnLike": {"aws:PrincipalArn": "arn:aws:iam::*:role/admin"}}, True),  # a role named admin anywhere
        ({"ArnLike": {"aws:SourceArn": "arn:aws:s3:::*"}}, True),
    ],
    ids=["one-accounts-roles", "own-account", "any-accounts-admin", "any-bucket"],
)
def test_wildcards_inside_one_account_are_fixed(condition: dict[str, Any], public: bool) -> None:
    assert bool(_findings([_get(condition)])) is public
