"""Points in time given on the command line (`--as-of`): ISO 8601 with a zone, or an age such as 36h."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from s3safe.core.errors import UsageError

_UNITS = {"w": timedelta(weeks=1), "d": timedelta(days=1), "h": timedelta(hours=1), "m": timedelta(minutes=1), "s": timedelta(seconds=1)}
_AGE = re.compile(r"(?:\d+[wdhms])+")
_PART = re.compile(r"(\d+)([wdhms])")
_FORMS = "an ISO 8601 time with its zone (2026-12-01T18:00:00Z, 2026-12-01T19:00+01:00) or an age (2d, 36h, 1d12h, 90m)"


def parse_point_in_time(text: str, *, now: datetime, option: str = "--as-of") -> datetime:
    """The moment `text` names; `now` (timezone-aware) is what an age counts back from.

    A time without a zone is refused: the same digits are a different moment on the backup host, the
    restoring laptop and in S3 (UTC), and a restore a few hours off brings back the wrong versions.
    """
    value = text.strip()
    if not value:
        raise UsageError(f"{option} needs a time", hint=f"give {_FORMS}")
    if _AGE.fullmatch(value.lower()):
        try:
            return now - sum((int(n) * _UNITS[unit] for n, unit in _PART.findall(value.lower())), timedelta())
        except OverflowError:
            raise UsageError(f"{option} {text!r} is further back than any date", hint=f"give {_FORMS}") from None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise UsageError(f"{option} {text!r} is not a time s3safe can read", hint=f"give {_FORMS}") from None
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise UsageError(
            f"{option} {text!r} has no time zone, so it could be any of 26 hours",
            hint="add Z for UTC or an offset such as +01:00 (2026-12-01T18:00:00Z), or give an age such as 36h",
        )
    return moment
