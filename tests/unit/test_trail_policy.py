"""Which CloudTrail event selectors record every object-level event of a bucket (CloudTrail User Guide forms)."""

from __future__ import annotations

from typing import Any

import pytest

from s3safe.security.trail_policy import bucket_selector, covering

B = "lake"


def _adv(*fields: dict[str, Any]) -> list[dict[str, Any]]:
    return [{"Name": "x", "FieldSelectors": [{"Field": "eventCategory", "Equals": ["Data"]},
                                            {"Field": "resources.type", "Equals": ["AWS::S3::Object"]}, *fields]}]  # fmt: skip


@pytest.mark.parametrize(
    ("advanced", "basic", "recorded"),
    [
        ([bucket_selector(B)], [], True),
        (_adv(), [], True),  # every bucket's objects
        (_adv({"Field": "resources.ARN", "StartsWith": ["arn:aws:s3:::"]}), [], True),
        (_adv({"Field": "resources.ARN", "StartsWith": ["arn:aws:s3:::lake/logs/"]}), [], False),  # part of the keys
        (_adv({"Field": "resources.ARN", "StartsWith": ["arn:aws:s3:::lakehouse/"]}), [], False),  # another bucket
        (_adv({"Field": "resources.ARN", "NotStartsWith": ["arn:aws:s3:::lake/"]}), [], False),
        (_adv({"Field": "resources.ARN", "NotStartsWith": ["arn:aws:s3:::other/"]}), [], True),
        (_adv({"Field": "readOnly", "Equals": ["true"]}), [], False),  # reads only
        (_adv({"Field": "eventName", "Equals": ["GetObject"]}), [], False),
        ([{"Name": "m", "FieldSelectors": [{"Field": "eventCategory", "Equals": ["Management"]}]}], [], False),
        ([], [{"ReadWriteType": "All", "DataResources": [{"Type": "AWS::S3::Object", "Values": ["arn:aws:s3"]}]}], True),
        ([], [{"ReadWriteType": "All", "DataResources": [{"Type": "AWS::S3::Object", "Values": ["arn:aws:s3:::lake/"]}]}], True),
        ([], [{"ReadWriteType": "WriteOnly", "DataResources": [{"Type": "AWS::S3::Object", "Values": ["arn:aws:s3"]}]}], False),
        ([], [{"ReadWriteType": "All", "DataResources": [{"Type": "AWS::S3::Object", "Values": ["arn:aws:s3:::lake/a/"]}]}], False),
        ([], [{"ReadWriteType": "All", "IncludeManagementEvents": True}], False),
    ],
)
def test_covering(advanced: list[dict[str, Any]], basic: list[dict[str, Any]], recorded: bool) -> None:
    assert (covering(B, trail="t", basic=basic, advanced=advanced) is not None) is recorded
