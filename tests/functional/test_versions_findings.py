"""Findings of the outside test of the point-in-time features (issue #16): unusable mtimes, repairs that
must compare content, empty version ids, and the refusals that must come before anything is sent."""

from __future__ import annotations

import io
import math
import os
import subprocess
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from s3safe.core.errors import DeleteCapRefusal, NotFoundError, UsageError, WriteConflict
from s3safe.core.locations import S3Url
from s3safe.core.safety import SafetyGate
from s3safe.core.settings import ConnectionSettings
from s3safe.crypto import age
from s3safe.crypto.digest import generate_digest_key
from s3safe.ops.buckets import make_bucket
from s3safe.ops.meta import meta_get
from s3safe.ops.versions import revert, undelete
from s3safe.storage.connection import Connection
from s3safe.storage.s3 import S3Storage
from s3safe.transfer.download import download_file
from s3safe.transfer.encryption import DIGEST_META, Decryption, Encryption
from s3safe.transfer.engine import TreeOptions, TreeSummary, download_tree, upload_tree
from s3safe.transfer.options import UploadOptions
from s3safe.transfer.single import upload_files
from s3safe.transfer.state import StateCache
from s3safe.transfer.streams import download_stream, upload_stream
from tests.conftest import S3SAFE
from tests.servers.moto import MotoServer

Run = Callable[..., subprocess.CompletedProcess[str]]

FAR_FUTURE = 10_413_792_000  # 2300-01-01: past what a signed 64-bit count of nanoseconds can hold


def _conn(moto: MotoServer) -> Connection:
    return Connection(ConnectionSettings(endpoint_url=moto.endpoint_url, allow_http=True, region="us-east-1"))


def _cli(run_cli: Run, moto: MotoServer, *args: str) -> subprocess.CompletedProcess[str]:
    return run_cli("--endpoint-url", moto.endpoint_url, "--allow-http", *args)


def _one_error(result: subprocess.CompletedProcess[str]) -> str:
    assert "Traceback" not in result.stderr, result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("s3safe: error:")]
    assert len(errors) == 1, result.stderr
    return errors[0]


def _tree(conn: Connection, *, up: bool, local: Path, url: S3Url, cache: StateCache, options: TreeOptions) -> TreeSummary:
    summary = TreeSummary()
    try:
        if up:
            results = list(upload_tree(conn, local, url, options=options, gate=SafetyGate(), summary=summary, cache=cache))
        else:
            results = list(download_tree(conn, url, local, options=options, gate=SafetyGate(), summary=summary, cache=cache))
    finally:
        cache.close()
    assert summary.failed == 0, [r for r in results if not r.ok]
    return summary


# --- 1: mtimes out of range --------------------------------------------------------------------------


@pytest.mark.parametrize("stored", ["1e300", "inf", "nan", "1e18"])
def test_an_unusable_stored_mtime_is_ignored_and_the_tree_restores(
    moto: MotoServer, moto_client: Any, bucket_name: Callable[[], str], tmp_path: Path, stored: str
) -> None:
    bucket = bucket_name()
    moto_client.create_bucket(Bucket=bucket)
    moto_client.put_object(Bucket=bucket, Key="t/bad.txt", Body=b"bad\n", Metadata={"s3safe-mtime": stored})
    moto_client.put_object(Bucket=bucket, Key="t/good.txt", Body=b"good\n", Metadata={"s3safe-mtime": "1600000000.5"})
    out = tmp_path / "out"
    _tree(_conn(moto), up=False, local=out, url=S3Url(bucket, "t/"), cache=StateCache(tmp_path / "v.sqlite"), options=TreeOptions())
    assert (out / "bad.txt").read_bytes() == b"bad\n"
    assert math.isclose((out / "bad.txt").stat().st_mtime, os.stat(tmp_path).st_mtime, abs_tol=600)  # now, not 1e300
    assert (out / "good.txt").stat().st_mtime == 1600000000.5


def test_a_file_dated_after_2262_is_backed_up_and_restored_again_and_again(
    moto: MotoServer, moto_client: Any, bucket_name: Callable[[], str], tmp_path: Path
) -> None:
    bucket = bucket_name()
    moto_client.create_bucket(Bucket=bucket)
    src = tmp_path / "src"
    src.mkdir()
    (src / "ok.txt").write_bytes(b"ok\n")
    (src / "future.txt").write_bytes(b"future\n")
    os.utime(src / "future.txt", (FAR_FUTURE, FAR_FUTURE))
    conn, url, state = _conn(moto), S3Url(bucket, "d/"), tmp_path / "v.sqlite"
    for _ in range(2):  # the second run reads the cache the first one wrote
        _tree(conn, up=True, local=src, url=url, cache=StateCache(state), options=TreeOptions(mode="diff", purge=True))
        _tree(conn, up=False, local=tmp_path / "out", url=url, cache=StateCache(state), options=TreeOptions(mode="diff"))
    assert (tmp_path / "out" / "future.txt").read_bytes() == b"future\n"
    assert (tmp_path / "out" / "future.txt").stat().st_mtime == FAR_FUTURE


