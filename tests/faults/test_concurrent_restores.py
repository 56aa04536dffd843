"""Two restores into one folder at once: the temp-file sweep of one run must leave alone the temp file the
other run is still writing (it holds an advisory lock on it); only temps a killed run left are removed."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from tests.faults.conftest import Target
from tests.faults.flip import key_of
from tests.faults.hostile_listing import HostileListing
from tests.faults.proxy import FaultPlan, FaultProxy
from tests.servers.moto import MotoServer

BIG = os.urandom(256 * 1024)


def test_the_sweep_of_one_run_keeps_the_live_temp_file_of_another(
    proxy: FaultProxy, proxied: Target, moto: MotoServer, tmp_path: Path, bucket_name: Callable[[], str]
) -> None:
    bucket = bucket_name()
    direct = proxied.client(moto.endpoint_url)
    direct.create_bucket(Bucket=bucket)
    direct.put_object(Bucket=bucket, Key="a/big", Body=BIG)
    direct.put_object(Bucket=bucket, Key="b/small", Body=b"small\n")
    out = tmp_path / "cc"
    out.mkdir()
    # the GET of a/big waits at the proxy while run A already holds its temp file open beside cc/big
    proxy.set_plan(FaultPlan(hold=lambda r: r.method == "GET" and key_of(r, bucket) == "a/big"))
    log_a = tmp_path / "a.log"
    run_a = proxied.popen("-t", "1", "--max-bandwidth", "100MB", "get", "-r", f"s3://{bucket}/a/", str(out), log=log_a)
    try:
        assert proxy.held.wait(60), log_a.read_text()
        assert [p.name for p in out.iterdir() if p.name.endswith(".s3safe-tmp")], "run A has no temp file yet"
        run_b = proxied.run("get", "-r", f"s3://{bucket}/b/", str(out), timeout=120)
        assert run_b.returncode == 0, run_b.stdout + run_b.stderr
        assert "remove-temp" not in run_b.stdout, run_b.stdout
        assert [p.name for p in out.iterdir() if p.name.endswith(".s3safe-tmp")], "run B removed run A's live temp file"
    finally:
        proxy.release()
        run_a.wait(120)
    assert run_a.returncode == 0, log_a.read_text()
    assert (out / "big").read_bytes() == BIG
    assert (out / "small").read_bytes() == b"small\n"
    assert not [p.name for p in out.iterdir() if p.name.endswith(".s3safe-tmp")]


def test_a_local_folder_that_vanishes_during_the_destination_walk_fails_alone(
    proxy: FaultProxy, proxied: Target, moto: MotoServer, tmp_path: Path, bucket_name: Callable[[], str]
) -> None:
    bucket = bucket_name()
    direct = proxied.client(moto.endpoint_url)
    direct.create_bucket(Bucket=bucket)
    out = tmp_path / "dl"
    (out / "d").mkdir(parents=True)
    keys = ["a", *(f"d/f{i:02d}" for i in range(20)), "z"]
    for key in keys:
        direct.put_object(Bucket=bucket, Key=f"t/{key}", Body=key.encode())
        (out / key).write_bytes(key.encode())  # the folder already holds the tree: the walk stats each file
    # pages of two keys; the second page waits at the proxy while the walk of dl/d is under way
    proxy.set_plan(FaultPlan(rewrite_response=HostileListing(bucket, page_size=2),
                             hold=lambda r: r.method == "GET" and "continuation-token=hostile-1" in r.target))  # fmt: skip
    log = tmp_path / "run.log"
    # --where lists through botocore, page by page as the plan asks (obstore reads ahead): the walk of dl/d
    # has begun when page two is asked for
    child = proxied.popen("-t", "1", "get", "-r", "--where", "size >= 0", f"s3://{bucket}/t/", str(out), log=log)
    try:
        assert proxy.held.wait(60), log.read_text()
        (out / "d").rename(tmp_path / "elsewhere")
    finally:
        proxy.release()
        child.wait(120)
    text = log.read_text()
    assert "Traceback" not in text and "internal error" not in text, text
    assert child.returncode == 5, text
    failed = [line for line in text.splitlines() if "FAILED" in line]
    # Which shape the failure takes depends on whether the walk had read dl/d's entries before the rename (page
    # one already names d/f00, so it usually has; under load the merge can still be before it): one line for
    # the folder, or one per file that was in it. Either way only what was under dl/d fails, by its full path.
    folder = [line for line in failed if f"{out / 'd'}/" in line and "vanished" in line]
    per_file = [line for line in failed if f"{out / 'd'}/f" in line and "it does not exist" in line]
    assert (len(failed) == 1 and folder) or (len(per_file) == len(failed) >= 1), text
    assert (out / "a").read_bytes() == b"a" and (out / "z").read_bytes() == b"z"
    # nothing was written into the renamed folder or recreated in its place
    assert sorted(p.name for p in (tmp_path / "elsewhere").iterdir()) == [f"f{i:02d}" for i in range(20)]
    assert all((tmp_path / "elsewhere" / f"f{i:02d}").read_bytes() == f"d/f{i:02d}".encode() for i in range(20))
