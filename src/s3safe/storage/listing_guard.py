"""Checks a listing as it streams: keys strictly increasing by UTF-8 bytes, and pages that advance.

The planner merges two sorted listings and deletes what one side lacks, so a key listed out of order or
twice would delete an object (or a restored file) the source still has. S3 promises byte order and one
entry per key; some S3-compatible gateways have broken both, or handed back a continuation token they
had already given (a client that trusts it lists forever). Nothing is held but the last key and the
tokens seen (one per page).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, TypeVar

from s3safe.core.errors import ListingError

T = TypeVar("T")

_HINT = "nothing was deleted; S3 lists each key once, in UTF-8 byte order, and s3safe relies on it: report this to the server's maintainers"
# S3 may return an empty truncated page now and then (deleted keys, delete markers); a hundred in a row,
# each with a new token, is a server that will never get anywhere
MAX_EMPTY_PAGES = 100
MERGE_HINT = "nothing was deleted; a merge needs every key once, in UTF-8 byte order, on both sides"
# a listing of uploads remembers each one seen (to stop a server that repeats them); this bounds that memory
MAX_UPLOADS = 1_000_000
MAX_PART_NUMBER = 10_000  # S3's own limit: a part number outside 1..10,000 is not one S3 could hold


class ListingGuard:
    """One listing's order and progress. `what` names it in errors (e.g. "s3://b/p/ from https://host"),
    `base` is what a key is shown after (e.g. "s3://b/")."""

    def __init__(self, what: str, *, base: str = "", hint: str = _HINT) -> None:
        self.what = what
        self.base = base
        self.hint = hint
        self._last: bytes | None = None
        self._last_key = ""
        self._tokens: set[str] = set()
        self._empty_in_a_row = 0

    def key(self, key: str) -> None:
        """Accept the next key, or raise ListingError if it does not come strictly after the last one."""
        raw = key.encode("utf-8", "surrogateescape")
        last = self._last
        if last is not None and raw <= last:
            shown, before = self.base + key, self.base + self._last_key
            if raw == last:
                raise ListingError(f"the listing of {self.what} gave {shown} twice; stopped", hint=self.hint)
            raise ListingError(f"the listing of {self.what} is out of order: {shown} came after {before}; stopped", hint=self.hint)
        self._last, self._last_key = raw, key

    def token(self, token: str | None) -> None:
        """Accept the token that asks for the next page, or raise if it was given before (the listing would loop)."""
        if token is None:
            return
        if token in self._tokens:
            raise ListingError(
                f"the listing of {self.what} handed back a continuation token it had already given, so it would never end; stopped",
                hint="nothing was deleted; this is a server bug: report it to the server's maintainers",
            )
        self._tokens.add(token)

    def unreachable_rest(self, token: object, *, field: str) -> None:
        """Raise if a page that says it is truncated gives no `token` (named `field`) to ask for the rest."""
        if token is None or token == "":
            raise ListingError(
                f"the listing of {self.what} says it has more (IsTruncated) but gives no {field} to ask for the rest, "
                "so it cannot be listed in full; stopped",
                hint="nothing was deleted; this is a server bug: report it to the server's maintainers",
            )

    def page(self, *, empty: bool, truncated: bool) -> None:
        """Count empty truncated pages in a row; raise at MAX_EMPTY_PAGES (new tokens each time never repeat)."""
        self._empty_in_a_row = self._empty_in_a_row + 1 if empty and truncated else 0
        if self._empty_in_a_row >= MAX_EMPTY_PAGES:
            raise ListingError(
                f"the listing of {self.what} sent {MAX_EMPTY_PAGES} empty pages in a row, each asking for another, "
                "so it would never end; stopped",
                hint="nothing was deleted; this is a server bug: report it to the server's maintainers",
            )

    def keys(self, entries: Iterable[T], key: Callable[[T], str]) -> Iterator[T]:
        """Pass `entries` through, checking each one's key."""
        for entry in entries:
            self.key(key(entry))
            yield entry


