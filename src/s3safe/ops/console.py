"""`shell`: the console's current S3 location, relative S3 paths, and completion of commands' S3 arguments.

Paths in the console:
- `s3://bucket/key` is absolute and passed on untouched (the way to name keys with `.`, `..` or `//`);
- `/` is the top (all buckets), `/bucket/key` is absolute from the top;
- anything else is relative to the current location: `docs/report.pdf`, `..`, `../other/`, `.`.
`.` and `..` segments are resolved and empty segments dropped; `..` at the top stays at the top. A path
that ends in `/`, `.` or `..` names a folder. Local paths (`put`'s sources, `get`'s destination) and
`sync`'s arguments are never rewritten.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from itertools import islice
from typing import TYPE_CHECKING

from s3safe.core.errors import UsageError
from s3safe.core.locations import is_s3_url, parse_s3_url

if TYPE_CHECKING:
    from s3safe.storage.connection import Connection

TOP = "/"
# which positional arguments of a command are S3 paths: all of them, the first, the last, all but the first
S3_ARGUMENTS: dict[str, str] = {
    "ls": "all", "rm": "all", "cp": "all", "mkdir": "all", "mb": "all", "rb": "all", "info": "all",
    "restore": "all", "presign": "all", "harden": "all", "put": "last", "get": "first",
    "meta get": "all", "meta set": "all", "acl get": "all", "acl set": "after-first",
    "uploads ls": "all", "uploads abort": "all",
    "policy show": "all", "policy apply": "all", "policy remove": "all", "policy simulate": "all",
    "logging enable": "all", "logging status": "all", "logging disable": "all",
}  # fmt: skip
S3_OPTIONS: dict[str, frozenset[str]] = {"logging enable": frozenset({"--target"})}
MAX_COMPLETIONS = 500


@dataclass(frozen=True, slots=True)
class Location:
    """Where the console is: the top (bucket None) or a folder `prefix` ('' or ending in '/') of a bucket."""

    bucket: str | None = None
    prefix: str = ""

    def __post_init__(self) -> None:
        if self.bucket is None and self.prefix:
            raise ValueError("the top has no prefix")
        if self.prefix and not self.prefix.endswith("/"):
            raise ValueError("a location's prefix ends in '/'")

    @property
    def is_top(self) -> bool:
        return self.bucket is None

    @property
    def url(self) -> str:
        return TOP if self.bucket is None else f"s3://{self.bucket}/{self.prefix}"

    @property
    def prompt(self) -> str:
        return f"s3safe {self.url}> "

    def segments(self) -> list[str]:
        return [] if self.bucket is None else [self.bucket, *[p for p in self.prefix.split("/") if p]]


def _names_folder(path: str) -> bool:
    last = path.rsplit("/", 1)[-1]
    return path == "" or last in ("", ".", "..")


def resolve(cwd: Location, path: str) -> str:
    """`path` as an absolute `s3://bucket/key` URL, or TOP ('/') when it names the top."""
    if is_s3_url(path):
        return path
    segments = [] if path.startswith("/") else cwd.segments()
    for part in path.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if segments:
                segments.pop()
        else:
            segments.append(part)
    if not segments:
        return TOP
    key = "/".join(segments[1:])
    if key and _names_folder(path):
        key += "/"
    return f"s3://{segments[0]}/{key}"


def change_dir(cwd: Location, path: str) -> Location:
    """The location after `cd path` (no path: the top); UsageError for an invalid bucket name."""
    target = resolve(cwd, path or "/")
    if target == TOP:
        return Location()
    url = parse_s3_url(target)
    key = url.key if url.key == "" or url.key.endswith("/") else url.key + "/"
    return Location(url.bucket, key)


def positionals(argv: list[str], *, start: int, valued: Collection[str]) -> list[int]:
    """Indexes of the positional words of argv[start:], skipping options and their values."""
    found: list[int] = []
    skip = only_positional = False
    for i in range(start, len(argv)):
        word = argv[i]
        if skip:
            skip = False
        elif only_positional or word == "-" or not word.startswith("-"):
            found.append(i)
        elif word == "--":
            only_positional = True
        else:
            skip = "=" not in word and word in valued
    return found


def rewrite_args(cwd: Location, argv: list[str], *, command: str, start: int, valued: Collection[str]) -> list[str]:
    """A console command line with its S3 arguments made absolute (`command` is e.g. 'ls' or 'meta set').

    `ls` without an S3 argument lists the current folder (at the top: the buckets) and `put FILE`
    uploads into it. No other command, and none that deletes, defaults to the current location.
    """
    argv = list(argv)
    role = S3_ARGUMENTS.get(command)
    found = positionals(argv, start=start, valued=valued)
    if not cwd.is_top and ((command == "ls" and not found) or (command == "put" and len(found) == 1)):
        argv.append(cwd.url)
        found.append(len(argv) - 1)
    chosen = {"all": found, "first": found[:1], "last": found[-1:], "after-first": found[1:]}.get(role or "", [])
    options = S3_OPTIONS.get(command, frozenset())
    for i in range(start, len(argv) - 1):
        if argv[i] in options:
            chosen = [*chosen, i + 1]
    drop: list[int] = []
    for i in chosen:
        target = resolve(cwd, argv[i])
        if target == TOP:
            if command != "ls":
                raise UsageError(f"{argv[i]!r} is the top of S3 (all buckets), not a bucket or object", hint="name a bucket")
            drop.append(i)
        argv[i] = target
    return [word for i, word in enumerate(argv) if i not in drop]


# --- completion ----------------------------------------------------------------------------------

Lister = Callable[[str | None, str], Iterable[str]]
"""(None, '') -> bucket names; (bucket, prefix) -> keys and folder prefixes (ending in '/') one level below."""


def complete_path(cwd: Location, text: str, *, lister: Lister) -> list[str]:
    """Completions of a partly typed S3 path, written the way the user started it (relative stays relative)."""
    if is_s3_url(text):
        scheme, rest = text[:5], text[5:]
        if "/" not in rest:
            return sorted(f"{scheme}{name}/" for name in islice(lister(None, ""), MAX_COMPLETIONS) if name.startswith(rest))
        bucket, _, key = rest.partition("/")
        return sorted(
            f"{scheme}{bucket}/{entry}" for entry in islice(lister(bucket, key), MAX_COMPLETIONS) if entry.startswith(key)
        )
    partial = text.rsplit("/", 1)[-1]
    folder = text[: len(text) - len(partial)]
    if partial in (".", ".."):
        return [text + "/"]
    base = resolve(cwd, folder or ".")
    if base == TOP:
        return sorted(f"{folder}{name}/" for name in islice(lister(None, ""), MAX_COMPLETIONS) if name.startswith(partial))
    url = parse_s3_url(base)
    found = islice(lister(url.bucket, url.key + partial), MAX_COMPLETIONS)
    return sorted(folder + entry[len(url.key) :] for entry in found if entry.startswith(url.key + partial))


def s3_lister(conn: Connection) -> Lister:
    """A `Lister` backed by the store (one ListBuckets or one delimited ListObjectsV2 page stream per call)."""
    from s3safe.core.models import PrefixInfo
    from s3safe.storage.s3 import S3Storage

    storage = S3Storage(conn)

    def lister(bucket: str | None, prefix: str) -> Iterable[str]:
        if bucket is None:
            return [b.name for b in storage.list_buckets()]
        names: list[str] = []
        for entry in islice(storage.iter_entries(bucket, prefix, recursive=False), MAX_COMPLETIONS):
            names.append(entry.prefix if isinstance(entry, PrefixInfo) else entry.key)
        return names

    return lister
