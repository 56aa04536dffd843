"""The per-object rules `audit --objects` applies (the scan itself lives in s3safe.audit.objects)."""

from __future__ import annotations

from s3safe.audit.model import Check, Severity

OBJECT_ACL_PUBLIC = Check(
    "object-acl-public", "Object ACL grants access to everyone", Severity.HIGH,
    "An object ACL grant to AllUsers or AuthenticatedUsers makes that one object readable (or, with WRITE_ACP, "
    "re-grantable) by strangers, whatever the bucket policy says, unless Block Public Access ignores public ACLs.",
    fixable=True, scope="object",
)  # fmt: skip
OBJECT_NOT_ENCRYPTED = Check(
    "object-not-encrypted", "Object is not encrypted", Severity.MEDIUM,
    "An object with neither server-side nor s3safe client-side encryption is stored in plain text: anyone who gets the "
    "storage media, a misdirected backup or a replication target reads it as is.",
    fixable=False, scope="object",
)  # fmt: skip

OBJECT_SSE_C = Check(
    "object-sse-c", "Object is encrypted with a customer-provided key (SSE-C)", Severity.LOW,
    "S3 keeps no copy of an SSE-C key: whoever holds it can read the object, losing it loses the object, and S3 cannot "
    "rotate or audit its use. AWS disables SSE-C on new buckets by default; SSE-KMS or s3safe's client-side encryption "
    "keeps the key under control. Found from inventory reports (audit --inventory).",
    fixable=False, scope="object",
)  # fmt: skip

CHECKS = [OBJECT_ACL_PUBLIC, OBJECT_NOT_ENCRYPTED, OBJECT_SSE_C]
