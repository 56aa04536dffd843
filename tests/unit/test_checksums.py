"""The server-checksum arithmetic (issue 20.2): full-object and composite forms, multipart ETags, layouts."""

from __future__ import annotations

import base64
import hashlib
import os

import awscrt.checksums  # type: ignore[import-untyped]

from s3safe.core.models import ObjectDetails
from s3safe.storage.s3 import uniform_layout
from s3safe.transfer.checksums import EvidenceCheck, ServerEvidence, evidence_of, multipart_count

PART = 5 * 1024 * 1024


def _details(etag: str, checksums: dict[str, str], *, kind: str | None = None, sse: str | None = None) -> ObjectDetails:
    return ObjectDetails("b", "k", 0, None, etag, None, None, "STANDARD", sse, None, {}, checksums=checksums, checksum_type=kind)


def _crc(name: str, data: bytes) -> bytes:
    return getattr(awscrt.checksums, name)(data).to_bytes(8 if name == "crc64nvme" else 4, "big")


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def _verdict(evidence: ServerEvidence, data: bytes) -> tuple[bool | None, str]:
    check = EvidenceCheck(evidence)
    for start in range(0, len(data), 1_000_003):  # chunks that straddle the part boundaries
        check.update(data[start : start + 1_000_003])
    return check.verdict()


def test_multipart_count_reads_only_multipart_etags() -> None:
    assert multipart_count('"' + "a" * 32 + '-12"') == 12
    assert multipart_count("a" * 32) is None
    assert multipart_count("a" * 31 + "-2") is None
    assert multipart_count("a" * 32 + "-x") is None


def test_uniform_layout() -> None:
    assert uniform_layout(2 * PART + 7, count=3, first=PART) == (PART, PART, 7)
    assert uniform_layout(2 * PART, count=2, first=PART) == (PART, PART)
    assert uniform_layout(2 * PART + 7, count=2, first=PART) is None  # parts of other sizes: ask the server


def test_composite_crc_and_multipart_etag_match_and_one_flipped_byte_fails() -> None:
    data = os.urandom(2 * PART + 99)
    parts = [data[i : i + PART] for i in range(0, len(data), PART)]
    etag = hashlib.md5(b"".join(hashlib.md5(p).digest() for p in parts)).hexdigest() + "-3"
    composite = _b64(_crc("crc32", b"".join(_crc("crc32", p) for p in parts))) + "-3"
    evidence = evidence_of(_details(etag, {"crc32": composite}, sse="AES256"))
    assert evidence.needs_layout
    with_layout = ServerEvidence(evidence.claims, evidence.multipart_etag, uniform_layout(len(data), count=3, first=PART))
    same, what = _verdict(with_layout, data)
    assert same is True and "composite CRC32 checksum" in what and "multipart ETag" in what
    bad = bytearray(data)
    bad[PART + 1] ^= 1
    assert _verdict(with_layout, bytes(bad))[0] is False
    assert _verdict(with_layout, data + b"x")[0] is not True  # longer than the parts hold
    assert _verdict(evidence, data) == (None, "")  # without the layout nothing is known


def test_a_full_object_crc64nvme_needs_no_layout_and_the_etag_of_sse_kms_is_no_evidence() -> None:
    data = os.urandom(PART + 5)
    evidence = evidence_of(_details("f" * 32 + "-2", {"crc64nvme": _b64(_crc("crc64nvme", data))}, sse="aws:kms"))
    assert not evidence.needs_layout and evidence.multipart_etag is None
    assert _verdict(evidence, data) == (True, "CRC64NVME checksum")
    assert _verdict(evidence, data[:-1] + bytes([data[-1] ^ 1]))[0] is False  # one bit flipped: always a change


def test_a_head_that_leaves_the_form_open_matches_either_and_fails_only_when_both_do() -> None:
    data = os.urandom(PART + 5)
    parts = [data[:PART], data[PART:]]
    composite = _b64(_crc("crc32c", b"".join(_crc("crc32c", p) for p in parts)))  # moto: no "-N", no type
    layout = (PART, 5)
    for value in (composite, _b64(_crc("crc32c", data))):
        evidence = evidence_of(_details("e" * 32 + "-2", {"crc32c": value}))
        assert evidence.needs_layout
        assert _verdict(ServerEvidence(evidence.claims, None, layout), data)[0] is True
    evidence = evidence_of(_details("e" * 32 + "-2", {"crc32c": "AAAAAA=="}))
    assert _verdict(ServerEvidence(evidence.claims, None, layout), data)[0] is False
