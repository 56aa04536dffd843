"""Where downloads land: folders and files created relative to open directory descriptors.

Every folder below the destination is opened with O_NOFOLLOW from its already-open parent, and every file
is created, renamed and stamped relative to its open folder, so no path is resolved again after it was
checked: a symbolic link swapped in during the run cannot redirect a write outside the destination (the
tar/rsync symlink race). A character device or FIFO at the target is written into, never replaced; a
socket, block device or folder there is refused.
"""

from __future__ import annotations

import errno
import hmac
import itertools
import logging
import os
import re
import stat
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path

from s3safe.core.errors import AccessDeniedError, NotFoundError, S3SafeError, UsageError
from s3safe.transfer.options import MODE_META, MTIME_META

log = logging.getLogger("s3safe.transfer")

# open directory descriptors kept per run; more are open only while downloads are still writing into them
MAX_OPEN_FOLDERS = 64
_AT = os.open in os.supports_dir_fd and os.mkdir in os.supports_dir_fd and os.rename in os.supports_dir_fd
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
MTIME_LIMIT = 253_402_300_799  # 9999-12-31T23:59:59Z, in seconds either side of 1970
_DIR_FLAGS = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | _NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
_CREATE_FLAGS = os.O_RDWR | os.O_CREAT | os.O_EXCL | _NOFOLLOW | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)
TEMP_SUFFIX = ".s3safe-tmp"  # downloads are written to .NAME.PID-N-MARK.s3safe-tmp beside NAME, then renamed
PERMISSION_BITS = 0o777

try:
    import fcntl
except ImportError:  # Windows: an open file cannot be deleted there anyway
    fcntl = None  # type: ignore[assignment]


def _lock_temp(fd: int) -> bool:
    """Take the advisory lock a run holds on its temp file for as long as it writes it: another run's sweep
    tests it and leaves a locked temp alone. A lock, not the PID in the name: it dies with the process
    (kill -9, power loss) and a reused PID cannot fake it. True when taken (or there are no locks here)."""
    if fcntl is None:
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    except OSError as exc:  # a filesystem without locks: the sweep falls back to the file's age alone
        log.debug("no advisory lock on a temp file: %s", exc)
    return True


def local_error(exc: OSError, path: Path | str, *, doing: str) -> S3SafeError:
    """An OS error on a local path as one actionable line with the documented exit code."""
    if isinstance(exc, PermissionError):
        return AccessDeniedError(f"cannot {doing} {path}: permission denied",
                                 hint="choose a folder you can write to, or fix its permissions")  # fmt: skip
    if isinstance(exc, FileNotFoundError):
        folder = Path(path).parent
        if doing == "write" and folder.is_dir():
            # the folder is there and still no file may be made in it: a kernel filesystem (/proc, /sys)
            return S3SafeError(f"cannot write {path}: no file can be created in {folder}",
                               hint="choose a destination on an ordinary filesystem")  # fmt: skip
        return NotFoundError(f"cannot {doing} {path}: it does not exist")
    if exc.errno == errno.ENOSPC:
        return S3SafeError(f"cannot {doing} {path}: no space left on the device", hint="free space and run again")
    if exc.errno == errno.EROFS:
        return S3SafeError(f"cannot {doing} {path}: the filesystem is read-only")
    return S3SafeError(f"cannot {doing} {path}: {exc.strerror or exc}")


_TEMP_COUNTER = itertools.count()
_TEMP_RE = re.compile(r"\.(?P<name>.+)\.(?P<unique>[0-9]+-[0-9]+)-(?P<tag>[0-9a-f]{16})" + re.escape(TEMP_SUFFIX), re.DOTALL)
_TEMP_KEYS: dict[Path, bytes] = {}  # by state folder, read from the environment at each use
# the variables state_dir() reads -> that folder's key: the folder (Path.home(), pathlib joins) costs ~25 µs
# to work out, paid once per downloaded file before (a third of get -r's CPU for 4 KiB objects)
_STATE_VARIABLES = ("S3SAFE_STATE_DIR", "LOCALAPPDATA", "XDG_STATE_HOME", "HOME")
_TEMP_KEYS_BY_ENV: dict[tuple[str | None, ...], bytes] = {}
_TEMP_KEY_LOCK = threading.Lock()


