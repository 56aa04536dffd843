"""Upload options shared by single-file put and the bulk engine, validated in one place."""

from __future__ import annotations

import os
import re
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from s3safe.core.errors import UsageError
from s3safe.core.settings import STORAGE_CLASSES
from s3safe.storage.conditional import WriteCondition

SSE_CHOICES = ("AES256", "aws:kms")
OWN_META_PREFIX = "s3safe-"  # the metadata s3safe writes about a file; never taken from --meta
MTIME_META = "s3safe-mtime"
MODE_META = "s3safe-mode"  # the file's POSIX permission bits (octal), restored on download
SHA256_META = "s3safe-sha256"
# the whole file's CRC64NVME (base64 of the big-endian value, as S3's x-amz-checksum-crc64nvme), recorded by a plain
# upload of CRC64NVME_MIN bytes or more: a download in parallel ranges combines the ranges' CRCs into it
# (transfer/download.py says why that check stands in for the SHA-256 one)
CRC64NVME_META = "s3safe-crc64nvme"
# the size from which a download goes in parallel ranges (download.RANGED_MIN); below it the CRC would go unused and
# its library's import (~0.1 s) would fall on every small upload
CRC64NVME_MIN = 64 * 1024**2
_META_KEY_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
MAX_META_BYTES = 2048  # S3's limit for all user metadata together


def mtime_meta(stat: os.stat_result) -> str:
    """The file's mtime as s3safe-mtime: seconds with all nine decimals (a float's six lost up to a microsecond);
    readers take any decimal number, so older values with six still read."""
    seconds, nanos = divmod(stat.st_mtime_ns, 1_000_000_000)
    return f"{seconds}.{nanos:09d}"


def file_mode_meta(stat: os.stat_result) -> dict[str, str]:
    """The metadata that records a file's permission bits (setuid, setgid and sticky included; a restore
    drops those unless asked). None on Windows, where POSIX modes mean little."""
    if os.name == "nt":
        return {}
    return {MODE_META: f"{stat.st_mode & 0o7777:04o}"}


def check_header_value(what: str, value: str) -> None:
    """A value sent as an HTTP header must be one line of printable ASCII: S3 stores and returns header bytes
    as Latin-1, so anything else (UTF-8, a line separator, a byte the shell could not decode) comes back mangled
    or cannot be sent at all."""
    for ch in value:
        if ord(ch) < 32 or 127 <= ord(ch) <= 159:
            raise UsageError(f"{what} contains control characters (CR, LF, DEL …)",
                             hint="an HTTP header value is one line of printable text")  # fmt: skip
        if ord(ch) > 126:
            shown = f"U+{ord(ch):04X}" if not 0xDC80 <= ord(ch) <= 0xDCFF else f"the undecodable byte 0x{ord(ch) - 0xDC00:02x}"
            raise UsageError(f"{what} contains {shown}: an S3 header value must be printable ASCII",
                             hint="use only printable ASCII characters (space to '~')")  # fmt: skip


_HEADER_PREFIX = "x-amz-meta-"


def meta_name(name: str) -> str:
    """A metadata name as S3 keeps it: without surrounding blanks or the x-amz-meta- its header carries (botocore
    adds that prefix itself: written out, it would be stored twice)."""
    name = name.strip()
    return name[len(_HEADER_PREFIX):].strip() if name.lower().startswith(_HEADER_PREFIX) else name


def parse_meta_names(names: tuple[str, ...] | list[str]) -> list[str]:
    """Names to remove (`meta set --unset`), each checked as --set checks one: a name no object can carry would
    remove nothing, silently."""
    checked = []
    for raw in names:
        name = meta_name(raw)
        if not _META_KEY_RE.match(name):
            raise UsageError(f"invalid metadata name {raw!r}", hint="use letters, digits, '-', '_' and '.'")
        checked.append(name.lower())
    return checked


def parse_meta(pairs: tuple[str, ...] | list[str]) -> dict[str, str]:
    """`K=V` strings -> metadata dict; anything malformed is a usage error naming the pair."""
    meta: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        key = meta_name(key)
        if not sep or not key:
            raise UsageError(f"malformed metadata {pair!r}", hint="write it as NAME=VALUE, e.g. --meta owner=ops")
        if not _META_KEY_RE.match(key):
            raise UsageError(f"invalid metadata name {key!r}", hint="use letters, digits, '-', '_' and '.'")
        check_header_value(f"metadata value for {key!r}", value)
        meta[key.lower()] = value
    if sum(len(k) + len(v.encode()) for k, v in meta.items()) > MAX_META_BYTES:
        raise UsageError(f"user metadata exceeds S3's {MAX_META_BYTES}-byte limit")
    return meta


