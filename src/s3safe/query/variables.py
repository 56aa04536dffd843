"""The variable catalogue: every name a condition may use, its type, side, cost class and how to read it.

Conventions (decided here, documented in the README):

* `name` is the last path segment; `path` is the local path relative to the sync root ('/'-separated)
  and `s3_path` the full object key.
* `ext` is the lowercased extension with its dot, like S3Express: `'.jpg'`; `''` when there is none
  (`.bashrc` has none; `a.tar.gz` has `'.gz'`).
* sizes: `size` in bytes; `size_kb`/`size_mb`/`size_gb` are exact (fractional) sizes in units of
  1024, 1024² and 1024³ bytes.
* date parts are read in the clock's zone (the local zone by default); `dayofweek` is 0 = Sunday … 6 = Saturday.
* ages are whole completed units: a file modified 47 hours ago has `age_days = 1`, `age_hours = 47`.
* text variables that the store does not report are `''` (no content type, no SSE, a missing tag);
  `s3_md5` is `''` unless the ETag is the MD5 (single-part upload, neither SSE-KMS nor SSE-C).
* every name also works without the underscores after its prefix (`size_mb` = `sizemb`,
  `s3_age_days` = `s3_agedays`, `s3_content_type` = `s3_contenttype`), and `dayofweek` as `day_of_week`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from fractions import Fraction
from typing import Literal

from s3safe.query.facts import CLIENT_ENCRYPTION_META_KEY, AclSummary, HeadFacts, LocalFacts, S3Facts, Subject
from s3safe.query.values import NULL, UNKNOWN, Cost, Type, Value, normalize

Side = Literal["local", "s3", "clock"]
Getter = Callable[[Subject, "str | None"], Value]


@dataclass(frozen=True, slots=True)
class Variable:
    """One entry of the catalogue. Equality is by canonical name."""

    name: str
    type: Type
    side: Side
    cost: Cost | None  # None: costs nothing (the clock)
    getter: Getter = field(compare=False, repr=False)
    description: str = field(default="", compare=False)
    takes_arg: bool = field(default=False, compare=False)
    aliases: tuple[str, ...] = field(default=(), compare=False)


# ---- helpers ---------------------------------------------------------------------------------------


def _basename(path: str) -> str:
    return path.rstrip("/").rsplit("/", 1)[-1]


def _ext(path: str) -> str:
    name = _basename(path)
    stem = name.lstrip(".")
    if "." not in stem:
        return ""
    return "." + stem.rsplit(".", 1)[1].lower()


_KIB, _MIB, _GIB = 1024, 1024**2, 1024**3


def _scaled(size: int, unit: int) -> Value:
    return normalize(Fraction(size, unit))


def _part(moment: datetime, subject: Subject, which: str) -> Value:
    local = subject.clock.local(moment)
    if which == "dayofweek":
        return local.isoweekday() % 7  # Sunday = 0
    value: int = getattr(local, which)
    return value


def _age(moment: datetime, subject: Subject, unit: timedelta) -> Value:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=subject.clock.now.tzinfo)
    return (subject.clock.now - moment) // unit


def _lookup(mapping: Mapping[str, str], key: str) -> str:
    """Exact key first, then a case-insensitive match; '' when absent."""
    if key in mapping:
        return mapping[key]
    folded = key.casefold()
    for k, v in mapping.items():
        if k.casefold() == folded:
            return v
    return ""


def _etag(s3: S3Facts) -> str:
    return (s3.etag or "").strip('"')


def _md5(s3: S3Facts) -> Value:
    etag = _etag(s3)
    if len(etag) != 32 or any(c not in "0123456789abcdefABCDEF" for c in etag):
        return ""  # multipart ('-N' suffix) or not reported: the ETag is not an MD5
    if s3.head is None:
        return UNKNOWN  # SSE-KMS / SSE-C ETags look the same; only HEAD tells
    if (s3.head.sse_algorithm or "").startswith("aws:kms") or s3.head.sse_customer_algorithm:
        return ""
    return etag.lower()


# ---- constructors ----------------------------------------------------------------------------------

_CATALOGUE: list[Variable] = []


def _local(name: str, type_: Type, read: Callable[[LocalFacts, Subject], Value], description: str) -> None:
    def getter(subject: Subject, _arg: str | None) -> Value:
        return NULL if subject.local is None else read(subject.local, subject)

    _CATALOGUE.append(Variable(name, type_, "local", Cost.LISTING, getter, description))


def _s3(
    name: str, type_: Type, cost: Cost, read: Callable[[S3Facts, Subject], Value], description: str
) -> None:
    def getter(subject: Subject, _arg: str | None) -> Value:
        return NULL if subject.s3 is None else read(subject.s3, subject)

    _CATALOGUE.append(Variable(name, type_, "s3", cost, getter, description))


def _clock(name: str, which: str, description: str) -> None:
    def getter(subject: Subject, _arg: str | None) -> Value:
        return _part(subject.clock.now, subject, which)

    _CATALOGUE.append(Variable(name, Type.NUMBER, "clock", None, getter, description))


def _head(read: Callable[[HeadFacts], Value]) -> Callable[[S3Facts, Subject], Value]:
    return lambda s3, _subject: UNKNOWN if s3.head is None else read(s3.head)


def _acl(read: Callable[[AclSummary], Value]) -> Callable[[S3Facts, Subject], Value]:
    return lambda s3, _subject: UNKNOWN if s3.acl is None else read(s3.acl)


def _local_part(which: str) -> Callable[[LocalFacts, Subject], Value]:
    return lambda f, s: _part(f.mtime, s, which)


def _s3_part(which: str) -> Callable[[S3Facts, Subject], Value]:
    return lambda o, s: NULL if o.last_modified is None else _part(o.last_modified, s, which)


def _s3_age(unit: timedelta) -> Callable[[S3Facts, Subject], Value]:
    return lambda o, s: NULL if o.last_modified is None else _age(o.last_modified, s, unit)


def _part_doc(which: str, of: str) -> str:
    return f"0 = Sunday … 6 = Saturday, of {of}" if which == "dayofweek" else f"{which} of {of}"


_TIME_PARTS = ("year", "month", "day", "hour", "minute", "second", "dayofweek")

# ---- local files -----------------------------------------------------------------------------------
_local("name", Type.TEXT, lambda f, _s: _basename(f.path), "file name without folders")
_local("path", Type.TEXT, lambda f, _s: f.path, "path relative to the source folder, '/'-separated")
_local("ext", Type.TEXT, lambda f, _s: _ext(f.path), "lowercased extension with the dot ('.jpg'), '' if none")
_local("size", Type.NUMBER, lambda f, _s: f.size, "size in bytes")
_local("size_kb", Type.NUMBER, lambda f, _s: _scaled(f.size, _KIB), "size in KB (1024 bytes), fractional")
_local("size_mb", Type.NUMBER, lambda f, _s: _scaled(f.size, _MIB), "size in MB (1024² bytes), fractional")
_local("size_gb", Type.NUMBER, lambda f, _s: _scaled(f.size, _GIB), "size in GB (1024³ bytes), fractional")
for _which in _TIME_PARTS:
    _local(_which, Type.NUMBER, _local_part(_which), _part_doc(_which, "the modification time"))
_local("age_days", Type.NUMBER, lambda f, s: _age(f.mtime, s, timedelta(days=1)), "whole days since modification")
_local("age_hours", Type.NUMBER, lambda f, s: _age(f.mtime, s, timedelta(hours=1)), "whole hours since modification")
_local("age_mins", Type.NUMBER, lambda f, s: _age(f.mtime, s, timedelta(minutes=1)), "whole minutes since modification")
_local("mtime", Type.DATE, lambda f, _s: f.mtime, "modification time (compare with 'YYYY-MM-DD[ HH:MM[:SS]]')")

# ---- S3 objects: from the listing ------------------------------------------------------------------
_L = Cost.LISTING
_s3("s3_name", Type.TEXT, _L, lambda o, _s: _basename(o.key), "object name: the last segment of the key")
_s3("s3_path", Type.TEXT, _L, lambda o, _s: o.key, "the full object key")
_s3("s3_ext", Type.TEXT, _L, lambda o, _s: _ext(o.key), "lowercased extension with the dot, '' if none")
_s3("s3_size", Type.NUMBER, _L, lambda o, _s: o.size, "size in bytes")
_s3("s3_size_kb", Type.NUMBER, _L, lambda o, _s: _scaled(o.size, _KIB), "size in KB (1024 bytes), fractional")
_s3("s3_size_mb", Type.NUMBER, _L, lambda o, _s: _scaled(o.size, _MIB), "size in MB (1024² bytes), fractional")
_s3("s3_size_gb", Type.NUMBER, _L, lambda o, _s: _scaled(o.size, _GIB), "size in GB (1024³ bytes), fractional")
for _which in _TIME_PARTS:
    _s3(f"s3_{_which}", Type.NUMBER, _L, _s3_part(_which), _part_doc(_which, "the last-modified time"))
_s3("s3_age_days", Type.NUMBER, _L, _s3_age(timedelta(days=1)), "whole days since last modified")
_s3("s3_age_hours", Type.NUMBER, _L, _s3_age(timedelta(hours=1)), "whole hours since last modified")
_s3("s3_age_mins", Type.NUMBER, _L, _s3_age(timedelta(minutes=1)), "whole minutes since last modified")
_s3("s3_mtime", Type.DATE, _L, lambda o, _s: NULL if o.last_modified is None else o.last_modified, "last-modified time")
_s3("s3_etag", Type.TEXT, _L, lambda o, _s: _etag(o), "the ETag without quotes")
_s3("s3_storage_class", Type.TEXT, _L, lambda o, _s: o.storage_class or "STANDARD", "STANDARD, STANDARD_IA, GLACIER, …")
_s3("s3_version_id", Type.TEXT, _L, lambda o, _s: o.version_id or "", "version id ('' in an unversioned listing)")
_s3("s3_is_latest", Type.BOOL, _L, lambda o, _s: o.is_latest is not False, "true for the current version (always, unversioned)")
_s3("s3_is_delete_marker", Type.BOOL, _L, lambda o, _s: o.is_delete_marker, "true for a delete marker")

# ---- S3 objects: one HEAD request ------------------------------------------------------------------
_H = Cost.HEAD
_s3("s3_md5", Type.TEXT, _H, lambda o, _s: _md5(o), "hex MD5 when the ETag is one (single-part, not SSE-KMS/SSE-C), else ''")
_s3("s3_content_type", Type.TEXT, _H, _head(lambda h: h.content_type or ""), "Content-Type")
_s3("s3_cache_control", Type.TEXT, _H, _head(lambda h: h.cache_control or ""), "Cache-Control")
_s3("s3_sse_algorithm", Type.TEXT, _H, _head(lambda h: h.sse_algorithm or ""), "AES256, aws:kms, aws:kms:dsse or ''")
_s3("s3_sse_kms_key_id", Type.TEXT, _H, _head(lambda h: h.sse_kms_key_id or ""), "the KMS key id or ''")
_s3(
    "s3_client_encrypted",
    Type.BOOL,
    _H,
    _head(lambda h: bool(_lookup(h.metadata, CLIENT_ENCRYPTION_META_KEY))),
    f"true when encrypted client-side by s3safe (user metadata '{CLIENT_ENCRYPTION_META_KEY}')",
)

# ---- S3 objects: one GetObjectAcl request ----------------------------------------------------------
_A = Cost.ACL
_s3("s3_acl_is_private", Type.BOOL, _A, _acl(lambda a: a.is_private), "only the owner holds any grant")
_s3("s3_acl_is_public_read", Type.BOOL, _A, _acl(lambda a: a.is_public_read), "everyone (or any AWS user) may read")
_s3("s3_acl_is_public_write", Type.BOOL, _A, _acl(lambda a: a.is_public_write), "everyone (or any AWS user) may write or change the ACL")
_s3("s3_acl_grants", Type.NUMBER, _A, _acl(lambda a: a.grants), "number of grants in the ACL")


# ---- functions -------------------------------------------------------------------------------------


def _meta(subject: Subject, arg: str | None) -> Value:
    if subject.s3 is None:
        return NULL
    if subject.s3.head is None:
        return UNKNOWN
    return _lookup(subject.s3.head.metadata, arg or "")


def _tag(subject: Subject, arg: str | None) -> Value:
    if subject.s3 is None:
        return NULL
    if subject.s3.tags is None:
        return UNKNOWN
    return _lookup(subject.s3.tags, arg or "")


_CATALOGUE.append(Variable("s3_meta", Type.TEXT, "s3", Cost.HEAD, _meta, "s3_meta('name'): user metadata value, '' if absent", True))
_CATALOGUE.append(Variable("s3_tag", Type.TEXT, "s3", Cost.TAGS, _tag, "s3_tag('name'): tag value, '' if absent", True))

# ---- current time ----------------------------------------------------------------------------------
for _which in _TIME_PARTS:
    _clock(f"curr_{_which}", _which, _part_doc(_which, "the current time"))


# ---- names and aliases -----------------------------------------------------------------------------


def _aliases(name: str) -> tuple[str, ...]:
    prefix = next((p for p in ("s3_", "curr_") if name.startswith(p)), "")
    rest = name[len(prefix) :]
    out = []
    squashed = prefix + rest.replace("_", "")
    if squashed != name:
        out.append(squashed)
    if rest == "dayofweek":
        out.append(prefix + "day_of_week")
    return tuple(out)


VARIABLES: Mapping[str, Variable] = {v.name: replace(v, aliases=_aliases(v.name)) for v in _CATALOGUE}
"""The catalogue by canonical name, in documentation order."""

_BY_NAME: dict[str, Variable] = {n: v for v in VARIABLES.values() for n in (v.name, *v.aliases)}


def lookup(name: str) -> Variable | None:
    """The variable or function spelled `name` (case-insensitive, either spelling), or None."""
    return _BY_NAME.get(name.lower())


def names_for(sides: frozenset[Side], *, functions: bool) -> list[str]:
    """Every spelling usable on these sides (for suggestions)."""
    return [n for n, v in _BY_NAME.items() if v.side in sides and v.takes_arg == functions]


def counterpart(var: Variable) -> Variable | None:
    """`s3_size` for `size` and back: the same fact on the other side, if there is one."""
    if var.side == "local":
        return VARIABLES.get("s3_" + var.name)
    if var.side == "s3":
        return VARIABLES.get(var.name[3:])
    return None
