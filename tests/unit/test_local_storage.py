"""The local filesystem as a store: keys streamed in S3 (UTF-8 byte) order, symlinks left alone."""

from __future__ import annotations

import os
import tempfile
from datetime import UTC
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from s3safe.core.models import ObjectInfo, PrefixInfo
from s3safe.storage.local import LocalStorage

# Names valid on Linux (no '/', no NUL, not '.' or '..'), chosen to straddle '/' (0x2f) in byte
# order: '-' 0x2d and '.' 0x2e sort before it, digits and letters after, multi-byte UTF-8 far after.
NAME_ALPHABET = ["a", "b", "A", "0", "9", "-", ".", "_", " ", "~", "é", "ß", "€", "\uff01", "😀"]
names = st.text(alphabet=NAME_ALPHABET, min_size=1, max_size=5).filter(lambda n: n not in (".", ".."))

# A tree is {name: bytes (a file) | tree (a folder)}.
trees = st.recursive(
    st.dictionaries(names, st.binary(max_size=4), max_size=4),
    lambda children: st.dictionaries(names, st.binary(max_size=4) | children, max_size=4),
    max_leaves=25,
)


def build(root: Path, tree: dict[str, Any]) -> dict[str, int]:
    """Create the tree below root; return {relative key: size} of every file."""
    files: dict[str, int] = {}
    for name, node in tree.items():
        path = root / name
        if isinstance(node, bytes):
            path.write_bytes(node)
            files[name] = len(node)
        else:
            path.mkdir()
            files.update({f"{name}/{key}": size for key, size in build(path, node).items()})
    return files


def utf8(key: str) -> bytes:
    return key.encode("utf-8")


def key_of(entry: ObjectInfo | PrefixInfo) -> str:
    return entry.key if isinstance(entry, ObjectInfo) else entry.prefix


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """An empty folder of its own (tmp_path also holds the isolated HOME)."""
    path = tmp_path / "tree"
    path.mkdir()
    return path


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tree=trees)
def test_recursive_listing_is_every_file_in_utf8_byte_order(tree: dict[str, Any]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        files = build(Path(tmp), tree)
        entries = list(LocalStorage().iter_entries(tmp, "", recursive=True))
    assert all(isinstance(e, ObjectInfo) for e in entries)
    listed = [e.key for e in entries if isinstance(e, ObjectInfo)]
    assert listed == sorted(files, key=utf8)
    assert {e.key: e.size for e in entries if isinstance(e, ObjectInfo)} == files
    assert all(e.bucket == tmp for e in entries)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tree=trees)
def test_non_recursive_listing_folds_folders_into_prefixes(tree: dict[str, Any]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        build(Path(tmp), tree)
        entries = list(LocalStorage().iter_entries(tmp, "", recursive=False))
    expected = sorted(
        [(name + "/", PrefixInfo) if isinstance(node, dict) else (name, ObjectInfo) for name, node in tree.items()],
        key=lambda pair: utf8(pair[0]),
    )
    got = [(e.prefix, PrefixInfo) if isinstance(e, PrefixInfo) else (e.key, ObjectInfo) for e in entries]
    assert got == expected


def test_order_around_the_slash(root: Path) -> None:
    """'a-b' and 'a.txt' sort before the folder 'a/', 'a0' and 'ab' after it (S3 compares bytes)."""
    for name in ("a-b", "a.txt", "a0", "ab"):
        (root / name).write_text(name)
    (root / "a").mkdir()
    (root / "a" / "z").write_text("z")
    storage = LocalStorage()
    assert [key_of(e) for e in storage.iter_entries(str(root), "", recursive=True)] == ["a-b", "a.txt", "a/z", "a0", "ab"]
    flat = list(storage.iter_entries(str(root), "", recursive=False))
    assert [e.prefix if isinstance(e, PrefixInfo) else e.key for e in flat] == ["a-b", "a.txt", "a/", "a0", "ab"]
    assert isinstance(flat[2], PrefixInfo) and flat[2].bucket == str(root)


def test_prefix_is_prepended_and_order_is_kept(root: Path) -> None:
    for name in ("b", "a", "c"):
        (root / name).write_text(name)
    keys = [e.key for e in LocalStorage().iter_entries(str(root), "pre/", recursive=True) if isinstance(e, ObjectInfo)]
    assert keys == ["pre/a", "pre/b", "pre/c"]


def test_object_info_carries_size_and_utc_mtime(root: Path) -> None:
    path = root / "f.bin"
    path.write_bytes(b"x" * 1234)
    os.utime(path, (1_700_000_000, 1_700_000_000))
    (entry,) = LocalStorage().iter_entries(str(root), "", recursive=True)
    assert isinstance(entry, ObjectInfo)
    assert entry.size == 1234
    assert entry.last_modified is not None
    assert entry.last_modified.tzinfo is not None and entry.last_modified.utcoffset() == UTC.utcoffset(None)
    assert entry.last_modified.timestamp() == 1_700_000_000


def test_empty_folders_yield_nothing_recursively(root: Path) -> None:
    (root / "empty" / "deeper").mkdir(parents=True)
    assert list(LocalStorage().iter_entries(str(root), "", recursive=True)) == []


@pytest.fixture
def tree_with_links(tmp_path: Path) -> Path:
    root = tmp_path / "root"
    outside = tmp_path / "outside"
    root.mkdir()
    outside.mkdir()
    (outside / "secret.txt").write_text("outside the tree")
    (root / "real.txt").write_text("real")
    (root / "file-link").symlink_to(outside / "secret.txt")
    (root / "dir-link").symlink_to(outside, target_is_directory=True)
    (root / "dangling").symlink_to(tmp_path / "does-not-exist")
    return root


@pytest.mark.parametrize("recursive", [True, False])
def test_symlinks_are_not_followed_by_default(tree_with_links: Path, recursive: bool) -> None:
    entries = list(LocalStorage().iter_entries(str(tree_with_links), "", recursive=recursive))
    assert [e.key for e in entries if isinstance(e, ObjectInfo)] == ["real.txt"]
    assert not any(isinstance(e, PrefixInfo) for e in entries)


def test_symlinks_are_followed_when_asked(tree_with_links: Path) -> None:
    entries = list(LocalStorage(follow_symlinks=True).iter_entries(str(tree_with_links), "", recursive=True))
    keys = [key_of(e) for e in entries]
    assert keys == sorted(["real.txt", "file-link", "dir-link/secret.txt"], key=utf8)


def test_missing_container_lists_nothing(tmp_path: Path) -> None:
    assert list(LocalStorage().iter_entries(str(tmp_path / "missing"), "", recursive=True)) == []
