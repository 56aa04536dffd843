"""Fuzzing the S3 URL parser and the download traversal guard.

parse_s3_url: any text gives an S3Url that prints back to an equivalent URL, or a UsageError.
safe_local_path: any key gives a path inside the destination folder, or a UsageError — never a path outside.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from s3safe.core.errors import UsageError
from s3safe.core.locations import MAX_KEY_BYTES, parse_s3_url, safe_local_path, unsafe_key_reason

SEGMENTS = ["..", ".", "", "a", "A", "b", "/", "\\", "C:", "c:\\", "\x00", "\n", "\x1b[2J", "\u202e", "~", "$HOME", "%2e%2e",
            "..\\..", "con", "nul.txt", "ä", "\udcff", " ", "a" * 300]  # fmt: skip
keys = st.one_of(
    st.text(max_size=60),
    st.lists(st.sampled_from(SEGMENTS), min_size=1, max_size=8).map("/".join),
    st.lists(st.sampled_from(SEGMENTS), min_size=1, max_size=8).map("".join),
)


@settings(max_examples=1500, deadline=None)
@given(
    text=st.one_of(
        st.text(max_size=80), st.text(max_size=40).map(lambda t: "s3://" + t), keys.map(lambda k: "s3://bucket-a/" + k)
    )
)
@example("s3://bucket-a/" + "k" * (MAX_KEY_BYTES + 1))
@example("S3://Bucket/key")
@example("s3://bucket-a/\x00")
def test_any_text_is_a_url_or_a_usage_error(text: str) -> None:
    try:
        url = parse_s3_url(text)
    except UsageError as exc:
        error = str(exc)
    else:
        error = None
        assert parse_s3_url(str(url)) == url  # prints back to itself
        assert len(url.key.encode("utf-8")) <= MAX_KEY_BYTES and "\x00" not in url.key
    if error is not None:
        assert error.strip() and "\n" not in error.strip("\n")


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(key=keys)
@example("../x")
@example("a/../../x")
@example("/etc/passwd")
@example("C:\\Windows\\x")
@example("a\\..\\..\\x")
@example("a/\x00b")
@example("new\nline")
def test_the_guard_never_yields_a_path_outside_the_folder(tmp_path: Path, key: str) -> None:
    root = tmp_path / "dest"
    root.mkdir(exist_ok=True)
    try:
        target = safe_local_path(root, key)
    except UsageError as exc:
        error = str(exc)
    else:
        error = None
        assert unsafe_key_reason(key) is None
        assert os.path.realpath(target).startswith(os.path.realpath(root) + os.sep)
        assert "\x00" not in str(target) and not any(ord(c) < 32 for c in str(target.relative_to(root)))
    if error is not None:
        assert "refusing key" in error


@pytest.mark.parametrize(
    "key", ["../escape", "a/../../escape", "/abs", "\\abs", "C:\\x", "c:x", "a/\x00", "a\nb", "a/\x7f", ".."]
)
def test_documented_hostile_keys_are_refused(tmp_path: Path, key: str) -> None:
    assert unsafe_key_reason(key) is not None
    with pytest.raises(UsageError, match="refusing key"):
        safe_local_path(tmp_path, key)


def test_symlinked_folder_inside_the_destination_cannot_lead_out(tmp_path: Path) -> None:
    root = tmp_path / "dest"
    root.mkdir()
    outside = tmp_path / "outside"
    outside.mkdir()
    (root / "link").symlink_to(outside, target_is_directory=True)
    with pytest.raises(UsageError, match="outside"):
        safe_local_path(root, "link/file.txt")
