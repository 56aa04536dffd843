"""Hostile multipart listings, as a `FaultPlan.rewrite_response` hook: ListParts or ListMultipartUploads
answers bent in front of moto.

The hook takes moto's whole answer to the first request of a listing (no marker) and serves every page
itself: entries reversed or repeated, a continuation marker handed back again, empty truncated pages
forever, each with a marker never given before, or a truncated page with no marker at all. Only the chosen listing of one bucket is touched.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlsplit

from tests.faults.proxy import Request, Rewritten, build_response

SHAPES = ("reverse", "repeat", "same-token", "endless-empty", "no-marker")
MAX_PAGES_SERVED = 1000  # a client that never stops is still bounded: the proxy answers 500 past this
_FIRST = 1000  # markers of the hostile pages: numbers (botocore parses a part marker as an integer) from here
_DROP = re.compile(rb"<(IsTruncated|NextPartNumberMarker|NextKeyMarker|NextUploadIdMarker)>.*?</\1>|<\1/>", re.S)


@dataclass
class HostileMultipart:
    bucket: str
    listing: str  # "parts" (ListParts) or "uploads" (ListMultipartUploads)
    shape: str  # one of SHAPES
    served: int = 0  # pages answered, for assertions
    _snapshot: tuple[bytes, list[bytes]] | None = field(default=None, repr=False)

    def __call__(self, request: Request, code: int, headers: dict[str, str], body: bytes) -> Rewritten | None:
        parts = urlsplit(request.target)
        query = parse_qs(parts.query, keep_blank_values=True)
        marker = self._marker(request.method, parts.path, query)
        if marker is False:
            return None
        if marker is None:
            assert code == 200 and b"<IsTruncated>true" not in body, "the hostile listing needs moto's whole listing"
            self._snapshot = self._cut(body)
        page = 0 if marker is None else int(str(marker).rsplit("-", 1)[-1]) - _FIRST + 1
        self.served += 1
        if self.served > MAX_PAGES_SERVED or self._snapshot is None:
            return Rewritten(build_response(500, {"content-type": "application/xml"}, b"<Error><Code>InternalError</Code></Error>"))
        head, entries = self._snapshot
        return Rewritten(build_response(200, {"content-type": "application/xml"}, self._page(head, entries, page)))

    def _marker(self, method: str, path: str, query: dict[str, list[str]]) -> str | bool | None:
        """The page's marker (None: the first page), or False for a request this hook leaves alone."""
        if method != "GET":
            return False
        if self.listing == "parts" and path.strip("/").startswith(self.bucket + "/") and "uploadId" in query:
            return query.get("part-number-marker", [None])[0]
        if self.listing == "uploads" and path.strip("/") == self.bucket and "uploads" in query:
            return query.get("key-marker", [None])[0]
        return False

    def _cut(self, body: bytes) -> tuple[bytes, list[bytes]]:
        tag = rb"Part" if self.listing == "parts" else rb"Upload"
        entry = re.compile(rb"<" + tag + rb">.*?</" + tag + rb">", re.S)
        entries = entry.findall(body)
        assert len(entries) >= 2, body
        return _DROP.sub(b"", entry.sub(b"", body)), entries

    def _page(self, head: bytes, entries: list[bytes], page: int) -> bytes:
        chosen, next_page = list(entries), None
        if self.shape == "reverse":
            chosen.reverse()
        elif self.shape == "repeat":
            chosen.insert(1, entries[0])
        elif self.shape == "same-token":  # the first entry, then empty pages pointing at the same marker
            chosen, next_page = (entries[:1] if page == 0 else []), 1
        elif self.shape == "endless-empty":  # the first entry, then empty pages, each with a marker never given
            chosen, next_page = (entries[:1] if page == 0 else []), page + 1
        elif self.shape == "no-marker":  # the first entry, truncated, with no marker to ask for the rest
            chosen = entries[:1]
        truncated = next_page is not None or self.shape == "no-marker"
        fields = [f"<IsTruncated>{'true' if truncated else 'false'}</IsTruncated>".encode(), *chosen]
        if next_page is not None:
            token = _FIRST + next_page - 1
            if self.listing == "parts":
                fields.append(f"<NextPartNumberMarker>{token}</NextPartNumberMarker>".encode())
            else:
                fields.append(f"<NextKeyMarker>zz-hostile-{token}</NextKeyMarker><NextUploadIdMarker>u{token}</NextUploadIdMarker>".encode())
        closing = b"</ListPartsResult>" if self.listing == "parts" else b"</ListMultipartUploadsResult>"
        return head.replace(closing, b"".join(fields) + closing)
