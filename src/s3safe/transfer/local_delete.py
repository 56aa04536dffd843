"""Deleting local files after an upload (--move) or a verified match on S3 (--local-delete).

A local file may be the only good copy, so it is deleted only:
- with evidence from the server that it holds the file's bytes: the ETag of a single PUT equal to the file's
  MD5 (SSE-S3 or none), part checksums the server checked (answered with), part ETags equal to the parts'
  MD5s, or, where ETags prove nothing (multipart seen
  later, SSE-KMS, SSE-C), a read-back of the object hashed against the file. s3safe's own metadata is a claim,
  not evidence. Without evidence the file is kept and the item fails;
- if the file is still the one that was planned: size, mtime and inode are checked again immediately before
  the unlink, and a file that changed is kept (and said so);
- through the safety gate, so --dry-run shows the deletions and --max-delete caps them.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import threading
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from s3safe.core.errors import IntegrityError, NotFoundError, S3SafeError, StoredCopyMismatch
from s3safe.core.models import ActionResult
from s3safe.core.safety import SafetyGate
from s3safe.storage.base import ObjectStore
from s3safe.transfer.compare import file_digests
from s3safe.transfer.encryption import ENCRYPTION_META
from s3safe.transfer.single import plain_etag
from s3safe.transfer.state import StateCache, Verified

KEEP = "keep"  # the action of a result that says a planned deletion did not happen, and why
CHUNK = 1024 * 1024


@dataclass(frozen=True, slots=True)
class Planned:
    """A local file to delete, as it was when the deletion was decided."""

    key: str  # relative to the local root, "/"-separated
    size: int
    mtime_ns: int
    inode: int
    proof: str = ""  # the upload's own evidence (--move); "" means it is looked for before deleting

    @staticmethod
    def of(key: str, stat: os.stat_result, *, proof: str | None = None) -> Planned:
        return Planned(key, stat.st_size, stat.st_mtime_ns, stat.st_ino, proof or "")

    def same_file(self, stat: os.stat_result) -> bool:
        return (stat.st_size, stat.st_mtime_ns, stat.st_ino) == (self.size, self.mtime_ns, self.inode)


class PlannedSpool:
    """Planned local deletions kept on disk (a run may plan millions); safe to add to from worker threads."""

    def __init__(self) -> None:
        # closed by close(), which the engine calls in a finally block
        self._file = tempfile.TemporaryFile("w+", encoding="utf-8")  # noqa: SIM115
        self._lock = threading.Lock()
        self.count = 0

    def add(self, planned: Planned) -> None:
        line = json.dumps(asdict(planned))  # ASCII: keys that are not valid UTF-8 survive as escapes
        with self._lock:
            self._file.write(line + "\n")
            self.count += 1

    def __iter__(self) -> Iterator[Planned]:
        with self._lock:  # read only once the adding is over (after the transfers)
            self._file.flush()
            self._file.seek(0)
        for line in self._file:
            yield Planned(**json.loads(line))

    def close(self) -> None:
        self._file.close()


class Evidence:
    """Establishes, for one planned deletion, that the object on S3 holds the local file's bytes."""

    def __init__(self, storage: ObjectStore, cache: StateCache, *, bucket: str, prefix: str) -> None:
        self.storage = storage
        self.cache = cache
        self.bucket = bucket
        self.prefix = prefix

    def prove(self, planned: Planned, path: Path) -> str:
        """How the server showed it holds the file's bytes; IntegrityError when it cannot, or shows otherwise."""
        try:
            return self._prove(planned, path)
        except StoredCopyMismatch as exc:
            # the server has just shown the object is not this file: a record saying it matches (the reason
            # --only-diff skipped it) is refuted, so the next --only-diff run uploads the file
            if exc.etag:
                self.cache.put(self.bucket, self.prefix + planned.key, Verified.refuting(exc.etag))
            raise

    def _prove(self, planned: Planned, path: Path) -> str:
        if planned.proof:
            return planned.proof
        key = self.prefix + planned.key
        url = f"s3://{self.bucket}/{key}"
        try:
            details = self.storage.head(self.bucket, key)
        except NotFoundError:
            raise IntegrityError(f"{url} is no longer on S3; {path} kept") from None
        etag = details.etag or ""
        cached = self.cache.get(self.bucket, key)
        recorded = (
            cached is not None and bool(cached.proof) and not cached.refuted
            and (cached.size, cached.mtime_ns, cached.etag) == (planned.size, planned.mtime_ns, etag)
        )  # fmt: skip
        if details.metadata.get(ENCRYPTION_META):
            if recorded and cached is not None:
                return f"recorded at upload: {cached.proof}"
            # the ciphertext cannot be recomputed (fresh nonce) and a recipients-only host cannot decrypt it
            raise IntegrityError(f"no evidence that {url} holds the bytes of {path} (client-encrypted, not uploaded "
                                 "from this state directory); kept", hint="use --move in the run that uploads it")  # fmt: skip
        if details.size != planned.size:
            raise StoredCopyMismatch(f"{url} holds {details.size} bytes, {path} has {planned.size}; kept", etag=etag)
        md5_etag = plain_etag(etag)
        if md5_etag is not None and details.sse_algorithm in (None, "AES256"):
            if file_digests(path)[1] != md5_etag:
                raise StoredCopyMismatch(f"the ETag (MD5) of {url} differs from {path}; kept", etag=etag)
            return "ETag = MD5 of the file"
        if recorded and cached is not None:
            return f"recorded at upload: {cached.proof}"
        return self._read_back(key, path, url=url, etag=etag)

    def _read_back(self, key: str, path: Path, *, url: str, etag: str) -> str:
        remote = hashlib.sha256()
        for block in self.storage.read_chunks(self.bucket, key, if_match=etag or None, chunk=CHUNK):
            remote.update(block)
        if remote.hexdigest() != file_digests(path)[0]:
            raise StoredCopyMismatch(f"the bytes of {url}, read back, differ from {path}; kept", etag=etag)
        return "read back and compared"


def remove_planned(
    root: Path, spool: PlannedSpool, gate: SafetyGate, *, action: str, evidence: Evidence
) -> Iterator[ActionResult]:
    """Delete the planned local files, each only with evidence and only if unchanged; through the gate."""
    if not spool.count:
        return

    def path_of(planned: Planned) -> Path:
        return root.joinpath(*planned.key.split("/"))

    def remove(batch: Sequence[Planned]) -> list[ActionResult]:
        return [_remove_one(planned, path_of(planned), action=action, evidence=evidence) for planned in batch]

    # a dry run asks the server nothing: what it lists is a candidate, deleted only with the evidence
    yield from gate.apply(action, iter(spool), remove, describe=lambda p: str(path_of(p)), batch_size=64, deletes=True,
                          planned_detail="if the server's copy proves it holds these bytes")  # fmt: skip


def _remove_one(planned: Planned, path: Path, *, action: str, evidence: Evidence) -> ActionResult:
    changed = ActionResult(KEEP, str(path), detail="changed since it was planned; not deleted")
    try:
        if not planned.same_file(path.stat()):
            return changed
        proof = evidence.prove(planned, path)
        # the evidence may have taken a while (a read-back): the file must still be the one it was about
        if not planned.same_file(path.stat()):
            return changed
        os.unlink(path)
    except FileNotFoundError:
        return ActionResult(KEEP, str(path), detail="already gone")
    except S3SafeError as exc:
        return ActionResult(action, str(path), ok=False, error=str(exc))
    except OSError as exc:
        return ActionResult(action, str(path), ok=False, error=exc.strerror or str(exc))
    return ActionResult(action, str(path), detail=f"evidence: {proof}")
