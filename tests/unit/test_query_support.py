"""Shared fixtures for the query tests (no tests here): one local file, one S3 object, a fixed clock.

Every expected value in the other files is derived by hand from these facts:

* clock: 2024-06-15 12:00:00 UTC, a Saturday (curr_dayofweek = 6), zone UTC.
* local file 'docs/Report.Final.PDF', 1536 bytes, modified 2023-12-31 23:59:59 UTC (a Sunday):
  166 days 12:00:01 old -> age_days 166, age_hours 166*24+12 = 3996, age_mins 3996*60 = 239760.
* S3 object 'photos/2024/Holiday.JPG', 3.5 MiB = 3670016 bytes, modified 2024-06-10 08:30:45 UTC
  (a Monday): 5 days 3:29:15 old -> age_days 5, age_hours 123, age_mins 7409.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

from s3safe.query import AclSummary, Clock, Condition, HeadFacts, LocalFacts, S3Facts, Subject, compile_where
from s3safe.query.parser import Scope

NOW = datetime(2024, 6, 15, 12, 0, 0, tzinfo=UTC)
CLOCK = Clock(NOW, zone=UTC)

LOCAL = LocalFacts(path="docs/Report.Final.PDF", size=1536, mtime=datetime(2023, 12, 31, 23, 59, 59, tzinfo=UTC))

ETAG = "0123456789abcdef0123456789abcdef"
HEAD = HeadFacts(
    content_type="image/jpeg",
    cache_control="max-age=60",
    sse_algorithm="aws:kms",
    sse_kms_key_id="arn:aws:kms:eu-west-1:111122223333:key/k1",
    metadata={"owner": "Alice", "s3safe-encryption": "age-v1"},
)
ACL = AclSummary(is_private=False, is_public_read=True, is_public_write=False, grants=2)
TAGS = {"Env": "prod", "team": "Blue"}

LISTED = S3Facts(
    key="photos/2024/Holiday.JPG",
    size=3670016,
    last_modified=datetime(2024, 6, 10, 8, 30, 45, tzinfo=UTC),
    etag=f'"{ETAG}"',
    storage_class="STANDARD_IA",
    version_id="v1",
    is_latest=True,
    is_delete_marker=False,
)
FULL = replace(LISTED, head=HEAD, acl=ACL, tags=TAGS)

BOTH = Subject(s3=FULL, local=LOCAL, clock=CLOCK)


def subject(s3: S3Facts | None = FULL, local: LocalFacts | None = LOCAL, clock: Clock = CLOCK) -> Subject:
    return Subject(s3=s3, local=local, clock=clock)


def ev(text: str, source: Subject = BOTH, scope: Scope = "any") -> bool | None:
    return compile_where(text, scope=scope).evaluate(source)


def cond(text: str, scope: Scope = "any") -> Condition:
    return compile_where(text, scope=scope)
