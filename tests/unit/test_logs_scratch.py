"""The scratch files `logs` parses from: whole lines in each, a new file past the size, and a log object
that fails midway leaves nothing of itself behind, whichever file it had reached."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

import s3safe.ops.logs as logs


def _text(scratch: logs._Scratch) -> list[str]:
    scratch.close()
    return [p.read_text(encoding="utf-8") for p in scratch.files]


def test_files_end_on_whole_lines_and_a_failed_object_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(logs, "SCRATCH_FILE_BYTES", 40)
    folder = tmp_path / "scratch"
    folder.mkdir()
    scratch = logs._Scratch(folder)
    first = b"".join(b"line %02d of the first object\n" % i for i in range(5))
    assert scratch.add(iter([first[:50], first[50:]])) == len(first)

    def failing() -> Iterator[bytes]:
        yield b"half of a line"
        yield b" then more\n" * 8
        raise OSError("connection reset")

    with pytest.raises(OSError, match="reset"):
        scratch.add(failing())
    scratch.add(iter([b"last object, no newline at the end"]))
    texts = _text(scratch)
    assert all(text.endswith("\n") for text in texts)
    assert "".join(texts) == first.decode() + "last object, no newline at the end\n"
    assert len(texts) > 2
    assert sorted(folder.iterdir()) == scratch.files
