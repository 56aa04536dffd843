"""Security audit: bucket and object checks, fixes through the commands' own code, and reports."""

from s3safe.audit.fixes import FixOptions, FixPlan
from s3safe.audit.model import AuditReport, BucketResult, Check, Finding, ObjectScan, Severity
from s3safe.audit.runner import AuditOutcome, AuditRequest, audit, run_audit

__all__ = [
    "AuditOutcome",
    "AuditReport",
    "AuditRequest",
    "BucketResult",
    "Check",
    "Finding",
    "FixOptions",
    "FixPlan",
    "ObjectScan",
    "Severity",
    "audit",
    "run_audit",
]