# --- 4: an empty version id ---------------------------------------------------------------------------


def test_an_empty_version_id_is_a_usage_error_not_the_current_version(
    moto: MotoServer, moto_client: Any, bucket_name: Callable[[], str], tmp_path: Path, run_cli: Run
) -> None:
    bucket = bucket_name()
    moto_client.create_bucket(Bucket=bucket)
    moto_client.put_object(Bucket=bucket, Key="k", Body=b"current\n")
    conn = _conn(moto)
    with pytest.raises(UsageError, match="--version-id is empty"):
        download_file(conn, S3Url(bucket, "k"), tmp_path / "k", version_id="")
    with pytest.raises(UsageError, match="--version-id is empty"):
        meta_get(conn, S3Url(bucket, "k"), version_id="")
    assert not (tmp_path / "k").exists()
    result = _cli(run_cli, moto, "get", "--dry-run", "--version-id", "", f"s3://{bucket}/k", str(tmp_path / "k"))
    assert result.returncode == 2, result.stderr
    assert "--version-id is empty" in _one_error(result)


# --- 7, 9: refusals that come before anything is sent ---------------------------------------------------


def test_retention_on_a_bucket_without_object_lock_refuses_a_tree_before_sending(
    moto: MotoServer, moto_client: Any, bucket_name: Callable[[], str], tmp_path: Path
) -> None:
    bucket = bucket_name()
    moto_client.create_bucket(Bucket=bucket)
    (tmp_path / "a").write_bytes(b"a")
    (tmp_path / "b").write_bytes(b"b")
    options = TreeOptions(mode="diff", upload=UploadOptions(retain_until=datetime.now(UTC) + timedelta(days=1), lock_mode="GOVERNANCE"))
    with pytest.raises(UsageError, match="has no Object Lock"):
        list(upload_tree(_conn(moto), tmp_path, S3Url(bucket, "x/"), options=options, gate=SafetyGate(), summary=TreeSummary(),
                         cache=StateCache(tmp_path / "v.sqlite")))  # fmt: skip
    assert "Contents" not in moto_client.list_objects_v2(Bucket=bucket)


def test_no_clobber_dry_run_shows_the_refusal_the_real_run_gives(
    moto: MotoServer, moto_client: Any, bucket_name: Callable[[], str], tmp_path: Path
) -> None:
    bucket = bucket_name()
    moto_client.create_bucket(Bucket=bucket)
    moto_client.put_object(Bucket=bucket, Key="k", Body=b"kept\n")
    (tmp_path / "k").write_bytes(b"new\n")
    with pytest.raises(WriteConflict, match="already exists"):
        list(upload_files(_conn(moto), [tmp_path / "k"], S3Url(bucket, "k"), options=UploadOptions(no_clobber=True),
                          gate=SafetyGate(dry_run=True)))  # fmt: skip
    planned = list(upload_files(_conn(moto), [tmp_path / "k"], S3Url(bucket, "new"), options=UploadOptions(no_clobber=True),
                                gate=SafetyGate(dry_run=True)))  # fmt: skip
    assert [r.ok for r in planned] == [True]


# --- 8: internal errors turned into one line --------------------------------------------------------------


def test_absurd_retention_and_closed_standard_streams_are_one_line_each(
    moto: MotoServer, moto_client: Any, bucket_name: Callable[[], str], tmp_path: Path
) -> None:
    bucket = bucket_name()
    moto_client.create_bucket(Bucket=bucket)
    moto_client.put_object(Bucket=bucket, Key="y", Body=b"y\n")
    (tmp_path / "f").write_bytes(b"x")
    base = f"{S3SAFE} --endpoint-url {moto.endpoint_url} --allow-http"
    for command, expected in (
        (f"{base} put {tmp_path / 'f'} s3://{bucket}/ --retain-days 99999999", "--retain-days must be between 1 and 36500"),
        (f"{base} put - s3://{bucket}/closed <&-", "standard input is closed"),
        (f"{base} get s3://{bucket}/y - >&-", "standard output is closed"),
    ):
        result = subprocess.run(["sh", "-c", command], capture_output=True, text=True, timeout=60, check=False)
        assert result.returncode == 2, (command, result.stderr)
        assert expected in _one_error(result)
    assert [o["Key"] for o in moto_client.list_objects_v2(Bucket=bucket)["Contents"]] == ["y"]


# --- 2, 3: a repair with --only-diff compares content and puts modes and mtimes back ----------------------


