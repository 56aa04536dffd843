"""The spool of planned local deletions keeps every key exactly, whatever bytes the file name holds."""

from __future__ import annotations

import os
from pathlib import Path

from s3safe.transfer.local_delete import Planned, PlannedSpool


def test_planned_deletions_round_trip_through_the_spool(tmp_path: Path) -> None:
    keys = ["plain.txt", "dir/naïve café.txt", "new\nline", "back\\slash", "bad-\udcff-utf8", '"quoted"']
    (tmp_path / "f").write_bytes(b"x")
    stat = (tmp_path / "f").stat()
    spool = PlannedSpool()
    try:
        for number, key in enumerate(keys):
            spool.add(Planned.of(key, stat, proof="ETag = MD5 of the bytes sent" if number % 2 else None))
        back = list(spool)
    finally:
        spool.close()
    assert [p.key for p in back] == keys and spool.count == len(keys)
    assert [p.proof for p in back] == ["", "ETag = MD5 of the bytes sent"] * 3
    assert all(p.same_file(stat) for p in back)
    os.utime(tmp_path / "f", ns=(stat.st_atime_ns, stat.st_mtime_ns + 1))
    assert not back[0].same_file((tmp_path / "f").stat())  # a touched file is not the planned one
