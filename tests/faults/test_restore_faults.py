"""An object deleted between the listing and its GET: held in the fault proxy at that GET while the object
is really deleted on the server, then let through, so the race happens exactly, with no timing guesswork."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

from tests.faults.conftest import Target
from tests.faults.proxy import FaultPlan, FaultProxy, Request
from tests.servers.moto import MotoServer


def test_an_object_deleted_after_the_listing_fails_alone_with_a_clear_line(
    proxy: FaultProxy, proxied: Target, moto: MotoServer, tmp_path: Path, bucket_name: Callable[[], str]
) -> None:
    bucket = bucket_name()
    direct = proxied.client(moto.endpoint_url)
    direct.create_bucket(Bucket=bucket)
    for name in ("a.txt", "gone.txt", "z.txt"):
        direct.put_object(Bucket=bucket, Key=f"t/{name}", Body=name.encode())
    fired = threading.Event()

    def hold(request: Request) -> bool:
        if fired.is_set() or request.method != "GET" or not request.target.startswith(f"/{bucket}/t/gone.txt"):
            return False
        fired.set()
        return True

    def delete_when_held() -> None:
        if proxy.held.wait(60):
            direct.delete_object(Bucket=bucket, Key="t/gone.txt")
        proxy.release()

    proxy.set_plan(FaultPlan(hold=hold))
    deleter = threading.Thread(target=delete_when_held, daemon=True)
    deleter.start()
    dest = tmp_path / "dest"
    result = proxied.run("--retries", "0", "get", "-r", f"s3://{bucket}/t/", str(dest), timeout=120)
    deleter.join(timeout=60)
    assert fired.is_set()
    assert result.returncode == 5, result.stderr
    lines = [line for line in result.stderr.splitlines() if "gone.txt" in line]
    assert len(lines) == 1 and f"s3://{bucket}/t/gone.txt" in lines[0], result.stderr
    assert "no longer exists" in lines[0] and "None" not in lines[0], lines[0]
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr
    assert sorted(p.name for p in dest.iterdir()) == ["a.txt", "z.txt"]


