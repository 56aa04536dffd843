"""What the server stored about an object's bytes that another copy can be checked against, without s3safe's
own metadata: objects other tools wrote (the AWS CLI, SDKs, s5cmd, rclone).

- a full-object checksum (CRC64NVME, the S3 default since 2025; CRC32, CRC32C, SHA-1, SHA-256 of a single
  PUT or a FULL_OBJECT multipart upload);
- a composite checksum (a multipart upload's checksum of its parts' checksums, "…-N" on AWS);
- a multipart ETag ("…-N": the MD5 of the parts' MD5s), which is that only under SSE-S3 or no encryption.

The composite forms need the part layout (`PartLayout`); the CRCs come from awscrt, what botocore uses.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Protocol

from s3safe.core.models import ObjectDetails

if TYPE_CHECKING:
    from s3safe.storage.base import ObjectStore

CRC_ALGORITHMS = ("crc64nvme", "crc32c", "crc32")
HASH_ALGORITHMS = ("sha256", "sha1")
_CRC_BYTES = {"crc32": 4, "crc32c": 4, "crc64nvme": 8}


class _Digest(Protocol):
    def update(self, data: bytes | memoryview, /) -> None: ...

    def digest(self) -> bytes: ...


class _Crc:
    """A running awscrt CRC with hashlib's update()/digest() shape (big-endian, as S3 encodes it)."""

    def __init__(self, algorithm: str) -> None:
        import awscrt.checksums  # type: ignore[import-untyped]  # loaded only when a peer's checksum is compared

        self._fn: Callable[[Any, int], int] = getattr(awscrt.checksums, algorithm)
        self._size = _CRC_BYTES[algorithm]
        self._value = 0

    def update(self, data: bytes | memoryview, /) -> None:
        self._value = self._fn(data, self._value)

    def digest(self) -> bytes:
        return self._value.to_bytes(self._size, "big")


def new_digest(algorithm: str) -> _Digest:
    if algorithm in CRC_ALGORITHMS:
        return _Crc(algorithm)
    return hashlib.new(algorithm, usedforsecurity=algorithm != "sha1")


def multipart_count(etag: str | None) -> int | None:
    """N of a multipart ETag "hex-N"; None for any other ETag."""
    value = (etag or "").strip('"')
    digest, dash, count = value.rpartition("-")
    if not dash or len(digest) != 32 or not count.isdigit() or int(count) < 1:
        return None
    return int(count)


@dataclass(frozen=True, slots=True)
class Claim:
    """One checksum the server holds: `value` is base64 (the "-N" suffix removed); `composite`: of the parts'."""

    algorithm: str
    value: str
    composite: bool

    @property
    def name(self) -> str:
        kind = "composite " if self.composite else ""
        return f"{kind}{self.algorithm.upper()} checksum"


@dataclass(frozen=True, slots=True)
class ServerEvidence:
    """The claims one object's HEAD makes about its bytes, and the part layout they need."""

    claims: tuple[Claim, ...]
    multipart_etag: str | None  # "hex-N", only when it is the MD5 of the parts' MD5s
    parts: tuple[int, ...] | None  # part sizes in order, when known

    @property
    def needs_layout(self) -> bool:
        """A composite claim or a multipart ETag can be checked only with the part sizes; a full-object
        checksum (one the HEAD did not leave open) is enough without them."""
        full = any(not c.composite and c.algorithm not in self._open_forms() for c in self.claims)
        return not full and (self.multipart_etag is not None or any(c.composite for c in self.claims))

    def _open_forms(self) -> set[str]:
        return {c.algorithm for c in self.claims if c.composite} & {c.algorithm for c in self.claims if not c.composite}

    @property
    def empty(self) -> bool:
        return not self.claims and self.multipart_etag is None


def evidence_of(details: ObjectDetails) -> ServerEvidence:
    """The claims in a HEAD (asked with checksum mode) of an object, without the part layout."""
    count = multipart_count(details.etag)
    kind = (details.checksum_type or "").upper()
    claims: list[Claim] = []
    for algorithm in (*CRC_ALGORITHMS, *HASH_ALGORITHMS):
        raw = details.checksums.get(algorithm)
        if not raw:
            continue
        value, dash, _count = raw.partition("-")
        if dash or kind == "COMPOSITE":
            claims.append(Claim(algorithm, value, composite=True))
        elif kind == "FULL_OBJECT" or count is None or algorithm == "crc64nvme":
            claims.append(Claim(algorithm, value, composite=False))
        else:
            # a multipart object whose HEAD says neither (moto): either form may be meant, and both describe
            # these bytes, so a copy that matches either one matches
            claims += [Claim(algorithm, value, composite=True), Claim(algorithm, value, composite=False)]
    md5_parts = count is not None and details.sse_algorithm in (None, "AES256")
    etag = (details.etag or "").strip('"').lower() if md5_parts else None
    return ServerEvidence(tuple(claims), etag, None)


