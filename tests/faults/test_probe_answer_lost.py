"""A probe whose answer is lost leaves nothing behind (rt23 A): once its request went out, the server may have
acted on it, so what the probe may have left at its own key is looked for and removed."""

from __future__ import annotations

from collections.abc import Callable

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
