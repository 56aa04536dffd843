"""The local filesystem seen as a store: relative POSIX keys, streamed in S3 key order."""

from __future__ import annotations

import errno
import os
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

from s3safe.core.models import ObjectInfo, PrefixInfo
from s3safe.storage.base import Entry, Features

Kind = str | OSError  # "dir", "file", "other", or why a followed link cannot be resolved


def _kind(entry: os.DirEntry[str], *, follow_symlinks: bool) -> Kind:
    """What the walk sees at this entry; a link that loops or leads nowhere is an error of its own,
    so it fails alone instead of taking its folder (and everything beside it) with it."""
    try:
        if entry.is_dir(follow_symlinks=follow_symlinks):
            return "dir"
        if entry.is_file(follow_symlinks=follow_symlinks):
            return "file"
        if follow_symlinks and entry.is_symlink() and not os.path.exists(entry.path):
            return FileNotFoundError(errno.ENOENT, "symbolic link points to nothing that exists", entry.path)
    except OSError as exc:
        return exc
    return "other"


def _sort_key(entry: os.DirEntry[str], kind: Kind) -> bytes:
    # S3 orders keys by UTF-8 bytes; a directory "a" holds keys "a/…", so it sorts as "a/". A link to a
    # directory is one exactly when the walk follows it: sorted any other way, "a/x" would come before "a-b".
    suffix = "/" if kind == "dir" else ""
    return (entry.name + suffix).encode("utf-8", "surrogateescape")


# told about a folder or file the walk could not read (key, error); without one, the error is raised
OnError = Callable[[str, OSError], None]
Node = tuple[int, int]  # (st_dev, st_ino): a folder's identity, whatever path (or link) reaches it


def _identity(path: Path) -> frozenset[Node]:
    try:
        st = path.stat()
    except OSError:
        return frozenset()
    return frozenset({(st.st_dev, st.st_ino)})


class LocalStorage:
    features = Features(server_side_copy=False, acls=False, versions=False, server_side_encryption=False)

    def __init__(self, *, follow_symlinks: bool = False, on_error: OnError | None = None) -> None:
        self.follow_symlinks = follow_symlinks
        self.on_error = on_error

    def iter_entries(self, container: str, prefix: str, *, recursive: bool) -> Iterator[Entry]:
        root = Path(container)
        yield from self._walk(root, prefix, recursive=recursive, container=container, above=_identity(root))

    def _walk(self, directory: Path, prefix: str, *, recursive: bool, container: str, above: frozenset[Node]) -> Iterator[Entry]:
        """`above`: the folders (device, inode) this one is inside, where following links could loop back."""
        try:
            with os.scandir(directory) as scan:
                kinds = [(e, _kind(e, follow_symlinks=self.follow_symlinks)) for e in scan]
            entries = sorted(kinds, key=lambda pair: _sort_key(*pair))
        except (FileNotFoundError, NotADirectoryError) as exc:
            if self.on_error is not None and prefix:
                self.on_error(prefix, exc)  # a folder that vanished mid-run: its files are unknown, not gone
            return
        except OSError as exc:
            if self.on_error is None:
                raise
            self.on_error(prefix, exc)
            return
        for entry, kind in entries:
            key = prefix + entry.name
            if isinstance(kind, OSError):
                if self.on_error is None:
                    if isinstance(kind, FileNotFoundError):
                        continue  # nobody to tell: a link to nothing holds nothing to list
                    raise kind
                if isinstance(kind, FileNotFoundError) and not entry.is_symlink() and not directory.exists():
                    self.on_error(prefix, kind)  # the whole folder went away: one report, not one per entry
                    return
                self.on_error(key, kind)
                continue
            if kind == "dir":
                if entry.is_symlink() and not self.follow_symlinks:
                    continue
                if recursive:
                    inside = self._enter(entry, key, above) if self.follow_symlinks else above
                    if inside is not None:
                        yield from self._walk(Path(entry.path), key + "/", recursive=True, container=container, above=inside)
                else:
                    yield PrefixInfo(container, key + "/")
            elif kind == "file":
                if entry.is_symlink() and not self.follow_symlinks:
                    continue
                try:
                    stat = entry.stat(follow_symlinks=self.follow_symlinks)
                except OSError as exc:
                    if self.on_error is None:
                        raise
                    if isinstance(exc, FileNotFoundError) and not directory.exists():
                        self.on_error(prefix, exc)  # the whole folder went away: one report, not one per file
                        return
                    self.on_error(key, exc)
                    continue
                yield ObjectInfo(
                    bucket=container,
                    key=key,
                    size=stat.st_size,
                    last_modified=datetime.fromtimestamp(stat.st_mtime, tz=UTC),
                )

    def _enter(self, entry: os.DirEntry[str], key: str, above: frozenset[Node]) -> frozenset[Node] | None:
        """The folders above the next level, or None when following this entry would loop (reported)."""
        try:
            st = entry.stat()  # follows the link: the folder it leads to
        except OSError as exc:
            if self.on_error is None:
                raise
            self.on_error(key + "/", exc)
            return None
        node = (st.st_dev, st.st_ino)
        if node in above:
            loop = OSError(errno.ELOOP, "loops back to a folder that contains it (through a symbolic link)", entry.path)
            if self.on_error is None:
                raise loop
            self.on_error(key + "/", loop)
            return None
        return above | {node}
