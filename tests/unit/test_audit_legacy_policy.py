"""Issue 20.10: the audit's public-policy check reads a policy under its own Version. Rewrapped as
2012-10-17, "${aws:username}" became a variable an anonymous caller has no value for, which hid a public
Allow on the literal path bucket/${aws:username}/* of a 2008-10-17 (or Version-less) policy."""

from __future__ import annotations

import json
from typing import Any, cast

import pytest

from s3safe.audit.checks import BY_ID
from s3safe.audit.facts import AuditContext, BucketFacts
from s3safe.storage.buckets import Setting
from s3safe.storage.connection import Connection

B = "audit-legacy-bucket"
STATEMENT = {"Sid": "Home", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject", "Resource": f"arn:aws:s3:::{B}/${{aws:username}}/*"}


def _findings(policy: dict[str, Any]) -> list[Any]:
    ctx = AuditContext(cast(Connection, None))
    ctx._account = ("123456789012",)  # what STS would say; no request is made
    settings = {"policy": Setting("policy", "set", "", {"Policy": json.dumps(policy)}),
                "block public access": Setting("block public access", "not set", "not set")}  # fmt: skip
    return list(BY_ID["bucket-policy-public"].evaluate(BucketFacts(B, "us-east-1", settings, None), ctx))


@pytest.mark.parametrize("header", [{"Version": "2008-10-17"}, {}], ids=["2008-10-17", "no-version"])
def test_a_literal_variable_path_in_a_legacy_policy_is_public(header: dict[str, str]) -> None:
    [finding] = _findings({**header, "Statement": [STATEMENT]})
    assert "statement Home allows s3:GetObject to anyone" in finding.found


def test_the_same_statement_under_2012_10_17_is_a_variable_and_not_public() -> None:
    assert _findings({"Version": "2012-10-17", "Statement": [STATEMENT]}) == []
