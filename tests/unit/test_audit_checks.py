"""Bucket checks on settings given directly (no server): policy meaning, CORS, names, lifecycle, severities."""

from __future__ import annotations

import json
from typing import Any, cast

import pytest
from hypothesis import given
from hypothesis import strategies as st

from s3safe.audit.checks import BY_ID, select
from s3safe.audit.checks.cors import risky_rule
from s3safe.audit.checks.naming import guessable_reason
from s3safe.audit.facts import AuditContext, BucketFacts
from s3safe.audit.fixes import deny_sse_c
from s3safe.audit.model import Finding, Severity
from s3safe.core.errors import UsageError
from s3safe.security.policy_templates import require_tls
from s3safe.storage.buckets import Setting
from s3safe.storage.connection import Connection

B = "audit-unit-bucket"
OWN_ACCOUNT = "123456789012"


def _ctx() -> AuditContext:
    ctx = AuditContext(cast(Connection, None))
    ctx._account = (OWN_ACCOUNT,)  # what STS would say; these tests make no request
    return ctx


def _facts(*, policy: list[dict[str, Any]] | None = None, encryption: dict[str, Any] | None = None,
           lifecycle: list[dict[str, Any]] | None = None, cors: list[dict[str, Any]] | None = None) -> BucketFacts:  # fmt: skip
    settings = {
        "policy": Setting("policy", "set", "", {"Policy": json.dumps({"Version": "2012-10-17", "Statement": policy})})
        if policy is not None else Setting("policy", "not set", "not set"),
        "default encryption": Setting("default encryption", "set", "", {"ServerSideEncryptionConfiguration": {"Rules": [encryption]}})
        if encryption is not None else Setting("default encryption", "not set", "not set"),
        "lifecycle": Setting("lifecycle", "set", "", {"Rules": lifecycle or []}),
        "cors": Setting("cors", "set", "", {"CORSRules": cors or []}),
        "block public access": Setting("block public access", "not set", "not set"),
    }  # fmt: skip
    return BucketFacts(B, "us-east-1", settings, None)


def _run(check_id: str, facts: BucketFacts) -> list[Finding]:
    return BY_ID[check_id].evaluate(facts, _ctx())


def _allow(principal: Any, action: str | list[str], resource: str = f"arn:aws:s3:::{B}/*", **extra: Any) -> dict[str, Any]:
    return {"Sid": "S1", "Effect": "Allow", "Principal": principal, "Action": action, "Resource": resource, **extra}


@pytest.mark.parametrize(
    ("statement", "severity"),
    [
        (_allow("*", "s3:GetObject"), Severity.HIGH),
        (_allow({"AWS": "*"}, "s3:GetObject"), Severity.HIGH),
        (_allow("*", ["s3:GetObject", "s3:PutObject"]), Severity.CRITICAL),
        (_allow("*", "s3:ListBucket", f"arn:aws:s3:::{B}"), Severity.HIGH),
        (_allow("*", "s3:*", f"arn:aws:s3:::{B}/public/*"), Severity.CRITICAL),  # probed inside public/
        # a Referer or User-Agent condition restricts nothing: anyone can send the header
        (_allow("*", "s3:GetObject", Condition={"StringLike": {"aws:Referer": "https://example.com/*"}}), Severity.HIGH),
        (_allow("*", "s3:GetObject", Condition={"Bool": {"aws:SecureTransport": "true"}}), Severity.HIGH),
    ],
)
def test_public_policy_statements_are_found(statement: dict[str, Any], severity: Severity) -> None:
    findings = _run("bucket-policy-public", _facts(policy=[statement]))
    assert [(f.severity, f.data["sids"]) for f in findings] == [(severity, ["S1"])]
    assert findings[0].fix == f"s3safe policy remove s3://{B} --sid S1"


