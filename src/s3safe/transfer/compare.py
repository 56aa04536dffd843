"""`--only-diff`: content comparison that stays cheap on the common (unchanged) path.

Order of evidence: size; the verified-state cache (size + mtime + ETag unchanged since a verified
match); the MD5 of a plain ETag; the whole-file SHA-256 s3safe stores in metadata (one HEAD).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from s3safe.core.errors import S3SafeError
from s3safe.core.models import ObjectInfo
from s3safe.storage.s3 import S3Storage
from s3safe.transfer.options import SHA256_META
from s3safe.transfer.state import StateCache, Verified

CHUNK = 1024 * 1024


def file_digests(path: Path) -> tuple[str, str]:
    """(hex SHA-256, hex MD5) in one read."""
    sha256, md5 = hashlib.sha256(), hashlib.md5(usedforsecurity=False)
    with path.open("rb") as handle:
        while block := handle.read(CHUNK):
            sha256.update(block)
            md5.update(block)
    return sha256.hexdigest(), md5.hexdigest()


def _plain_etag(etag: str | None) -> str | None:
    value = (etag or "").strip('"').lower()
    return value if len(value) == 32 and "-" not in value else None


class ContentComparator:
    """Compares a local file and an object; records every verified match in the cache."""

    def __init__(self, storage: S3Storage, cache: StateCache, *, local_root: Path, upload: bool) -> None:
        self.storage = storage
        self.cache = cache
        self.root = local_root
        self.upload = upload
        self.hashed = 0
        self.heads = 0

    def __call__(self, source: ObjectInfo, target: ObjectInfo) -> str | None:
        local, remote = (source, target) if self.upload else (target, source)
        if local.size != remote.size:
            return "size differs"
        path = self._path(local)
        try:
            mtime_ns = path.stat().st_mtime_ns
        except OSError:
            return "local file changed during the run"
        etag = (remote.etag or "").strip('"')
        cached = self.cache.get(remote.bucket, remote.key)
        if cached and (cached.size, cached.mtime_ns, cached.etag) == (local.size, mtime_ns, etag):
            return None
        self.hashed += 1
        sha256, md5 = file_digests(path)
        plain = _plain_etag(etag)
        if plain is not None and plain == md5:
            self.cache.put(remote.bucket, remote.key, Verified(local.size, mtime_ns, etag, sha256))
            return None
        try:
            self.heads += 1
            stored = self.storage.head(remote.bucket, remote.key).metadata.get(SHA256_META)
        except S3SafeError:
            return "content unknown"
        if stored and stored.lower() == sha256:
            self.cache.put(remote.bucket, remote.key, Verified(local.size, mtime_ns, etag, sha256))
            return None
        return "content differs"

    def _path(self, local: ObjectInfo) -> Path:
        # local entries carry the key relative to the local root
        return self.root.joinpath(*local.key.split("/"))
