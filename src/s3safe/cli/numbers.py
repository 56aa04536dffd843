"""Whole-number option values written with the digits 0-9 only.

click's int type calls int(), which takes any script's digits (`-t ١٢` is 12) and ` 1_000`; the config file and
the environment take ASCII digits only (core/settings.py), so the command line does the same.
"""

from __future__ import annotations

import re
from typing import Any

import click

_WHOLE = re.compile(r"\s*[+-]?[0-9]+\s*", re.ASCII)


def _ascii_digits(param_type: click.ParamType[Any], value: Any, param: click.Parameter | None, ctx: click.Context | None) -> None:
    if isinstance(value, str) and not _WHOLE.fullmatch(value):
        param_type.fail(f"{value!r} is not a whole number written with the digits 0-9", param, ctx)


class WholeNumber(click.types.IntParamType):
    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        _ascii_digits(self, value, param, ctx)
        return super().convert(value, param, ctx)


class WholeRange(click.IntRange):
    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        _ascii_digits(self, value, param, ctx)
        return super().convert(value, param, ctx)


WHOLE = WholeNumber()