def test_only_diff_repair_finds_a_file_rewritten_with_its_mtime_set_back_and_restores_modes_and_mtimes(
    moto: MotoServer, moto_client: Any, bucket_name: Callable[[], str], tmp_path: Path
) -> None:
    """The README's repair recipe over a copy that ransomware rewrote in place (same size, mtime set back) and
    whose modes and mtimes it changed: the verified-state cache of the earlier restore must not vouch for it."""
    bucket = bucket_name()
    moto_client.create_bucket(Bucket=bucket)
    src, site = tmp_path / "src", tmp_path / "site"
    src.mkdir()
    for name, mode in (("a.txt", 0o640), ("b.sh", 0o755), ("c.txt", 0o600)):
        (src / name).write_bytes(name.encode() * 4)
        (src / name).chmod(mode)
        os.utime(src / name, (1_600_000_000, 1_600_000_000))
    conn, url, state = _conn(moto), S3Url(bucket, "site/"), tmp_path / "v.sqlite"
    _tree(conn, up=True, local=src, url=url, cache=StateCache(state), options=TreeOptions(mode="diff"))
    _tree(conn, up=False, local=site, url=url, cache=StateCache(state), options=TreeOptions(mode="diff"))
    (site / "a.txt").write_bytes(b"X" * len(b"a.txt" * 4))  # encrypted in place: same size, mtime set back
    os.utime(site / "a.txt", (1_600_000_000, 1_600_000_000))
    (site / "b.sh").chmod(0o4777)  # mode and mtime changed, content not
    os.utime(site / "c.txt", (1_700_000_000, 1_700_000_000))
    _tree(conn, up=False, local=site, url=url, cache=StateCache(state), options=TreeOptions(mode="diff", purge=True))
    assert {p.name: (p.read_bytes(), p.stat().st_mode & 0o7777, p.stat().st_mtime) for p in site.iterdir()} == {
        name: (name.encode() * 4, mode, 1_600_000_000) for name, mode in (("a.txt", 0o640), ("b.sh", 0o755), ("c.txt", 0o600))
    }


# --- 5: an encrypted stream into an Object Lock bucket ----------------------------------------------------


def test_an_encrypted_multipart_stream_is_locked_only_in_the_version_with_its_digest(
    moto: MotoServer, moto_client: Any, bucket_name: Callable[[], str], tmp_path: Path
) -> None:
    """The digest is added by a copy after the parts are sent: the copy is the version that gets locked, and
    it restores; the first version, without the digest, is left unlocked (removable)."""
    bucket = bucket_name()
    conn = _conn(moto)
    make_bucket(conn, S3Url(bucket), object_lock=True)
    identity, recipient = age.generate_identity()
    enc = Encryption(format="age", digest_key=generate_digest_key(), recipients=(recipient,)).validate()
    data = b"\x05" * (5 * 1024**2 + 1)  # past one 5 MiB part: multipart, then the copy
    options = UploadOptions(part_size=5 * 1024**2, retain_until=datetime.now(UTC) + timedelta(days=1), lock_mode="GOVERNANCE")
    upload_stream(conn, io.BytesIO(data), S3Url(bucket, "db.age"), options=options, encryption=enc)
    versions = moto_client.list_object_versions(Bucket=bucket)["Versions"]
    assert len(versions) == 2
    for v in versions:
        head = moto_client.head_object(Bucket=bucket, Key="db.age", VersionId=v["VersionId"])
        assert ("ObjectLockRetainUntilDate" in head) == v["IsLatest"], (v, head)
        assert (DIGEST_META in head["Metadata"]) == v["IsLatest"]
    out = io.BytesIO()
    download_stream(conn, S3Url(bucket, "db.age"), out, decryption=Decryption(identities=lambda: [identity],
                                                                              digest_key=lambda _b: enc.digest_key))  # fmt: skip
    assert out.getvalue() == data


# --- 6: revert sees a change of metadata alone --------------------------------------------------------------


def test_revert_brings_back_metadata_changed_after_the_time_with_the_same_bytes(
    moto: MotoServer, moto_client: Any, bucket_name: Callable[[], str]
) -> None:
    bucket = bucket_name()
    moto_client.create_bucket(Bucket=bucket)
    moto_client.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    moto_client.put_object(Bucket=bucket, Key="p/run.sh", Body=b"#!/bin/sh\n", Metadata={"s3safe-mode": "0755"})
    when = moto_client.head_object(Bucket=bucket, Key="p/run.sh")["LastModified"]
    time.sleep(1.1)  # moto's LastModified has 1 s resolution: the change lands in a later second
    moto_client.copy_object(Bucket=bucket, Key="p/run.sh", CopySource={"Bucket": bucket, "Key": "p/run.sh"},
                            Metadata={"s3safe-mode": "4777"}, MetadataDirective="REPLACE")  # fmt: skip
    results = list(revert(_conn(moto), S3Url(bucket, "p/"), when=when, recursive=True, gate=SafetyGate()))
    assert [r.ok for r in results] == [True], results
    assert moto_client.head_object(Bucket=bucket, Key="p/run.sh")["Metadata"] == {"s3safe-mode": "0755"}
    again = list(revert(_conn(moto), S3Url(bucket, "p/"), when=when, recursive=True, gate=SafetyGate()))
    assert [r for r in again if r.action != "skip"] == []  # reverted once: the copy has the old metadata, as it should


