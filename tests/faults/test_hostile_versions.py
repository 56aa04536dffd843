"""A version listing that breaks S3's order (each key's versions oldest first), served by the fault proxy in
front of moto. A point-in-time restore takes each key's first version at or before the time: trusting this
listing, it would restore the oldest version, silently. It must stop with one line, nothing written.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from tests.faults.conftest import Target
from tests.faults.hostile_versions import OldestFirst
from tests.faults.proxy import FaultPlan, FaultProxy
from tests.servers.moto import MotoServer


def test_get_as_of_stops_on_versions_listed_oldest_first(
    proxy: FaultProxy, proxied: Target, moto: MotoServer, tmp_path: Path, bucket_name: Callable[[], str]
) -> None:
    bucket = bucket_name("hostile-versions")
    direct = proxied.client(moto.endpoint_url)
    direct.create_bucket(Bucket=bucket)
    direct.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    direct.put_object(Bucket=bucket, Key="t/doc", Body=b"first")
    time.sleep(1.1)  # moto's clock has 1 s resolution: the second version is a second newer
    direct.put_object(Bucket=bucket, Key="t/doc", Body=b"second")
    now = max(v["LastModified"] for v in direct.list_object_versions(Bucket=bucket)["Versions"])
    hook = OldestFirst(bucket)
    proxy.set_plan(FaultPlan(rewrite_response=hook))
    result = proxied.run("get", "-r", "--as-of", now.isoformat(), f"s3://{bucket}/t/", str(tmp_path / "out"), timeout=60)
    assert hook.served >= 1, result.stderr
    assert result.returncode == 1, (result.returncode, result.stdout, result.stderr)
    error = result.stderr.strip().splitlines()[-1]
    assert f"s3://{bucket}/t/doc" in error and proxy.endpoint_url in error and "stopped" in error, error
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "out" / "doc").exists()
