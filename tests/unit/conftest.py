"""Unit tier: pure logic, no servers, no network.

Registered secrets live in a process-wide set; every unit test starts and ends with it empty so
one test's secret can never make another test pass (or fail) by accident.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from s3safe.core.redact import forget_secrets


@pytest.fixture(autouse=True)
def no_registered_secrets() -> Iterator[None]:
    forget_secrets()
    yield
    forget_secrets()
