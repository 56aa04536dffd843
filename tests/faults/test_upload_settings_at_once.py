"""The reads an upload needs before its first PUT (the bucket is there, its Object Ownership, its default encryption,
and whether the endpoint honours conditional writes) go out at once: one round trip before the first upload, not
four or five in a row. Shown at the proxy: while the HeadBucket is held there, the others arrive."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

from tests.faults.conftest import Target
from tests.faults.proxy import FaultPlan, FaultProxy, Request
from tests.servers.moto import MotoServer


def _arrived_while_held(proxy: FaultProxy, bucket: str, wanted: tuple[str, ...], *, seconds: float = 15.0) -> set[str]:
    """Which of the `wanted` query words reached the proxy while the HeadBucket was held (then it is let go)."""
    seen: set[str] = set()
    if proxy.held.wait(60):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and seen != set(wanted):
            seen = {word for word in wanted for _, _, target in list(proxy.log) if target.startswith(f"/{bucket}") and word in target}
            time.sleep(0.05)
    proxy.release()
    return seen


def test_a_tree_upload_reads_the_bucket_settings_and_probes_at_once(
    proxy: FaultProxy, proxied: Target, moto: MotoServer, tmp_path: Path, bucket_name: Callable[[], str]
) -> None:
    bucket = bucket_name()
    proxied.client(moto.endpoint_url).create_bucket(Bucket=bucket)
    src = tmp_path / "src"
    src.mkdir()
    (src / "a.txt").write_bytes(b"a")
    held_once = threading.Event()

    def hold(request: Request) -> bool:
        if held_once.is_set() or request.method != "HEAD" or request.target.split("?")[0].rstrip("/") != f"/{bucket}":
            return False
        held_once.set()
        return True

    wanted = ("ownershipControls", "encryption", "conditional-write-probe")
    outcome: dict[str, set[str]] = {}
    proxy.set_plan(FaultPlan(hold=hold))
    watcher = threading.Thread(target=lambda: outcome.setdefault("seen", _arrived_while_held(proxy, bucket, wanted)), daemon=True)
    watcher.start()
    result = proxied.run("put", "-r", str(src), f"s3://{bucket}/t/", timeout=120)
    watcher.join(timeout=90)
    assert held_once.is_set()
    assert result.returncode == 0, result.stderr
    assert outcome.get("seen") == set(wanted), f"arrived while the HeadBucket was held: {outcome.get('seen')}"
    assert proxied.client(moto.endpoint_url).get_object(Bucket=bucket, Key="t/a.txt")["Body"].read() == b"a"


def test_a_missing_bucket_is_still_reported_as_missing(proxied: Target, tmp_path: Path, bucket_name: Callable[[], str]) -> None:
    """The reads go out together, but the answers are taken in order: the missing bucket is what is said."""
    src = tmp_path / "src"
    src.mkdir()
    (src / "a.txt").write_bytes(b"a")
    result = proxied.run("put", "-r", str(src), f"s3://{bucket_name()}/t/", timeout=120)
    assert result.returncode == 3, result.stderr
    assert "does not exist" in result.stderr or "no such bucket" in result.stderr.lower(), result.stderr
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr
