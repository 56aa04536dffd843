"""get -r --purge plans to delete local files the bucket no longer has; the unlink happens after the downloads.
A file rewritten in between is no longer the file the plan was about: it is kept and reported, never deleted."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.faults.conftest import Target
from tests.faults.flip import key_of
from tests.faults.proxy import FaultPlan, FaultProxy
from tests.servers.moto import MotoServer


def _lines(text: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def _purge_while_a_file_is_rewritten(
    proxy: FaultProxy, proxied: Target, moto: MotoServer, tmp_path: Path, bucket: str
) -> tuple[Path, Path, int | None]:  # fmt: skip
    """get -r --purge of a prefix with one object into a folder with two extra files, one rewritten meanwhile."""
    direct = proxied.client(moto.endpoint_url)
    direct.create_bucket(Bucket=bucket)
    direct.put_object(Bucket=bucket, Key="r/new.txt", Body=b"from the bucket\n")
    out = tmp_path / "out"
    out.mkdir()
    (out / "extra.txt").write_bytes(b"old local file the bucket does not have\n")
    (out / "gone.txt").write_bytes(b"another one\n")
    proxy.set_plan(FaultPlan(hold=lambda r: r.method == "GET" and key_of(r, bucket) == "r/new.txt"))
    log = tmp_path / "run.log"
    child = proxied.popen("--json", "-t", "1", "get", "-r", "--purge", f"s3://{bucket}/r/", str(out), log=log)
    try:
        assert proxy.held.wait(60), log.read_text()
        (out / "extra.txt").write_bytes(b"written while the run went on: must survive\n")
    finally:
        proxy.release()
        child.wait(120)
    return out, log, child.returncode


def test_a_local_file_rewritten_during_the_run_is_not_purged(
    proxy: FaultProxy, proxied: Target, moto: MotoServer, tmp_path: Path, bucket_name: Callable[[], str]
) -> None:
    out, log, returncode = _purge_while_a_file_is_rewritten(proxy, proxied, moto, tmp_path, bucket_name())
    assert returncode == 0, log.read_text()
    assert (out / "new.txt").read_bytes() == b"from the bucket\n"
    assert (out / "extra.txt").read_bytes() == b"written while the run went on: must survive\n"
    assert not (out / "gone.txt").exists(), "an unchanged file the bucket lacks is still purged"
    kept = [line for line in _lines(log.read_text()) if line.get("action") == "keep"]
    assert [line["target"] for line in kept] == [str(out / "extra.txt")], log.read_text()


def test_the_summary_counts_a_kept_file_as_skipped_not_deleted(
    proxy: FaultProxy, proxied: Target, moto: MotoServer, tmp_path: Path, bucket_name: Callable[[], str]
) -> None:
    out, log, returncode = _purge_while_a_file_is_rewritten(proxy, proxied, moto, tmp_path, bucket_name())
    assert returncode == 0, log.read_text()
    assert (out / "extra.txt").exists() and not (out / "gone.txt").exists()
    summary = [line for line in _lines(log.read_text()) if line.get("type") == "summary"]
    assert len(summary) == 1, log.read_text()
    assert summary[0]["deleted"] == 1, summary  # gone.txt only: extra.txt was kept
    assert summary[0]["skipped"] == 1 and summary[0]["transferred"] == 1, summary
