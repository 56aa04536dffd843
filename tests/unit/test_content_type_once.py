"""The system's MIME tables are read once per run, not once per upload thread (transfer/options.py)."""

from __future__ import annotations

import mimetypes
import threading
from pathlib import Path

import pytest

from s3safe.transfer.options import content_type_for


def test_threads_guessing_at_once_read_the_type_tables_once(monkeypatch: pytest.MonkeyPatch) -> None:
    reads: list[int] = []
    real_init = mimetypes.init

    def init(files: list[str] | None = None) -> None:
        reads.append(1)
        threading.Event().wait(0.02)  # as slow as reading /etc/mime.types: the other threads arrive meanwhile
        real_init(files)

    monkeypatch.setattr(mimetypes, "inited", False)
    monkeypatch.setattr(mimetypes, "init", init)
    start = threading.Barrier(8)
    guessed: list[str] = []

    def guess() -> None:
        start.wait()
        guessed.append(content_type_for(Path("report.html")))

    threads = [threading.Thread(target=guess) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert guessed == ["text/html"] * 8
    assert len(reads) == 1


def test_a_name_with_no_known_type_is_sent_as_bytes() -> None:
    assert content_type_for(Path("backup.s3safe-unknown-ext")) == "application/octet-stream"
