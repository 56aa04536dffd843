"""Local write failures say what is wrong with the destination (transfer/localdest.local_error)."""

from __future__ import annotations

import errno
import os
from pathlib import Path

from s3safe.core.errors import NotFoundError, S3SafeError
from s3safe.transfer.localdest import local_error


def _enoent(path: Path) -> FileNotFoundError:
    return FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT), str(path))


def test_a_file_that_exists_in_a_folder_that_takes_no_new_file_is_not_called_missing() -> None:
    # /proc/version exists, and /proc refuses the temp file beside it with ENOENT
    said = local_error(_enoent(Path("/proc/version")), Path("/proc/version"), doing="write")
    assert "does not exist" not in str(said)
    assert said.message == "cannot write /proc/version: no file can be created in /proc"
    assert type(said) is S3SafeError and said.hint == "choose a destination on an ordinary filesystem"


def test_a_missing_folder_is_still_called_missing(tmp_path: Path) -> None:
    target = tmp_path / "gone" / "file.txt"
    said = local_error(_enoent(target), target, doing="write")
    assert isinstance(said, NotFoundError) and said.message == f"cannot write {target}: it does not exist"
