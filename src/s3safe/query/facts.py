"""What a condition is evaluated against: plain facts about one local file and/or one S3 object, and a clock.

S3 facts arrive in stages. The listing gives key, size, time, ETag, storage class and version
fields; `head`, `acl` and `tags` stay None until the caller has made that request. A condition
evaluated on partial facts answers True, False or None ("unknown: fetch more and ask again").
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import Protocol

from s3safe.core.models import AclInfo, ObjectDetails, ObjectInfo
from s3safe.query.values import UNKNOWN, Cost, Value

# the user-metadata key that marks an object as client-side encrypted by s3safe
CLIENT_ENCRYPTION_META_KEY = "s3safe-encryption"


@dataclass(frozen=True, slots=True)
class Clock:
    """'Now' for curr_* and age_* (fixed for a whole run), and the zone for date parts and date literals.

    `zone=None` means the system's local time zone (with its daylight-saving rules), as S3Express did.
    """

    now: datetime
    zone: tzinfo | None = None

    def __post_init__(self) -> None:
        if self.now.tzinfo is None:
            raise ValueError("Clock.now must be timezone-aware")

    @classmethod
    def system(cls, zone: tzinfo | None = None) -> Clock:
        return cls(now=datetime.now(UTC), zone=zone)

    def local(self, moment: datetime) -> datetime:
        """`moment` in this clock's zone (naive moments are taken as UTC)."""
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return moment.astimezone(self.zone)


@dataclass(frozen=True, slots=True)
class HeadFacts:
    """What one HeadObject says (the fields the condition language uses)."""

    content_type: str | None = None
    cache_control: str | None = None
    sse_algorithm: str | None = None  # 'AES256', 'aws:kms', 'aws:kms:dsse' or None
    sse_kms_key_id: str | None = None
    sse_customer_algorithm: str | None = None  # set for SSE-C objects
    metadata: Mapping[str, str] = field(default_factory=dict)  # user metadata, keys without x-amz-meta-

    @classmethod
    def from_details(cls, details: ObjectDetails) -> HeadFacts:
        return cls(
            content_type=details.content_type,
            cache_control=details.cache_control,
            sse_algorithm=details.sse_algorithm,
            sse_kms_key_id=details.sse_kms_key_id,
            metadata=dict(details.metadata),
        )


@dataclass(frozen=True, slots=True)
class AclSummary:
    """What one GetObjectAcl says, reduced to what conditions ask."""

    is_private: bool
    is_public_read: bool
    is_public_write: bool
    grants: int

    @classmethod
    def from_acl(cls, acl: AclInfo) -> AclSummary:
        return cls(
            is_private=acl.is_private,
            is_public_read=acl.is_public_read,
            is_public_write=acl.is_public_write,
            grants=len(acl.grants),
        )


@dataclass(frozen=True, slots=True)
class S3Facts:
    """One S3 object (or version, or delete marker). `head`/`acl`/`tags` None = that request not made yet."""

    key: str
    size: int
    last_modified: datetime | None
    etag: str | None = None
    storage_class: str | None = None
    version_id: str | None = None
    is_latest: bool | None = None  # None: an unversioned listing, where every object is the latest
    is_delete_marker: bool = False
    head: HeadFacts | None = None
    acl: AclSummary | None = None
    tags: Mapping[str, str] | None = None

    @classmethod
    def from_object_info(cls, info: ObjectInfo) -> S3Facts:
        return cls(
            key=info.key,
            size=info.size,
            last_modified=info.last_modified,
            etag=info.etag,
            storage_class=info.storage_class,
            version_id=info.version_id,
            is_latest=info.is_latest,
            is_delete_marker=info.is_delete_marker,
        )

    @property
    def fetched(self) -> frozenset[Cost]:
        """The cost classes whose facts are present."""
        have = {Cost.LISTING}
        if self.head is not None:
            have.add(Cost.HEAD)
        if self.acl is not None:
            have.add(Cost.ACL)
        if self.tags is not None:
            have.add(Cost.TAGS)
        return frozenset(have)


@dataclass(frozen=True, slots=True)
class LocalFacts:
    """One local file: its path relative to the sync root ('/'-separated), size and modification time."""

    path: str
    size: int
    mtime: datetime

    @classmethod
    def from_path(cls, root: Path, path: Path) -> LocalFacts:
        st = path.stat()
        rel = path.relative_to(root).as_posix() if path != root else path.name
        return cls(path=rel, size=st.st_size, mtime=datetime.fromtimestamp(st.st_mtime, UTC))

    @classmethod
    def from_stat(cls, rel_path: str, st: os.stat_result) -> LocalFacts:
        return cls(path=rel_path.replace(os.sep, "/"), size=st.st_size, mtime=datetime.fromtimestamp(st.st_mtime, UTC))


class VariableRef(Protocol):
    """What a value source reads of a catalogue variable (query.variables.Variable is one): declared here so
    that the facts do not import the catalogue, which is built on them."""

    @property
    def name(self) -> str: ...

    @property
    def getter(self) -> Callable[[Subject, str | None], Value]: ...


class ValueSource(Protocol):
    """Anything that can say a variable's value, lazily: asked only for variables the evaluation reaches.

    `value` returns the value, `UNKNOWN` when it is not known yet (fetch and ask again), or `NULL`
    when there is no value. `time_zone` is the zone date literals without an offset are read in
    (None: the system's local zone).
    """

    @property
    def time_zone(self) -> tzinfo | None: ...

    def value(self, var: VariableRef, arg: str | None, /) -> Value: ...


@dataclass(frozen=True, slots=True)
class MappingSource:
    """A ValueSource over a plain mapping: canonical variable name (or 'function:arg', e.g. "s3_meta:owner")
    to value. Names not in the mapping are UNKNOWN. Handy for tests and for callers with their own data."""

    values: Mapping[str, Value]
    time_zone: tzinfo | None = None

    def value(self, var: VariableRef, arg: str | None, /) -> Value:
        return self.values.get(var.name if arg is None else f"{var.name}:{arg}", UNKNOWN)


@dataclass(frozen=True, slots=True)
class Subject:
    """The standard ValueSource: one local file and/or one S3 object (either may be absent) and a clock."""

    s3: S3Facts | None = None
    local: LocalFacts | None = None
    clock: Clock = field(default_factory=Clock.system)

    @property
    def time_zone(self) -> tzinfo | None:
        return self.clock.zone

    def value(self, var: VariableRef, arg: str | None, /) -> Value:
        return var.getter(self, arg)
