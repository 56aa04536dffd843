"""Global options typed after the command are moved in front of it, values of command options stay."""

from __future__ import annotations

import pytest

from s3safe.cli.main import hoist_global_options


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["ls", "s3://b", "--json"], ["--json", "ls", "s3://b"]),
        (["ls", "--endpoint-url", "https://x", "s3://b"], ["--endpoint-url", "https://x", "ls", "s3://b"]),
        (["ls", "--region=eu-west-1"], ["--region=eu-west-1", "ls"]),
        # "-v" is the value of --content-type here, not the verbose flag
        (["put", "f", "s3://b/", "--content-type", "-v"], ["put", "f", "s3://b/", "--content-type", "-v"]),
        (["--profile", "p", "meta", "set", "s3://b/k", "--set", "-q", "-q"], ["--profile", "p", "-q", "meta", "set", "s3://b/k", "--set", "-q"]),
        (["rm", "--", "--json"], ["rm", "--", "--json"]),
    ],
)
def test_hoisting(argv: list[str], expected: list[str]) -> None:
    assert hoist_global_options(argv) == expected
