"""Ranged downloads: the ranges' CRCs combine into the whole object's (each algorithm, an uneven last range),
and the claim chosen from a HEAD is a full-object CRC, settled only when its form is known."""

from __future__ import annotations

import base64
import os

import awscrt.checksums  # type: ignore[import-untyped]
import pytest

from s3safe.core.models import ObjectDetails
from s3safe.transfer.ranged import Ranges, crc_claim

WIDTH = {"crc32": 4, "crc32c": 4, "crc64nvme": 8}


@pytest.mark.parametrize("algorithm", ["crc64nvme", "crc32c", "crc32"])
def test_range_crcs_combine_into_the_objects(algorithm: str) -> None:
    data = os.urandom(10_000 + 37)
    ranges = Ranges(len(data), 1_000, algorithm=algorithm)
    for index, start, length in reversed(list(ranges.specs())):  # they land in any order
        ranges.landed(index, ranges.crc_of(0, memoryview(data)[start : start + length]))
    whole = getattr(awscrt.checksums, algorithm)(data).to_bytes(WIDTH[algorithm], "big")
    assert ranges.count == 11 and ranges.combined() == whole
    assert ranges.wait_frontier(0) == len(data)


def _details(checksums: dict[str, bytes], *, etag: str = "0" * 32, kind: str | None = None) -> ObjectDetails:
    encoded = {name: base64.b64encode(value).decode() for name, value in checksums.items()}
    return ObjectDetails(bucket="b", key="k", size=1, last_modified=None, etag=etag, content_type=None, cache_control=None,
                         storage_class="STANDARD", sse_algorithm=None, sse_kms_key_id=None, metadata={}, checksums=encoded,
                         checksum_type=kind)  # fmt: skip


def test_the_claim_is_a_full_object_crc_crc64nvme_first() -> None:
    claim = crc_claim(_details({"crc32": b"\1\2\3\4", "crc64nvme": b"\0" * 7 + b"\1"}))
    assert claim is not None and (claim.algorithm, claim.value, claim.settled) == ("crc64nvme", b"\0" * 7 + b"\1", True)
    assert crc_claim(_details({"sha256": b"\0" * 32})) is None  # a SHA-256 does not combine


def test_a_multipart_crc_of_unknown_form_is_not_settled_and_a_composite_is_no_claim() -> None:
    open_form = crc_claim(_details({"crc32c": b"\1\2\3\4"}, etag="0" * 32 + "-3"))
    assert open_form is not None and not open_form.settled  # a mismatch then only means "maybe composite"
    assert crc_claim(_details({"crc32c": b"\1\2\3\4"}, etag="0" * 32 + "-3", kind="COMPOSITE")) is None
    settled = crc_claim(_details({"crc32c": b"\1\2\3\4"}, etag="0" * 32 + "-3", kind="FULL_OBJECT"))
    assert settled is not None and settled.settled


def test_a_probe_splits_the_first_range_and_the_crcs_still_combine() -> None:
    data = os.urandom(10_000 + 37)
    ranges = Ranges(len(data), 1_000, algorithm="crc64nvme", first=100)
    specs = list(ranges.specs())
    assert specs[:3] == [(0, 0, 100), (1, 100, 900), (2, 1_000, 1_000)] and specs[-1] == (11, 10_000, 37)
    for index, start, length in specs[1:]:
        ranges.landed(index, ranges.crc_of(0, memoryview(data)[start : start + length]))
    assert ranges.wait_frontier(-1) == 0  # nothing below the probe's range has landed
    ranges.landed(0, ranges.crc_of(0, memoryview(data)[:100]))
    assert ranges.wait_frontier(0) == len(data)
    assert ranges.combined() == awscrt.checksums.crc64nvme(data).to_bytes(8, "big")
    assert list(Ranges(500, 1_000, algorithm=None, first=100).specs()) == [(0, 0, 100), (1, 100, 400)]
    assert next(Ranges(5_000, 1_000, algorithm=None, first=1_000).specs()) == (0, 0, 1_000)  # no split: not smaller


def test_range_sizes_give_two_ranges_per_request_within_bounds() -> None:
    from s3safe.transfer.download import RANGE_PART, RANGE_PART_MAX, _range_part

    mib = 1024**2
    assert (16 * mib, 32 * mib) == (RANGE_PART, RANGE_PART_MAX)
    assert _range_part(1024 * mib, 10) == 32 * mib  # 32 ranges, not 64 requests of 16 MiB
    assert _range_part(64 * mib, 10) == 16 * mib
    assert _range_part(640 * mib, 10) == 32 * mib and _range_part(480 * mib, 10) == 24 * mib
    assert _range_part(1024 * mib, 64) == 16 * mib
