"""The decorator every bucket check module uses, and principals the policy probes impersonate."""

from __future__ import annotations

from collections.abc import Callable

from s3safe.audit.facts import AuditContext, BucketFacts
from s3safe.audit.model import Check, Finding, Severity

RunFn = Callable[[Check, BucketFacts, AuditContext], list[Finding]]

# a key no real object is likely to have: object-level probes need one
PROBE_KEY = "s3safe-audit-probe"
# stands in for the audited account when the store cannot tell it (so that "same account" still holds)
PLACEHOLDER_ACCOUNT = "000000000000"


def bucket_check(check_id: str, title: str, *, severity: Severity, why: str, fixable: bool) -> Callable[[RunFn], Check]:
    def wrap(run: RunFn) -> Check:
        return Check(check_id, title, severity, why, fixable=fixable, scope="bucket", run=run)

    return wrap


def own_user(ctx: AuditContext) -> tuple[str, str]:
    """(principal ARN, account) of an IAM user of the audited account whose own IAM policy allows everything."""
    account = ctx.account or PLACEHOLDER_ACCOUNT
    return f"arn:aws:iam::{account}:user/s3safe-audit", account


def stranger(ctx: AuditContext) -> str:
    """Any AWS account's root that is not the audited one: 'AuthenticatedUsers' in policy terms."""
    account = ctx.account or PLACEHOLDER_ACCOUNT
    return "arn:aws:iam::999999999999:root" if account != "999999999999" else "arn:aws:iam::999999999998:root"
