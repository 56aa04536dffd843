"""The order checks and the merge of a version listing page (no server needed: plain data in, order out)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from s3safe.core.errors import ListingError
from s3safe.core.models import ObjectInfo
from s3safe.storage.listing_guard import VersionGuard
from s3safe.storage.s3 import _interleave
from s3safe.transfer.versions import as_of, histories


def _v(key: str, vid: str, second: int, *, latest: bool = False, marker: bool = False) -> ObjectInfo:
    return ObjectInfo("b", key, 0 if marker else 1, datetime(2026, 12, 1, 0, 0, second, tzinfo=UTC), version_id=vid,
                      is_latest=latest, is_delete_marker=marker)  # fmt: skip


def test_the_answers_interleaving_is_kept_within_one_second() -> None:
    """S3 lists k: marker m2, marker m1, version g2, version g1, all in one second: that order, not a guess."""
    versions = [_v("k", "g2", 5), _v("k", "g1", 5)]
    markers = [_v("k", "m2", 5, latest=True, marker=True), _v("k", "m1", 5, marker=True)]
    assert [v.version_id for v in _interleave(versions, markers, order="DDVV")] == ["m2", "m1", "g2", "g1"]
    top = next(histories(_interleave(versions, markers, order="DDVV")))
    assert [m.version_id for m in top.top_markers] == ["m2", "m1"] and top.newest_object is not None


def test_an_answer_not_grouped_by_key_is_merged_by_key_latest_and_time() -> None:
    """moto lists every version, then every delete marker: merged by key, the latest first, newest first."""
    versions = [_v("a", "a1", 3, latest=True), _v("b", "b2", 4), _v("b", "b1", 2)]
    markers = [_v("b", "bm", 6, latest=True, marker=True)]
    assert [v.version_id for v in _interleave(versions, markers, order="VVVD")] == ["a1", "bm", "b2", "b1"]
    assert [v.version_id for v in _interleave(versions, markers, order=None)] == ["a1", "bm", "b2", "b1"]


def test_a_later_version_with_an_earlier_time_is_accepted() -> None:
    """S3 dates a multipart object by the start of its upload: completed last, it can look older."""
    guard = VersionGuard("s3://b/")
    guard.version("k", "multipart", latest=True)  # 00:00:01, completed at 00:00:09
    guard.version("k", "put", latest=False)  # 00:00:05


@pytest.mark.parametrize(("listed", "words"), [
    ([("k", "v1", False), ("k", "v2", True)], "marks a second version"),
    ([("k", "v2", True), ("k", "v2", False)], "gave version v2"),
    ([("k", "v2", True), ("l", "x", True), ("k", "v1", False)], "out of order"),
])  # fmt: skip
def test_broken_version_order_is_refused(listed: list[tuple[str, str, bool]], words: str) -> None:
    guard = VersionGuard("s3://b/ from https://host", base="s3://b/")
    *good, (key, vid, latest) = listed
    for name, version, flag in good:
        guard.version(name, version, latest=flag)
    with pytest.raises(ListingError, match=words):
        guard.version(key, vid, latest=latest)


def test_as_of_takes_the_newest_version_at_or_before_the_time_and_skips_hidden_keys() -> None:
    listing = [
        _v("a", "a3", 30, latest=True), _v("a", "a2", 20), _v("a", "a1", 10),
        _v("d", "dm", 15, latest=True, marker=True), _v("d", "d1", 5),
        _v("n", "n1", 25, latest=True),
    ]  # fmt: skip
    at = datetime(2026, 12, 1, 0, 0, 20, tzinfo=UTC)
    assert [v.version_id for v in as_of(listing, at)] == ["a2"]  # d deleted at 15, n created at 25
    assert [v.version_id for v in as_of(listing, datetime(2026, 12, 1, 0, 0, 14, tzinfo=UTC))] == ["a1", "d1"]
