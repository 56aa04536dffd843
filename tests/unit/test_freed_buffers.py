"""With glibc, upload-sized buffers come from malloc's heap, where freed ones are reused (core/process.py)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

# mallinfo2 (glibc >= 2.33) says how many bytes are in blocks mmap'd one by one: a fresh mmap per buffer is what
# costs the kernel a page fault and a zeroing pass per page
PROBE = """
import ctypes, sys
from s3safe.core import process

class MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in
                ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks", "keepcost")]

libc = ctypes.CDLL(None)
libc.mallinfo2.restype = MallInfo2
if sys.argv[1] == "reuse":
    assert process.reuse_freed_buffers() is True
before = libc.mallinfo2().hblkhd
part = bytearray(8 * 1024 * 1024)  # a multipart upload's smallest part
print(libc.mallinfo2().hblkhd - before)
"""


def _mmapped_for_one_part(mode: str) -> int:
    done = subprocess.run([sys.executable, "-c", PROBE, mode], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    return int(done.stdout)


glibc = pytest.mark.skipif(not (os.confstr("CS_GNU_LIBC_VERSION") or "").startswith("glibc 2."), reason="glibc only")


@glibc
def test_a_part_sized_buffer_comes_from_the_heap_once_the_cli_has_set_malloc_up() -> None:
    assert _mmapped_for_one_part("default") >= 8 * 1024 * 1024  # glibc's default: a fresh mmap for it
    assert _mmapped_for_one_part("reuse") == 0
