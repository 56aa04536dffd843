"""A probe whose answer is lost leaves nothing behind (rt23 A): once its request went out, the server may have
acted on it, so what the probe may have left at its own key is looked for and removed."""

from __future__ import annotations

import logging
import os
import re
import signal
from collections.abc import Callable
from pathlib import Path

import pytest

from s3safe.core.errors import ServiceError
from s3safe.core.models import ActionResult
from s3safe.storage.base import PROBE_PREFIX
from s3safe.storage.probes import remove_probe
from tests.faults.conftest import Target
from tests.faults.proxy import FaultPlan, FaultProxy
from tests.servers.moto import MotoServer


def test_the_delete_probe_leaves_no_object_when_its_answer_is_lost(
    proxy: FaultProxy, proxied: Target, moto: MotoServer, bucket_name: Callable[[], str]
) -> None:
    bucket = bucket_name()
    direct = proxied.client(moto.endpoint_url)
    direct.create_bucket(Bucket=bucket)
    direct.put_object(Bucket=bucket, Key="t/a", Body=b"a")
    # the first POST ?delete is the probe's: the server acts on it, the answer is cut
    proxy.set_plan(FaultPlan(reset_after=1.0, max_faults=1, eligible=lambda r: r.method == "POST" and "delete" in r.target))
    done = proxied.run("--retries", "0", "rm", "-r", f"s3://{bucket}/t/", timeout=120)
    assert proxy.injected["reset_after"] == 1
    assert done.returncode == 0, done.stderr
    left = [o["Key"] for o in direct.list_objects_v2(Bucket=bucket).get("Contents", [])]
    assert left == [], left


def test_ctrl_c_while_the_probe_is_unanswered_names_the_object_it_may_have_left(
    proxy: FaultProxy, proxied: Target, moto: MotoServer, bucket_name: Callable[[], str], tmp_path: Path
) -> None:
    """rt24 A3: Ctrl-C while the probe's answer was outstanding said "nothing half-written was left behind" and
    never named the probe object the server may have stored; there is no time to look for it then, so it is named."""
    bucket = bucket_name()
    proxied.client(moto.endpoint_url).create_bucket(Bucket=bucket)
    src = tmp_path / "src"
    src.mkdir()
    (src / "a.txt").write_text("a")
    proxy.set_plan(FaultPlan(hold=lambda r: r.method == "PUT" and PROBE_PREFIX in r.target))
    log = tmp_path / "run.log"
    child = proxied.popen("put", "-r", str(src), f"s3://{bucket}/t/", log=log)
    try:
        assert proxy.held.wait(60), log.read_text()
        os.killpg(child.pid, signal.SIGINT)
        assert child.wait(60) == 130, log.read_text()
    finally:
        proxy.release()
        if child.poll() is None:
            child.kill()
    text = log.read_text()
    named = re.search(rf"warning: the empty probe object .* delete it with: s3safe rm s3://{bucket}/{re.escape(PROBE_PREFIX)}[0-9a-f]+", text)
    assert named, text
    assert "Traceback" not in text


def test_a_probe_whose_clean_up_fails_is_named_and_does_not_fail_the_run(caplog: pytest.LogCaptureFixture) -> None:
    """rt24 N2: the probe's clean-up DeleteObjects answered 500: the failure escaped, every file of the tree failed
    with "cannot delete objects", and the probe ran again for each (leaving one object each)."""
    def refused(bucket: str, items: list[tuple[str, str | None]]) -> list[ActionResult]:
        raise ServiceError("cannot delete objects in s3://b: the server failed with HTTP 500 (InternalError)")

    with caplog.at_level(logging.WARNING, logger="s3safe.conditional"):
        remove_probe(refused, "b", [(PROBE_PREFIX + "0" * 32, None)])
    assert f"could not delete the empty probe object s3://b/{PROBE_PREFIX}{'0' * 32}" in caplog.text
