"""The local filesystem seen as a store: relative POSIX keys, streamed in S3 key order.

The container is a folder; a key is a path below it (keys that would climb out are refused). Writes are atomic
(a temporary file renamed into place); a multipart upload keeps its parts in a hidden folder of the container
until it is completed or aborted. Metadata, ACLs and encryption have no place here and are not kept.
"""

from __future__ import annotations

import base64
import errno
import hashlib
import os
import shutil
import stat
import tempfile
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from s3safe.core.errors import ConditionFailed, IntegrityError, NotFoundError, UsageError
from s3safe.core.locations import unsafe_key_reason
from s3safe.core.models import ActionResult, ObjectDetails, ObjectInfo, PrefixInfo
from s3safe.storage.base import CRC64NVME, SHA256, Body, Entry, Features, Part, PutRequest, WriteCondition, Written, part_checksum
from s3safe.storage.conditional_delete import conflict_error

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
# told about an entry the walk passes over because it is not a regular file or folder (key, what it is)
OnSkip = Callable[[str, str], None]


def _what_else(entry: os.DirEntry[str], *, follow_symlinks: bool) -> str:
    """What an entry that is neither a file nor a folder is: symbolic link, FIFO, socket or device."""
    if entry.is_symlink() and not follow_symlinks:
        return "symbolic link"
    try:
        mode = entry.stat(follow_symlinks=follow_symlinks).st_mode
    except OSError:
        return "symbolic link" if entry.is_symlink() else "special file"
    if stat.S_ISFIFO(mode):
        return "FIFO"
    if stat.S_ISSOCK(mode):
        return "socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "device"
    return "special file"
Node = tuple[int, int]  # (st_dev, st_ino): a folder's identity, whatever path (or link) reaches it


def _identity(path: Path) -> frozenset[Node]:
    try:
        st = path.stat()
    except OSError:
        return frozenset()
    return frozenset({(st.st_dev, st.st_ino)})


UPLOADS = ".s3safe-uploads"  # a container's open multipart uploads, one folder each


def _md5(data: bytes) -> str:
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def _write_atomically(target: Path, chunks: Iterator[bytes]) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".s3safe-", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as handle:
            for chunk in chunks:
                handle.write(chunk)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class LocalGet:
    """A read of a local file, shaped like obstore's GetResult."""

    def __init__(self, path: Path, *, start: int, end: int, size: int) -> None:
        self._path = path
        self.attributes: dict[str, Any] = {}
        self.meta: dict[str, Any] = {"size": size, "e_tag": None, "version": None}
        self.range = (start, end)

    def stream(self, *, min_chunk_size: int) -> Iterator[bytes]:
        start, end = self.range
        with self._path.open("rb") as handle:
            handle.seek(start)
            while start < end and (block := handle.read(min(max(min_chunk_size, 1), end - start))):
                start += len(block)
                yield block


