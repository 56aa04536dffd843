"""CloudTrail data events for one bucket: the advanced event selector, whether a trail's selectors record a
bucket's object-level activity, and the log bucket's policy statements for CloudTrail delivery.

Sources (CloudTrail User Guide): "Logging data events" — advanced selectors with eventCategory = Data,
resources.type = AWS::S3::Object and resources.ARN StartsWith arn:aws:s3:::bucket/; basic selectors with
DataResources Type AWS::S3::Object and values arn:aws:s3 (all buckets) or arn:aws:s3:::bucket/.
"Amazon S3 bucket policy for CloudTrail" — s3:GetBucketAcl on the bucket and s3:PutObject under
prefix/AWSLogs/ACCOUNT/ with x-amz-acl bucket-owner-full-control, both limited by aws:SourceArn (the trail).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from s3safe.security.log_delivery import unique_name
from s3safe.security.policy_templates import SID_PREFIX

SELECTOR_PREFIX = "s3safe: object events of s3://"
TRAIL_SERVICE = "cloudtrail.amazonaws.com"
# CloudTrail pricing: data events are billed per 100,000 events delivered (us-east-1 list price; a guide)
PRICE_PER_100K_DATA_EVENTS = 0.10


def selector_name(bucket: str) -> str:
    return f"{SELECTOR_PREFIX}{bucket}"


def bucket_selector(bucket: str) -> dict[str, Any]:
    """Every object-level API call (reads and writes) on the bucket's objects."""
    return {
        "Name": selector_name(bucket),
        "FieldSelectors": [
            {"Field": "eventCategory", "Equals": ["Data"]},
            {"Field": "resources.type", "Equals": ["AWS::S3::Object"]},
            {"Field": "resources.ARN", "StartsWith": [f"arn:aws:s3:::{bucket}/"]},
        ],
    }


def _advanced_covers(selector: dict[str, Any], bucket: str) -> bool:
    objects = f"arn:aws:s3:::{bucket}/"
    fields = {str(f.get("Field")): f for f in selector.get("FieldSelectors") or []}
    if fields.get("eventCategory", {}).get("Equals") != ["Data"]:
        return False
    if "AWS::S3::Object" not in (fields.get("resources.type", {}).get("Equals") or []):
        return False
    if set(fields) - {"eventCategory", "resources.type", "resources.ARN"}:
        return False  # readOnly, eventName … record only part of the activity
    arn = fields.get("resources.ARN")
    if arn is None:
        return True
    if set(arn) - {"Field", "StartsWith", "NotStartsWith"}:
        return False
    starts = arn.get("StartsWith")
    if starts is not None and not any(objects.startswith(str(v)) for v in starts):
        return False
    return not any(str(v).startswith(objects) or objects.startswith(str(v)) for v in arn.get("NotStartsWith") or [])


def _basic_covers(selector: dict[str, Any], bucket: str) -> bool:
    if selector.get("ReadWriteType", "All") != "All":
        return False
    objects = f"arn:aws:s3:::{bucket}/"
    for resource in selector.get("DataResources") or []:
        if resource.get("Type") != "AWS::S3::Object":
            continue
        if any(str(v) in ("arn:aws:s3", "arn:aws:s3:::") or (objects.startswith(str(v)) and str(v).endswith("/")) for v in resource.get("Values") or []):
            return True
    return False


@dataclass(frozen=True)
class Coverage:
    trail: str
    selector: str  # its name, or "basic event selector"


def covering(bucket: str, *, trail: str, basic: list[dict[str, Any]], advanced: list[dict[str, Any]]) -> Coverage | None:
    """The selector of this trail that records every object-level event of the bucket, if any."""
    for selector in advanced:
        if _advanced_covers(selector, bucket):
            return Coverage(trail, str(selector.get("Name") or "advanced event selector"))
    for selector in basic:
        if _basic_covers(selector, bucket):
            return Coverage(trail, "basic event selector")
    return None


def delivery_statements(log_bucket: str, prefix: str, *, trail_arn: str, account: str) -> list[dict[str, Any]]:
    base = f"{prefix.strip('/')}/" if prefix.strip("/") else ""
    # the trail's name made alphanumeric plus a hash of its exact ARN: my-trail and mytrail never share a Sid
    name = re.sub(r"[^A-Za-z0-9]", "", trail_arn.rsplit("/", 1)[-1])[:40] + unique_name(trail_arn, limit=0)
    source = {"aws:SourceArn": trail_arn}
    return [
        {"Sid": f"{SID_PREFIX}CloudTrailAclCheck{name}", "Effect": "Allow", "Principal": {"Service": TRAIL_SERVICE},
         "Action": "s3:GetBucketAcl", "Resource": f"arn:aws:s3:::{log_bucket}", "Condition": {"StringEquals": source}},
        {"Sid": f"{SID_PREFIX}CloudTrailWrite{name}", "Effect": "Allow", "Principal": {"Service": TRAIL_SERVICE},
         "Action": "s3:PutObject", "Resource": f"arn:aws:s3:::{log_bucket}/{base}AWSLogs/{account}/*",
         "Condition": {"StringEquals": {**source, "s3:x-amz-acl": "bucket-owner-full-control"}}},
    ]  # fmt: skip


def superseded_delivery(statement: Mapping[str, Any], *, trail_arn: str, statements: list[dict[str, Any]]) -> bool:
    """An s3safe CloudTrail grant of an earlier Sid scheme for exactly this trail and grant (same action and resource)."""
    sid = str(statement.get("Sid") or "")
    if not sid.startswith(f"{SID_PREFIX}CloudTrail"):
        return False
    source = ((statement.get("Condition") or {}).get("StringEquals") or {}).get("aws:SourceArn")
    return source == trail_arn and any((statement.get("Action"), statement.get("Resource")) == (s["Action"], s["Resource"]) for s in statements)


def cost_lines(bucket: str) -> list[str]:
    return [
        f"cost: CloudTrail bills data events per 100,000 delivered (${PRICE_PER_100K_DATA_EVENTS:.2f} per 100,000 at "
        "us-east-1 list prices; check your region)",
        f"  every object request on s3://{bucket} (GET, PUT, HEAD, DELETE, ACL and tag calls …) is one event: "
        "1,000,000 requests a day cost about $1.00 a day, plus S3 storage of the log files",
    ]
