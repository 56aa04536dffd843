"""Server access logging: the target bucket's policy statement for the logging service, and the
retention lifecycle rule, merged into existing rules without replacing them.

Sources (S3 User Guide): "Enabling Amazon S3 server access logging" — grant permissions to the logging
service principal (logging.s3.amazonaws.com) with a bucket policy on the destination bucket, restricted by
aws:SourceArn (the source bucket) and aws:SourceAccount (its account); ACL grants to the log delivery group
fail on buckets with ACLs disabled. "Setting lifecycle configuration on a bucket" — a PUT replaces the whole
configuration, so a new rule must be added to the existing ones.
"""

from __future__ import annotations

import copy
import hashlib
import re
from collections.abc import Mapping, Sequence
from typing import Any

from s3safe.core.errors import UsageError
from s3safe.security.policy_templates import SID_PREFIX

__all__ = [
    "LOGGING_SERVICE",
    "RETENTION_ID_PREFIX",
    "log_delivery_sid",
    "log_delivery_statement",
    "merge_retention",
    "merge_rules",
    "retention_rule",
    "retention_rule_id",
    "unique_name",
]

LOGGING_SERVICE = "logging.s3.amazonaws.com"
RETENTION_ID_PREFIX = "s3safe-log-retention"
MAX_RULE_ID = 255
MAX_RETENTION_DAYS = 36_500


def unique_name(exact: str, *, keep: str = r"A-Za-z0-9", limit: int = 40) -> str:
    """`exact` with punctuation dropped (readable) plus a hash of the exact text: 'my-trail' and 'mytrail' differ."""
    alnum = keep == r"A-Za-z0-9"
    readable = re.sub(f"[^{keep}]+", "" if alnum else "-", exact).strip("-")[:limit]
    return readable + ("" if alnum or not readable else "-") + hashlib.sha256(exact.encode()).hexdigest()[:8]


def log_delivery_sid(source_bucket: str) -> str:
    """A stable Sid per source bucket, so several buckets can log into one target (Sids are alphanumeric)."""
    return f"{SID_PREFIX}LogDelivery{unique_name(source_bucket)}"


def log_delivery_statement(target_bucket: str, prefix: str, source_bucket: str, source_account: str | None) -> dict[str, Any]:
    """Allow the logging service to write under target/prefix for this source bucket only."""
    condition: dict[str, Any] = {"ArnLike": {"aws:SourceArn": f"arn:aws:s3:::{source_bucket}"}}
    if source_account:
        if not re.fullmatch(r"\d{12}", source_account):
            raise UsageError(f"{source_account!r} is not a 12-digit AWS account id")
        condition["StringEquals"] = {"aws:SourceAccount": source_account}
    return {
        "Sid": log_delivery_sid(source_bucket),
        "Effect": "Allow",
        "Principal": {"Service": LOGGING_SERVICE},
        "Action": "s3:PutObject",
        "Resource": f"arn:aws:s3:::{target_bucket}/{prefix}*",
        "Condition": condition,
    }


def retention_rule_id(prefix: str) -> str:
    """'s3safe-log-retention' for the whole bucket, else with the prefix made safe and a hash of the exact
    prefix: one rule per prefix, and x/y/ and x-y/ do not share one."""
    if not prefix:
        return RETENTION_ID_PREFIX
    return f"{RETENTION_ID_PREFIX}-{unique_name(prefix, keep=r'A-Za-z0-9._-', limit=200)}"


def retention_rule(prefix: str, days: int) -> dict[str, Any]:
    if not 1 <= days <= MAX_RETENTION_DAYS:
        raise UsageError(f"--retain-days must be between 1 and {MAX_RETENTION_DAYS}, not {days}")
    return {
        "ID": retention_rule_id(prefix),
        "Status": "Enabled",
        "Filter": {"Prefix": prefix},
        "Expiration": {"Days": days},
    }


def merge_rules(existing: Sequence[Mapping[str, Any]], rule: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The existing rules with `rule` in place of the one with the same ID (or appended); order kept."""
    out: list[dict[str, Any]] = []
    placed = False
    for current in existing:
        if current.get("ID") == rule["ID"]:
            if not placed:
                out.append(copy.deepcopy(dict(rule)))
                placed = True
            continue
        out.append(copy.deepcopy(dict(current)))
    if not placed:
        out.append(copy.deepcopy(dict(rule)))
    return out


def merge_retention(existing: Sequence[Mapping[str, Any]], rule: Mapping[str, Any]) -> list[dict[str, Any]]:
    """merge_rules, and an s3safe retention rule of an earlier ID scheme for exactly this prefix is replaced too
    (it is the same rule); a rule for any other prefix is kept whatever its ID."""
    prefix = rule["Filter"]["Prefix"]

    def older_form(current: Mapping[str, Any]) -> bool:
        rule_id, where = str(current.get("ID") or ""), current.get("Filter")
        return (rule_id != rule["ID"] and rule_id.startswith(RETENTION_ID_PREFIX) and isinstance(where, Mapping)
                and set(where) == {"Prefix"} and where["Prefix"] == prefix)  # fmt: skip

    return merge_rules([r for r in existing if not older_form(r)], rule)