class LocalStorage:
    features = Features(server_side_copy=True, acls=False, versions=False, server_side_encryption=False,
                        supports_range=True, md5_etag=True, checksums=True, multipart=True, conditional_writes=True)  # fmt: skip

    def __init__(self, *, follow_symlinks: bool = False, on_error: OnError | None = None, on_skip: OnSkip | None = None) -> None:
        self.follow_symlinks = follow_symlinks
        self.on_error = on_error
        self.on_skip = on_skip

    def iter_entries(self, container: str, prefix: str, *, recursive: bool) -> Iterator[Entry]:
        """The files below the folder `container`, in UTF-8 key order; `prefix` is put before each key (the
        container is the folder a tree run names, so every key in it belongs to that prefix)."""
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
                    info = entry.stat(follow_symlinks=self.follow_symlinks)
                except OSError as exc:
                    if self.on_error is None:
                        raise
                    if isinstance(exc, FileNotFoundError) and not directory.exists():
                        self.on_error(prefix, exc)  # the whole folder went away: one report, not one per file
                        return
                    self.on_error(key, exc)
                    continue
                yield ObjectInfo(bucket=container, key=key, size=info.st_size,
                                 last_modified=datetime.fromtimestamp(info.st_mtime, tz=UTC), stat=info)  # fmt: skip
            elif self.on_skip is not None:
                self.on_skip(key, _what_else(entry, follow_symlinks=self.follow_symlinks))

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

    # --- object I/O (the ObjectStore interface) ---------------------------------------------------------
    @staticmethod
    def path_of(container: str, key: str) -> Path:
        if (reason := unsafe_key_reason(key)) is not None:
            raise UsageError(f"{key!r} cannot name a file below {container}: it {reason}")
        return Path(container).joinpath(*key.split("/"))

    def iter_objects_fast(self, bucket: str, prefix: str) -> Iterator[ObjectInfo]:
        for entry in self.iter_entries(bucket, prefix, recursive=True):
            if isinstance(entry, ObjectInfo):
                yield entry

    def head(self, bucket: str, key: str, *, version_id: str | None = None, if_match: str | None = None) -> ObjectDetails:
        path = self.path_of(bucket, key)
        try:
            st = path.stat()
        except FileNotFoundError:
            raise NotFoundError(f"{path} does not exist") from None
        return ObjectDetails(bucket=bucket, key=key, size=st.st_size, last_modified=datetime.fromtimestamp(st.st_mtime, tz=UTC),
                             etag=None, content_type=None, cache_control=None, storage_class="STANDARD", sse_algorithm=None,
                             sse_kms_key_id=None, metadata={})  # fmt: skip

    def part_sizes(self, bucket: str, key: str, *, size: int, count: int, etag: str,
                   version_id: str | None = None) -> tuple[int, ...] | None:  # fmt: skip
        return None  # a file keeps no part layout

    def get(self, bucket: str, key: str, *, start: int | None = None, end: int | None = None, version_id: str | None = None,
            if_match: str | None = None) -> LocalGet:  # fmt: skip
        if version_id not in (None, "null"):
            raise NotFoundError(f"{self.path_of(bucket, key)}: a folder keeps no versions (asked for {version_id})")
        size = self.head(bucket, key).size
        if if_match and _md5(self.path_of(bucket, key).read_bytes()) != if_match.strip('"'):  # its ETag, as put answers it
            raise ConditionFailed(f"cannot read {key} below {bucket}: the file is no longer as the request's condition required")
        return LocalGet(self.path_of(bucket, key), start=start or 0, end=size if end is None else min(end, size), size=size)

    def read_chunks(self, bucket: str, key: str, *, if_match: str | None = None, chunk: int = 1024 * 1024) -> Iterator[bytes]:
        yield from self.get(bucket, key).stream(min_chunk_size=chunk)

    def put(self, request: PutRequest, body: Body, *, sha256_b64: str) -> Written:
        data = body.read_bytes() if isinstance(body, Path) else bytes(body)
        if base64.b64encode(hashlib.sha256(data).digest()).decode() != sha256_b64:
            raise IntegrityError(f"write of {request.key} below {request.bucket}: the bytes do not match their SHA-256")
        self.check_condition(request.bucket, request.key, request.condition)
        _write_atomically(self.path_of(request.bucket, request.key), iter((data,)))
        return Written(_md5(data), checksum_checked=True)  # checked above

    def check_condition(self, bucket: str, key: str, condition: WriteCondition | None) -> None:
        """A condition checked just before the write (a folder has no atomic compare-and-swap)."""
        if not condition:
            return
        path = self.path_of(bucket, key)
        etag: str | None = None
        if path.exists():  # a file's ETag here is the MD5 of its bytes, as put answers it
            etag = _md5(path.read_bytes()) if condition.if_match is not None else "exists"
        if not condition.holds(etag):
            raise ConditionFailed(f"cannot write {key} below {bucket}: the file is no longer as the write's condition required")

    def chunk_writer(self, bucket: str, key: str) -> LocalChunkWriter:
        return LocalChunkWriter(self, bucket, key)

    def copy(self, src_bucket: str, src_key: str, dst_bucket: str, dst_key: str, *, size: int, extra: dict[str, Any],
             threads: int) -> None:  # fmt: skip
        _write_atomically(self.path_of(dst_bucket, dst_key), self.read_chunks(src_bucket, src_key))

    def delete_batch(
        self, bucket: str, items: Sequence[tuple[str, str | None]], *, etags: Mapping[str, str] | None = None
    ) -> list[ActionResult]:
        results = []
        for key, _version in items:
            path = self.path_of(bucket, key)
            listed = (etags or {}).get(key)
            try:
                if listed is not None and path.is_file() and _md5(path.read_bytes()) != listed.strip('"'):
                    results.append(ActionResult("delete", str(path), ok=False, error=conflict_error(bucket, key, listed)))
                    continue
                path.unlink(missing_ok=True)
            except OSError as exc:
                results.append(ActionResult("delete", str(path), ok=False, error=exc.strerror or str(exc)))
                continue
            results.append(ActionResult("delete", str(path)))
        return results


