"""Reading a small file the user named (config, keys, policies, scripts, CA bundles) without trusting it.

The user may name /dev/zero, a FIFO nobody writes to, or a huge file by mistake: every such read goes through
`read_small_file`, which accepts a regular file only, opens it with O_NONBLOCK (a FIFO or device cannot block
the open) and stops reading one byte past the cap, so nothing can exhaust memory or hang the command.
"""

from __future__ import annotations

import errno
import os
import stat

from s3safe.core.errors import AccessDeniedError, NotFoundError, UsageError

SMALL_FILE_LIMIT = 1024 * 1024  # keys, configs, policies and scripts are far smaller


def read_small_file(path: str | os.PathLike[str], *, what: str, limit: int = SMALL_FILE_LIMIT) -> bytes:
    """The bytes of the regular file `path` (at most `limit`); one clear error naming `what` and the path."""
    name = os.fspath(path)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(name, flags)
    except FileNotFoundError:
        raise NotFoundError(f"{what} not found: {name}") from None
    except PermissionError:
        raise AccessDeniedError(f"cannot read {what} {name}: permission denied", hint="check the file's permissions") from None
    except IsADirectoryError:
        raise UsageError(f"{what} {name} is a folder, not a file") from None
    except OSError as exc:
        raise UsageError(f"cannot read {what} {name}: {exc.strerror or exc}") from None
    try:
        return _read_regular(fd, name, what=what, limit=limit)
    finally:
        os.close(fd)


def check_small_file(path: str | os.PathLike[str], *, what: str, limit: int = SMALL_FILE_LIMIT) -> None:
    """That `path` names a non-empty regular file within `limit`, without reading it (a key read later, when it
    is needed): the errors read_small_file gives, now."""
    name = os.fspath(path)
    try:
        found = os.stat(name)
    except FileNotFoundError:
        raise NotFoundError(f"{what} not found: {name}") from None
    except OSError as exc:
        raise UsageError(f"cannot read {what} {name}: {exc.strerror or exc}") from None
    _check_regular(found.st_mode, name, what=what)
    if found.st_size > limit:
        raise UsageError(f"{what} {name} is larger than {limit:,} bytes, more than any {what} holds")
    if found.st_size == 0:
        raise UsageError(f"{what} {name} is empty")


def _check_regular(mode: int, name: str, *, what: str) -> None:
    if stat.S_ISDIR(mode):
        raise UsageError(f"{what} {name} is a folder, not a file")
    if not stat.S_ISREG(mode):
        raise UsageError(f"{what} {name} is not a regular file", hint="name a regular file")


def _read_regular(fd: int, name: str, *, what: str, limit: int) -> bytes:
    _check_regular(os.fstat(fd).st_mode, name, what=what)
    chunks: list[bytes] = []
    total = 0
    try:
        # the size is not trusted (the file may grow while read): the cap applies to what is actually read
        while chunk := os.read(fd, min(65536, limit + 1 - total)):
            chunks.append(chunk)
            total += len(chunk)
            if total > limit:
                raise UsageError(f"{what} {name} is larger than {limit:,} bytes", hint=f"a {what} is a small file")
    except OSError as exc:
        if exc.errno == errno.EISDIR:
            raise UsageError(f"{what} {name} is a folder, not a file") from None
        raise UsageError(f"cannot read {what} {name}: {exc.strerror or exc}") from None
    return b"".join(chunks)
