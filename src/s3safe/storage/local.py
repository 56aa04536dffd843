"""The local filesystem seen as a store: relative POSIX keys, streamed in S3 key order."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from s3safe.core.models import ObjectInfo, PrefixInfo
from s3safe.storage.base import Entry, Features


def _sort_key(entry: os.DirEntry[str]) -> bytes:
    # S3 orders keys by UTF-8 bytes; a directory "a" holds keys "a/…", so it sorts as "a/".
    suffix = "/" if entry.is_dir(follow_symlinks=False) else ""
    return (entry.name + suffix).encode("utf-8", "surrogateescape")


class LocalStorage:
    features = Features(server_side_copy=False, acls=False, versions=False, server_side_encryption=False)

    def __init__(self, *, follow_symlinks: bool = False) -> None:
        self.follow_symlinks = follow_symlinks

    def iter_entries(self, container: str, prefix: str, *, recursive: bool) -> Iterator[Entry]:
        root = Path(container)
        yield from self._walk(root, prefix, recursive=recursive, container=container)

    def _walk(self, directory: Path, prefix: str, *, recursive: bool, container: str) -> Iterator[Entry]:
        try:
            with os.scandir(directory) as scan:
                entries = sorted(scan, key=_sort_key)
        except (FileNotFoundError, NotADirectoryError):
            return
        for entry in entries:
            key = prefix + entry.name
            if entry.is_dir(follow_symlinks=self.follow_symlinks):
                if entry.is_symlink() and not self.follow_symlinks:
                    continue
                if recursive:
                    yield from self._walk(Path(entry.path), key + "/", recursive=True, container=container)
                else:
                    yield PrefixInfo(container, key + "/")
            elif entry.is_file(follow_symlinks=self.follow_symlinks):
                if entry.is_symlink() and not self.follow_symlinks:
                    continue
                stat = entry.stat(follow_symlinks=self.follow_symlinks)
                yield ObjectInfo(
                    bucket=container,
                    key=key,
                    size=stat.st_size,
                    last_modified=datetime.fromtimestamp(stat.st_mtime, tz=UTC),
                )
