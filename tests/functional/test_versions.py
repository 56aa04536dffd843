"""Versions on a server that keeps them (moto): ls --versions, --version-id, get -r --as-of, revert, undelete.

The bad day: a tree is backed up, then ransomware rewrites some files and deletes others, and the nightly
`sync --purge` faithfully uploads the damage. The tree as it was before must come back, byte-identical
with modes and mtimes, into a folder (`get -r --as-of`) or in place (`revert -r --as-of`, `undelete -r`).
Times come from the server's LastModified (moto's clock has 1 s resolution: phases are a second apart).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from subprocess import CompletedProcess
from typing import Any

import boto3
import pytest

from s3safe.core.errors import DeleteCapRefusal, NotFoundError, S3SafeError, UsageError
from s3safe.core.locations import S3Url
from s3safe.core.safety import SafetyGate
from s3safe.core.settings import ConnectionSettings
from s3safe.core.timespec import parse_point_in_time
from s3safe.ops.meta import meta_get
from s3safe.ops.versions import revert, undelete
from s3safe.storage.connection import Connection
from s3safe.transfer.download import download_file
from s3safe.transfer.engine import TreeOptions, TreeSummary, download_tree, upload_tree
from s3safe.transfer.state import StateCache
from tests.servers.moto import MotoServer

Run = Callable[..., CompletedProcess[str]]
PREFIX = "site/"
ORIGINAL = {  # relative path: (bytes, mode)
    "index.html": (b"<h1>home</h1>\n", 0o644),
    "bin/run.sh": (b"#!/bin/sh\necho run\n", 0o755),
    "docs/keep.md": (b"kept as it was\n", 0o640),
    "docs/gone.md": (b"deleted by the attacker\n", 0o600),
    "docs/old/notes.txt": (b"notes, also deleted\n", 0o644),
}
MTIME = 1_600_000_000  # 2020-09-13: restored mtimes must be these, not the time of the restore
DAMAGE = {"index.html": b"ENCRYPTED!!", "bin/run.sh": b"ENCRYPTED!!!!"}
DELETED = ("docs/gone.md", "docs/old/notes.txt")
RANSOM = "README-RANSOM.txt"


@dataclass
class History:
    bucket: str
    before: datetime  # the newest LastModified of the first backup: the tree "as it was"
    damaged: Path  # the local folder after the attack (what the sync uploaded)


def _client(moto: MotoServer) -> Any:
    return boto3.client("s3", endpoint_url=moto.endpoint_url, region_name="us-east-1",
                        aws_access_key_id=moto.access_key, aws_secret_access_key=moto.secret_key)  # fmt: skip


def _write_original(root: Path) -> None:
    for rel, (data, mode) in ORIGINAL.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        path.chmod(mode)
        os.utime(path, (MTIME, MTIME))


def _sync_up(conn: Connection, root: Path, bucket: str, state: Path) -> None:
    summary = TreeSummary()
    cache = StateCache(state / "verified.sqlite")
    try:
        results = list(upload_tree(conn, root, S3Url(bucket, PREFIX), options=TreeOptions(mode="diff", purge=True),
                                   gate=SafetyGate(), summary=summary, cache=cache))  # fmt: skip
    finally:
        cache.close()
    assert summary.failed == 0, [r for r in results if not r.ok]


def _attack(root: Path) -> None:
    for rel, data in DAMAGE.items():
        (root / rel).write_bytes(data)
    for rel in DELETED:
        (root / rel).unlink()
    (root / RANSOM).write_text("pay up\n")


def _newest_time(client: Any, bucket: str) -> datetime:
    versions = client.list_object_versions(Bucket=bucket).get("Versions", [])
    return max(v["LastModified"] for v in versions)


def _make_history(moto: MotoServer, root: Path, bucket: str) -> History:
    """Backup, a second's pause, then the attack synced with --purge (new versions, delete markers, a new key)."""
    client = _client(moto)
    client.create_bucket(Bucket=bucket)
    client.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    conn = _conn(moto)
    tree = root / "server"
    _write_original(tree)
    _sync_up(conn, tree, bucket, root / "state")
    before = _newest_time(client, bucket)
    time.sleep(1.1)  # moto's LastModified has 1 s resolution: the attack lands in a later second
    _attack(tree)
    _sync_up(conn, tree, bucket, root / "state")
    assert _newest_time(client, bucket) > before
    return History(bucket, before, tree)


