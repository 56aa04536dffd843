"""Process-global state became a run context (core/context.py, issue #19 item 10): two operations in one
process, each in its own run, neither cancel nor unmask each other, and the library's thread pools carry
the run into their workers."""

from __future__ import annotations

import ast
import threading
from pathlib import Path

import pytest

from s3safe.auth import selection
from s3safe.core import cancel
from s3safe.core.concurrency import run_bounded, run_unordered
from s3safe.core.context import ROOT, RunContext, running
from s3safe.core.redact import MASK, forget_secrets, redact, register_secret

SRC = Path(__file__).resolve().parents[2] / "src"
WAIT = 30.0  # every wait is bounded: a broken run fails the test instead of hanging it

# Thread pools that do not carry the run into their workers, while they are being rebuilt.
# THIS ALLOWLIST MUST STAY EMPTY; a stale entry fails the test too.
POOLS_WITHOUT_RUN_IN_PROGRESS: frozenset[str] = frozenset()


def _in_thread(target: object) -> tuple[threading.Thread, list[BaseException]]:
    errors: list[BaseException] = []

    def body() -> None:
        try:
            target()  # type: ignore[operator]
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=body)
    thread.start()
    return thread, errors


def test_cancelling_one_run_leaves_another_running() -> None:
    first = RunContext("first")
    sleeping = threading.Semaphore(0)
    first_cancelled = threading.Event()
    first_outcome: list[object] = []
    second_results: list[int] = []

    def slow(item: int) -> int:
        sleeping.release()
        cancel.sleep(WAIT)  # wakes (raising Cancelled) as soon as its run is cancelled
        return item

    def quick(item: int) -> int:
        for _ in range(20):
            cancel.check()
            cancel.sleep(0.001)
        return item * 2

    def run_first() -> None:
        with running(first):
            try:
                first_outcome.append(list(run_bounded(slow, range(4), threads=2)))
            except cancel.Cancelled as exc:
                first_outcome.append(exc)

    def run_second() -> None:
        with running(RunContext("second")) as second:
            assert first_cancelled.wait(WAIT)
            second_results.extend(run_unordered(quick, range(8), threads=2))
            assert not cancel.is_cancelled() and not second.cancelled.is_set()

    a, a_errors = _in_thread(run_first)
    b, b_errors = _in_thread(run_second)
    try:
        assert sleeping.acquire(timeout=WAIT) and sleeping.acquire(timeout=WAIT)  # both workers of the first run wait
        with running(first):
            cancel.cancel()  # what Ctrl-C does inside that run
        first_cancelled.set()
    finally:
        first_cancelled.set()
        a.join(WAIT)
        b.join(WAIT)
    assert not a_errors and not b_errors, (a_errors, b_errors)
    assert len(first_outcome) == 1 and isinstance(first_outcome[0], cancel.Cancelled), first_outcome
    assert sorted(second_results) == [i * 2 for i in range(8)]
    assert not ROOT.cancelled.is_set() and not cancel.is_cancelled()  # the process's own run is untouched


def test_secrets_belong_to_the_run_that_registered_them() -> None:
    secrets = {"first": "first-run-secret-Zq81", "second": "second-run-secret-Wv42"}
    registered = threading.Barrier(2, timeout=WAIT)
    forgotten = threading.Event()
    seen: dict[str, list[str]] = {}

    def operation(name: str) -> None:
        with running(RunContext(name)):
            register_secret(secrets[name])
            registered.wait()
            if name == "first":
                # text made in the run's worker threads is masked of the run's secrets
                seen[name] = list(run_bounded(lambda n: redact(f"call {n} signed with {secrets[name]}"), range(3), threads=2))
                forget_secrets()  # forgets this run's secrets only
                forgotten.set()
            else:
                assert forgotten.wait(WAIT)
                seen[name] = list(run_bounded(lambda n: redact(f"call {n} signed with {secrets[name]}"), range(3), threads=2))

    threads = [_in_thread(lambda n=name: operation(n)) for name in secrets]
    for thread, _ in threads:
        thread.join(WAIT)
    assert not [e for _, errors in threads for e in errors], [e for _, errors in threads for e in errors]
    for name, lines in seen.items():
        assert lines == [f"call {n} signed with {MASK}" for n in range(3)], (name, lines)


def test_text_outside_any_run_is_masked_of_every_live_run() -> None:
    run = RunContext("elsewhere")
    with running(run):
        register_secret("a-run-only-secret-Kd73")
    assert redact("log line: a-run-only-secret-Kd73") == f"log line: {MASK}"  # an origin not known: fail closed
    del run


def test_the_auth_selection_is_per_run() -> None:
    selection.choose(None)
    with running(RunContext("with-profile")):
        selection.choose("prod")
        assert selection.current().name == "prod"
    assert selection.current().name is None
    with running(RunContext("chose-nothing")):
        assert selection.current().name is None  # falls back to the process's choice


def _pool_constructions(path: Path) -> list[int]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            if name in ("ThreadPoolExecutor", "Thread"):
                lines.append(node.lineno)
    return lines


def test_every_library_thread_carries_its_run() -> None:
    """A thread the library starts must run in its caller's run: core.context's ContextPool or thread(), not
    ThreadPoolExecutor or Thread. (cli/ is not library: it runs in the process's own run.)"""
    found = {
        rel: lines
        for path in sorted((SRC / "s3safe").rglob("*.py"))
        if (rel := path.relative_to(SRC).as_posix()) != "s3safe/core/context.py" and not rel.startswith("s3safe/cli/")
        and (lines := _pool_constructions(path))
    }
    unexpected = {p: lines for p, lines in found.items() if p not in POOLS_WITHOUT_RUN_IN_PROGRESS}
    assert not unexpected, f"threads that do not carry the run (use core.context.ContextPool): {unexpected}"
    stale = POOLS_WITHOUT_RUN_IN_PROGRESS - set(found)
    assert not stale, f"allowlisted files that no longer start threads: remove them from the allowlist: {sorted(stale)}"


@pytest.fixture(autouse=True)
def _clean_process_choice() -> object:
    yield None
    selection.choose(None)
