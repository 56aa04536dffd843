"""The unprivileged tier: s3safe run as a user that file modes bind (see helper.py for how).

Fixtures: `unpriv` (a Sandbox with a scratch folder and fake HOME), `unpriv_moto` (the same, pointed at moto).
Every test here carries the `unprivileged` marker, so `pytest -m unprivileged` runs exactly this tier.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.servers.moto import MotoServer
from tests.unprivileged.helper import Sandbox, Unavailable, make_sandbox, remove_sandbox, runner

HERE = Path(__file__).parent


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if Path(str(item.fspath)).is_relative_to(HERE):
            item.add_marker(pytest.mark.unprivileged)


def pytest_report_header(config: pytest.Config) -> str:
    active = runner()
    if isinstance(active, Unavailable):
        return f"unprivileged tier: skipped ({active.reason})"
    return f"unprivileged tier: mode {active.mode}, uid {active.uid}"


@pytest.fixture
def unpriv() -> Iterator[Sandbox]:
    active = runner()
    if isinstance(active, Unavailable):
        pytest.skip(f"cannot run unprivileged here: {active.reason}")
    sandbox = make_sandbox(active)
    yield sandbox
    remove_sandbox(sandbox)


@pytest.fixture
def unpriv_moto(unpriv: Sandbox, moto: MotoServer) -> Sandbox:
    unpriv.connect(moto.endpoint_url, access_key=moto.access_key, secret_key=moto.secret_key)
    return unpriv
