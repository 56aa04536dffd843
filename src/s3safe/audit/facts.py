"""Everything the bucket checks look at, read once per bucket, plus what they share across buckets.

Each setting is read with the same code as `info` (BucketAdmin.info); the bucket ACL and CORS rules are
added here. A setting that cannot be read (access denied, not implemented by the store) is "unknown":
the checks that need it are skipped and say so in a note rather than guessing.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from s3safe.core.errors import NotS3Error, S3SafeError
from s3safe.core.locations import S3Url
from s3safe.core.models import AclInfo
from s3safe.ops.access_logging import LoggingStatus, logging_status
from s3safe.storage.buckets import BucketAdmin, Setting, read_setting
from s3safe.storage.connection import Connection
from s3safe.storage.identity import caller_identity
from s3safe.storage.s3 import S3Storage
from s3safe.storage.trail import TrailInfo

# settings the checks read, as BucketAdmin.info names them, plus the two read here
ACL = "bucket acl"
CORS = "cors"


class Unknown(Exception):
    """A check needs a setting that could not be read; the message says which and why."""


@dataclass
class AuditContext:
    """Shared by all buckets of one audit: the connection, and lookups worth doing once."""

    conn: Connection
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _account: tuple[str | None] | None = field(default=None, repr=False)
    _logging: dict[str, LoggingStatus] = field(default_factory=dict, repr=False)
    _trails: dict[str, list[TrailInfo] | str] = field(default_factory=dict, repr=False)

    @property
    def account(self) -> str | None:
        """The audited account's id (STS), or None when the store cannot say."""
        with self._lock:
            if self._account is None:
                identity = caller_identity(self.conn)
                self._account = (identity.account if identity else None,)
            return self._account[0]

    def logging_status(self, bucket: str) -> LoggingStatus:
        """`logging status` for a bucket (target, retention): the same code the command uses."""
        with self._lock:
            cached = self._logging.get(bucket)
        if cached is None:
            cached = logging_status(self.conn, S3Url(bucket))
            with self._lock:
                self._logging[bucket] = cached
        return cached


    def trails(self, region: str) -> list[TrailInfo]:
        """Every CloudTrail trail seen from `region`, read once per audit; Unknown when CloudTrail cannot be asked."""
        from s3safe.storage.trail import Trails

        with self._lock:
            cached = self._trails.get(region)
        if cached is None:
            try:
                # one attempt: an S3-only endpoint answers CloudTrail with an error, and retrying it only slows the audit
                cached = Trails(self.conn, region=region, attempts=1).all()
            except S3SafeError as exc:
                cached = exc.message
            with self._lock:
                self._trails[region] = cached
        if isinstance(cached, str):
            raise Unknown(f"CloudTrail trails: {cached}")
        return cached


@dataclass
class BucketFacts:
    name: str
    region: str | None
    settings: dict[str, Setting]
    acl: AclInfo | None

    def setting(self, name: str) -> Setting:
        """The setting, or Unknown when it could not be read."""
        found = self.settings.get(name)
        if found is None or found.state == "unknown":
            raise Unknown(f"{name}: {found.summary if found else 'not read'}")
        return found

    def value(self, name: str) -> dict[str, Any]:
        """The setting's API response (empty when the setting is absent)."""
        value = self.setting(name).value
        return value if isinstance(value, dict) else {}

    @property
    def ownership(self) -> str:
        rules = self.value("object ownership").get("OwnershipControls", {}).get("Rules", [])
        return str(rules[0].get("ObjectOwnership")) if rules else "ObjectWriter"

    @property
    def acls_enabled(self) -> bool:
        return self.ownership != "BucketOwnerEnforced"

    @property
    def policy(self) -> dict[str, Any] | None:
        import json

        text = self.value("policy").get("Policy")
        if not text:
            return None
        try:
            loaded = json.loads(text)
        except json.JSONDecodeError as exc:
            raise Unknown(f"policy: the stored policy is not valid JSON ({exc})") from None
        return loaded if isinstance(loaded, dict) else None


def _cors_summary(response: Any) -> tuple[bool, str]:
    rules = response.get("CORSRules", [])
    return bool(rules), f"{len(rules)} rule(s)"


def gather(conn: Connection, bucket: str) -> BucketFacts:
    """Read every setting of one bucket; NotFound/AccessDenied on the bucket itself propagate."""
    admin = BucketAdmin(conn)
    settings = {s.name: s for s in admin.info(bucket)}
    client = conn.client_for(bucket)
    cors_call: Callable[[], Any] = lambda: client.get_bucket_cors(Bucket=bucket)  # noqa: E731
    settings[CORS] = read_setting(CORS, cors_call, _cors_summary, absent_codes=("NoSuchCORSConfiguration",))
    acl: AclInfo | None = None
    try:
        acl = S3Storage(conn).get_acl(bucket)
        settings[ACL] = Setting(ACL, "set", f"{len(acl.grants)} grant(s)", acl.to_dict())
    except NotS3Error:
        raise
    except S3SafeError as exc:
        settings[ACL] = Setting(ACL, "unknown", f"unknown: {exc}")
    region_setting = settings.get("region")
    return BucketFacts(bucket, region_setting.summary if region_setting else None, settings, acl)