@pytest.fixture(scope="module")
def history(moto_server: MotoServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[History]:
    """One damaged bucket for the tests that only read it."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("AWS_ACCESS_KEY_ID", moto_server.access_key)
        mp.setenv("AWS_SECRET_ACCESS_KEY", moto_server.secret_key)
        mp.setenv("S3SAFE_STATE_DIR", str(tmp_path_factory.mktemp("state")))
        yield _make_history(moto_server, tmp_path_factory.mktemp("history"), f"versions-{os.getpid()}-{time.time_ns() % 10**9}")


def _cli(run_cli: Run, moto: MotoServer, *args: str) -> CompletedProcess[str]:
    return run_cli("--endpoint-url", moto.endpoint_url, "--allow-http", *args)


def _tree_state(root: Path) -> dict[str, tuple[bytes, int, int]]:
    return {p.relative_to(root).as_posix(): (p.read_bytes(), p.stat().st_mode & 0o7777, int(p.stat().st_mtime))
            for p in root.rglob("*") if p.is_file()}  # fmt: skip


def _one_error(result: CompletedProcess[str]) -> str:
    assert "Traceback" not in result.stderr, result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("s3safe: error:")]
    assert len(errors) == 1, result.stderr
    return errors[0]


def _current(client: Any, bucket: str) -> dict[str, bytes]:
    keys = [o["Key"] for o in client.list_objects_v2(Bucket=bucket).get("Contents", [])]
    return {k[len(PREFIX):]: client.get_object(Bucket=bucket, Key=k)["Body"].read() for k in keys}


def _all_versions(client: Any, bucket: str) -> list[tuple[str, str, bool]]:
    r = client.list_object_versions(Bucket=bucket)
    return sorted((v["Key"], v["VersionId"], v["IsLatest"]) for v in r.get("Versions", []) + r.get("DeleteMarkers", []))


# --- get -r --as-of ------------------------------------------------------------------------------------


def test_get_as_of_restores_the_tree_before_the_damage_over_the_damaged_folder(
    run_cli: Run, moto: MotoServer, history: History, tmp_path: Path
) -> None:
    """Into a copy of the damaged folder, with --only-diff --purge: the ransom note goes, the encrypted
    files and the deleted ones come back byte-identical, with their modes and mtimes."""
    import shutil

    target = tmp_path / "restore"
    shutil.copytree(history.damaged, target)
    result = _cli(run_cli, moto, "get", "-r", "--as-of", history.before.isoformat(), "--only-diff", "--purge",
                  f"s3://{history.bucket}/{PREFIX}", str(target))  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert _tree_state(target) == {rel: (data, mode, MTIME) for rel, (data, mode) in ORIGINAL.items()}
    assert "docs/keep.md" not in result.stdout  # unchanged since: not downloaded again


def test_get_as_of_into_an_empty_folder_and_now_gives_the_damage(run_cli: Run, moto: MotoServer, history: History, tmp_path: Path) -> None:
    result = _cli(run_cli, moto, "get", "-r", "--as-of", history.before.isoformat(), f"s3://{history.bucket}/{PREFIX}", str(tmp_path / "a"))
    assert result.returncode == 0, result.stderr
    assert _tree_state(tmp_path / "a") == {rel: (data, mode, MTIME) for rel, (data, mode) in ORIGINAL.items()}
    # an age of zero seconds is now: the tree as the attack left it
    conn = _conn(moto)
    now = parse_point_in_time("0s", now=datetime.now(UTC))
    summary = TreeSummary()
    list(download_tree(conn, S3Url(history.bucket, PREFIX), tmp_path / "b", options=TreeOptions(as_of=now), gate=SafetyGate(), summary=summary))
    assert summary.failed == 0
    assert {rel: data for rel, (data, _m, _t) in _tree_state(tmp_path / "b").items()} == {
        rel: p.read_bytes() for rel, p in ((p.relative_to(history.damaged).as_posix(), p) for p in history.damaged.rglob("*") if p.is_file())
    }


def test_get_as_of_before_the_first_backup_is_not_found(run_cli: Run, moto: MotoServer, history: History, tmp_path: Path) -> None:
    result = _cli(run_cli, moto, "get", "-r", "--as-of", "2001-01-01T00:00:00Z", f"s3://{history.bucket}/{PREFIX}", str(tmp_path / "x"))
    assert result.returncode == 3
    assert "at 2001-01-01" in _one_error(result)
    assert not (tmp_path / "x").exists()


def test_a_time_without_zone_is_a_usage_error(run_cli: Run, moto: MotoServer, history: History, tmp_path: Path) -> None:
    result = _cli(run_cli, moto, "get", "-r", "--as-of", "2026-12-01T10:00:00", f"s3://{history.bucket}/{PREFIX}", str(tmp_path / "x"))
    assert result.returncode == 2
    assert "has no time zone" in _one_error(result)
    assert not (tmp_path / "x").exists()


# --- ls --versions, --version-id -----------------------------------------------------------------------


def test_ls_versions_json_and_where(run_cli: Run, moto: MotoServer, history: History) -> None:
    url = f"s3://{history.bucket}/{PREFIX}"
    listed = _cli(run_cli, moto, "--json", "ls", "-r", "--versions", url)
    assert listed.returncode == 0, listed.stderr
    rows = [json.loads(line) for line in listed.stdout.splitlines() if json.loads(line)["type"] == "object"]
    direct = _client(moto).list_object_versions(Bucket=history.bucket, Prefix=PREFIX)
    expected = {(v["Key"], v["VersionId"]) for v in direct.get("Versions", []) + direct.get("DeleteMarkers", [])}
    assert {(r["key"], r["version_id"]) for r in rows} == expected
    index = [r for r in rows if r["key"] == PREFIX + "index.html"]
    assert [r["is_latest"] for r in index] == [True, False]  # newest first
    assert [r["size"] for r in index] == [len(DAMAGE["index.html"]), len(ORIGINAL["index.html"][0])]
    assert all(r["storage_class"] for r in rows if not r["is_delete_marker"])
    markers = _cli(run_cli, moto, "--json", "ls", "-r", "--versions", url, "--where", "s3_is_delete_marker = true and s3_is_latest")
    assert markers.returncode == 0, markers.stderr
    found = [json.loads(line) for line in markers.stdout.splitlines()]
    assert sorted(r["key"] for r in found if r["type"] == "object") == sorted(PREFIX + rel for rel in DELETED)
    one = next(r for r in index if not r["is_latest"])
    text = _cli(run_cli, moto, "ls", "-r", "--versions", url, "--where", f"s3_version_id = '{one['version_id']}' or s3_path = '{PREFIX}docs/gone.md'")
    shown = text.stdout.splitlines()
    assert len(shown) == 3 and one["version_id"] in shown[2] and shown[2].endswith(f"s3://{history.bucket}/{PREFIX}index.html"), shown
    assert "latest,DELETE-MARKER" in shown[0] and "latest" not in shown[1] and "docs/gone.md" in shown[1], shown


def test_get_and_meta_get_one_version(run_cli: Run, moto: MotoServer, history: History, tmp_path: Path) -> None:
    r = _client(moto).list_object_versions(Bucket=history.bucket, Prefix=PREFIX + "bin/run.sh")
    old = next(v for v in r["Versions"] if not v["IsLatest"])
    url = f"s3://{history.bucket}/{PREFIX}bin/run.sh"
    (tmp_path / "out").mkdir()
    got = _cli(run_cli, moto, "get", "--version-id", old["VersionId"], url, str(tmp_path / "out" / "run.sh"))
    assert got.returncode == 0, got.stderr
    assert _tree_state(tmp_path / "out") == {"run.sh": (ORIGINAL["bin/run.sh"][0], 0o755, MTIME)}
    meta = _cli(run_cli, moto, "--json", "meta", "get", "--version-id", old["VersionId"], url)
    assert meta.returncode == 0, meta.stderr
    shown = json.loads(meta.stdout.splitlines()[-1])
    assert (shown["version_id"], shown["size"]) == (old["VersionId"], len(ORIGINAL["bin/run.sh"][0]))
    marker = _client(moto).list_object_versions(Bucket=history.bucket, Prefix=PREFIX + "docs/gone.md")["DeleteMarkers"][0]
    with pytest.raises(NotFoundError, match="is a delete marker"):
        meta_get(_conn(moto), S3Url(history.bucket, PREFIX + "docs/gone.md"), version_id=marker["VersionId"])
    with pytest.raises(S3SafeError, match="no-such-version"):
        download_file(_conn(moto), S3Url(history.bucket, PREFIX + "bin/run.sh"), tmp_path / "out" / "nothing", version_id="no-such-version")
    assert not (tmp_path / "out" / "nothing").exists()


# --- revert, undelete ----------------------------------------------------------------------------------


def _conn(moto: MotoServer) -> Connection:
    return Connection(ConnectionSettings(endpoint_url=moto.endpoint_url, allow_http=True, region="us-east-1"))


def test_revert_as_of_brings_the_bucket_back_and_dry_run_changes_nothing(
    run_cli: Run, moto: MotoServer, tmp_path: Path, bucket_name: Callable[[], str]
) -> None:
    h = _make_history(moto, tmp_path, bucket_name("revert"))
    client = _client(moto)
    url = S3Url(h.bucket, PREFIX)
    before = _all_versions(client, h.bucket)
    plan = list(revert(_conn(moto), url, when=h.before, recursive=True, gate=SafetyGate(dry_run=True)))
    assert _all_versions(client, h.bucket) == before
    assert all(r.dry_run for r in plan)
    # two copies back (changed), two copies back (deleted), one delete marker (created since)
    assert sorted((r.action, r.target.split(PREFIX)[1].split(" ")[0]) for r in plan) == sorted(
        [("revert", rel) for rel in (*DAMAGE, *DELETED)] + [("delete", RANSOM)])
    # one delete marker to add, a cap of zero: refused before anything changes
    with pytest.raises(DeleteCapRefusal):
        list(revert(_conn(moto), url, when=h.before, recursive=True, gate=SafetyGate(max_delete=0)))
    assert _all_versions(client, h.bucket) == before
    done = _cli(run_cli, moto, "revert", "-r", "--as-of", h.before.isoformat(), str(url))
    assert done.returncode == 0, done.stderr
    assert _current(client, h.bucket) == {rel: data for rel, (data, _mode) in ORIGINAL.items()}
    # nothing was destroyed: every version is still there, the revert only added versions and a marker
    assert {v[:2] for v in before} <= {v[:2] for v in _all_versions(client, h.bucket)}
    # modes and mtimes come back with the versions' metadata
    summary = TreeSummary()
    list(download_tree(_conn(moto), url, tmp_path / "restored", options=TreeOptions(), gate=SafetyGate(), summary=summary))
    assert _tree_state(tmp_path / "restored") == {rel: (data, mode, MTIME) for rel, (data, mode) in ORIGINAL.items()}
    assert list(revert(_conn(moto), url, when=h.before, recursive=True, gate=SafetyGate())) == []  # already as it was


def test_undelete_brings_deleted_keys_back_and_dry_run_changes_nothing(
    run_cli: Run, moto: MotoServer, bucket_name: Callable[[], str]
) -> None:
    client = _client(moto)
    bucket = bucket_name("undelete")
    client.create_bucket(Bucket=bucket)
    client.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    for rel, data in {"a": b"alpha", "b": b"beta", "c": b"gamma-1"}.items():
        client.put_object(Bucket=bucket, Key=PREFIX + rel, Body=data)
    client.put_object(Bucket=bucket, Key=PREFIX + "c", Body=b"gamma-2")
    client.put_object(Bucket=bucket, Key="elsewhere/z", Body=b"outside the prefix")
    for key in (PREFIX + "b", PREFIX + "c", PREFIX + "c", "elsewhere/z"):  # c twice: two delete markers
        client.delete_object(Bucket=bucket, Key=key)
    url = S3Url(bucket, PREFIX)
    before = _all_versions(client, bucket)
    plan = list(undelete(_conn(moto), url, recursive=True, gate=SafetyGate(dry_run=True)))
    assert _all_versions(client, bucket) == before
    assert sorted(r.target.split(" ")[0] for r in plan if r.dry_run) == [f"s3://{bucket}/{PREFIX}{k}" for k in ("b", "c", "c")]
    with pytest.raises(DeleteCapRefusal):
        list(undelete(_conn(moto), url, recursive=True, gate=SafetyGate(max_delete=2)))
    assert _all_versions(client, bucket) == before
    done = _cli(run_cli, moto, "undelete", "-r", str(url))
    assert done.returncode == 0, done.stderr
    current = {o["Key"]: client.get_object(Bucket=bucket, Key=o["Key"])["Body"].read()
               for o in client.list_objects_v2(Bucket=bucket).get("Contents", [])}  # fmt: skip
    assert current == {PREFIX + "a": b"alpha", PREFIX + "b": b"beta", PREFIX + "c": b"gamma-2"}  # z, outside, untouched
    markers = client.list_object_versions(Bucket=bucket).get("DeleteMarkers", [])
    assert [m["Key"] for m in markers] == ["elsewhere/z"]


def test_revert_refuses_an_unversioned_bucket(run_cli: Run, moto: MotoServer, bucket_name: Callable[[], str]) -> None:
    """There, a 'delete marker' would be a real deletion."""
    client = _client(moto)
    bucket = bucket_name("unversioned")
    client.create_bucket(Bucket=bucket)
    client.put_object(Bucket=bucket, Key=PREFIX + "new", Body=b"x")
    result = _cli(run_cli, moto, "revert", "-r", "--as-of", "2001-01-01T00:00:00+01:00", f"s3://{bucket}/{PREFIX}")
    assert result.returncode == 7 and "versioning is not enabled" in _one_error(result)
    assert _current(client, bucket) == {"new": b"x"}


def test_get_as_of_decrypts_and_compares_the_old_versions(moto: MotoServer, tmp_path: Path, bucket_name: Callable[[], str]) -> None:
    """Client-side encrypted backups: the version of TIME is decrypted (age), and --only-diff compares the
    local files with that version's digests, not the current object's."""
    from s3safe.crypto import age
    from s3safe.crypto.digest import generate_digest_key
    from s3safe.transfer.encryption import Decryption, Encryption

    identity, recipient = age.generate_identity()
    digest_key = generate_digest_key()
    enc = Encryption(format="age", digest_key=digest_key, recipients=(recipient,)).validate()
    dec = Decryption(identities=lambda: [identity], digest_key=lambda _b: digest_key)
    client = _client(moto)
    bucket = bucket_name("as-of-encrypted")
    client.create_bucket(Bucket=bucket)
    client.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    conn, url, src = _conn(moto), S3Url(bucket, PREFIX), tmp_path / "src"
    old = {"a.txt": b"alpha, as it was\n", "b/c.txt": b"gamma, as it was\n"}
    for rel, data in old.items():
        (src / rel).parent.mkdir(parents=True, exist_ok=True)
        (src / rel).write_bytes(data)

    def up() -> None:
        summary = TreeSummary()
        cache = StateCache(tmp_path / "up.sqlite")
        try:
            list(upload_tree(conn, src, url, options=TreeOptions(mode="diff", purge=True, encryption=enc), gate=SafetyGate(),
                             summary=summary, cache=cache))  # fmt: skip
        finally:
            cache.close()
        assert summary.failed == 0

    up()
    before = _newest_time(client, bucket)
    time.sleep(1.1)
    (src / "a.txt").write_bytes(b"ENCRYPTED BY RANSOMWARE")
    up()
    out = tmp_path / "out"
    (out / "b").mkdir(parents=True)
    (out / "a.txt").write_bytes(old["a.txt"])  # already put back by hand: it matches the old version, not the current one
    (out / "b" / "c.txt").write_bytes(b"damaged here only")
    summary = TreeSummary()
    cache = StateCache(tmp_path / "down.sqlite")
    try:
        results = list(download_tree(conn, url, out, options=TreeOptions(mode="diff", as_of=before, decryption=dec), gate=SafetyGate(),
                                     summary=summary, cache=cache))  # fmt: skip
    finally:
        cache.close()
    assert summary.failed == 0, [r for r in results if not r.ok]
    assert {p.relative_to(out).as_posix(): p.read_bytes() for p in out.rglob("*") if p.is_file()} == old
    assert (summary.transferred, summary.skipped) == (1, 1), results  # a.txt compared with its old version's digest


def test_ls_versions_one_level(moto: MotoServer, history: History) -> None:
    """Without -r: the versions of the keys at this level, and its folders as DIR entries, in key order."""
    from s3safe.core.models import PrefixInfo
    from s3safe.ops.listing import ListOptions, ListSummary, iter_listing

    rows = list(iter_listing(_conn(moto), S3Url(history.bucket, PREFIX), ListOptions(versions=True), ListSummary()))
    shown = [(r.prefix, None) if isinstance(r, PrefixInfo) else (r.obj.key, r.obj.is_latest) for r in rows]
    assert shown == [(PREFIX + RANSOM, True), (PREFIX + "bin/", None), (PREFIX + "docs/", None),
                     (PREFIX + "index.html", True), (PREFIX + "index.html", False)]  # fmt: skip


def test_ls_versions_long_reads_each_versions_own_acl(moto: MotoServer, moto_client: Any, acl_bucket: str) -> None:
    """An old version left public is what --long must show, though the current one is private."""
    from s3safe.ops.listing import ListOptions, ListRow, ListSummary, iter_listing

    moto_client.put_bucket_versioning(Bucket=acl_bucket, VersioningConfiguration={"Status": "Enabled"})
    moto_client.put_object(Bucket=acl_bucket, Key="k", Body=b"leaked", ACL="public-read")
    moto_client.put_object(Bucket=acl_bucket, Key="k", Body=b"fixed", ACL="private")
    rows = list(iter_listing(_conn(moto), S3Url(acl_bucket, ""), ListOptions(versions=True, long=True, recursive=True), ListSummary()))
    assert [(r.obj.size, r.private) for r in rows if isinstance(r, ListRow)] == [(5, True), (6, False)]


def test_undelete_without_r_acts_on_the_one_key(moto: MotoServer, moto_client: Any, bucket_name: Callable[[], str]) -> None:
    bucket = bucket_name("undelete-one")
    moto_client.create_bucket(Bucket=bucket)
    moto_client.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    for key in ("k", "k.txt", "k/inner"):
        moto_client.put_object(Bucket=bucket, Key=key, Body=key.encode())
        moto_client.delete_object(Bucket=bucket, Key=key)
    results = list(undelete(_conn(moto), S3Url(bucket, "k"), recursive=False, gate=SafetyGate()))
    assert [(r.action, r.target, r.ok) for r in results] == [("undelete", f"s3://{bucket}/k", True)]
    assert [o["Key"] for o in moto_client.list_objects_v2(Bucket=bucket).get("Contents", [])] == ["k"]
    with pytest.raises(UsageError):
        list(undelete(_conn(moto), S3Url(bucket, "k/"), recursive=False, gate=SafetyGate()))


def test_an_old_version_of_a_peers_multipart_object_is_verified_by_its_parts(
    moto: MotoServer, moto_client: Any, tmp_path: Path, bucket_name: Callable[[], str]
) -> None:
    """Its part layout is measured on that version (HEAD ?partNumber with its version id), so the multipart
    ETag is checked, not only the size, although a newer object has replaced it since."""
    bucket = bucket_name("old-multipart")
    moto_client.create_bucket(Bucket=bucket)
    moto_client.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    data = os.urandom(5 * 1024 * 1024 + 1024)
    upload = moto_client.create_multipart_upload(Bucket=bucket, Key="big")["UploadId"]
    parts = [{"PartNumber": n, "ETag": moto_client.upload_part(Bucket=bucket, Key="big", UploadId=upload, PartNumber=n, Body=body)["ETag"]}
             for n, body in ((1, data[: 5 * 1024 * 1024]), (2, data[5 * 1024 * 1024 :]))]  # fmt: skip
    old = moto_client.complete_multipart_upload(Bucket=bucket, Key="big", UploadId=upload, MultipartUpload={"Parts": parts})["VersionId"]
    moto_client.put_object(Bucket=bucket, Key="big", Body=b"replaced")
    result = download_file(_conn(moto), S3Url(bucket, "big"), tmp_path / "big", version_id=old)
    assert (tmp_path / "big").read_bytes() == data
    assert "multipart ETag" in result.verified, result.verified
