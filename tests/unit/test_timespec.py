"""--as-of times: ISO 8601 with a zone, or an age; a time without zone is refused (exit 2)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from s3safe.core.errors import UsageError
from s3safe.core.timespec import parse_point_in_time

NOW = datetime(2026, 12, 6, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(("text", "expected"), [
    ("2d", NOW - timedelta(days=2)),
    ("36h", NOW - timedelta(hours=36)),
    ("1d12h", NOW - timedelta(hours=36)),
    ("90m", NOW - timedelta(minutes=90)),
    ("2W", NOW - timedelta(weeks=2)),
    ("0s", NOW),
    ("2026-12-01T18:00:00Z", datetime(2026, 12, 1, 18, tzinfo=UTC)),
    ("2026-12-01T19:00+01:00", datetime(2026, 12, 1, 19, tzinfo=timezone(timedelta(hours=1)))),
    ("2026-12-01 18:00:00.5+00:00", datetime(2026, 12, 1, 18, 0, 0, 500000, tzinfo=UTC)),
])  # fmt: skip
def test_readable_times(text: str, expected: datetime) -> None:
    assert parse_point_in_time(text, now=NOW) == expected


@pytest.mark.parametrize("text", ["2026-12-01T18:00:00", "2026-12-01", "2026-12-01 18:00"])
def test_a_time_without_zone_is_refused(text: str) -> None:
    with pytest.raises(UsageError, match="has no time zone") as caught:
        parse_point_in_time(text, now=NOW)
    assert caught.value.exit_code == 2


@pytest.mark.parametrize("text", ["", "yesterday", "36x", "2d 3h", "-2d", "99999999999d"])
def test_unreadable_times_are_refused(text: str) -> None:
    with pytest.raises(UsageError):
        parse_point_in_time(text, now=NOW)
