"""What a tree transfer leaves out is counted and named: symbolic links (not followed), FIFOs and sockets that
`put -r` passes over, and files --include/--exclude leave out, the same way --where's choices are (a skip
result each, shown at -v, and a count in the summary)."""

from __future__ import annotations

import os
import socket
from collections.abc import Callable
from pathlib import Path

from s3safe.core.locations import S3Url
from s3safe.core.safety import SafetyGate
from s3safe.ops.buckets import make_bucket
from s3safe.query import compile_where
from s3safe.storage.connection import Connection
from s3safe.transfer.engine import TreeOptions, TreeSummary, download_tree, upload_tree
from s3safe.transfer.state import StateCache


def test_special_and_filtered_files_are_counted_and_named(
    moto_conn: Connection, bucket_name: Callable[[], str], tmp_path: Path
) -> None:
    bucket = bucket_name()
    make_bucket(moto_conn, S3Url(bucket, ""))
    src = tmp_path / "src"
    (src / "d").mkdir(parents=True)
    (src / "a.txt").write_bytes(b"a" * 200)
    (src / "b.log").write_bytes(b"b")
    (src / "d" / "c.txt").write_bytes(b"c")
    (src / "link").symlink_to("a.txt")
    os.mkfifo(src / "fifo")
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(src / "sock"))
        summary = TreeSummary()
        options = TreeOptions(exclude=("*.log",), where=compile_where("size > 100", scope="any"))
        results = list(upload_tree(moto_conn, src, S3Url(bucket, "t/"), options=options, gate=SafetyGate(),
                                   summary=summary, cache=StateCache(read_only=True)))  # fmt: skip
    # every skip named the same way, by its path below the source folder (rt17 #9: FIFOs were named src/fifo)
    skips = {r.target: r.detail for r in results if r.action == "skip"}
    assert skips == {
        "link": "symbolic link, not a regular file; --follow-symlinks follows it",
        "fifo": "FIFO, not a regular file",
        "sock": "socket, not a regular file",
        "b.log": "not selected by --include/--exclude",
        "d/c.txt": "not selected by --where",
    }
    assert (summary.transferred, summary.skipped, summary.special, summary.filtered) == (1, 5, 3, 2)
    assert summary.to_dict()["special"] == 3 and summary.to_dict()["filtered"] == 2

    back = TreeSummary()
    got = list(download_tree(moto_conn, S3Url(bucket, "t/"), tmp_path / "out", options=TreeOptions(include=("*.md",), allow_empty=True),
                             gate=SafetyGate(), summary=back, cache=StateCache(read_only=True)))  # fmt: skip
    assert [(r.action, r.detail) for r in got if r.action == "skip"] == [("skip", "not selected by --include/--exclude")]
    assert (back.transferred, back.filtered) == (0, 1)


def test_the_summary_counts_skips_in_good_grammar() -> None:
    from s3safe.cli.cmd_transfer import skipped_text

    assert skipped_text(2, special=1, filtered=1) == "2 skipped (1 not a regular file, 1 filtered out)"  # rt17 #9
    assert skipped_text(3, special=3, filtered=0) == "3 skipped (3 not regular files)"
    assert skipped_text(0, special=0, filtered=0) == "0 skipped"