def _temp_key() -> bytes:
    """This user's secret for marking temp names, kept in the state folder: a temp file left by a killed
    run is recognised as s3safe's by its mark, so a user's file that merely ends in .s3safe-tmp (or an
    object named like one) is never swept. Kept per folder, not per process: two operations in one process
    with different state folders each mark with their own folder's key."""
    from s3safe.transfer.state import state_dir

    environ = os.environ
    settings = tuple(environ.get(name) for name in _STATE_VARIABLES)
    key = _TEMP_KEYS_BY_ENV.get(settings)
    if key is not None:
        return key
    folder = state_dir()
    with _TEMP_KEY_LOCK:
        key = _TEMP_KEYS.get(folder)
        if key is None:
            key = _TEMP_KEYS[folder] = _load_temp_key(folder)
        _TEMP_KEYS_BY_ENV[settings] = key
        return key


def _load_temp_key(folder: Path) -> bytes:
    path = folder / "temp-mark.key"
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o600)
        except FileExistsError:
            key = path.read_bytes()
            if len(key) == 32:
                return key
            raise OSError(f"unusable temp mark key {path}") from None
        key = os.urandom(32)
        with os.fdopen(fd, "wb") as handle:
            handle.write(key)
        return key
    except OSError as exc:  # no state folder: this run's temps cannot be recognised by a later run
        log.debug("temp files of this run will not be swept by later runs: %s", exc)
        return os.urandom(32)


def _temp_tag(name: str, unique: str) -> str:
    message = f"{name}\0{unique}".encode("utf-8", "surrogateescape")
    return hmac.new(_temp_key(), message, "sha256").hexdigest()[:16]


def temp_name(name: str) -> str:
    """`.NAME.PID-N-MARK.s3safe-tmp`: unique within the machine, marked as made by s3safe for this user."""
    unique = f"{os.getpid()}-{next(_TEMP_COUNTER)}"
    return f".{name}.{unique}-{_temp_tag(name, unique)}{TEMP_SUFFIX}"


def is_own_temp(filename: str) -> bool:
    """Whether a file name is one of s3safe's temp names (for this user), not merely one ending the same."""
    found = _TEMP_RE.fullmatch(filename) if filename.endswith(TEMP_SUFFIX) else None
    return found is not None and hmac.compare_digest(found["tag"], _temp_tag(found["name"], found["unique"]))


class _Folder:
    """One open folder; `leases` counts the downloads writing into it (it is closed only at zero)."""

    __slots__ = ("fd", "leases", "path")

    def __init__(self, fd: int | None, path: Path) -> None:
        self.fd = fd  # None where the platform has no *at() calls (Windows): paths are used instead
        self.path = path
        self.leases = 0

    def at(self, name: str) -> str:
        """The name to hand to an os call together with dir_fd=self.fd."""
        return name if self.fd is not None else str(self.path / name)


@dataclass(slots=True)
class Written:
    """A file being written: a private temp beside the target, or (a device, a FIFO) the target itself."""

    fd: int
    temp: str | None  # None: written in place


