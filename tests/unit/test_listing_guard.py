"""The listing guard: keys strictly increasing by UTF-8 bytes (not by code points), tokens never given twice."""

from __future__ import annotations

import pytest

from s3safe.core.errors import EXIT_ERROR, ListingError
from s3safe.storage import listing_guard
from s3safe.storage.listing_guard import ListingGuard, UploadGuard


def test_keys_in_byte_order_pass() -> None:
    guard = ListingGuard("s3://b/p/ from https://host", base="s3://b/")
    # U+FFFD (EF BF BD) sorts before U+1F600 (F0 9F 98 80) in UTF-8 bytes, after it in UTF-16 code units
    for key in ["p/a-b", "p/a/x", "p/a0", "p/\ufffd", "p/\U0001f600"]:
        guard.key(key)


@pytest.mark.parametrize(("keys", "words"), [
    (["p/a/x", "p/a-b"], "out of order: s3://b/p/a-b came after s3://b/p/a/x"),
    (["p/a", "p/b", "p/b"], "gave s3://b/p/b twice"),
    (["p/\U0001f600", "p/\ufffd"], "out of order"),
])  # fmt: skip
def test_a_key_that_does_not_advance_stops_the_listing(keys: list[str], words: str) -> None:
    guard = ListingGuard("s3://b/p/ from https://host", base="s3://b/")
    for key in keys[:-1]:
        guard.key(key)
    with pytest.raises(ListingError) as raised:
        guard.key(keys[-1])
    assert words in str(raised.value) and "https://host" in str(raised.value) and "nothing was deleted" in str(raised.value)
    assert raised.value.exit_code == EXIT_ERROR


def test_a_token_given_before_stops_the_listing_even_pages_later() -> None:
    guard = ListingGuard("s3://b/ from https://host")
    for token in ["t1", "t2", "t3", None, None]:
        guard.token(token)
    with pytest.raises(ListingError, match="continuation token it had already given"):
        guard.token("t2")


def test_uploads_in_any_order_pass_but_a_pair_listed_again_stops_even_far_apart() -> None:
    """Uploads need no order (moto lists them as created); a (key, upload ID) seen before, anywhere, is a
    server serving the listing again, and `uploads abort` would never end."""
    guard = UploadGuard("multipart uploads in s3://b/ from https://host", base="s3://b/")
    for key, upload_id in [("z", "1"), ("a", "2"), ("z", "3"), ("a", "4")]:
        guard.upload(key, upload_id)
    with pytest.raises(ListingError) as raised:
        guard.upload("z", "1")
    assert "gave upload 1 of s3://b/z twice" in str(raised.value) and "https://host" in str(raised.value)


def test_more_uploads_than_are_remembered_stop_with_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(listing_guard, "MAX_UPLOADS", 3)  # the real cap is 1,000,000: too many to list here
    guard = UploadGuard("multipart uploads in s3://b/ from https://host", base="s3://b/")
    for upload_id in "123":
        guard.upload("k", upload_id)
    with pytest.raises(ListingError) as raised:
        guard.upload("k", "4")
    assert "more than 3 unfinished uploads" in str(raised.value) and "\n" not in str(raised.value)
    assert raised.value.exit_code == EXIT_ERROR
