"""Where things live: s3:// URLs, bucket-name rules, and the guard that keeps downloads inside their folder."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from s3safe.core.errors import UsageError

_BUCKET_RE = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_IPV4_RE = re.compile(r"^\d{1,3}(\.\d{1,3}){3}$")
_RESERVED_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
_RESERVED_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f-\x9f]")  # C0, DEL and C1 (terminal escapes)
_DRIVE_RE = re.compile(r"^[A-Za-z]:")
MAX_KEY_BYTES = 1024
# A backslash separates folders only on Windows; on POSIX it is an ordinary character of a file name
_LOCAL_SEPARATORS = re.compile(r"[/\\]" if os.name == "nt" else "/")


def bucket_name_problem(name: str) -> str | None:
    """Why `name` is not a valid S3 bucket name (general-purpose bucket rules), or None."""
    if not 3 <= len(name) <= 63:
        return "must be 3 to 63 characters long"
    if not _BUCKET_RE.fullmatch(name):
        return "may hold only lowercase letters, digits, dots and hyphens, and must start and end with a letter or digit"
    if ".." in name or ".-" in name or "-." in name:
        return "must not contain '..', '.-' or '-.'"
    if _IPV4_RE.fullmatch(name):
        return "must not look like an IP address"
    if name.startswith(_RESERVED_PREFIXES) or name.endswith(_RESERVED_SUFFIXES):
        return "uses a prefix or suffix that AWS reserves"
    return None


def validate_bucket_name(name: str) -> str:
    problem = bucket_name_problem(name)
    if problem:
        raise UsageError(f"invalid bucket name {name!r}: it {problem}")
    return name


@dataclass(frozen=True, slots=True)
class S3Url:
    bucket: str
    key: str = ""

    def __str__(self) -> str:
        return f"s3://{self.bucket}/{self.key}"

    @property
    def is_bucket(self) -> bool:
        return self.key == ""

    @property
    def is_prefix(self) -> bool:
        """True when the key names a folder (empty or ending in '/')."""
        return self.key == "" or self.key.endswith("/")

    @property
    def folder(self) -> str:
        """The prefix a recursive command walks: the key when it ends in '/' (or is empty), else the folder
        `key/`. Never a raw prefix: `-r s3://b/foo` must not reach `foobar`, `foo.txt` or `foo-archive/`."""
        return self.key if self.is_prefix else self.key + "/"

    def child(self, relative: str) -> S3Url:
        return S3Url(self.bucket, self.folder + relative)

    @property
    def name(self) -> str:
        """The last path segment of the key (the file name)."""
        return PurePosixPath(self.key).name


def is_s3_url(text: str) -> bool:
    return text.lower().startswith("s3://")


def parse_s3_url(text: str, *, require_key: bool = False) -> S3Url:
    """Parse `s3://bucket/key`; raise UsageError with the reason when it is not one."""
    if not is_s3_url(text):
        raise UsageError(f"not an S3 URL: {text!r}", hint="write it as s3://BUCKET/KEY")
    rest = text[5:]
    bucket, _, key = rest.partition("/")
    if not bucket:
        raise UsageError(f"{text!r} names no bucket", hint="write it as s3://BUCKET/KEY")
    validate_bucket_name(bucket)
    if require_key and not key:
        raise UsageError(f"{text!r} names a bucket but no object key", hint="write it as s3://BUCKET/KEY")
    try:
        key_bytes = key.encode("utf-8")
    except UnicodeEncodeError:
        raise UsageError(f"the object key in {text!r} is not valid UTF-8") from None
    if len(key_bytes) > MAX_KEY_BYTES:
        raise UsageError(f"object key in {text!r} is longer than {MAX_KEY_BYTES} bytes")
    if "\x00" in key:
        raise UsageError("object keys must not contain NUL characters")
    return S3Url(bucket, key)


def local_path(text: str) -> Path:
    """A local path argument; the empty string is refused rather than read as the current folder (an empty
    shell variable would otherwise aim a --purge at wherever the command happened to run)."""
    if not text:
        raise UsageError("an empty local path was given; write . to mean the current folder")
    return Path(text)


def has_control_characters(key: str) -> bool:
    """C0, DEL or C1 characters: what a restore refuses and what would drive a terminal."""
    return _CONTROL_RE.search(key) is not None


def is_utf8(name: str) -> bool:
    """False for a local name whose bytes are not UTF-8 (they arrive as lone surrogates): no S3 key can hold it."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def unsafe_key_reason(relative_key: str) -> str | None:
    """Why a key must not become a local path, or None when it is safe.

    A store may hold keys that were written by anyone; a download must never let them climb out of
    the destination folder or smuggle terminal control characters into file names.
    """
    if not relative_key:
        return "empty name"
    if _CONTROL_RE.search(relative_key):
        return "contains NUL or control characters"
    if relative_key.startswith(("/", "\\")) or _DRIVE_RE.match(relative_key):
        return "is an absolute path"
    parts = re.split(r"[/\\]", relative_key)
    if any(part == ".." for part in parts):
        return "contains '..'"
    return None


def local_parts(relative_key: str) -> list[str]:
    """The folder names and file name a key maps to on this system (empty and "." segments dropped)."""
    return [p for p in _LOCAL_SEPARATORS.split(relative_key) if p not in ("", ".")]


def names_folder(relative_key: str) -> bool:
    """A key whose last segment is "." (`a/.`) names the folder above it, not a file."""
    return _LOCAL_SEPARATORS.split(relative_key)[-1] == "."


def safe_local_path(root: Path, relative_key: str) -> Path:
    """Join a key below `root`, refusing any key that would land outside it."""
    reason = unsafe_key_reason(relative_key)
    if reason:
        raise UsageError(f"refusing key {relative_key!r}: it {reason}")
    parts = local_parts(relative_key)
    if not parts:
        raise UsageError(f"refusing key {relative_key!r}: it names no file")
    target = root.joinpath(*parts)
    resolved_root = root.resolve()
    if not target.resolve().is_relative_to(resolved_root):
        raise UsageError(f"refusing key {relative_key!r}: it leads outside {root}")
    return target
