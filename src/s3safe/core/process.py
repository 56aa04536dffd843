"""Process-wide protection of the secrets s3safe holds (credentials in every command, passphrases and keys).

A core dump copies the whole address space to disk: the AWS secret key, a passphrase and every payload key
derived from it. The CLI forbids core dumps for itself at start: RLIMIT_CORE soft and hard 0 (the hard
limit too, so neither s3safe nor a child can raise it again) and, on Linux, PR_SET_DUMPABLE 0, which also
stops a core_pattern pipe handler (systemd-coredump, apport) from receiving a dump and keeps other
processes of the same user from ptrace-attaching or reading /proc/PID/mem.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import sys

log = logging.getLogger("s3safe.process")
PR_SET_DUMPABLE = 4  # <linux/prctl.h>


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
