"""The part of a command's validation that needs neither the store nor the disk, by command name.

A command calls its own check first thing; `exec` calls it for every line before the first line runs, so a
usage error on line 5 stops the script before line 1 changed anything."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

Precheck = Callable[[Mapping[str, Any]], None]
PRECHECKS: dict[str, Precheck] = {}


def precheck(name: str) -> Callable[[Precheck], Precheck]:
    """Register `check(params)` (click's parsed parameters) as command `name`'s pre-check."""

    def register(check: Precheck) -> Precheck:
        PRECHECKS[name] = check
        return check

    return register


def run_precheck(name: str, params: Mapping[str, Any]) -> None:
    check = PRECHECKS.get(name)
    if check is not None:
        check(params)
