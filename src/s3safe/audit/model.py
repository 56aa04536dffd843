"""What an audit produces: checks (rules), findings, per-bucket results and the whole report."""

from __future__ import annotations

import hashlib
import shlex
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import IntEnum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from s3safe.audit.facts import AuditContext, BucketFacts


def shell_url(bucket: str, key: str | None = None) -> str:
    """An s3:// URL as one shell word: a fix command is meant to be pasted into a shell, and keys may hold `$(...)`, `;` or spaces."""
    return shlex.quote(f"s3://{bucket}" if key is None else f"s3://{bucket}/{key}")


class Severity(IntEnum):
    """Ordered, so `--fail-on medium` means "medium or worse"."""

    LOW = 1
    MEDIUM = 2
    HIGH = 3
    CRITICAL = 4

    @property
    def label(self) -> str:
        return self.name.lower()

    @classmethod
    def parse(cls, text: str) -> Severity:
        return cls[text.strip().upper()]


@dataclass(frozen=True)
class Check:
    """One rule: what it looks for, how bad it is, why it matters, and how it is fixed.

    `fixable` says whether `audit --fix` can apply the fix itself; the others carry a manual step.
    """

    id: str
    title: str
    severity: Severity
    why: str
    fixable: bool
    scope: str  # "bucket" or "object"
    run: Callable[[Check, BucketFacts, AuditContext], list[Finding]] | None = field(default=None, repr=False, compare=False)

    def evaluate(self, facts: BucketFacts, ctx: AuditContext) -> list[Finding]:
        return self.run(self, facts, ctx) if self.run is not None else []

    def finding(self, bucket: str, found: str, *, fix: str, key: str | None = None, severity: Severity | None = None,
                fixable: bool | None = None, data: dict[str, Any] | None = None) -> Finding:  # fmt: skip
        return Finding(
            check_id=self.id, title=self.title, severity=severity or self.severity, bucket=bucket, key=key,
            found=found, why=self.why, fix=fix, fixable=self.fixable if fixable is None else fixable, data=data or {},
        )  # fmt: skip


@dataclass(frozen=True)
class Finding:
    check_id: str
    title: str
    severity: Severity
    bucket: str
    key: str | None
    found: str  # what was found, in one line
    why: str  # why it matters
    fix: str  # the s3safe command (or manual step) that fixes it
    fixable: bool  # can `audit --fix` apply it
    data: dict[str, Any] = field(default_factory=dict, compare=False)  # details a fix needs (Sids, keys, targets)

    @property
    def url(self) -> str:
        return f"s3://{self.bucket}" + (f"/{self.key}" if self.key is not None else "")

    @property
    def uid(self) -> str:
        """Stable across runs: the same problem on the same resource has the same id (SARIF fingerprints)."""
        return hashlib.sha256(f"{self.check_id}\0{self.bucket}\0{self.key or ''}".encode()).hexdigest()[:24]

    def to_dict(self, *, status: str | None = None) -> dict[str, Any]:
        out: dict[str, Any] = {
            "type": "finding", "id": self.uid, "check": self.check_id, "title": self.title,
            "severity": self.severity.label, "bucket": self.bucket, "key": self.key, "url": self.url,
            "found": self.found, "why": self.why, "fix": self.fix, "fixable": self.fixable,
        }  # fmt: skip
        if status is not None:
            out["status"] = status
        return out


@dataclass(frozen=True)
class ObjectScan:
    """What `--objects` learned about one bucket's objects."""

    scanned: int
    public: int
    unencrypted: int
    client_encrypted: int
    errors: int
    sampled: bool  # only a sample (--sample) was checked
    resumed_after: str | None  # the key a resumed scan started after
    acls_read: bool  # False when the bucket has ACLs disabled (nothing to read)
    inventory: bool = False  # read from an S3 Inventory report, which carries no user metadata (no client-side marker)

    def to_dict(self) -> dict[str, Any]:
        return {
            "scanned": self.scanned, "public": self.public, "unencrypted": self.unencrypted,
            "client_encrypted": None if self.inventory else self.client_encrypted, "errors": self.errors,
            "sampled": self.sampled, "resumed_after": self.resumed_after, "acls_read": self.acls_read,
            "source": "inventory" if self.inventory else "requests",
        }  # fmt: skip


@dataclass
class BucketResult:
    bucket: str
    region: str | None = None
    findings: list[Finding] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    status: dict[str, str] = field(default_factory=dict)  # setting -> one-line summary (versioning, MFA delete, object lock …)
    objects: ObjectScan | None = None
    error: str | None = None  # the bucket could not be audited at all

    def to_dict(self) -> dict[str, Any]:
        counts = Counter(f.severity.label for f in self.findings)
        return {
            "type": "bucket", "bucket": self.bucket, "region": self.region, "findings": len(self.findings),
            "by_severity": {s.label: counts.get(s.label, 0) for s in reversed(Severity)}, "status": dict(self.status),
            "notes": list(self.notes), "objects": self.objects.to_dict() if self.objects else None, "error": self.error,
        }  # fmt: skip


@dataclass
class AuditReport:
    buckets: list[BucketResult]
    checks: list[Check]  # every check that ran (SARIF rules)

    @property
    def findings(self) -> list[Finding]:
        return [f for b in self.buckets for f in b.findings]

    @property
    def errors(self) -> list[BucketResult]:
        return [b for b in self.buckets if b.error]

    def counts(self, findings: Iterable[Finding] | None = None) -> dict[str, int]:
        counted = Counter(f.severity.label for f in (self.findings if findings is None else findings))
        return {s.label: counted.get(s.label, 0) for s in reversed(Severity)}

    def at_or_above(self, level: Severity, *, excluding: frozenset[str] = frozenset()) -> list[Finding]:
        return [f for f in self.findings if f.severity >= level and f.uid not in excluding]


def sort_findings(findings: Iterable[Finding]) -> list[Finding]:
    """Worst first, then by check and resource, so reports read the same on every run."""
    return sorted(findings, key=lambda f: (-f.severity, f.check_id, f.bucket, f.key or ""))