class VersionGuard:
    """One version listing's order: keys in strictly increasing UTF-8 byte order, each key's versions
    together, each version once, and only the first of a key marked latest (S3 lists them newest first).

    A point-in-time restore picks, per key, the newest version at or before a time, and a revert adds delete
    markers to keys it finds no version of: a key listed twice, out of order or with its versions split or
    reversed would make it pick the wrong one or hide a key. Times are not required to decrease: S3 gives a
    multipart object the time its upload began, so a version completed later may carry an earlier time.
    Holds the last key and its version ids.
    """

    def __init__(self, what: str, *, base: str = "", hint: str = _HINT) -> None:
        self.keys = ListingGuard(what, base=base, hint=hint)
        self._key: str | None = None
        self._ids: set[str] = set()

    def version(self, key: str, version_id: str | None, *, latest: bool) -> None:
        """Accept the next version, or raise ListingError if it breaks the order."""
        what, shown = self.keys.what, self.keys.base + key
        if key != self._key:
            self.keys.key(key)  # a new key: strictly after the last one
            self._key, self._ids = key, set()
        elif latest:
            raise ListingError(f"the listing of {what} marks a second version of {shown} as the latest; stopped", hint=self.keys.hint)
        vid = version_id or "null"
        if vid in self._ids:
            raise ListingError(f"the listing of {what} gave version {vid} of {shown} twice; stopped", hint=self.keys.hint)
        self._ids.add(vid)


def checked_pages(pages: Iterable[Mapping[str, Any]], guard: ListingGuard, *, tokens: tuple[str, ...],
                  listed: tuple[str, ...]) -> Iterator[dict[str, Any]]:  # fmt: skip
    """botocore's pages of one listing (`pages`: a paginator's `paginate(...)`), passed through while they advance:
    a continuation token (the `tokens` fields together) handed out twice, not only twice in a row as botocore
    notices, or MAX_EMPTY_PAGES truncated pages in a row with nothing in the `listed` fields, stop it. So does
    a truncated page without the first of `tokens` (the one the next request needs), which botocore would
    take as the last page: a listing that short would have a purge delete what the server still holds."""
    for page in pages:
        truncated = bool(page.get("IsTruncated"))
        guard.page(empty=not any(page.get(name) for name in listed), truncated=truncated)
        if truncated:
            guard.unreachable_rest(page.get(tokens[0]), field=tokens[0])
            guard.token("\0".join(str(page.get(name)) for name in tokens))
        yield dict(page)


class PartGuard:
    """A multipart upload's part listing: part numbers within 1..10,000, strictly increasing (S3 lists them
    in ascending order, each once). Resume sends only the parts the server lacks, by number: a part listed
    twice, out of order or out of range is a layout s3safe must not build an object from."""

    def __init__(self, what: str, *, hint: str) -> None:
        self.pages = ListingGuard(what, hint=hint)
        self._last = 0

    def part(self, number: Any) -> int:
        """Accept the next part number (returned as an int), or raise ListingError."""
        what, hint = self.pages.what, self.pages.hint
        if not isinstance(number, int) or not 1 <= number <= MAX_PART_NUMBER:
            raise ListingError(f"the listing of {what} gave part number {number!r}, outside 1..{MAX_PART_NUMBER}; stopped", hint=hint)
        if number == self._last:
            raise ListingError(f"the listing of {what} gave part {number} twice; stopped", hint=hint)
        if number < self._last:
            raise ListingError(f"the listing of {what} is out of order: part {number} came after part {self._last}; stopped", hint=hint)
        self._last = number
        return number


class UploadGuard:
    """A listing of unfinished multipart uploads: each (key, upload ID) once, at most MAX_UPLOADS of them.

    Order is not required: AWS sorts general purpose buckets by key then start time, but not directory buckets
    (its API reference says so), moto lists in creation order, Ozone sorted by upload ID (HDDS-11532), and
    nothing merges this listing against another. What a wandering server could
    do is serve the same uploads again under fresh markers, so `uploads abort` would never end: each pair
    seen is remembered (a 16-byte digest, ~100 MB at the cap) and a repeat stops it. Markers handed back
    and empty pages are stopped by `pages`, as for every listing.
    """

    def __init__(self, what: str, *, base: str = "", hint: str = _HINT) -> None:
        self.pages = ListingGuard(what, base=base, hint=hint)
        self._seen: set[bytes] = set()

    def upload(self, key: str, upload_id: str) -> None:
        """Accept the next upload, or raise ListingError if it was listed before or there are too many."""
        pages = self.pages
        pair = hashlib.blake2b(b"\0".join(s.encode("utf-8", "surrogateescape") for s in (key, upload_id)), digest_size=16).digest()
        if pair in self._seen:
            raise ListingError(f"the listing of {pages.what} gave upload {upload_id} of {pages.base + key} twice; stopped", hint=pages.hint)
        if len(self._seen) >= MAX_UPLOADS:
            raise ListingError(
                f"the listing of {pages.what} has more than {MAX_UPLOADS:,} unfinished uploads, more than s3safe keeps track of; stopped",
                hint="nothing was aborted; list a narrower prefix, or let a lifecycle rule abort old uploads",
            )
        self._seen.add(pair)