class LocalChunkWriter:
    """Parts kept as files in <container>/.s3safe-uploads/<upload id>/, joined into the target on completion."""

    def __init__(self, storage: LocalStorage, bucket: str, key: str) -> None:
        self.storage = storage
        self.bucket = bucket
        self.key = key
        self.target = storage.path_of(bucket, key)
        self.root = Path(bucket) / UPLOADS

    def _folder(self, upload_id: str) -> Path:
        folder = self.root / upload_id
        if not (folder / "key").is_file() or (folder / "key").read_text("utf-8", "surrogateescape") != self.key:
            raise NotFoundError(f"the multipart upload {upload_id} of {self.target} does not exist (NoSuchUpload)")
        return folder

    def create(self, request: PutRequest, *, checksum: str = SHA256) -> str:
        upload_id = uuid.uuid4().hex
        folder = self.root / upload_id
        folder.mkdir(parents=True, mode=0o700)
        (folder / "key").write_text(self.key, "utf-8", "surrogateescape")
        return upload_id

    def write_part(self, upload_id: str, number: int, data: bytes, *, sha256_b64: str | None = None,
                   crc64nvme_b64: str | None = None) -> Part:  # fmt: skip
        algorithm, sent = (CRC64NVME, crc64nvme_b64) if crc64nvme_b64 else (SHA256, sha256_b64)
        if part_checksum(algorithm, data) != sent:
            raise IntegrityError(f"part {number} of {self.target}: the bytes do not match their {algorithm.upper()}")
        _write_atomically(self._folder(upload_id) / f"{number:05d}", iter((data,)))
        return Part(number, f'"{_md5(data)}"', sha256_b64, len(data), crc64nvme_b64=crc64nvme_b64, verified=True)

    def complete(self, upload_id: str, parts: Sequence[Part], *, condition: WriteCondition | None = None,
                 crc64nvme_b64: str | None = None) -> str | None:  # fmt: skip
        self.storage.check_condition(self.bucket, self.key, condition)
        folder = self._folder(upload_id)

        def chunks() -> Iterator[bytes]:
            for part in parts:
                yield (folder / f"{part.number:05d}").read_bytes()

        _write_atomically(self.target, chunks())
        shutil.rmtree(folder, ignore_errors=True)
        combined = hashlib.md5(b"".join(bytes.fromhex(p.plain_etag) for p in parts), usedforsecurity=False)
        return f"{combined.hexdigest()}-{len(parts)}"

    def abort(self, upload_id: str) -> None:
        try:
            shutil.rmtree(self._folder(upload_id))
        except NotFoundError:
            pass

    def list_parts(self, upload_id: str) -> dict[int, Part] | None:
        try:
            folder = self._folder(upload_id)
        except NotFoundError:
            return None
        parts: dict[int, Part] = {}
        for path in folder.iterdir():
            if path.name.isdigit():
                data = path.read_bytes()
                parts[int(path.name)] = Part(int(path.name), f'"{_md5(data)}"', part_checksum(SHA256, data), len(data),
                                             crc64nvme_b64=part_checksum(CRC64NVME, data))  # fmt: skip
        return parts

    def open_uploads(self, *, since: datetime | None = None) -> set[str] | None:
        if not self.root.is_dir():
            return set()
        found = set()
        for folder in self.root.iterdir():
            try:
                self._folder(folder.name)
            except NotFoundError:
                continue
            if since is None or datetime.fromtimestamp(folder.stat().st_mtime, UTC) >= since:
                found.add(folder.name)
        return found


def _conforms() -> None:  # checked by mypy: the local filesystem implements the object interface
    from s3safe.storage.base import ObjectStore

    store: ObjectStore = LocalStorage()
    del store
