"""Issue 15.1: a folder that vanishes in the middle of `put -r` fails alone; the rest of the tree uploads.

The first file's PUT is held in the fault proxy while the folder next in the walk is removed, so the removal
lands exactly mid-run, with no timing guesswork.
"""

from __future__ import annotations

import shutil
import threading
from collections.abc import Callable
from pathlib import Path

from tests.faults.conftest import Target
from tests.faults.proxy import FaultPlan, FaultProxy, Request
from tests.servers.moto import MotoServer


def test_a_folder_removed_mid_run_fails_alone_and_the_rest_uploads(
    proxy: FaultProxy, proxied: Target, moto: MotoServer, tmp_path: Path, bucket_name: Callable[[], str]
) -> None:
    bucket = bucket_name()
    direct = proxied.client(moto.endpoint_url)
    direct.create_bucket(Bucket=bucket)
    src = tmp_path / "src"
    (src / "d").mkdir(parents=True)
    (src / "a.txt").write_text("a")
    for i in range(30):  # far more than the window of files planned ahead of the held upload
        (src / "d" / f"f{i:02d}.txt").write_text(str(i))
    (src / "z.txt").write_text("z")
    fired = threading.Event()

    def first_put(request: Request) -> bool:
        if fired.is_set() or request.method != "PUT":
            return False
        fired.set()
        return True

    def remove_folder() -> None:
        if proxy.held.wait(60):
            shutil.rmtree(src / "d")
        proxy.release()

    proxy.set_plan(FaultPlan(hold=first_put))
    remover = threading.Thread(target=remove_folder, daemon=True)
    remover.start()
    done = proxied.run("-t", "1", "put", "-r", str(src), f"s3://{bucket}/", timeout=120)
    remover.join(timeout=60)
    assert proxy.held.is_set(), "no upload was ever held"
    assert "Traceback" not in done.stderr and "internal error" not in done.stderr, done.stderr
    assert done.returncode == 5, done.stderr
    vanished = [line for line in done.stderr.splitlines() if "vanished" in line]
    assert len(vanished) == 1 and f"{src / 'd'}{'/'}" in vanished[0], done.stderr
    keys = {o["Key"] for o in direct.list_objects_v2(Bucket=bucket).get("Contents", [])}
    assert {"a.txt", "z.txt"} <= keys
    assert len(keys) < 32  # most of d/ never made it: it was gone before its turn
