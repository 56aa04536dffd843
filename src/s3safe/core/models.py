"""Plain data passed between the engines and the CLI renderers."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class ObjectInfo:
    bucket: str
    key: str
    size: int
    last_modified: datetime | None
    etag: str | None = None
    storage_class: str | None = None
    version_id: str | None = None
    is_latest: bool | None = None
    is_delete_marker: bool = False
    # a local file: the walk's own stat of it, so that change detection need not ask again (None: an object)
    stat: os.stat_result | None = field(default=None, compare=False, repr=False)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "type": "object",
            "url": f"s3://{self.bucket}/{self.key}",
            "bucket": self.bucket,
            "key": self.key,
            "size": self.size,
            "last_modified": self.last_modified.isoformat() if self.last_modified else None,
            "etag": self.etag,
            "storage_class": self.storage_class,
        }
        if self.version_id is not None:
            out.update(
                version_id=self.version_id, is_latest=self.is_latest, is_delete_marker=self.is_delete_marker
            )
        return out


@dataclass(frozen=True, slots=True)
class PrefixInfo:
    """A common prefix ("folder") returned by a delimited listing."""

    bucket: str
    prefix: str

    def to_dict(self) -> dict[str, Any]:
        return {"type": "dir", "url": f"s3://{self.bucket}/{self.prefix}", "bucket": self.bucket, "key": self.prefix}


@dataclass(frozen=True, slots=True)
class BucketInfo:
    name: str
    created: datetime | None
    region: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": "bucket",
            "name": self.name,
            "created": self.created.isoformat() if self.created else None,
            "region": self.region,
        }


@dataclass(frozen=True, slots=True)
class ObjectDetails:
    """What HEAD (and, where asked, GetObjectAcl) says about one object."""

    bucket: str
    key: str
    size: int
    last_modified: datetime | None
    etag: str | None
    content_type: str | None
    cache_control: str | None
    storage_class: str
    sse_algorithm: str | None
    sse_kms_key_id: str | None
    metadata: dict[str, str]
    version_id: str | None = None
    checksums: dict[str, str] = field(default_factory=dict)
    checksum_type: str | None = None  # FULL_OBJECT or COMPOSITE, when the server says
    lock_mode: str | None = None  # Object Lock retention: GOVERNANCE or COMPLIANCE
    retain_until: datetime | None = None
    legal_hold: bool | None = None  # None: the server did not say (no Object Lock, or not shown)

    @property
    def locked_until(self) -> datetime | None:
        """When this version's retention ends, if it is still running."""
        if self.retain_until is None or self.retain_until <= datetime.now(UTC):
            return None
        return self.retain_until

    def to_dict(self) -> dict[str, Any]:
        return {
            "type": "object",
            "url": f"s3://{self.bucket}/{self.key}",
            "bucket": self.bucket,
            "key": self.key,
            "size": self.size,
            "last_modified": self.last_modified.isoformat() if self.last_modified else None,
            "etag": self.etag,
            "content_type": self.content_type,
            "cache_control": self.cache_control,
            "storage_class": self.storage_class,
            "sse_algorithm": self.sse_algorithm,
            "sse_kms_key_id": self.sse_kms_key_id,
            "metadata": dict(self.metadata),
            "version_id": self.version_id,
            "checksums": dict(self.checksums),
            "lock_mode": self.lock_mode,
            "retain_until": self.retain_until.isoformat() if self.retain_until else None,
            "legal_hold": self.legal_hold,
        }


@dataclass(frozen=True, slots=True)
class Grant:
    grantee: str  # "AllUsers", "AuthenticatedUsers", "LogDelivery", a canonical id or an email
    grantee_type: str
    permission: str

    def to_dict(self) -> dict[str, str]:
        return {"grantee": self.grantee, "grantee_type": self.grantee_type, "permission": self.permission}


ALL_USERS_URI = "http://acs.amazonaws.com/groups/global/AllUsers"
AUTH_USERS_URI = "http://acs.amazonaws.com/groups/global/AuthenticatedUsers"
LOG_DELIVERY_URI = "http://acs.amazonaws.com/groups/s3/LogDelivery"


@dataclass(frozen=True, slots=True)
class AclInfo:
    owner: str | None
    grants: tuple[Grant, ...]

    @property
    def is_public_read(self) -> bool:
        return any(
            g.grantee in ("AllUsers", "AuthenticatedUsers") and g.permission in ("READ", "FULL_CONTROL")
            for g in self.grants
        )

    @property
    def is_public_write(self) -> bool:
        return any(
            g.grantee in ("AllUsers", "AuthenticatedUsers") and g.permission in ("WRITE", "WRITE_ACP", "FULL_CONTROL")
            for g in self.grants
        )

    @property
    def is_private(self) -> bool:
        """Private means: only the owner holds any grant."""
        return all(g.grantee_type == "CanonicalUser" and g.grantee == self.owner for g in self.grants)

    def to_dict(self) -> dict[str, object]:
        return {
            "owner": self.owner,
            "grants": [g.to_dict() for g in self.grants],
            "is_private": self.is_private,
            "is_public_read": self.is_public_read,
            "is_public_write": self.is_public_write,
        }


@dataclass(frozen=True, slots=True)
class ActionResult:
    """One line of a bulk operation's outcome (or plan, in a dry run)."""

    action: str  # "delete", "copy", "set-meta", "set-acl", "upload", "download", "abort-upload", "skip" ...
    target: str
    ok: bool = True
    dry_run: bool = False
    detail: str | None = None
    error: str | None = None
    # a failure that is an integrity failure (a checksum or size that did not match): a tree run whose every
    # failure is one exits 6, as the same failure of a single object does, not 5
    integrity: bool = False

    def to_dict(self) -> dict[str, object]:
        out: dict[str, object] = {"type": "action", "action": self.action, "target": self.target, "ok": self.ok}
        if self.dry_run:
            out["dry_run"] = True
        if self.detail:
            out["detail"] = self.detail
        if self.error:
            out["error"] = self.error
        return out
