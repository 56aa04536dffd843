"""The S3 actions `policy simulate` accepts, and whether each one acts on an object or on the bucket.

Source: AWS Service Authorization Reference, "Actions, resources, and condition keys for Amazon S3"
(the resource type column: `object` or `bucket`). Only actions that take a bucket or object resource are
listed; account-level actions (s3:ListAllMyBuckets, s3:CreateJob, ...) cannot be decided by a bucket policy.
"""

from __future__ import annotations

import difflib

from s3safe.core.errors import UsageError

__all__ = ["BUCKET_ACTIONS", "OBJECT_ACTIONS", "canonical_action", "is_object_action"]

OBJECT_ACTIONS = frozenset({
    "AbortMultipartUpload", "BypassGovernanceRetention", "DeleteObject", "DeleteObjectTagging", "DeleteObjectVersion",
    "DeleteObjectVersionTagging", "GetObject", "GetObjectAcl", "GetObjectAttributes", "GetObjectLegalHold",
    "GetObjectRetention", "GetObjectTagging", "GetObjectTorrent", "GetObjectVersion", "GetObjectVersionAcl",
    "GetObjectVersionAttributes", "GetObjectVersionForReplication", "GetObjectVersionTagging", "GetObjectVersionTorrent",
    "InitiateReplication", "ListMultipartUploadParts", "ObjectOwnerOverrideToBucketOwner", "PutObject", "PutObjectAcl",
    "PutObjectLegalHold", "PutObjectRetention", "PutObjectTagging", "PutObjectVersionAcl", "PutObjectVersionTagging",
    "ReplicateDelete", "ReplicateObject", "ReplicateTags", "RestoreObject",
})  # fmt: skip

BUCKET_ACTIONS = frozenset({
    "CreateBucket", "DeleteBucket", "DeleteBucketOwnershipControls", "DeleteBucketPolicy", "DeleteBucketWebsite",
    "GetAccelerateConfiguration", "GetAnalyticsConfiguration", "GetBucketAcl", "GetBucketCORS", "GetBucketLocation",
    "GetBucketLogging", "GetBucketNotification", "GetBucketObjectLockConfiguration", "GetBucketOwnershipControls",
    "GetBucketPolicy", "GetBucketPolicyStatus", "GetBucketPublicAccessBlock", "GetBucketRequestPayment",
    "GetBucketTagging", "GetBucketVersioning", "GetBucketWebsite", "GetEncryptionConfiguration",
    "GetIntelligentTieringConfiguration", "GetInventoryConfiguration", "GetLifecycleConfiguration",
    "GetMetricsConfiguration", "GetReplicationConfiguration", "ListBucket", "ListBucketMultipartUploads",
    "ListBucketVersions", "PutAccelerateConfiguration", "PutAnalyticsConfiguration", "PutBucketAcl", "PutBucketCORS",
    "PutBucketLogging", "PutBucketNotification", "PutBucketObjectLockConfiguration", "PutBucketOwnershipControls",
    "PutBucketPolicy", "PutBucketPublicAccessBlock", "PutBucketRequestPayment", "PutBucketTagging",
    "PutBucketVersioning", "PutBucketWebsite", "PutEncryptionConfiguration", "PutIntelligentTieringConfiguration",
    "PutInventoryConfiguration", "PutLifecycleConfiguration", "PutMetricsConfiguration", "PutReplicationConfiguration",
})  # fmt: skip

_BY_LOWER = {name.lower(): name for name in OBJECT_ACTIONS | BUCKET_ACTIONS}


def canonical_action(text: str) -> str:
    """'s3:getobject' or 'GetObject' -> 's3:GetObject'; an unknown action is a UsageError with a suggestion."""
    raw = text.strip()
    name = raw[3:] if raw.lower().startswith("s3:") else raw
    if ":" in name or "*" in name or "?" in name:
        raise UsageError(f"unknown S3 action {text!r}", hint="simulate one concrete action such as s3:GetObject (no wildcards)")
    found = _BY_LOWER.get(name.lower())
    if found is None:
        close = difflib.get_close_matches(name.lower(), list(_BY_LOWER), n=1)
        hint = f"did you mean s3:{_BY_LOWER[close[0]]}?" if close else "e.g. s3:GetObject, s3:PutObject, s3:ListBucket"
        raise UsageError(f"unknown S3 action {text!r}", hint=hint)
    return f"s3:{found}"


def is_object_action(action: str) -> bool:
    """True for actions whose resource is an object (arn:aws:s3:::bucket/key)."""
    return canonical_action(action)[3:] in OBJECT_ACTIONS