class Target:
    """One file to write below the destination: its open parent folder and its name."""

    def __init__(self, dest: Destination, folder: _Folder, name: str, *, in_place: bool) -> None:
        self._dest = dest
        self._folder = folder
        self.name = name
        self.path = folder.path / name
        self.in_place = in_place  # a character device or FIFO: the bytes go out before they are verified

    def create(self, temp_name: str) -> Written:
        """Open what the bytes go to: a new private temp file beside the target (or the device itself)."""
        folder = self._folder
        try:
            if self.in_place:
                return Written(self._open_in_place(), None)
            fd = os.open(folder.at(temp_name), _CREATE_FLAGS, 0o600, dir_fd=folder.fd)
            _lock_temp(fd)
            return Written(fd, temp_name)
        except OSError as exc:
            raise local_error(exc, self.path, doing="write") from None

    def _open_in_place(self) -> int:
        """Open the device or FIFO without waiting: a FIFO nobody reads would block the open forever (and
        no Ctrl-C reaches a thread stuck there). ENXIO says so at once; the writes then block as usual."""
        folder = self._folder
        flags = os.O_WRONLY | _NOFOLLOW | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
        try:
            fd = os.open(folder.at(self.name), flags, dir_fd=folder.fd)
        except OSError as exc:
            if exc.errno == errno.ENXIO:
                raise S3SafeError(f"cannot write {self.path}: it is a FIFO with no reader",
                                  hint="start the program that reads it first, or remove the FIFO") from None  # fmt: skip
            raise
        os.set_blocking(fd, True)
        return fd

    def commit(self, written: Written, *, mtime: int | None, mode: int | None) -> None:
        """Stamp the temp file by its descriptor and rename it over the target; closes `written`."""
        folder = self._folder
        try:
            if written.temp is None:
                return
            if mode is not None and hasattr(os, "fchmod"):
                os.fchmod(written.fd, mode)
            if mtime is not None:
                os.utime(written.fd if os.utime in os.supports_fd else folder.at(written.temp), ns=(mtime, mtime))
            if os.name == "nt":  # Windows renames no open file
                os.close(written.fd)
                written.fd = -1
            # renamed while still open (and locked): no other run's sweep can take the temp in between
            os.rename(folder.at(written.temp), folder.at(self.name), src_dir_fd=folder.fd, dst_dir_fd=folder.fd)
            written.temp = None
        except OSError as exc:
            raise local_error(exc, self.path, doing="write") from None
        finally:
            self.discard(written)

    def discard(self, written: Written) -> None:
        """Close and remove what was written, if it is still there (never the device written in place)."""
        if written.fd >= 0:
            os.close(written.fd)
            written.fd = -1
        if written.temp is not None:
            try:
                os.unlink(self._folder.at(written.temp), dir_fd=self._folder.fd)
            except FileNotFoundError:
                pass
            written.temp = None

    def mode_for(self, stored: str | None, url: str) -> int | None:
        return None if self.in_place else self._dest.mode_for(stored, url)

    def stat(self) -> os.stat_result:
        return os.stat(self._folder.at(self.name), dir_fd=self._folder.fd, follow_symlinks=False)

    def release(self) -> None:
        self._dest.release(self._folder)


class NameClaims:
    """Keys that name one local file (`a/b`, `a//b` and `a/./b`; on Windows `a\\b` too): the first in listing
    order is written and the others are reported, instead of one silently replacing the other. Claimed by the
    one thread that plans, in listing order, so which key wins does not depend on thread timing.

    Memory: every key is looked up, but a key is remembered only when a later one in listing order can name the
    same file: a folded key (empty or "." segments), a key with a segment starting below "0" in byte order
    (`a/-b` lists before `a/./-b`; `a/b` lists after `a//b` and `a/./b`), and on Windows every key (`a/b`
    lists before `a\\b`). A tree of ordinary names keeps nothing."""

    def __init__(self, *, every_key: bool = os.name == "nt") -> None:
        self._owners: dict[str, str] = {}
        self._every_key = every_key

    def claim(self, key: str, parts: Sequence[str]) -> str | None:
        """None when `key` may write the file `parts` names; else the key, earlier in the listing, that did."""
        name = "/".join(parts)
        owner = self._owners.get(name)
        if owner is not None:
            return None if owner == key else owner
        if self._every_key or name != key or any(p[0] < "0" for p in parts):
            self._owners[name] = key
        return None