# --- 10: consistency -------------------------------------------------------------------------------------


def test_undelete_of_a_key_that_never_existed_is_not_found_as_for_revert(
    moto: MotoServer, moto_client: Any, bucket_name: Callable[[], str]
) -> None:
    bucket = bucket_name()
    moto_client.create_bucket(Bucket=bucket)
    moto_client.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    with pytest.raises(NotFoundError, match="nothing to undelete"):
        list(undelete(_conn(moto), S3Url(bucket, "nonexistent"), recursive=False, gate=SafetyGate()))


def test_a_legal_hold_refusal_says_until_the_hold_is_removed(moto: MotoServer, bucket_name: Callable[[], str], tmp_path: Path) -> None:
    bucket = bucket_name()
    conn = _conn(moto)
    make_bucket(conn, S3Url(bucket), object_lock=True)
    (tmp_path / "f").write_bytes(b"held")
    upload_files(conn, [tmp_path / "f"], S3Url(bucket, "f"), options=UploadOptions(legal_hold=True), gate=SafetyGate()).__next__()
    refusal = S3Storage(conn).lock_refusal(bucket, "f", None)
    assert refusal is not None and "until the legal hold is removed" in refusal and "before then" not in refusal


def test_a_restored_mtime_keeps_its_nanoseconds(moto: MotoServer, moto_client: Any, bucket_name: Callable[[], str], tmp_path: Path) -> None:
    bucket = bucket_name()
    moto_client.create_bucket(Bucket=bucket)
    src = tmp_path / "src"
    src.mkdir()
    stamp = 1_600_000_000_123_456_789
    (src / "f").write_bytes(b"f")
    os.utime(src / "f", ns=(stamp, stamp))
    conn, url = _conn(moto), S3Url(bucket, "n/")
    _tree(conn, up=True, local=src, url=url, cache=StateCache(tmp_path / "v.sqlite"), options=TreeOptions())
    assert moto_client.head_object(Bucket=bucket, Key="n/f")["Metadata"]["s3safe-mtime"] == "1600000000.123456789"
    _tree(conn, up=False, local=tmp_path / "out", url=url, cache=StateCache(tmp_path / "v.sqlite"), options=TreeOptions())
    assert (tmp_path / "out" / "f").stat().st_mtime_ns == stamp


def test_deleting_a_locked_and_an_unlocked_version_reports_each_as_it_went(
    moto: MotoServer, moto_client: Any, bucket_name: Callable[[], str]
) -> None:
    """moto's DeleteObjects error names the key but not the version: the version that was deleted is not FAILED."""
    bucket = bucket_name()
    make_bucket(_conn(moto), S3Url(bucket), object_lock=True)
    held = moto_client.put_object(Bucket=bucket, Key="k", Body=b"one", ObjectLockLegalHoldStatus="ON", ContentMD5=_md5(b"one"))
    free = moto_client.put_object(Bucket=bucket, Key="k", Body=b"two", ContentMD5=_md5(b"two"))
    results = S3Storage(_conn(moto)).delete_batch(bucket, [("k", held["VersionId"]), ("k", free["VersionId"])])
    assert [r.ok for r in results] == [False, True], results
    assert "legal hold" in (results[0].error or "")
    assert [v["VersionId"] for v in moto_client.list_object_versions(Bucket=bucket)["Versions"]] == [held["VersionId"]]


def _md5(data: bytes) -> str:
    import base64
    import hashlib

    return base64.b64encode(hashlib.md5(data, usedforsecurity=False).digest()).decode()


def test_undelete_max_delete_refusal_counts_delete_markers(moto: MotoServer, moto_client: Any, bucket_name: Callable[[], str]) -> None:
    bucket = bucket_name()
    moto_client.create_bucket(Bucket=bucket)
    moto_client.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    for key in ("u/a", "u/b"):
        moto_client.put_object(Bucket=bucket, Key=key, Body=b"x")
        moto_client.delete_object(Bucket=bucket, Key=key)
    with pytest.raises(DeleteCapRefusal, match=r"refusing to remove more than 1 delete marker\(s\)"):
        list(undelete(_conn(moto), S3Url(bucket, "u/"), recursive=True, gate=SafetyGate(max_delete=1)))
    assert len(moto_client.list_object_versions(Bucket=bucket)["DeleteMarkers"]) == 2
