"""A hostile version listing, as a `FaultPlan.rewrite_response` hook: ListObjectVersions answers with each
key's versions oldest first (S3 lists them newest first).

A restore to a point in time takes, per key, the first version at or before the time: listed oldest
first, that is the oldest version, and the restore would bring back the wrong bytes without a word.
Only GET ?versions requests for one bucket are touched; everything else passes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

from tests.faults.proxy import Request, Rewritten, build_response

_ENTRY = re.compile(rb"<(Version|DeleteMarker)>.*?</\1>", re.S)
_KEY = re.compile(rb"<Key>(.*?)</Key>", re.S)


@dataclass
class OldestFirst:
    bucket: str
    served: int = 0  # listings rewritten, for assertions

    def __call__(self, request: Request, code: int, headers: dict[str, str], body: bytes) -> Rewritten | None:
        parts = urlsplit(request.target)
        query = parse_qs(parts.query, keep_blank_values=True)
        if request.method != "GET" or parts.path.strip("/") != self.bucket or "versions" not in query or code != 200:
            return None
        entries = [m.group(0) for m in _ENTRY.finditer(body)]
        groups: dict[bytes, list[bytes]] = {}
        for entry in entries:
            found = _KEY.search(entry)
            assert found is not None, entry
            groups.setdefault(found.group(1), []).append(entry)
        reordered = b"".join(b"".join(reversed(group)) for group in groups.values())
        start, end = body.find(entries[0]) if entries else 0, body.rfind(entries[-1]) + len(entries[-1]) if entries else 0
        self.served += 1
        return Rewritten(build_response(200, {"content-type": "application/xml"}, body[:start] + reordered + body[end:]))


@dataclass
class TruncatedWithoutMarker:
    """ListObjectVersions answers that say they are truncated but give no NextKeyMarker (nor a version marker)."""

    bucket: str
    served: int = 0

    def __call__(self, request: Request, code: int, headers: dict[str, str], body: bytes) -> Rewritten | None:
        parts = urlsplit(request.target)
        query = parse_qs(parts.query, keep_blank_values=True)
        if request.method != "GET" or parts.path.strip("/") != self.bucket or "versions" not in query or code != 200:
            return None
        self.served += 1
        body = re.sub(rb"<(NextKeyMarker|NextVersionIdMarker)>.*?</\1>", b"", body, flags=re.S)
        body = body.replace(b"<IsTruncated>false</IsTruncated>", b"<IsTruncated>true</IsTruncated>")
        return Rewritten(build_response(200, {"content-type": "application/xml"}, body))