@dataclass(frozen=True, slots=True)
class UploadOptions:
    acl: str | None = None  # None: private (explicit header only where ACLs are enabled)
    allow_public: bool = False
    sse: str | None = None  # None: AES256 unless the bucket's default is KMS
    sse_kms_key_id: str | None = None
    storage_class: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    content_type: str | None = None
    cache_control: str | None = None
    part_size: int | None = None
    retain_until: datetime | None = None  # Object Lock retention of each version written (UTC)
    lock_mode: str | None = None  # GOVERNANCE or COMPLIANCE (with retain_until)
    legal_hold: bool = False
    no_clobber: bool = False  # create only: never replace an object (If-None-Match: *)
    if_match: str | None = None  # replace only the object with this ETag (set per object by the tree engine)
    if_absent: bool = False  # create only: the tree engine listed no object at this key (If-None-Match: *)

    @property
    def condition(self) -> WriteCondition | None:
        """What must hold at the key for the write to happen, if anything."""
        create = self.no_clobber or self.if_absent
        condition = WriteCondition(if_none_match=create, if_match=None if create else self.if_match)
        return condition if condition else None

    @property
    def object_lock(self) -> bool:
        """Each version written carries Object Lock settings (sent as headers only botocore can send)."""
        return self.retain_until is not None or self.legal_hold

    def validate(self) -> UploadOptions:
        from s3safe.storage.s3 import MAX_PART, MIN_PART

        check_acl(self.acl, allow_public=self.allow_public)
        if self.sse is not None and self.sse not in SSE_CHOICES:
            raise UsageError(f"unknown --sse {self.sse!r}", hint="AES256 or aws:kms")
        if self.sse_kms_key_id and self.sse != "aws:kms":
            raise UsageError("--sse-kms-key-id needs --sse aws:kms")
        if self.storage_class and self.storage_class not in STORAGE_CLASSES:
            raise UsageError(f"unknown storage class {self.storage_class!r}", hint="one of: " + ", ".join(STORAGE_CLASSES))
        for option, value in (("--content-type", self.content_type), ("--cache-control", self.cache_control)):
            if value:
                check_header_value(f"{option} {value!r}", value)
        if self.part_size is not None and not MIN_PART <= self.part_size <= MAX_PART:
            raise UsageError("--part-size must be between 5MiB and 5GiB (S3's part size limits)")
        own = sorted(name for name in self.metadata if name.lower().startswith(OWN_META_PREFIX))
        if own:  # a marker or digest given by hand would describe bytes s3safe did not read (a plain file "encrypted")
            raise UsageError(f"--meta {own[0]}: names that start with {OWN_META_PREFIX} are s3safe's own record of the file "
                             "(its digest, time, mode, encryption), which the upload writes itself", hint="choose another name")  # fmt: skip
        self._validate_lock()
        return self

    def _validate_lock(self) -> None:
        if self.lock_mode is not None and self.lock_mode not in LOCK_MODES:
            raise UsageError(f"unknown --lock-mode {self.lock_mode!r}", hint="governance or compliance")
        if self.lock_mode is not None and self.retain_until is None:
            raise UsageError("--lock-mode needs --retain-until DATE or --retain-days N")
        if self.retain_until is not None and self.retain_until <= datetime.now(UTC):
            raise UsageError(f"--retain-until {self.retain_until.isoformat()} is in the past",
                             hint="give a future date, e.g. --retain-days 30")  # fmt: skip


LOCK_MODES = ("GOVERNANCE", "COMPLIANCE")
MAX_RETAIN_DAYS = 36_500  # S3's own cap on a default retention period


def retention(*, until: str | None, days: int | None, mode: str | None) -> tuple[datetime | None, str | None]:
    """(retain-until in UTC, lock mode) from --retain-until / --retain-days / --lock-mode; governance unless
    compliance is asked for by name (compliance cannot be shortened or lifted by anyone, root included)."""
    if until is not None and days is not None:
        raise UsageError("give --retain-until or --retain-days, not both")
    when: datetime | None = None
    if days is not None:
        if not 1 <= days <= MAX_RETAIN_DAYS:
            raise UsageError(f"--retain-days must be between 1 and {MAX_RETAIN_DAYS} (100 years), not {days}")
        when = datetime.now(UTC) + timedelta(days=days)
    elif until is not None:
        when = parse_retain_until(until)
    upper = mode.upper() if mode else None
    return when, (upper or "GOVERNANCE") if when is not None else upper


def parse_retain_until(text: str) -> datetime:
    """An ISO 8601 date or date-time; a bare date is midnight UTC, a time without a zone is refused (ambiguous)."""
    value = text.strip()
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise UsageError(f"invalid --retain-until {text!r}", hint="an ISO 8601 date, e.g. 2027-01-31 or 2027-01-31T12:00:00Z") from None
    if parsed.tzinfo is None:
        if len(value) > 10:
            raise UsageError(f"--retain-until {text!r} has a time but no zone", hint="add Z or an offset such as +02:00")
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


_MIME_LOCK = threading.Lock()


def content_type_for(path: Path) -> str:
    import mimetypes

    if not mimetypes.inited:
        # the module reads the system's type tables at its first guess, and every upload thread that guesses
        # before one has finished reads them again (~20 ms of CPU each): once, under a lock
        with _MIME_LOCK:
            if not mimetypes.inited:
                mimetypes.init()
    guessed, _ = mimetypes.guess_type(path.name)
    return guessed or "application/octet-stream"


def check_acl(acl: str | None, *, allow_public: bool) -> None:
    """An upload's canned ACL: known, and public only with --allow-public (exec's pre-check runs it too)."""
    from s3safe.storage.s3 import CANNED_ACLS, PUBLIC_ACLS

    if acl is not None and acl not in CANNED_ACLS:
        raise UsageError(f"unknown canned ACL {acl!r}", hint="one of: " + ", ".join(CANNED_ACLS))
    if acl in PUBLIC_ACLS and not allow_public:
        raise UsageError(
            f"refusing to upload with public ACL {acl!r}",
            hint="add --allow-public if the object really must be readable by anyone",
        )
