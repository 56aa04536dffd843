"""The reads an upload needs before its first PUT (the bucket is there, its Object Ownership, its default encryption,
and whether the endpoint honours conditional writes) go out at once: one round trip before the first upload, not
four or five in a row. Shown at the proxy: while the HeadBucket is held there, the others arrive."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest

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
    src = _tree(tmp_path, 1)
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
    assert proxied.client(moto.endpoint_url).get_object(Bucket=bucket, Key="t/f0.txt")["Body"].read() == b"0\n"


def test_a_missing_bucket_is_still_reported_as_missing(proxied: Target, tmp_path: Path, bucket_name: Callable[[], str]) -> None:
    """The reads go out together, but the answers are taken in order: the missing bucket is what is said."""
    src = _tree(tmp_path, 1)
    result = proxied.run("put", "-r", str(src), f"s3://{bucket_name()}/t/", timeout=120)
    assert result.returncode == 3, result.stderr
    assert "does not exist" in result.stderr or "no such bucket" in result.stderr.lower(), result.stderr
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr


def _is_head_bucket(bucket: str) -> Callable[[Request], bool]:
    return lambda request: request.method == "HEAD" and request.target.split("?")[0].rstrip("/") == f"/{bucket}"


def _tree(tmp_path: Path, files: int) -> Path:
    src = tmp_path / "src"
    src.mkdir()
    for n in range(files):
        (src / f"f{n}.txt").write_text(f"{n}\n")
    return src


@pytest.mark.parametrize("fault", ["refused", "no-answer"])
def test_a_bucket_the_run_cannot_open_ends_it_with_one_line_asked_once(
    fault: str, proxy: FaultProxy, proxied: Target, moto: MotoServer, tmp_path: Path, bucket_name: Callable[[], str]
) -> None:
    """rt23 G: the failed bucket check was one FAILED line per file (exit 5), asked again for every file one after
    another (a HEAD that did not answer cost files x retries x --timeout); B: a read that timed out was reported
    as the local file's ("cannot read …/f1: Read timeout")."""
    bucket = bucket_name()
    direct = proxied.client(moto.endpoint_url)
    direct.create_bucket(Bucket=bucket)
    src = _tree(tmp_path, 6)
    head = _is_head_bucket(bucket)
    if fault == "refused":
        proxy.set_plan(FaultPlan(error=1.0, eligible=head))  # 500 InternalError
    else:
        proxy.set_plan(FaultPlan(stall=1.0, stall_seconds=4.0, eligible=head))
    result = proxied.run("--retries", "0", "--timeout", "1", "put", "-r", str(src), f"s3://{bucket}/t/", timeout=120)
    lines = [line for line in result.stderr.splitlines() if "plain HTTP" not in line]
    assert result.returncode == 1, result.stderr
    assert len(lines) == 1 and f"s3://{bucket}" in lines[0] and "FAILED" not in result.stdout + result.stderr, result.stderr
    assert "cannot read" not in lines[0] and str(src) not in lines[0], lines[0]
    if fault == "no-answer":
        assert "did not answer within --timeout" in lines[0], lines[0]
    asked = [entry for entry in list(proxy.log) if entry[1] == "HEAD" and entry[2].split("?")[0].rstrip("/") == f"/{bucket}"]
    assert len(asked) == 1, asked
    assert direct.list_objects_v2(Bucket=bucket).get("KeyCount", 0) == 0


def test_an_ownership_read_that_does_not_answer_is_not_known_and_the_upload_goes_on(
    proxy: FaultProxy, proxied: Target, moto: MotoServer, tmp_path: Path, bucket_name: Callable[[], str]
) -> None:
    """As a 403 or a 500 to that read: the ownership is not known, the ACL falls back as documented; never a
    failure of the local files."""
    bucket = bucket_name()
    direct = proxied.client(moto.endpoint_url)
    direct.create_bucket(Bucket=bucket)
    src = _tree(tmp_path, 3)
    proxy.set_plan(FaultPlan(stall=1.0, stall_seconds=4.0, eligible=lambda r: "ownershipControls" in r.target))
    result = proxied.run("-v", "--retries", "0", "--timeout", "1", "put", "-r", str(src), f"s3://{bucket}/t/", timeout=120)
    assert result.returncode == 0, result.stderr
    assert f"cannot read {src}" not in result.stdout + result.stderr
    # said in s3safe's words at -v (rt24 N3: botocore's "Read timeout on endpoint URL"), the raw ones only at --debug
    assert "Object Ownership" in result.stderr and "did not answer within --timeout" in result.stderr, result.stderr
    assert "Read timeout on endpoint URL" not in result.stderr, result.stderr
    assert sorted(o["Key"] for o in direct.list_objects_v2(Bucket=bucket)["Contents"]) == [f"t/f{n}.txt" for n in range(3)]