def server_evidence(storage: ObjectStore, details: ObjectDetails, *, version_id: str | None = None) -> ServerEvidence:
    """The claims of a HEAD, with the part layout when they need it (one or two more requests); `version_id`:
    the HEAD was of that version."""
    evidence = evidence_of(details)
    count = multipart_count(details.etag)
    if evidence.needs_layout and count is not None and details.etag:
        sizes = storage.part_sizes(details.bucket, details.key, size=details.size, count=count, etag=details.etag, version_id=version_id)
        evidence = replace(evidence, parts=sizes)
    return evidence


class EvidenceCheck:
    """Fed the bytes of a copy in order; says whether they are the bytes the server's claims describe."""

    def __init__(self, evidence: ServerEvidence) -> None:
        self.evidence = evidence
        self._whole = {c.algorithm: new_digest(c.algorithm) for c in evidence.claims if not c.composite}
        layout = evidence.parts or ()
        self._layout = list(layout)
        self._per_part = sorted(
            {c.algorithm for c in evidence.claims if c.composite} | ({"md5"} if evidence.multipart_etag else set())
        )
        if not layout:
            self._per_part = []
        self._part_digests: dict[str, list[bytes]] = {a: [] for a in self._per_part}
        self._current: dict[str, _Digest] = {a: new_digest(a) for a in self._per_part}
        self._left = self._layout[0] if self._layout else 0
        self._index = 0
        self.extra = False  # more bytes than the layout holds

    def update(self, data: bytes | memoryview) -> None:
        for digest in self._whole.values():
            digest.update(data)
        if self._per_part:
            self._split(memoryview(data))

    def _split(self, view: memoryview) -> None:
        while view:
            if self._index >= len(self._layout):
                self.extra = True
                return
            piece, view = view[: self._left], view[self._left :]
            for digest in self._current.values():
                digest.update(piece)
            self._left -= len(piece)
            if self._left == 0:
                self._close_part()

    def _close_part(self) -> None:
        for algorithm in self._per_part:
            self._part_digests[algorithm].append(self._current[algorithm].digest())
            self._current[algorithm] = new_digest(algorithm)
        self._index += 1
        self._left = self._layout[self._index] if self._index < len(self._layout) else 0

    def verdict(self) -> tuple[bool | None, str]:
        """(True, what matched) / (False, what contradicts the copy) / (None, "") when nothing could be compared.

        Any claim that fails outvotes the rest; a value whose form the HEAD left open (full or composite)
        fails only when both forms do.
        """
        complete = not self.extra and self._index == len(self._layout) and bool(self._layout)
        results: dict[tuple[str, str], list[bool | None]] = {}
        names: dict[tuple[str, str], str] = {}
        for claim in self.evidence.claims:
            ok: bool | None
            if claim.composite:
                ok = _b64(combined(claim.algorithm, self._part_digests[claim.algorithm])) == claim.value if complete else None
            else:
                ok = _b64(self._whole[claim.algorithm].digest()) == claim.value
            results.setdefault((claim.algorithm, claim.value), []).append(ok)
            if ok or (claim.algorithm, claim.value) not in names:
                names[(claim.algorithm, claim.value)] = claim.name
        matched: list[str] = []
        for ident, outcomes in results.items():
            if True in outcomes:
                matched.append(names[ident])
            elif None not in outcomes:
                return False, names[ident]
        etag = self.evidence.multipart_etag
        if etag is not None and complete:
            parts = self._part_digests["md5"]
            ours = f"{hashlib.md5(b''.join(parts), usedforsecurity=False).hexdigest()}-{len(parts)}"
            if ours != etag:
                return False, "multipart ETag (MD5 of the parts' MD5s)"
            matched.append(f"multipart ETag ({len(parts)} parts)")
        if matched:
            return True, " and ".join(matched)
        return None, ""


def combined(algorithm: str, parts: Sequence[bytes]) -> bytes:
    digest = new_digest(algorithm)
    digest.update(b"".join(parts))
    return digest.digest()


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")
