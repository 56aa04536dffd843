"""Process-wide settings the CLI makes at start: protection of the secrets s3safe holds (credentials in every
command, passphrases and keys), and how freed memory is reused.

A core dump copies the whole address space to disk: the AWS secret key, a passphrase and every payload key
derived from it. The CLI forbids core dumps for itself at start: RLIMIT_CORE soft and hard 0 (the hard
limit too, so neither s3safe nor a child can raise it again) and, on Linux, PR_SET_DUMPABLE 0, which also
stops a core_pattern pipe handler (systemd-coredump, apport) from receiving a dump and keeps other
processes of the same user from ptrace-attaching or reading /proc/PID/mem.

Memory: glibc's malloc serves a block of 128 KiB or more with a fresh mmap and unmaps it when freed, so every
part of a multipart upload (8 MiB and more, read into a new bytes object) costs the kernel a page fault and a
zeroing pass per 4 KiB page; 0.75 of 5.3 CPU-seconds of a 1 GiB upload here. The CLI lets malloc keep blocks of
up to 32 MiB (glibc's ceiling) in its heap and reuse them; that changes which memory is reused, not how much is
used at once (every buffer is bounded by the run's budget).
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import sys

log = logging.getLogger("s3safe.process")
PR_SET_DUMPABLE = 4  # <linux/prctl.h>
M_TRIM_THRESHOLD = -1  # <malloc.h>
M_MMAP_THRESHOLD = -3
REUSED_BLOCK_MAX = 32 * 1024 * 1024  # the largest M_MMAP_THRESHOLD glibc accepts on 64-bit
KEPT_FREE_MAX = 256 * 1024 * 1024  # free memory at the heap's top kept for reuse instead of given back


def forbid_core_dumps() -> None:
    """Best effort and silent: a platform without these controls keeps its defaults (logged at debug)."""
    try:
        import resource
    except ImportError:  # Windows: no core files; Windows Error Reporting dumps are configured system-wide
        return
    try:
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    except (OSError, ValueError) as exc:
        log.debug("could not set RLIMIT_CORE to 0 (%s)", exc)
    if sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            libc = ctypes.CDLL(None, use_errno=True)
            if libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0:
                log.debug("prctl(PR_SET_DUMPABLE, 0) failed: errno %d", ctypes.get_errno())


def reuse_freed_buffers() -> bool:
    """With glibc: blocks up to 32 MiB come from the heap and freed ones are reused (module docstring). True if
    set; False elsewhere (musl, macOS, Windows keep their allocator's defaults)."""
    try:
        version = os.confstr("CS_GNU_LIBC_VERSION")
    except (AttributeError, ValueError, OSError):
        return False
    if not version or not version.startswith("glibc"):
        return False
    try:
        libc = ctypes.CDLL(None)
        done = libc.mallopt(M_MMAP_THRESHOLD, REUSED_BLOCK_MAX) == 1 and libc.mallopt(M_TRIM_THRESHOLD, KEPT_FREE_MAX) == 1
    except (OSError, AttributeError):
        return False
    if not done:
        log.debug("mallopt refused the buffer settings; glibc's defaults stay")
    return bool(done)
