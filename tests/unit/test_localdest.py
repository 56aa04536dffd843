"""The write side of restores without a server: name claims (Windows separators), modes, temp marks, and the
bounded cache of open folders."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from s3safe.transfer import localdest
from s3safe.transfer.localdest import Destination, NameClaims, is_own_temp, temp_name


def test_keys_that_name_one_file_where_backslash_separates_are_reported_not_both_written() -> None:
    claims = NameClaims(every_key=True)  # as on Windows, where "a\\b" and "a/b" both become a\b
    assert claims.claim("a/b", ["a", "b"]) is None
    assert claims.claim("a\\b", ["a", "b"]) == "a/b"
    assert claims.claim("a/b", ["a", "b"]) is None  # the owner itself, again (a retry) is not a collision


def test_keys_folded_to_one_file_go_to_the_first_listed_on_every_system() -> None:
    """In listing (byte) order, whichever of a plain key and its folded forms comes first owns the file."""
    claims = NameClaims(every_key=False)
    assert claims.claim("a/./b", ["a", "b"]) is None  # folded keys list before `a/b`...
    assert claims.claim("a//b", ["a", "b"]) == "a/./b"
    assert claims.claim("a/b", ["a", "b"]) == "a/./b"
    assert claims.claim("a/-c", ["a", "-c"]) is None  # ...but after a plain name that starts below "/"
    assert claims.claim("a/./-c", ["a", "-c"]) == "a/-c"
    assert claims.claim("a//.e", ["a", ".e"]) is None and claims.claim("a/.e", ["a", ".e"]) == "a//.e"
    assert claims.claim("x/y", ["x", "y"]) is None and claims._owners.keys() == {"a/b", "a/-c", "a/.e"}  # nothing kept for x/y


def test_stored_modes_drop_setuid_unless_asked_and_missing_ones_follow_the_umask(tmp_path: Path) -> None:
    old = os.umask(0o027)
    try:
        plain = Destination(tmp_path / "a", create=True)
        keep = Destination(tmp_path / "b", create=True, special_bits=True)
    finally:
        os.umask(old)
    try:
        assert plain.mode_for("4755", "s3://b/k") == 0o755 and keep.mode_for("4755", "s3://b/k") == 0o4755
        assert plain.mode_for(None, "s3://b/k") == 0o640
        assert plain.mode_for("rwxr-xr-x", "s3://b/k") == 0o640  # unusable: treated as absent
        assert plain.mode_for("77777", "s3://b/k") == 0o640
    finally:
        plain.close()
        keep.close()


def test_temp_names_are_marked_and_look_alikes_are_not_ours() -> None:
    name = temp_name("report.pdf")
    assert name.startswith(".report.pdf.") and name.endswith(".s3safe-tmp") and is_own_temp(name)
    forged = name[:-len(".s3safe-tmp") - 1] + ("0" if name[-len(".s3safe-tmp") - 1] != "0" else "1") + ".s3safe-tmp"
    assert not is_own_temp(forged)
    assert not is_own_temp("notes.s3safe-tmp") and not is_own_temp(".report.pdf.1-2.s3safe-tmp")


def test_open_folders_stay_bounded_and_files_land_in_the_right_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(localdest, "MAX_OPEN_FOLDERS", 4)
    fds_before = len(os.listdir("/proc/self/fd")) if os.path.isdir("/proc/self/fd") else None
    dest = Destination(tmp_path / "d", create=True)
    try:
        for i in range(40):
            target = dest.target([f"f{i % 20}", "sub", "x.txt"])
            try:
                written = target.create(temp_name("x.txt"))
                os.write(written.fd, f"{i}".encode())
                target.commit(written, mtime=1_600_000_000 * 10**9, mode=0o640)
            finally:
                target.release()
            if fds_before is not None:
                assert len(os.listdir("/proc/self/fd")) <= fds_before + 1 + 4 + 2  # root, cache, this walk
    finally:
        dest.close()
    for i in range(20, 40):
        path = tmp_path / "d" / f"f{i % 20}" / "sub" / "x.txt"
        assert path.read_text() == str(i) and path.stat().st_mtime == 1_600_000_000.0
        assert path.stat().st_mode & 0o777 == 0o640
    if fds_before is not None:
        assert len(os.listdir("/proc/self/fd")) == fds_before


def test_the_temp_mark_key_is_the_state_folders_not_the_processs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two operations in one process with different state folders each mark temps with their own folder's
    key (it was cached for the process: the second folder's runs could not recognise their own temps)."""
    marks = {}
    for name in ("first", "second"):
        monkeypatch.setenv("S3SAFE_STATE_DIR", str(tmp_path / name))
        made = temp_name("report.pdf")
        assert is_own_temp(made)
        marks[name] = made
        assert (tmp_path / name / "temp-mark.key").stat().st_size == 32
    assert not is_own_temp(marks["first"])  # marked with the first folder's key, read under the second