class Destination:
    """The destination folder of one run, opened once (the path the user gave is resolved this once).

    Folders below it are opened or created component by component without following links, and cached
    (at most MAX_OPEN_FOLDERS idle ones) so a tree of many small files does not walk from the root each time.
    """

    def __init__(self, root: Path, *, create: bool, special_bits: bool = False) -> None:
        self.root = root
        self.special_bits = special_bits  # restore setuid, setgid and sticky too
        self.default_mode = 0o666 & ~_umask()
        self._lock = threading.Lock()
        self._open: OrderedDict[tuple[str, ...], _Folder] = OrderedDict()
        if create:
            try:
                root.mkdir(parents=True, exist_ok=True)
            except FileExistsError:
                raise UsageError(f"destination {root} is a file, not a folder", hint="name a folder for -r") from None
            except OSError as exc:
                raise local_error(exc, root, doing="create the folder") from None
        try:
            fd = os.open(root, _DIR_FLAGS & ~_NOFOLLOW) if _AT else None
        except NotADirectoryError:
            raise UsageError(f"destination {root} is a file, not a folder", hint="name a folder") from None
        except FileNotFoundError:
            raise NotFoundError(f"destination folder {root} does not exist", hint="create it first") from None
        except OSError as exc:
            raise local_error(exc, root, doing="open the folder") from None
        if fd is None and not root.is_dir():
            raise NotFoundError(f"destination folder {root} does not exist", hint="create it first")
        self._root = _Folder(fd, root)
        self._root.leases = 1  # never evicted

    def mode_for(self, stored: str | None, url: str) -> int:
        """The mode a downloaded file gets: the one stored at upload (without setuid, setgid and sticky unless
        asked), else what a new file gets here (0666 less the umask)."""
        if not stored:
            return self.default_mode
        try:
            mode = int(stored, 8)
        except ValueError:
            mode = -1
        if not 0 <= mode <= 0o7777:
            log.warning("ignoring unusable %s metadata on %s", "s3safe-mode", url)
            return self.default_mode
        return mode if self.special_bits else mode & PERMISSION_BITS

    def restamp(self, path: Path, url: str, metadata: Mapping[str, str]) -> None:
        """Give a file already holding the object's bytes the mode and mtime recorded with the object (those it
        does not record are left as they are). Through a descriptor opened without following a link."""
        mode = self.mode_for(metadata[MODE_META], url) if metadata.get(MODE_META) else None
        mtime = stored_mtime(metadata.get(MTIME_META), url)
        fd = os.open(path, os.O_RDONLY | _NOFOLLOW | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
        try:
            st = os.fstat(fd)
            if not stat.S_ISREG(st.st_mode):
                return
            if mode is not None and stat.S_IMODE(st.st_mode) != mode and hasattr(os, "fchmod"):
                os.fchmod(fd, mode)
            if mtime is not None and st.st_mtime_ns != mtime:
                os.utime(fd if os.utime in os.supports_fd else path, ns=(mtime, mtime))
        finally:
            os.close(fd)

    def target(self, parts: Sequence[str]) -> Target:
        """The file `parts` names below the root, its folders created as needed; release() it when done."""
        *folders, name = parts
        with self._lock:
            folder = self._folder(tuple(folders))
            folder.leases += 1
            self._evict()
        try:
            return Target(self, folder, name, in_place=_written_in_place(folder, name))
        except BaseException:
            self.release(folder)
            raise

    def remove(self, parts: Sequence[str], *, unchanged: Callable[[os.stat_result], bool] | None = None) -> bool:
        """Delete the file `parts` names through open folders that are never links; creates nothing.
        False (nothing deleted) when `unchanged` says the file is no longer the one that was planned."""
        *folders, name = parts
        with self._lock:
            folder = self._folder(tuple(folders), create=False)
            folder.leases += 1
            self._evict()
        try:
            if unchanged is not None and not unchanged(os.stat(folder.at(name), dir_fd=folder.fd, follow_symlinks=False)):
                return False
            os.unlink(folder.at(name), dir_fd=folder.fd)
            return True
        except OSError as exc:
            raise local_error(exc, folder.path / name, doing="delete") from None
        finally:
            self.release(folder)

    def remove_unused_temp(self, parts: Sequence[str]) -> bool:
        """Delete a temp file `parts` names unless a run still writes it (holds its lock); False when in use."""
        *folders, name = parts
        with self._lock:
            folder = self._folder(tuple(folders), create=False)
            folder.leases += 1
            self._evict()
        try:
            # O_NONBLOCK: something other than a file swapped in under the name must not hang the open
            flags = os.O_RDONLY | _NOFOLLOW | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
            fd = os.open(folder.at(name), flags, dir_fd=folder.fd)
            try:
                if not _lock_temp(fd):
                    return False
                os.unlink(folder.at(name), dir_fd=folder.fd)  # under the lock: its writer cannot be back
                return True
            finally:
                os.close(fd)
        except OSError as exc:
            raise local_error(exc, folder.path / name, doing="delete") from None
        finally:
            self.release(folder)

    def release(self, folder: _Folder) -> None:
        with self._lock:
            folder.leases -= 1
            self._evict()

    def close(self) -> None:
        with self._lock:
            for folder in self._open.values():
                if folder.fd is not None:
                    os.close(folder.fd)
            self._open.clear()
            if self._root.fd is not None:
                os.close(self._root.fd)
                self._root.fd = None

    def _folder(self, parts: tuple[str, ...], *, create: bool = True) -> _Folder:
        if not parts:
            return self._root
        found = self._open.get(parts)
        if found is not None:
            self._open.move_to_end(parts)
            return found
        parent = self._folder(parts[:-1], create=create)
        child = _Folder(_open_child(parent, parts[-1], create=create), parent.path / parts[-1])
        self._open[parts] = child
        return child

    def _evict(self) -> None:
        if len(self._open) <= MAX_OPEN_FOLDERS:
            return
        for parts in [p for p, f in self._open.items() if f.leases == 0][: len(self._open) - MAX_OPEN_FOLDERS]:
            folder = self._open.pop(parts)
            if folder.fd is not None:
                os.close(folder.fd)


def _umask() -> int:
    """The process umask, read without changing it where the system says (changing it races other threads)."""
    try:
        with open("/proc/self/status", encoding="ascii", errors="replace") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _open_child(parent: _Folder, name: str, *, create: bool) -> int | None:
    """Open (creating if needed and asked) the folder `name` inside `parent`, never through a symbolic link."""
    path = parent.path / name
    if parent.fd is None:
        if os.path.islink(path):
            raise UsageError(f"{path} is a symbolic link; s3safe does not follow links inside the destination")
        try:
            if create:
                path.mkdir(exist_ok=True)
        except OSError as exc:
            raise local_error(exc, path, doing="create the folder") from None
        return None
    for attempt in range(2):
        try:
            return os.open(name, _DIR_FLAGS, dir_fd=parent.fd)
        except FileNotFoundError:
            if attempt or not create:
                raise NotFoundError(f"folder {path} does not exist (any more)") from None
            try:
                os.mkdir(name, 0o777, dir_fd=parent.fd)
            except FileExistsError:
                continue  # made meanwhile by another download, or a link swapped in: the open decides
            except OSError as exc:
                raise local_error(exc, path, doing="create the folder") from None
        except OSError as exc:
            raise _not_a_folder(parent, name, exc) from None
    raise AssertionError("unreachable")


def _not_a_folder(parent: _Folder, name: str, exc: OSError) -> S3SafeError:
    path = parent.path / name
    if exc.errno in (errno.ELOOP, errno.ENOTDIR, errno.EMLINK):
        try:
            link = stat.S_ISLNK(os.stat(name, dir_fd=parent.fd, follow_symlinks=False).st_mode)
        except OSError:
            link = False
        if link:
            return UsageError(f"{path} is a symbolic link; s3safe does not follow links inside the destination",
                              hint="remove the link or restore into another folder")  # fmt: skip
        return UsageError(f"{path} is a file, not a folder", hint="move the file away or restore into another folder")
    return local_error(exc, path, doing="open the folder")


def _written_in_place(folder: _Folder, name: str) -> bool:
    """Whether the target exists as something written into (a character device, a FIFO); refuses what
    can be neither replaced nor written (a folder, a socket, a block device)."""
    path = folder.path / name
    try:
        mode = os.stat(folder.at(name), dir_fd=folder.fd, follow_symlinks=False).st_mode
    except FileNotFoundError:
        return False
    except OSError as exc:
        raise local_error(exc, path, doing="write") from None
    if stat.S_ISCHR(mode) or stat.S_ISFIFO(mode):
        return True
    if stat.S_ISDIR(mode):
        raise UsageError(f"{path} is a folder; not replaced by a file", hint="move the folder away or choose another name")
    if stat.S_ISSOCK(mode) or stat.S_ISBLK(mode):
        kind = "a socket" if stat.S_ISSOCK(mode) else "a block device"
        raise UsageError(f"{path} is {kind}; s3safe neither replaces nor writes into it", hint="choose another name")
    return False  # a regular file or a link: replaced (the link itself, never what it points to)

def stored_mtime(value: str | None, url: str) -> int | None:
    """s3safe-mtime as nanoseconds (read as a decimal: a float would lose the last digits); None when absent or
    unusable."""
    if not value:
        return None
    try:
        seconds = Decimal(value.strip())
    except InvalidOperation:
        seconds = Decimal("NaN")
    # nan, inf or a date no clock can hold (past year 9999): the file is written, its mtime left as now
    if not seconds.is_finite() or not -MTIME_LIMIT <= seconds <= MTIME_LIMIT:
        log.warning("ignoring unusable %s metadata on %s (the file keeps the time it was written)", MTIME_META, url)
        return None
    return int((seconds * 1_000_000_000).to_integral_value())
