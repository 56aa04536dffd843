"""The value domain of the condition language: types, cost classes, the two 'no value' markers, dates.

Numbers are exact: integers stay `int`, everything else is a `fractions.Fraction` (so
`0.1 + 0.2 = 0.3` is true and `1.5GiB` is exactly 1610612736).

Two markers stand for a value that is not there:

* `UNKNOWN` – not fetched yet (an S3 HEAD, ACL or tagging request would tell). Evaluation is
  three-valued (Kleene): the caller may fetch and evaluate again.
* `NULL` – there is no value and never will be: the file or object does not exist on that side,
  a date is missing, or a number was divided by zero. A comparison with NULL is neither true nor
  false, NOT keeps it so, and at the end it counts as "not selected" – even under NOT.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from fractions import Fraction
from typing import Literal


class Cost(enum.Enum):
    """What it takes to know a variable's value for an S3 object."""

    LISTING = "listing"  # free: comes with the listing (or, for local files, the directory walk)
    HEAD = "head"  # one HeadObject per object
    ACL = "acl"  # one GetObjectAcl per object
    TAGS = "tags"  # one GetObjectTagging per object


# the order in which a caller should fetch extra facts (all cost one request; HEAD answers the most)
FETCH_ORDER: tuple[Cost, ...] = (Cost.HEAD, Cost.ACL, Cost.TAGS)


class Type(enum.Enum):
    TEXT = "text"
    NUMBER = "number"
    BOOL = "true/false"
    DATE = "date"


class Special(enum.Enum):
    UNKNOWN = "unknown"
    NULL = "null"


UNKNOWN = Special.UNKNOWN
NULL = Special.NULL

Number = int | Fraction
Scalar = str | int | Fraction | bool | datetime
Value = str | int | Fraction | bool | datetime | Special


def normalize(number: Number) -> Number:
    """A Fraction with denominator 1 becomes an int, so that results look like what was typed."""
    if isinstance(number, Fraction) and number.denominator == 1:
        return int(number.numerator)
    return number


def format_number(number: Number) -> str:
    """Exact decimal text for a number (every literal is a finite decimal times a power of 1024)."""
    number = normalize(number)
    if isinstance(number, int):
        return str(number)
    sign = "-" if number < 0 else ""
    num, den = abs(number.numerator), number.denominator
    for digits in range(1, 80):
        scaled = num * 10**digits
        if scaled % den == 0:
            text = str(scaled // den).rjust(digits + 1, "0")
            whole, frac = text[:-digits], text[-digits:].rstrip("0")
            return f"{sign}{whole}.{frac}" if frac else f"{sign}{whole}"
    return f"{sign}{num / den!r}"  # not reachable for numbers that came from literals


Precision = Literal["day", "minute", "second"]

_DATE_RE = re.compile(
    r"(\d{4})[-/](\d{1,2})[-/](\d{1,2})"
    r"(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?)?"
    r"\s*(Z|[+-]\d{2}:?\d{2})?"
)


@dataclass(frozen=True, slots=True)
class DateLiteral:
    """A date written as text: `'2024-01-31'`, `'2024-01-31 12:00'`, `'2024-01-31 12:00:00'`, optional `Z`/`+02:00`.

    The literal has a precision: a date-only literal means the whole day, so `mtime = '2024-01-31'`
    is true for any time on that day and `mtime > '2024-01-31'` starts on February 1st. Without an
    explicit offset the literal is read in the clock's time zone (the local zone by default).
    """

    wall: datetime  # naive wall-clock value
    precision: Precision
    zone: tzinfo | None  # an explicit offset written in the literal, else None
    text: str = field(default="", compare=False)

    @classmethod
    def parse(cls, text: str) -> DateLiteral | None:
        """The literal, or None if the text is not a date (the caller reports where)."""
        m = _DATE_RE.fullmatch(text.strip())
        if m is None:
            return None
        year, month, day, hour, minute, second, offset = m.groups()
        precision: Precision = "day" if hour is None else ("minute" if second is None else "second")
        try:
            wall = datetime(int(year), int(month), int(day), int(hour or 0), int(minute or 0), int(second or 0))
        except ValueError:
            return None
        zone: tzinfo | None = None
        if offset is not None:
            if offset == "Z":
                zone = UTC
            else:
                digits = offset[1:].replace(":", "")
                hours, minutes = int(digits[:2]), int(digits[2:])
                if hours > 23 or minutes > 59:
                    return None
                delta = timedelta(hours=hours, minutes=minutes)
                zone = timezone(-delta if offset[0] == "-" else delta)
        return cls(wall=wall, precision=precision, zone=zone, text=text)

    def view(self, moment: datetime, clock_zone: tzinfo | None) -> datetime:
        """`moment` as wall-clock time in this literal's zone, truncated to the literal's precision."""
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        local = moment.astimezone(self.zone if self.zone is not None else clock_zone).replace(tzinfo=None)
        if self.precision == "day":
            return local.replace(hour=0, minute=0, second=0, microsecond=0)
        if self.precision == "minute":
            return local.replace(second=0, microsecond=0)
        return local.replace(microsecond=0)
