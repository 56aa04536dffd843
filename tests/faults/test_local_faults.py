"""Local faults: a file rewritten while it is being uploaded, and a full disk while downloading.

The upload is held in the fault proxy at a chosen request, the file is changed, then the request goes on:
the change lands exactly mid-upload, with no timing guesswork.
"""

from __future__ import annotations

import hashlib
import os
import resource
import signal
import subprocess
import threading
from collections.abc import Callable
from pathlib import Path

from tests.faults.conftest import Target, open_uploads
from tests.faults.proxy import FaultPlan, FaultProxy, Request
from tests.servers.moto import MotoServer

MiB = 1024 * 1024


def _once(test: Callable[[Request], bool]) -> Callable[[Request], bool]:
    fired = threading.Event()

    def hold(request: Request) -> bool:
        if fired.is_set() or not test(request):
            return False
        fired.set()
        return True

    return hold


def _change_when_held(proxy: FaultProxy, path: Path, data: bytes) -> threading.Thread:
    def change() -> None:
        if proxy.held.wait(60):
            path.write_bytes(data)
            os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 1_000_000_000))
        proxy.release()

    thread = threading.Thread(target=change, daemon=True)
    thread.start()
    return thread


def test_file_changed_between_multipart_parts_is_reported_and_the_old_object_kept(
    proxy: FaultProxy, proxied: Target, moto: MotoServer, tmp_path: Path, bucket_name: Callable[[], str]
) -> None:
    """Part 2 of 3 is held while the file's tail is rewritten: completing would store old part 1 with new
    part 3. s3safe must abort instead (exit 6, one clear line) and leave the previous object as it was."""
    bucket = bucket_name()
    direct = proxied.client(moto.endpoint_url)
    direct.create_bucket(Bucket=bucket)
    direct.put_object(Bucket=bucket, Key="big.bin", Body=b"previous version")
    path = tmp_path / "big.bin"
    old = os.urandom(12 * MiB)
    path.write_bytes(old)
    new = old[: 10 * MiB] + os.urandom(2 * MiB)
    proxy.set_plan(FaultPlan(hold=_once(lambda r: r.method == "PUT" and "partNumber=2" in r.target)))
    changer = _change_when_held(proxy, path, new)
    result = proxied.run("-t", "1", "put", "--part-size", "5MiB", str(path), f"s3://{bucket}/big.bin", timeout=120)
    changer.join(timeout=60)
    assert proxy.held.is_set(), "the upload never reached part 2"
    assert result.returncode == 6, result.stderr[-2000:]
    errors = [line for line in result.stderr.splitlines() if "error" in line]
    assert len(errors) == 1 and "changed while it was being uploaded" in errors[0], result.stderr
    assert direct.get_object(Bucket=bucket, Key="big.bin")["Body"].read() == b"previous version"
    assert open_uploads(direct, bucket) == []
    proxy.clear()
    again = proxied.run("put", "--part-size", "5MiB", str(path), f"s3://{bucket}/big.bin", timeout=120)
    assert again.returncode == 0, again.stderr[-2000:]
    assert hashlib.sha256(direct.get_object(Bucket=bucket, Key="big.bin")["Body"].read()).digest() == hashlib.sha256(new).digest()


def test_file_changed_during_a_single_put_is_reported_and_what_was_stored_is_whole(
    proxy: FaultProxy, proxied: Target, moto: MotoServer, tmp_path: Path, bucket_name: Callable[[], str]
) -> None:
    """A tree upload whose one PUT is held while its file is rewritten: that file is reported as failed
    (exit 6: its only failure is the integrity check, as for a single put of a changing file), the others upload; the stored object is one whole version whose recorded SHA-256 matches its
    bytes (never a mix); the next --only-diff run uploads the new content."""
    bucket = bucket_name()
    direct = proxied.client(moto.endpoint_url)
    direct.create_bucket(Bucket=bucket)
    src = tmp_path / "src"
    src.mkdir()
    for i in range(5):
        (src / f"other{i}.txt").write_bytes(os.urandom(1000))
    path = src / "live.log"
    old, new = os.urandom(3 * MiB), os.urandom(3 * MiB + 7)
    path.write_bytes(old)
    proxy.set_plan(FaultPlan(hold=_once(lambda r: r.method == "PUT" and r.target.split("?")[0].endswith("/live.log"))))
    changer = _change_when_held(proxy, path, new)
    result = proxied.run("--json", "put", "-r", "--only-diff", str(src), f"s3://{bucket}/t/", timeout=120)
    changer.join(timeout=60)
    assert proxy.held.is_set()
    assert result.returncode == 6, result.stderr[-2000:]
    failed = [line for line in result.stdout.splitlines() if '"ok": false' in line]
    assert len(failed) == 1 and "live.log" in failed[0] and "changed while it was being uploaded" in failed[0], result.stdout
    stored = direct.get_object(Bucket=bucket, Key="t/live.log")
    body = stored["Body"].read()
    assert body in (old, new)  # whole, never torn
    assert stored["Metadata"].get("s3safe-sha256") == hashlib.sha256(body).hexdigest()
    assert len(direct.list_objects_v2(Bucket=bucket, Prefix="t/other")["Contents"]) == 5
    proxy.clear()
    again = proxied.run("put", "-r", "--only-diff", str(src), f"s3://{bucket}/t/", timeout=120)
    assert again.returncode == 0, again.stderr[-2000:]
    assert direct.get_object(Bucket=bucket, Key="t/live.log")["Body"].read() == new


def _limit_file_size(limit: int) -> Callable[[], None]:
    def apply() -> None:
        # writes past the limit fail with EFBIG instead of killing the process with SIGXFSZ
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return apply


def test_disk_full_during_download_is_one_clear_error_and_leaves_no_file(
    moto_target: Target, tmp_path: Path, bucket_name: Callable[[], str]
) -> None:
    """No tmpfs can be mounted without root, so the disk is 'full' through RLIMIT_FSIZE (the kernel refuses
    writes past 2 MiB with EFBIG, as a full disk refuses them with ENOSPC): `get` exits 1 with one line
    naming the file, nothing is left at the destination; `get -r` reports the file and exits 5."""
    bucket = bucket_name()
    client = moto_target.client()
    client.create_bucket(Bucket=bucket)
    client.put_object(Bucket=bucket, Key="t/big.bin", Body=os.urandom(6 * MiB))
    client.put_object(Bucket=bucket, Key="t/small.txt", Body=b"fits")
    dest = tmp_path / "restore"
    dest.mkdir()
    env = moto_target.full_env()
    one = subprocess.run(moto_target.command("get", f"s3://{bucket}/t/big.bin", str(dest)), capture_output=True, text=True,
                         env=env, timeout=120, preexec_fn=_limit_file_size(2 * MiB), check=False)  # fmt: skip
    assert one.returncode == 1, one.stderr
    errors = [line for line in one.stderr.splitlines() if "error" in line]
    assert len(errors) == 1 and "big.bin" in errors[0] and "internal error" not in errors[0], one.stderr
    assert "Traceback" not in one.stderr
    assert list(dest.iterdir()) == []
    tree = subprocess.run(moto_target.command("get", "-r", f"s3://{bucket}/t/", str(dest)), capture_output=True, text=True,
                          env=env, timeout=120, preexec_fn=_limit_file_size(2 * MiB), check=False)  # fmt: skip
    assert tree.returncode == 5, tree.stderr
    assert "big.bin" in tree.stderr and "Traceback" not in tree.stderr
    assert sorted(p.name for p in dest.rglob("*")) == ["small.txt"]
