"""SARIF 2.1.0 for code-scanning tools: one rule per check, one result per finding, located at its s3:// URL."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from s3safe import __version__
from s3safe.audit.model import AuditReport, Check, Finding, Severity

SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
LEVELS = {Severity.CRITICAL: "error", Severity.HIGH: "error", Severity.MEDIUM: "warning", Severity.LOW: "note"}
# GitHub code scanning ranks security results by this number (CVSS-like, 0.1–10)
SECURITY_SEVERITY = {Severity.CRITICAL: "9.5", Severity.HIGH: "8.0", Severity.MEDIUM: "5.5", Severity.LOW: "3.0"}


def _rule(check: Check) -> dict[str, Any]:
    check_id, title, why, severity, fixable = check.id, check.title, check.why, check.severity, check.fixable
    return {
        "id": check_id,
        "name": "".join(part.title() for part in check_id.split("-")),
        "shortDescription": {"text": title},
        "fullDescription": {"text": why},
        "help": {"text": why + (" `s3safe audit --fix` can fix it." if fixable else " Fix it by hand (see the finding).")},
        "defaultConfiguration": {"level": LEVELS[severity]},
        "properties": {"tags": ["security", "s3"], "security-severity": SECURITY_SEVERITY[severity]},
    }


def _result(finding: Finding, rule_index: int, *, status: str | None) -> dict[str, Any]:
    properties: dict[str, Any] = {"severity": finding.severity.label, "fix": finding.fix, "fixable": finding.fixable}
    if status is not None:
        properties["status"] = status
    logical = {"name": finding.key if finding.key is not None else finding.bucket, "fullyQualifiedName": finding.url,
               "kind": "object" if finding.key is not None else "resource"}  # fmt: skip
    return {
        "ruleId": finding.check_id,
        "ruleIndex": rule_index,
        "level": LEVELS[finding.severity],
        "message": {"text": f"{finding.url}: {finding.found}. Fix: {finding.fix}"},
        "locations": [{"physicalLocation": {"artifactLocation": {"uri": finding.url}}, "logicalLocations": [logical]}],
        "partialFingerprints": {"s3safeFinding/v1": finding.uid},
        "properties": properties,
    }


def to_sarif(report: AuditReport, *, statuses: dict[str, str] | None = None) -> dict[str, Any]:
    """The whole report as one SARIF log (a dict ready for json.dump)."""
    statuses = statuses or {}
    rules = [_rule(c) for c in report.checks]
    index = {c.id: i for i, c in enumerate(report.checks)}
    results = [_result(f, index[f.check_id], status=statuses.get(f.uid)) for f in report.findings if f.check_id in index]
    notifications = _notifications(report)
    invocation: dict[str, Any] = {"executionSuccessful": not report.errors}
    if notifications:
        invocation["toolExecutionNotifications"] = notifications
    return {
        "$schema": SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {"driver": {"name": "s3safe", "version": __version__, "semanticVersion": __version__, "rules": rules}},
                "invocations": [invocation],
                "results": results,
            }
        ],
    }


def _notifications(report: AuditReport) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for bucket in report.buckets:
        messages: Iterable[tuple[str, str]] = [("error", bucket.error)] if bucket.error else []
        messages = [*messages, *(("note", n) for n in bucket.notes)]
        out += [{"level": level, "message": {"text": f"s3://{bucket.bucket}: {text}"}} for level, text in messages]
    return out


def sarif_text(report: AuditReport, *, statuses: dict[str, str] | None = None) -> str:
    return json.dumps(to_sarif(report, statuses=statuses), indent=2, ensure_ascii=False) + "\n"