@pytest.mark.parametrize(
    "statements",
    [
        [_allow({"AWS": "arn:aws:iam::111122223333:root"}, "s3:GetObject")],  # one named account
        [_allow({"AWS": f"arn:aws:iam::{OWN_ACCOUNT}:role/app"}, "s3:*")],
        [_allow({"Service": "logging.s3.amazonaws.com"}, "s3:PutObject")],
        [_allow("*", "s3:GetObject", Condition={"IpAddress": {"aws:SourceIp": "192.0.2.0/24"}})],
        [_allow("*", "s3:GetObject", Condition={"StringEquals": {"aws:PrincipalOrgID": "o-abc123"}})],
        [_allow("*", "s3:GetObject", Condition={"StringEquals": {"aws:PrincipalAccount": "111122223333"}})],
        [_allow("*", "s3:GetObject", Condition={"StringEquals": {"aws:SourceVpce": "vpce-1a2b3c4d"}})],
        # Allow to everyone, but a Deny refuses every caller from outside the office range
        [
            _allow("*", "s3:GetObject"),
            {
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": f"arn:aws:s3:::{B}/*",
                "Condition": {"NotIpAddress": {"aws:SourceIp": "192.0.2.0/24"}},
            },
        ],  # fmt: skip
        require_tls(B),
    ],
)
def test_restricted_policies_are_not_public(statements: list[dict[str, Any]]) -> None:
    assert _run("bucket-policy-public", _facts(policy=statements)) == []


def _get_when(operator: str, key: str, value: Any) -> dict[str, Any]:
    return _allow("*", "s3:GetObject", Condition={operator: {key: value}})


EVERY_SLASH_8 = [f"{i}.0.0.0/8" for i in range(256)]


@pytest.mark.parametrize(
    "statement",
    [
        # an IP "restriction" that lets in the whole address space, or half of it, is no restriction
        _get_when("IpAddress", "aws:SourceIp", "0.0.0.0/0"),
        _get_when("IpAddress", "aws:SourceIp", ["0.0.0.0/1", "128.0.0.0/1"]),
        _get_when("IpAddress", "aws:SourceIp", "::/0"),
        _get_when("IpAddress", "aws:SourceIp", ["192.0.2.0/24", "2000::/3"]),  # one narrow range does not excuse a wide one
        _get_when("IpAddress", "aws:SourceIp", "64.0.0.0/7"),  # wider than a /8
        _get_when("IpAddress", "aws:SourceIp", EVERY_SLASH_8),  # each range is a /8, together they cover everything
        _get_when("NotIpAddress", "aws:SourceIp", "192.0.2.0/24"),  # everyone else
        _get_when("IpAddressIfExists", "aws:SourceIp", "192.0.2.0/24"),  # a request without the key gets in
        # wildcards and negations on keys that would restrict with a fixed value
        _get_when("StringLike", "aws:SourceAccount", "*"),
        _get_when("StringLike", "aws:PrincipalOrgID", "*"),
        _get_when("StringLike", "aws:PrincipalOrgID", "o-*"),
        _get_when("StringEquals", "aws:PrincipalOrgID", "${aws:PrincipalOrgID}"),
        _get_when("ArnLike", "aws:SourceArn", "arn:aws:s3:::*"),
        _get_when("StringNotEquals", "aws:SourceAccount", "111122223333"),
        _get_when("StringEqualsIfExists", "aws:SourceVpce", "vpce-1a2b3c4d"),
        _get_when("ForAllValues:StringEquals", "aws:PrincipalOrgID", "o-abc123"),
        _get_when("Null", "aws:SourceVpce", "false"),
        _get_when("StringEquals", "aws:PrincipalTag/team", "finance"),  # anyone tags their own principal
    ],
)
def test_conditions_that_restrict_nobody_are_public(statement: dict[str, Any]) -> None:
    findings = _run("bucket-policy-public", _facts(policy=[statement]))
    assert [f.data["sids"] for f in findings] == [["S1"]]
    assert "s3:GetObject" in findings[0].found


@pytest.mark.parametrize(
    "statement",
    [
        _get_when("IpAddress", "aws:SourceIp", "10.0.0.0/8"),  # a /8 is as wide as a fixed range gets
        _get_when("IpAddress", "aws:SourceIp", ["192.0.2.0/24", "198.51.100.0/24", "2001:db8::/32"]),
        _get_when("StringEquals", "aws:SourceAccount", "111122223333"),
        _get_when("ArnEquals", "aws:SourceArn", "arn:aws:s3:::logs-bucket"),
        _get_when("StringLike", "aws:userid", "AROAEXAMPLEID:*"),  # a role's sessions: fixed, per AWS
        _allow("*", "s3:GetObject", Condition={"StringEquals": {"aws:SourceVpce": "vpce-1a2b3c4d", "aws:Referer": "x"}}),
    ],
)
def test_fixed_restrictions_are_not_public(statement: dict[str, Any]) -> None:
    assert _run("bucket-policy-public", _facts(policy=[statement])) == []


def test_public_statement_without_sid_is_reported_but_not_auto_fixed() -> None:
    statement = {k: v for k, v in _allow("*", "s3:GetObject").items() if k != "Sid"}
    [finding] = _run("bucket-policy-public", _facts(policy=[statement]))
    assert not finding.fixable and "(no Sid)" in finding.found


def test_tls_check_uses_the_evaluator() -> None:
    assert _run("bucket-tls-not-required", _facts(policy=require_tls(B))) == []
    [none] = _run("bucket-tls-not-required", _facts())
    assert none.found == "no bucket policy"
    only_get = {"Effect": "Deny", "Principal": "*", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{B}/*",
                "Condition": {"Bool": {"aws:SecureTransport": "false"}}}  # fmt: skip
    [partial] = _run("bucket-tls-not-required", _facts(policy=[only_get]))
    assert "s3:PutObject" in partial.found and "s3:GetObject" not in partial.found


def test_sse_c_is_blocked_by_policy_or_encryption_setting() -> None:
    aes = {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}
    assert len(_run("bucket-sse-c-not-blocked", _facts(encryption=aes))) == 1
    assert _run("bucket-sse-c-not-blocked", _facts(encryption=aes, policy=[deny_sse_c(B)])) == []
    blocked = {**aes, "BlockedEncryptionTypes": {"EncryptionType": ["SSE-C"]}}
    assert _run("bucket-sse-c-not-blocked", _facts(encryption=blocked)) == []


def test_abort_rule_must_cover_the_whole_bucket() -> None:
    abort = {"AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 7}, "Status": "Enabled"}
    assert _run("bucket-abort-mpu-missing", _facts(lifecycle=[{**abort, "Filter": {}}])) == []
    assert _run("bucket-abort-mpu-missing", _facts(lifecycle=[{**abort, "Filter": {"Prefix": ""}}])) == []
    [partial] = _run("bucket-abort-mpu-missing", _facts(lifecycle=[{**abort, "Filter": {"Prefix": "tmp/"}}]))
    assert "only under some prefixes" in partial.found
    assert len(_run("bucket-abort-mpu-missing", _facts(lifecycle=[{**abort, "Filter": {}, "Status": "Disabled"}]))) == 1


@pytest.mark.parametrize(
    ("rule", "risky"),
    [
        ({"AllowedOrigins": ["*"], "AllowedMethods": ["GET"], "AllowedHeaders": ["*"]}, True),
        ({"AllowedOrigins": ["https://*"], "AllowedMethods": ["PUT"]}, True),
        ({"AllowedOrigins": ["*"], "AllowedMethods": ["GET"], "AllowedHeaders": ["Authorization"]}, True),
        ({"AllowedOrigins": ["*"], "AllowedMethods": ["GET", "HEAD"]}, False),  # public-website style reads
        ({"AllowedOrigins": ["https://app.example.com"], "AllowedMethods": ["PUT"], "AllowedHeaders": ["*"]}, False),
    ],
)
def test_cors_wildcard_with_credentials(rule: dict[str, Any], risky: bool) -> None:
    assert (risky_rule(rule) is not None) is risky
    assert bool(_run("bucket-cors-wildcard", _facts(cors=[rule]))) is risky


@pytest.mark.parametrize(
    ("name", "guessable"),
    [
        ("acme-backups", True), ("backup2024", True), ("mycompany.prod.logs", True), ("data", True),
        ("logs-123456789012", True),  # an account id is no secret
        ("s3safe-test-3fa9c2e41b7d", False), ("data-k3x9q2", False), ("acme-backups-a1b2c3d4", False),
    ],
)  # fmt: skip
def test_guessable_names(name: str, guessable: bool) -> None:
    assert (guessable_reason(name) is not None) is guessable


def test_guessable_reason_names_the_dictionary_words() -> None:
    assert guessable_reason("acme-backups") == "dictionary words 'backups' and name parts 'acme' with no random part"


@given(
    st.from_regex(r"[a-z]{3,10}(-[a-z]{3,10}){0,2}", fullmatch=True), st.text("abcdefghjkmnpqrstuvwxyz", min_size=3, max_size=3)
)
def test_a_mixed_letters_and_digits_part_makes_any_name_unguessable(base: str, letters: str) -> None:
    suffix = "".join(f"{ch}{i}" for i, ch in enumerate(letters, start=2))  # e.g. k2x3q4: six runs
    assert guessable_reason(f"{base}-{suffix}") is None
    assert guessable_reason(base) is not None


def test_select_checks_and_severity_order() -> None:
    assert [c.id for c in select(["bucket-cors-wildcard"])] == ["bucket-cors-wildcard"]
    assert len(select([])) == len(BY_ID)
    with pytest.raises(UsageError, match="did you mean bucket-versioning-off"):
        select(["bucket-versioning-of"])
    assert Severity.parse("Medium") == Severity.MEDIUM and Severity.CRITICAL > Severity.HIGH > Severity.MEDIUM > Severity.LOW
