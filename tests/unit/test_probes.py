"""storage/probes.py: the one "probe once per run" both conditional writes and conditional deletes go through."""

from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from types import SimpleNamespace
from typing import Any

import pytest

from s3safe.core.models import ActionResult
from s3safe.storage.probes import probed_once, remove_probe


def _conn() -> Any:
    return SimpleNamespace(settings=SimpleNamespace(endpoint_url="http://127.0.0.1:9"), conditions_lock=threading.Lock(),
                           honours_conditions=None, honours_delete_conditions=None)  # fmt: skip


@pytest.mark.parametrize(("answer", "remembered", "warned"), [(True, True, False), (False, False, True), (None, False, False)])
def test_one_probe_per_connection_and_one_warning_where_conditions_are_ignored(
    caplog: pytest.LogCaptureFixture, answer: bool | None, remembered: bool, warned: bool
) -> None:
    conn, calls = _conn(), []

    def probe() -> bool | None:
        calls.append(1)
        return answer

    with caplog.at_level(logging.WARNING, logger="s3safe.conditional"), ThreadPoolExecutor(8) as pool:
        asked = pool.map(
            lambda _: probed_once(conn, "honours_delete_conditions", probe, ignored="conditional deletes"), range(32)
        )
        got = list(asked)
    assert got == [remembered] * 32 and len(calls) == 1
    assert (conn.honours_delete_conditions, conn.honours_conditions) == (remembered, None)
    assert [r.getMessage() for r in caplog.records] == (["http://127.0.0.1:9 ignores conditional deletes"] if warned else [])


def test_a_remembered_answer_is_not_probed_again() -> None:
    conn = _conn()
    conn.honours_conditions = True  # as a test (or an earlier probe) set it
    assert probed_once(conn, "honours_conditions", lambda: pytest.fail("probed again"), ignored="-") is True


def test_what_a_probe_left_is_deleted_and_a_failure_only_logged(caplog: pytest.LogCaptureFixture) -> None:
    sent: list[tuple[str, list[tuple[str, str | None]]]] = []

    def delete_batch(bucket: str, items: list[tuple[str, str | None]]) -> list[ActionResult]:
        sent.append((bucket, items))
        return [ActionResult("delete", f"s3://{bucket}/{key}", ok=version is None, error=None if version is None else "AccessDenied")
                for key, version in items]  # fmt: skip

    with caplog.at_level(logging.WARNING, logger="s3safe.conditional"):
        remove_probe(delete_batch, "b", [("p", None), ("p", "v1")])
    assert [(bucket, item) for bucket, items in sent for item in items] == [("b", ("p", None)), ("b", ("p", "v1"))]
    assert [r.getMessage() for r in caplog.records] == [
        "could not delete the empty probe object s3://b/p (AccessDenied); delete it by hand"
    ]
