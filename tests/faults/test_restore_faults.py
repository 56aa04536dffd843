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




def test_a_link_swapped_in_before_the_purge_cannot_aim_a_deletion_outside(
    proxy: FaultProxy, proxied: Target, moto: MotoServer, tmp_path: Path, bucket_name: Callable[[], str]
) -> None:
    """get -r --purge: the folder d is listed (its x.txt is to be purged), then, while the last download is
    held, d is moved aside and a link to a folder outside that also holds x.txt takes its name. The purge
    must not delete the outside file."""
    bucket = bucket_name()
    direct = proxied.client(moto.endpoint_url)
    direct.create_bucket(Bucket=bucket)
    direct.put_object(Bucket=bucket, Key="t/d/keep.txt", Body=b"keep")
    direct.put_object(Bucket=bucket, Key="t/z.txt", Body=b"last")  # after d/ in key order: d is listed by then
    dest, outside = tmp_path / "dest", tmp_path / "outside"
    (dest / "d").mkdir(parents=True)
    (dest / "d" / "x.txt").write_bytes(b"listed, to be purged")
    outside.mkdir()
    (outside / "x.txt").write_bytes(b"not yours to delete")
    fired = threading.Event()

    def hold(request: Request) -> bool:
        if fired.is_set() or request.method != "GET" or not request.target.startswith(f"/{bucket}/t/z.txt"):
            return False
        fired.set()
        return True

    def swap_when_held() -> None:
        if proxy.held.wait(60):
            (dest / "d").rename(dest / "d.moved")
            (dest / "d").symlink_to(outside, target_is_directory=True)
        proxy.release()

    proxy.set_plan(FaultPlan(hold=hold))
    swapper = threading.Thread(target=swap_when_held, daemon=True)
    swapper.start()
    result = proxied.run("--retries", "0", "get", "-r", "--purge", f"s3://{bucket}/t/", str(dest), timeout=120)
    swapper.join(timeout=60)
    assert fired.is_set() and (dest / "d").is_symlink()
    assert (outside / "x.txt").read_bytes() == b"not yours to delete", result.stderr
    assert result.returncode in (0, 5), result.stderr
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr
