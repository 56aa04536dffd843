"""Listings that break S3's rules, served by a loopback proxy in front of moto: out of byte order, a key
repeated at a page boundary, a continuation token handed back. The merge that drives --purge must stop
before deleting anything, with one clear line naming the server and the keys; no listing may loop.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from s3safe.core.errors import ListingError
from s3safe.core.settings import ConnectionSettings
from s3safe.storage.connection import Connection
from s3safe.storage.inventory import list_inventories
from s3safe.storage.s3 import S3Storage
from tests.faults.conftest import Target
from tests.faults.hostile_listing import HostileBucketListing, HostileInventoryListing, HostileListing, walk_order
from tests.faults.proxy import FaultPlan, FaultProxy
from tests.servers.moto import MotoServer

# "a-b" < "a/x" in UTF-8 bytes ('-' is 0x2d, '/' 0x2f); a gateway that lists directory by directory
# puts a/x first, and the merge then pairs a-b with nothing on one side.
FILES = {"a-b": b"dash", "a/x": b"in a folder", "c": b"after", "d": b"more", "e": b"last"}
LIST_TIMEOUT = 90  # a listing that loops never ends: the run is bounded and counted as a failure


def _local_tree(root: Path) -> Path:
    for rel, data in FILES.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)
    return root


def _fill_bucket(direct: Any, bucket: str) -> None:
    direct.create_bucket(Bucket=bucket)
    for rel, data in FILES.items():
        direct.put_object(Bucket=bucket, Key="t/" + rel, Body=data)


def _remote_keys(direct: Any, bucket: str) -> set[str]:
    return {o["Key"] for o in direct.list_objects_v2(Bucket=bucket).get("Contents", [])}


def _run(target: Target, *args: str) -> subprocess.CompletedProcess[str]:
    try:
        return target.run(*args, timeout=LIST_TIMEOUT)
    except subprocess.TimeoutExpired:
        pytest.fail(f"s3safe {' '.join(args)} did not finish in {LIST_TIMEOUT} s: the listing loops")


UPLOADS = [("put", "-r", "--purge"), ("sync", "--purge")]
DOWNLOADS = [("get", "-r", "--purge"), ("sync", "--purge")]
BROKEN = {
    "out-of-order": (lambda bucket: HostileListing(bucket, reorder=walk_order), "out of order", "s3://{b}/t/a-b came after s3://{b}/t/a/x"),
    "repeated-key": (lambda bucket: HostileListing(bucket, repeat_boundary=True), "twice", "s3://{b}/t/a/x twice"),
}


@pytest.mark.parametrize("broken", BROKEN, ids=list(BROKEN))
@pytest.mark.parametrize("command", UPLOADS, ids=[c[0] for c in UPLOADS])
def test_upload_purge_stops_before_deleting_on_a_broken_listing(
    proxy: FaultProxy, proxied: Target, moto: MotoServer, tmp_path: Path, bucket_name: Callable[[], str],
    command: tuple[str, ...], broken: str,
) -> None:  # fmt: skip
    """Without the check, the out-of-order run uploads a-b and then deletes it (exit 0); the repeated key
    makes it delete a/x. Both objects are in the source: the run must stop with exit 1, nothing deleted."""
    bucket = bucket_name()
    direct = proxied.client(moto.endpoint_url)
    _fill_bucket(direct, bucket)
    src = _local_tree(tmp_path / "src")
    make_hook, words, detail = BROKEN[broken]
    hook = make_hook(bucket)
    proxy.set_plan(FaultPlan(rewrite_response=hook))
    result = _run(proxied, *command, str(src), f"s3://{bucket}/t/")
    assert hook.served >= 2, ("the hostile listing was never asked for", result.stdout[-2000:], result.stderr[-2000:])
    assert result.returncode == 1, (result.returncode, result.stdout[-2000:], result.stderr[-2000:])
    assert _remote_keys(direct, bucket) == {"t/" + rel for rel in FILES}
    error = result.stderr.strip().splitlines()[-1]
    assert words in error and detail.format(b=bucket) in error and proxy.endpoint_url in error, error
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr


@pytest.mark.parametrize("broken", BROKEN, ids=list(BROKEN))
@pytest.mark.parametrize("command", DOWNLOADS, ids=[c[0] for c in DOWNLOADS])
def test_download_purge_stops_before_deleting_on_a_broken_listing(
    proxy: FaultProxy, proxied: Target, moto: MotoServer, tmp_path: Path, bucket_name: Callable[[], str],
    command: tuple[str, ...], broken: str,
) -> None:  # fmt: skip
    """Without the check, restoring over a full copy deletes the restored a-b (out of order) or downloads
    a/x twice (repeated key); the run must stop with exit 1 and every local file must still be there."""
    bucket = bucket_name()
    direct = proxied.client(moto.endpoint_url)
    _fill_bucket(direct, bucket)
    dest = _local_tree(tmp_path / "restore")
    make_hook, words, detail = BROKEN[broken]
    hook = make_hook(bucket)
    proxy.set_plan(FaultPlan(rewrite_response=hook))
    result = _run(proxied, *command, f"s3://{bucket}/t/", str(dest))
    assert hook.served >= 2, ("the hostile listing was never asked for", result.stdout[-2000:], result.stderr[-2000:])
    assert result.returncode == 1, (result.returncode, result.stdout[-2000:], result.stderr[-2000:])
    assert {p.relative_to(dest).as_posix(): p.read_bytes() for p in dest.rglob("*") if p.is_file()} == FILES
    error = result.stderr.strip().splitlines()[-1]
    assert words in error and detail.format(b=bucket) in error and proxy.endpoint_url in error, error


LOOPS = {
    "same-token": {"loop_token": True},
    "two-page-cycle": {"loop_token": True, "loop_period": 2},
}
TREE_COMMANDS: dict[str, Callable[[str, Path], tuple[str, ...]]] = {
    "get": lambda bucket, tmp: ("get", "-r", f"s3://{bucket}/t/", str(tmp / "restore")),
    "put": lambda bucket, tmp: ("put", "-r", str(_local_tree(tmp / "src")), f"s3://{bucket}/t/"),
    "sync": lambda bucket, tmp: ("sync", f"s3://{bucket}/t/", str(tmp / "restore")),
    "ls": lambda bucket, tmp: ("ls", "-r", f"s3://{bucket}/t/"),
    "rm": lambda bucket, tmp: ("rm", "-r", f"s3://{bucket}/t/"),
}


# get, put and sync share one streaming listing (obstore: ~500 pages before the guard fires, seconds a run):
# both loop shapes through get, the same token through put and sync; ls and rm (botocore, quick) take both
LOOP_CASES = [(name, loop) for name in TREE_COMMANDS for loop in LOOPS if name not in ("put", "sync") or loop == "same-token"]


@pytest.mark.parametrize(("name", "loop"), LOOP_CASES, ids=[f"{name}-{loop}" for name, loop in LOOP_CASES])
def test_a_repeated_continuation_token_stops_the_listing(
    proxy: FaultProxy, proxied: Target, moto: MotoServer, tmp_path: Path, bucket_name: Callable[[], str], name: str, loop: str
) -> None:
    """A server that hands back a token it already gave: every listing path stops with one line (exit 1)
    instead of listing the same pages forever; rm deletes nothing it was not asked to."""
    bucket = bucket_name()
    direct = proxied.client(moto.endpoint_url)
    _fill_bucket(direct, bucket)
    hook = HostileListing(bucket, **LOOPS[loop])  # type: ignore[arg-type]
    proxy.set_plan(FaultPlan(rewrite_response=hook))
    result = _run(proxied, *TREE_COMMANDS[name](bucket, tmp_path))
    assert result.returncode == 1, (result.returncode, result.stdout[-2000:], result.stderr[-2000:])
    error = result.stderr.strip().splitlines()[-1]
    assert f"s3://{bucket}/t/" in error and proxy.endpoint_url in error, error
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr
    # obstore hands keys over 1,000 at a time: with these two-key pages it has asked for ~500 pages before
    # the first repeated key is seen (with S3's 1,000-key pages, one page); a loop that is not stopped
    # goes on until the hostile listing's own cap of 10,000 pages
    assert hook.served <= 1000, f"{hook.served} pages served: the listing was not stopped"


@pytest.mark.parametrize("name", ["ls", "rm"])
def test_a_cycle_of_empty_pages_stops_a_botocore_listing(
    proxy: FaultProxy, proxied: Target, moto: MotoServer, tmp_path: Path, bucket_name: Callable[[], str], name: str
) -> None:
    """Two empty pages pointing at each other list no key twice, so only the tokens show the loop
    (botocore itself only notices the same token twice in a row)."""
    bucket = bucket_name()
    direct = proxied.client(moto.endpoint_url)
    _fill_bucket(direct, bucket)
    hook = HostileListing(bucket, loop_token=True, loop_period=2, loop_empty=True)
    proxy.set_plan(FaultPlan(rewrite_response=hook))
    result = _run(proxied, *TREE_COMMANDS[name](bucket, tmp_path))
    assert result.returncode == 1, (result.returncode, result.stdout[-2000:], result.stderr[-2000:])
    assert "continuation token" in result.stderr and hook.served < 50, (hook.served, result.stderr[-2000:])


@pytest.mark.parametrize("name", ["ls", "rm"])
def test_endless_empty_pages_with_new_tokens_stop_a_botocore_listing(
    proxy: FaultProxy, proxied: Target, moto: MotoServer, tmp_path: Path, bucket_name: Callable[[], str], name: str
) -> None:
    """Every page after the first is empty and truncated, each with a token never given before: no key
    and no token repeats, so only counting empty pages in a row ends the listing (before: it ran until
    the hostile listing's own cap of 10,000 pages)."""
    bucket = bucket_name()
    direct = proxied.client(moto.endpoint_url)
    _fill_bucket(direct, bucket)
    hook = HostileListing(bucket, loop_token=True, loop_period=10**9, loop_empty=True)
    proxy.set_plan(FaultPlan(rewrite_response=hook))
    result = _run(proxied, *TREE_COMMANDS[name](bucket, tmp_path))
    assert result.returncode == 1, (result.returncode, result.stdout[-2000:], result.stderr[-2000:])
    error = result.stderr.strip().splitlines()[-1]
    assert "empty pages" in error and f"s3://{bucket}/t/" in error, error
    assert hook.served <= 110, (hook.served, result.stderr[-2000:])


def test_a_repeated_continuation_token_stops_an_object_audit(
    proxy: FaultProxy, proxied: Target, moto: MotoServer, bucket_name: Callable[[], str]
) -> None:
    """The object audit lists the whole bucket (resumable, with StartAfter) through the same checked listing."""
    bucket = bucket_name()
    _fill_bucket(proxied.client(moto.endpoint_url), bucket)
    hook = HostileListing(bucket, loop_token=True, loop_period=2, loop_empty=True)
    proxy.set_plan(FaultPlan(rewrite_response=hook))
    result = _run(proxied, "audit", "--objects", f"s3://{bucket}")
    assert result.returncode == 1, (result.returncode, result.stdout[-2000:], result.stderr[-2000:])
    assert "continuation token" in result.stderr.strip().splitlines()[-1] and hook.served < 50, (hook.served, result.stderr[-2000:])


def _reverse_each_page(size: int) -> Callable[[list[str]], list[int]]:
    def order(names: list[str]) -> list[int]:
        return [i for start in range(0, len(names), size) for i in reversed(range(start, min(start + size, len(names))))]

    return order


@pytest.mark.parametrize("name", ["ls", "rm"])
def test_keys_out_of_order_inside_one_page_stop_ls_and_rm(
    proxy: FaultProxy, proxied: Target, moto: MotoServer, tmp_path: Path, bucket_name: Callable[[], str], name: str
) -> None:
    """Found by an outside tester: each page reversed (pages in order between them) went unnoticed by ls -r and
    rm -r, because a page's entries were sorted before they were checked."""
    bucket = bucket_name()
    direct = proxied.client(moto.endpoint_url)
    _fill_bucket(direct, bucket)
    proxy.set_plan(FaultPlan(rewrite_response=HostileListing(bucket, page_size=3, reorder=_reverse_each_page(3))))
    result = _run(proxied, *TREE_COMMANDS[name](bucket, tmp_path))
    assert result.returncode == 1, (result.returncode, result.stdout[-2000:], result.stderr[-2000:])
    assert "out of order" in result.stderr, result.stderr
    assert _remote_keys(direct, bucket) == {"t/" + rel for rel in FILES}


def test_endless_empty_pages_with_new_tokens_stop_the_obstore_listing(proxy: FaultProxy, moto: MotoServer, bucket_name: Callable[[], str]) -> None:
    """get -r, put -r and sync list through obstore, which pages inside Rust: before, endless empty pages with
    fresh tokens ran until the hostile listing's own cap of 10,000 pages. Its requests are counted now: past
    100 (a batch of keys) + 100 with no batch, botocore takes over and counts the 100 empty pages in a row.
    In-process (the CLI's one line for this error is checked by the botocore tests above)."""
    bucket = bucket_name()
    _fill_bucket(Target(proxy.endpoint_url, moto.access_key, moto.secret_key).client(moto.endpoint_url), bucket)
    hook = HostileListing(bucket, loop_token=True, loop_period=10**9, loop_empty=True)
    proxy.set_plan(FaultPlan(rewrite_response=hook))
    storage = S3Storage(_library_conn(proxy))
    with pytest.raises(ListingError) as caught:
        list(storage.iter_objects_fast(bucket, "t/"))
    message = str(caught.value)
    assert "100 empty pages" in message and f"s3://{bucket}/t/" in message and proxy.endpoint_url in message, message
    assert 200 <= hook.served <= 320, hook.served  # obstore's ~200, then botocore's first page and 100 empty ones


TRUNCATED_COMMANDS: dict[str, Callable[[str, Path], tuple[str, ...]]] = {
    "sync-purge-down": lambda bucket, tmp: ("sync", "--purge", f"s3://{bucket}/t/", str(_local_tree(tmp / "restore"))),
    "ls": TREE_COMMANDS["ls"],
    "rm": TREE_COMMANDS["rm"],
}


@pytest.mark.parametrize("name", TRUNCATED_COMMANDS)
def test_a_truncated_page_without_a_token_stops_the_listing(
    proxy: FaultProxy, proxied: Target, moto: MotoServer, tmp_path: Path, bucket_name: Callable[[], str], name: str
) -> None:
    """Found by an outside tester (rt19 #1): the first page says IsTruncated=true but gives no
    NextContinuationToken. Before, botocore took it as the whole listing: `ls -r` and `rm -r` showed or
    removed two keys, exit 0. The rest cannot be reached, so the run stops (exit 1), nothing deleted."""
    bucket = bucket_name()
    direct = proxied.client(moto.endpoint_url)
    _fill_bucket(direct, bucket)
    hook = HostileListing(bucket, drop_token=True)
    proxy.set_plan(FaultPlan(rewrite_response=hook))
    result = _run(proxied, *TRUNCATED_COMMANDS[name](bucket, tmp_path))
    assert hook.served >= 1, ("the hostile listing was never asked for", result.stdout[-2000:], result.stderr[-2000:])
    assert result.returncode == 1, (result.returncode, result.stdout[-2000:], result.stderr[-2000:])
    error = result.stderr.strip().splitlines()[-1]
    assert "NextContinuationToken" in error and f"s3://{bucket}/t/" in error and proxy.endpoint_url in error, error
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr
    assert _remote_keys(direct, bucket) == {"t/" + rel for rel in FILES}
    if name == "sync-purge-down":  # obstore's listing: before, the local c, d and e were deleted (exit 0)
        restored = tmp_path / "restore"
        assert {p.relative_to(restored).as_posix(): p.read_bytes() for p in restored.rglob("*") if p.is_file()} == FILES


def test_a_truncated_page_without_a_token_is_a_listing_error_in_process(
    proxy: FaultProxy, moto: MotoServer, bucket_name: Callable[[], str]
) -> None:
    """The botocore listing of the library, at the storage seam."""
    bucket = bucket_name()
    _fill_bucket(Target(proxy.endpoint_url, moto.access_key, moto.secret_key).client(moto.endpoint_url), bucket)
    proxy.set_plan(FaultPlan(rewrite_response=HostileListing(bucket, drop_token=True)))
    storage = S3Storage(_library_conn(proxy))
    with pytest.raises(ListingError) as caught:
        list(storage.iter_entries(bucket, "t/", recursive=True))
    assert "NextContinuationToken" in str(caught.value) and f"s3://{bucket}/t/" in str(caught.value), str(caught.value)


INVENTORY_IDS = ["inv-a", "inv-b", "inv-c"]


def _three_inventories(direct: Any, bucket: str) -> None:
    direct.create_bucket(Bucket=bucket)
    for config_id in INVENTORY_IDS:
        direct.put_bucket_inventory_configuration(Bucket=bucket, Id=config_id, InventoryConfiguration={
            "Id": config_id, "IsEnabled": True, "IncludedObjectVersions": "Current", "Schedule": {"Frequency": "Daily"},
            "Destination": {"S3BucketDestination": {"Bucket": f"arn:aws:s3:::{bucket}-reports", "Format": "CSV"}},
        })  # fmt: skip


def _library_conn(proxy: FaultProxy) -> Connection:
    """The library's connection through the proxy, with no retry to hide what it answers."""
    return Connection(ConnectionSettings(endpoint_url=proxy.endpoint_url, allow_http=True, region="us-east-1", retries=0))


def _inventory_pages(proxy: FaultProxy, moto: MotoServer, bucket: str, **bent: bool) -> tuple[HostileInventoryListing, Connection]:
    """Three configurations in a new bucket, listed through the proxy by HostileInventoryListing(**bent)."""
    _three_inventories(Target(proxy.endpoint_url, moto.access_key, moto.secret_key).client(moto.endpoint_url), bucket)
    hook = HostileInventoryListing(bucket, **bent)
    proxy.set_plan(FaultPlan(rewrite_response=hook))
    return hook, _library_conn(proxy)


def test_inventory_configurations_are_listed_across_pages(
    proxy: FaultProxy, moto: MotoServer, bucket_name: Callable[[], str]
) -> None:
    """The hostile listing's pages, unbent, give every configuration once: what the two tests below bend."""
    bucket = bucket_name()
    hook, conn = _inventory_pages(proxy, moto, bucket)
    assert [c["Id"] for c in list_inventories(conn, bucket)] == INVENTORY_IDS and hook.served == 3


def test_a_truncated_inventory_page_without_a_token_stops_inventory_status(
    proxy: FaultProxy, proxied: Target, moto: MotoServer, bucket_name: Callable[[], str]
) -> None:
    """Before, list_inventories took a truncated page without NextContinuationToken as the last one:
    `inventory status` showed one configuration of three, exit 0 (and `audit --inventory` could miss its own)."""
    bucket = bucket_name()
    _three_inventories(proxied.client(moto.endpoint_url), bucket)
    hook = HostileInventoryListing(bucket, drop_token=True)
    proxy.set_plan(FaultPlan(rewrite_response=hook))
    result = _run(proxied, "inventory", "status", f"s3://{bucket}")
    assert hook.served == 1, hook.served
    assert result.returncode == 1, (result.returncode, result.stdout[-2000:], result.stderr[-2000:])
    error = result.stderr.strip().splitlines()[-1]
    assert "NextContinuationToken" in error and f"s3://{bucket}" in error and proxy.endpoint_url in error, error
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr


def test_a_repeated_inventory_token_stops_the_listing(
    proxy: FaultProxy, moto: MotoServer, bucket_name: Callable[[], str]
) -> None:
    """Before, a token handed back was followed up to the 1,000-page bound and the same configuration
    came back a thousand times, without an error."""
    bucket = bucket_name()
    hook, conn = _inventory_pages(proxy, moto, bucket, loop_token=True)
    with pytest.raises(ListingError) as caught:
        list_inventories(conn, bucket)
    message = str(caught.value)
    assert "continuation token it had already given" in message and f"s3://{bucket}" in message, message
    assert hook.served == 2, hook.served  # the first page, then the one that hands its token back


def test_inventory_pages_past_s3s_bound_stop_the_listing(
    proxy: FaultProxy, moto: MotoServer, bucket_name: Callable[[], str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Pages that each list a configuration and ask for another under a new token: no token repeats and no page
    is empty, so only S3's bound ends it. Before, the loop ended there without a word, with a list of the same
    configurations a thousand times. The bound is lowered to 5 pages here (the same code path, 5 requests)."""
    monkeypatch.setattr("s3safe.storage.inventory.MAX_PAGES", 5)
    bucket = bucket_name()
    hook, conn = _inventory_pages(proxy, moto, bucket, endless=True)
    with pytest.raises(ListingError) as caught:
        list_inventories(conn, bucket)
    assert "goes on past 5 pages" in str(caught.value) and f"s3://{bucket}" in str(caught.value), str(caught.value)
    assert hook.served == 5, hook.served


def _bucket_pages(proxy: FaultProxy, moto: MotoServer, bucket_name: Callable[[], str], **bent: bool) -> HostileBucketListing:
    """moto's buckets (these three and every earlier test's) served in three pages, the last holding this test's."""
    direct = Target(proxy.endpoint_url, moto.access_key, moto.secret_key).client(moto.endpoint_url)
    for _ in range(3):
        direct.create_bucket(Bucket=bucket_name())
    hook = HostileBucketListing(page_size=max(1, -(-len(direct.list_buckets()["Buckets"]) // 3)), **bent)
    proxy.set_plan(FaultPlan(rewrite_response=hook))
    return hook


def test_every_page_of_buckets_is_listed(proxy: FaultProxy, moto: MotoServer, bucket_name: Callable[[], str]) -> None:
    """Before, list_buckets read one answer and ignored its ContinuationToken: the buckets past the first page
    were missing from `ls` and from an account audit, without a word."""
    hook = _bucket_pages(proxy, moto, bucket_name)
    conn = _library_conn(proxy)
    listed = [b.name for b in S3Storage(conn).list_buckets()]
    direct = Target(proxy.endpoint_url, moto.access_key, moto.secret_key).client(moto.endpoint_url)
    assert listed == [b["Name"] for b in direct.list_buckets()["Buckets"]] and hook.served == 3, (hook.served, len(listed))


def test_a_repeated_bucket_token_stops_ls(
    proxy: FaultProxy, proxied: Target, moto: MotoServer, bucket_name: Callable[[], str]
) -> None:
    hook = _bucket_pages(proxy, moto, bucket_name, loop_token=True)
    result = _run(proxied, "ls")
    assert result.returncode == 1, (result.returncode, result.stdout[-2000:], result.stderr[-2000:])
    error = result.stderr.strip().splitlines()[-1]
    assert "continuation token it had already given" in error and proxy.endpoint_url in error, error
    assert "Traceback" not in result.stderr and hook.served == 2, (hook.served, result.stderr[-2000:])


def test_bucket_pages_that_never_end_stop_at_what_an_account_can_hold(
    proxy: FaultProxy, moto: MotoServer, bucket_name: Callable[[], str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Pages that each list buckets and ask for more under a new token: no token repeats and no page is empty,
    so only the bound on the count ends it (AWS's 1,000,000 buckets per account; lowered here to the moto
    buckets served twice over, the same code path)."""
    hook = _bucket_pages(proxy, moto, bucket_name, endless=True)
    direct = Target(proxy.endpoint_url, moto.access_key, moto.secret_key).client(moto.endpoint_url)
    total = len(direct.list_buckets()["Buckets"])
    monkeypatch.setattr("s3safe.storage.s3.MAX_BUCKETS", 2 * total)
    conn = _library_conn(proxy)
    with pytest.raises(ListingError) as caught:
        S3Storage(conn).list_buckets()
    assert f"goes on past {2 * total:,} buckets" in str(caught.value), str(caught.value)
    assert 6 <= hook.served <= 8, hook.served  # three pages hold every bucket once: two rounds and a page
