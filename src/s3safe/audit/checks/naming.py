"""Guessable bucket names: strangers find open buckets by trying names, so a name without a random part helps them.

The heuristic (no network, a built-in word list):
1. The name is split into parts at '-', '.' and '_'.
2. A part is random when it has at least 6 characters and at least 4 alternating runs of letters and digits
   (``a3f9c2e41b7d``, ``k3x9q2``), or at least 20 letters and digits. Letters alone, a word plus a number
   (``backup2024``), years, dates and account ids are not random: they are what guessers try.
3. A name with no random part is guessable. The finding names the dictionary words (built-in list of common
   English and bucket-naming words) and the other parts (usually a company or product name) it is made of.
"""

from __future__ import annotations

import re

from s3safe.audit.checks._base import bucket_check
from s3safe.audit.facts import AuditContext, BucketFacts
from s3safe.audit.model import Check, Finding, Severity

_WORD_LIST = """
    a about access account accounts admin ads ai alpha analytics and api app apps archive archives art asset assets
    audio audit auth aws b2b backend backup backups bak beta big bin blob blobs blog bucket buckets build builds
    bulk business cache cdn central client clients cloud cluster code common company config configs content
    contracts corp corporate crm customer customers dashboard data database datalake db deploy deployment
    deployments dev develop development devops dist doc docs document documents download downloads dr dump dumps
    east edge email emr en engineering enterprise env etl eu europe event events exchange export exports external
    feed feeds file files finance firehose folder frontend ftp full general global group hadoop hr html iam image
    images import imports incoming info infra infrastructure int integration internal inventory invoice invoices it
    jenkins job jobs json kafka lake lambda legal lib live local log logging logs main mail marketing master media
    meta metrics misc ml mobile model models monitoring my mysql new news north nightly office old ops org origin
    our output outputs package packages partner partners pdf people photo photos pipeline pipelines platform
    postgres pre preprod private prod production project projects public qa raw recordings redshift release releases
    repo report reports repository research resources restore results sales sandbox scan scans scratch secure
    security server service services share shared site sites snapshot snapshots software source south sql stage
    staging static stats storage store stream streaming support sync system team temp terraform test testing tests
    tf tmp tools traffic training transfer uat upload uploads user users video videos vault warehouse web website
    west wiki work www
"""
WORDS = frozenset(_WORD_LIST.split())
RANDOM_MIN_LENGTH = 6
RANDOM_MIN_RUNS = 4
LONG_PART = 20


def name_parts(name: str) -> list[str]:
    return [p for p in re.split(r"[-._]+", name.lower()) if p]


def is_random(part: str) -> bool:
    runs = re.findall(r"[a-z]+|[0-9]+", part)
    return (len(part) >= RANDOM_MIN_LENGTH and len(runs) >= RANDOM_MIN_RUNS) or len(part) >= LONG_PART


def guessable_reason(name: str) -> str | None:
    """Why the name is guessable, or None when it has a random part."""
    parts = name_parts(name)
    if any(is_random(p) for p in parts):
        return None
    words = [p for p in parts if re.sub(r"\d+$", "", p) in WORDS]
    others = [p for p in parts if p not in words]
    pieces = []
    if words:
        pieces.append("dictionary words " + ", ".join(repr(w) for w in words))
    if others:
        pieces.append("name parts " + ", ".join(repr(o) for o in others))
    return " and ".join(pieces) + " with no random part"


@bucket_check(
    "bucket-name-guessable", "Bucket name is easy to guess", severity=Severity.LOW,
    why="Bucket names are global and answer 'exists' to anyone; scanners try dictionary words and company names with "
    "common suffixes (-backup, -logs, -prod). A random part keeps the bucket off their lists, so a mistake elsewhere "
    "is less likely to be found first by a stranger.",
    fixable=False,
)  # fmt: skip
def name_guessable(check: Check, facts: BucketFacts, ctx: AuditContext) -> list[Finding]:
    reason = guessable_reason(facts.name)
    if reason is None:
        return []
    fix = (f"names cannot change: create a bucket with a random part (s3safe mb s3://{facts.name}-RANDOM), "
           f"copy the data (s3safe cp -r s3://{facts.name}/ s3://{facts.name}-RANDOM/), then delete this one")  # fmt: skip
    return [check.finding(facts.name, f"the name is made of {reason}", fix=fix)]


CHECKS = [name_guessable]
