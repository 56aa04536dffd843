"""Every audit check, in report order. Bucket checks have one module per concern; object rules are in `objects`."""

from __future__ import annotations

import difflib
from collections.abc import Iterable

from s3safe.audit.checks import access, cors, logging, naming, objects, policy, protection
from s3safe.audit.model import Check
from s3safe.core.errors import UsageError

BUCKET_CHECKS: list[Check] = [*access.CHECKS, *policy.CHECKS, *protection.CHECKS, *logging.CHECKS, *cors.CHECKS, *naming.CHECKS]
OBJECT_CHECKS: list[Check] = list(objects.CHECKS)
ALL_CHECKS: list[Check] = [*BUCKET_CHECKS, *OBJECT_CHECKS]
BY_ID = {c.id: c for c in ALL_CHECKS}


def select(ids: Iterable[str]) -> list[Check]:
    """The checks named (all when none are); an unknown id is a usage error with a suggestion."""
    wanted = list(dict.fromkeys(i.strip() for i in ids if i.strip()))
    if not wanted:
        return list(ALL_CHECKS)
    for check_id in wanted:
        if check_id not in BY_ID:
            close = difflib.get_close_matches(check_id, BY_ID, n=1)
            hint = f"did you mean {close[0]}?" if close else "see 'audit --list-checks'"
            raise UsageError(f"unknown check {check_id!r}", hint=hint)
    return [c for c in ALL_CHECKS if c.id in wanted]


__all__ = ["ALL_CHECKS", "BUCKET_CHECKS", "BY_ID", "OBJECT_CHECKS", "select"]
