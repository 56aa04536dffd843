"""Where an interrupted object scan left off, so `audit --objects --resume` goes on instead of starting again.

One JSON file per endpoint and bucket under ``$S3SAFE_STATE_DIR/audit/`` (the state directory uploads use):
the last key checked (listings are in key order and results are taken in that order, so every key up to it
was checked), which checks were applied to those keys, the counters and the object findings so far. It is written every few hundred objects and when
the scan stops on an error or Ctrl-C, and deleted when the scan completes.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from s3safe.transfer.state import state_dir

VERSION = 2  # 2: records the scope (which object checks ran); a version-1 file is not resumed


@dataclass
class ScanState:
    last_key: str | None = None
    counts: dict[str, int] = field(default_factory=dict)
    findings: list[dict[str, Any]] = field(default_factory=list)  # check, key, severity, found, fix
    scope: dict[str, bool] = field(default_factory=dict)  # which object checks the keys up to last_key got


class Checkpoint:
    def __init__(self, endpoint: str | None, bucket: str, *, directory: Path | None = None) -> None:
        self.endpoint = endpoint or "aws"
        self.bucket = bucket
        digest = hashlib.sha256(f"{self.endpoint}\0{bucket}".encode()).hexdigest()[:16]
        self.path = (directory or state_dir() / "audit") / f"{bucket}-{digest}.json"
        # why the checkpoint cannot be written (read-only HOME, DynamicUser): the scan goes on without it
        self.unavailable: str | None = None

    def load(self) -> ScanState | None:
        """The saved state, or None when there is none (or it is unreadable or for another scan)."""
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if not isinstance(data, dict) or data.get("version") != VERSION or data.get("bucket") != self.bucket:
            return None
        if data.get("endpoint") != self.endpoint:
            return None
        scope = data.get("scope")
        if not isinstance(scope, dict):
            return None
        return ScanState(data.get("last_key"), dict(data.get("counts", {})), list(data.get("findings", [])), dict(scope))

    def save(self, state: ScanState) -> None:
        """Write the state; a folder that cannot be written turns checkpoints off for this scan (see `unavailable`)."""
        if self.unavailable is not None:
            return
        try:
            self._write(state)
        except OSError as exc:
            self.unavailable = (f"the object scan cannot save checkpoints in {self.path.parent} ({exc.strerror or exc}): "
                                "an interrupted scan cannot be continued with --resume; set S3SAFE_STATE_DIR to a writable folder")  # fmt: skip

    def _write(self, state: ScanState) -> None:
        data = {"version": VERSION, "endpoint": self.endpoint, "bucket": self.bucket, "last_key": state.last_key,
                "counts": state.counts, "findings": state.findings, "scope": state.scope}  # fmt: skip
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, tmp = tempfile.mkstemp(dir=self.path.parent, prefix=".audit-", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(data, handle, ensure_ascii=False)
            os.replace(tmp, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise

    def clear(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()
