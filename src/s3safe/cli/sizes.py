"""Sizes as people read them (render.py and the progress text share it)."""

from __future__ import annotations


def human_size(size: int) -> str:
    if size < 1024:
        return f"{size} B"
    value = float(size)
    for unit in ("KiB", "MiB", "GiB", "TiB"):
        value /= 1024
        # choose the unit after rounding, so 1048575 reads 1.0 MiB, not 1024.0 KiB
        if round(value, 1) < 1024 or unit == "TiB":
            return f"{value:.1f} {unit}"
    raise AssertionError("unreachable")
