"""A hostile S3 listing, as a `FaultPlan.rewrite_response` hook: ListObjectsV2 answers re-paginated and bent.

Real S3-compatible gateways have listed keys out of byte order (directory-walk order, '/' first), repeated
a key at a page boundary, and handed back the continuation token they were given. This hook reproduces
those, and a truncated page with no continuation token, in front of moto: it takes moto's whole (untruncated) answer for a listing, cuts it into small pages
with its own tokens ("hostile-N"), and serves every later page from that snapshot, whatever moto answered
to the unknown token. Only ListObjectsV2 requests for one bucket are touched; everything else passes.
HostileInventoryListing does the same to a bucket's ListBucketInventoryConfigurations.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import parse_qs, unquote, urlsplit

from tests.faults.proxy import Request, Rewritten, build_response

_ENTRY = re.compile(rb"<Contents>.*?</Contents>|<CommonPrefixes>.*?</CommonPrefixes>", re.S)
_NAME = re.compile(rb"<(?:Key|Prefix)>(.*?)</(?:Key|Prefix)>", re.S)
_DROP = re.compile(
    rb"<Contents>.*?</Contents>|<CommonPrefixes>.*?</CommonPrefixes>|<IsTruncated>.*?</IsTruncated>"
    rb"|<KeyCount>.*?</KeyCount>|<NextContinuationToken>.*?</NextContinuationToken>|<ContinuationToken>.*?</ContinuationToken>",
    re.S,
)
MAX_PAGES_SERVED = 10_000  # a client that never stops is still bounded: the proxy answers 500 past this


def entry_name(entry: bytes) -> str:
    """The key (or common prefix) of one <Contents>/<CommonPrefixes> element, URL-decoded if it was encoded."""
    found = _NAME.search(entry)
    assert found is not None, entry
    return unquote(found.group(1).decode("utf-8"))


def walk_order(names: list[str]) -> list[int]:
    """Indexes of `names` in directory-walk order ('/' before every other character), as some gateways list."""
    return sorted(range(len(names)), key=lambda i: names[i].split("/"))


@dataclass
class HostileListing:
    bucket: str
    page_size: int = 2
    reorder: Callable[[list[str]], list[int]] | None = None  # a permutation of the snapshot's entries
    repeat_boundary: bool = False  # each page after the first starts with the previous page's last entry
    loop_token: bool = False  # every page after the first hands back the token it was asked with ...
    loop_period: int = 1  # ... or, with a period of 2, pages 1 and 2 point at each other
    loop_empty: bool = False  # with loop_token: those pages are empty (nothing listed, still truncated)
    drop_token: bool = False  # a truncated page says so but gives no NextContinuationToken (the rest is unreachable)
    served: int = 0  # pages answered, for assertions
    _snapshots: dict[str, tuple[bytes, list[bytes]]] = field(default_factory=dict)

    def __call__(self, request: Request, code: int, headers: dict[str, str], body: bytes) -> Rewritten | None:
        parts = urlsplit(request.target)
        query = parse_qs(parts.query, keep_blank_values=True)
        if request.method != "GET" or parts.path.strip("/") != self.bucket or query.get("list-type") != ["2"]:
            return None
        token = query.get("continuation-token", [None])[0]
        view = "&".join(f"{k}={v}" for k, v in sorted(query.items()) if k != "continuation-token")
        if token is None:
            assert code == 200 and b"<IsTruncated>true" not in body, "the hostile listing needs moto's whole listing"
            self._snapshots[view] = self._snapshot(body)
            page = 0
        else:
            page = int(token.removeprefix("hostile-"))
        self.served += 1
        if self.served > MAX_PAGES_SERVED:
            return Rewritten(build_response(500, {"content-type": "application/xml"}, b"<Error><Code>InternalError</Code></Error>"))
        head, entries = self._snapshots[view]
        return Rewritten(build_response(200, {"content-type": "application/xml"}, self._page(head, entries, page, token)))

    def _snapshot(self, body: bytes) -> tuple[bytes, list[bytes]]:
        entries = _ENTRY.findall(body)
        if self.reorder is not None:
            order = self.reorder([entry_name(e) for e in entries])
            entries = [entries[i] for i in order]
        return _DROP.sub(b"", body), entries

    def _page(self, head: bytes, entries: list[bytes], page: int, token: str | None) -> bytes:
        start, end = page * self.page_size, (page + 1) * self.page_size
        chosen = entries[start:end]
        next_page: int | None = page + 1 if end < len(entries) else None
        if self.repeat_boundary and page > 0:
            chosen = [entries[start - 1], *chosen]
        if self.loop_token and page > 0:
            # a token already given: a client without a guard asks for these pages forever
            next_page = 1 + page % self.loop_period
            if self.loop_empty:
                chosen = []
        fields = [f"<IsTruncated>{'true' if next_page is not None else 'false'}</IsTruncated>".encode(),
                  f"<KeyCount>{len(chosen)}</KeyCount>".encode(), *chosen]  # fmt: skip
        if token is not None:
            fields.append(f"<ContinuationToken>{token}</ContinuationToken>".encode())
        if next_page is not None and not self.drop_token:
            fields.append(f"<NextContinuationToken>hostile-{next_page}</NextContinuationToken>".encode())
        return head.replace(b"</ListBucketResult>", b"".join(fields) + b"</ListBucketResult>")


_INVENTORY = re.compile(rb"<InventoryConfiguration>.*?</InventoryConfiguration>", re.S)
_INVENTORY_DROP = re.compile(
    rb"<InventoryConfiguration>.*?</InventoryConfiguration>|<IsTruncated>.*?</IsTruncated>"
    rb"|<NextContinuationToken>.*?</NextContinuationToken>|<ContinuationToken>.*?</ContinuationToken>",
    re.S,
)


@dataclass
class HostileInventoryListing:
    """ListBucketInventoryConfigurations of one bucket, re-paginated from moto's whole answer (moto never
    paginates it) one configuration a page, with tokens "hostile-N"; bent as HostileListing bends objects."""

    bucket: str
    drop_token: bool = False  # the first page says it is truncated but gives no NextContinuationToken
    loop_token: bool = False  # every page after the first hands back the token it was asked with
    endless: bool = False  # every page lists a configuration and asks for another, each under a new token
    served: int = 0
    _snapshot: tuple[bytes, list[bytes]] | None = None

    def __call__(self, request: Request, code: int, headers: dict[str, str], body: bytes) -> Rewritten | None:
        parts = urlsplit(request.target)
        query = parse_qs(parts.query, keep_blank_values=True)
        if request.method != "GET" or parts.path.strip("/") != self.bucket or "inventory" not in query or "id" in query:
            return None
        token = query.get("continuation-token", [None])[0]
        if token is None:
            assert code == 200 and b"<IsTruncated>true" not in body, "the hostile listing needs moto's whole listing"
            self._snapshot = (_INVENTORY_DROP.sub(b"", body), _INVENTORY.findall(body))
        assert self._snapshot is not None
        self.served += 1
        if self.served > MAX_PAGES_SERVED:
            return Rewritten(build_response(500, {"content-type": "application/xml"}, b"<Error><Code>InternalError</Code></Error>"))  # fmt: skip
        head, entries = self._snapshot
        page = 0 if token is None else int(token.removeprefix("hostile-"))
        next_page = page + 1 if page + 1 < len(entries) or self.endless else None
        if self.loop_token and page > 0:
            next_page = page  # a token already given: a client without a guard asks for this page forever
        truncated = "true" if next_page is not None else "false"
        fields = [f"<IsTruncated>{truncated}</IsTruncated>".encode(), entries[page % len(entries)]]
        if token is not None:
            fields.append(f"<ContinuationToken>{token}</ContinuationToken>".encode())
        if next_page is not None and not self.drop_token:
            fields.append(f"<NextContinuationToken>hostile-{next_page}</NextContinuationToken>".encode())
        opening, closing = head.rstrip().rsplit(b"</", 1)
        body = opening + b"".join(fields) + b"</" + closing
        return Rewritten(build_response(200, {"content-type": "application/xml"}, body))


_BUCKET = re.compile(rb"<Bucket>.*?</Bucket>", re.S)


@dataclass
class HostileBucketListing:
    """ListBuckets re-paginated from moto's whole answer (moto hands out no ContinuationToken unless asked for
    MaxBuckets), `page_size` buckets a page, with tokens "hostile-N"; `loop_token`: every page after the first
    hands back the token it was asked with; `endless`: every page asks for another under a new token, the
    buckets served round and round."""

    page_size: int = 50
    loop_token: bool = False
    endless: bool = False
    served: int = 0
    _snapshot: tuple[bytes, list[bytes]] | None = None

    def __call__(self, request: Request, code: int, headers: dict[str, str], body: bytes) -> Rewritten | None:
        parts = urlsplit(request.target)
        if request.method != "GET" or parts.path not in ("", "/"):
            return None
        token = parse_qs(parts.query).get("continuation-token", [None])[0]
        if token is None:
            assert code == 200 and b"<ContinuationToken>" not in body, "the hostile listing needs moto's whole listing"
            self._snapshot = (_BUCKET.sub(b"", body), _BUCKET.findall(body))
        assert self._snapshot is not None
        self.served += 1
        if self.served > MAX_PAGES_SERVED:
            return Rewritten(build_response(500, {"content-type": "application/xml"}, b"<Error><Code>InternalError</Code></Error>"))  # fmt: skip
        head, buckets = self._snapshot
        page = 0 if token is None else int(token.removeprefix("hostile-"))
        start = page * self.page_size % len(buckets) if self.endless else page * self.page_size
        next_page = page + 1 if self.endless or start + self.page_size < len(buckets) else None
        if self.loop_token and page > 0:
            next_page = page  # a token already given: a client without a guard asks for this page forever
        chosen = b"".join(buckets[start : start + self.page_size])
        listed = head.replace(b"<Buckets></Buckets>", b"<Buckets>" + chosen + b"</Buckets>")
        if next_page is not None:
            listed = listed.replace(b"</ListAllMyBucketsResult>", f"<ContinuationToken>hostile-{next_page}</ContinuationToken>".encode() + b"</ListAllMyBucketsResult>")  # fmt: skip
        return Rewritten(build_response(200, {"content-type": "application/xml"}, listed))
