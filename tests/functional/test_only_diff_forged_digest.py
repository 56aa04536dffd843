"""--only-diff takes s3safe-sha256 for the object's content only where the server's own multipart ETag agrees
(rt21): another tool's multipart object carrying s3safe's metadata over other bytes (a copy with its metadata, or
a forgery) was reported unchanged both ways, and a sync up never repaired the backup."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.servers.moto import MotoServer

Run = Callable[..., subprocess.CompletedProcess[str]]
MIB = 1024 * 1024


def _rewrite_keeping_metadata(client: Any, bucket: str, key: str, body: bytes) -> None:
    """What another tool does: a multipart upload of other bytes, with the old object's metadata."""
    metadata = client.head_object(Bucket=bucket, Key=key)["Metadata"]
    upload = client.create_multipart_upload(Bucket=bucket, Key=key, Metadata=metadata)["UploadId"]
    parts = []
    for number, offset in enumerate(range(0, len(body), 5 * MIB), 1):
        answer = client.upload_part(Bucket=bucket, Key=key, UploadId=upload, PartNumber=number, Body=body[offset : offset + 5 * MIB])
        parts.append({"PartNumber": number, "ETag": answer["ETag"]})
    client.complete_multipart_upload(Bucket=bucket, Key=key, UploadId=upload, MultipartUpload={"Parts": parts})


def _actions(result: subprocess.CompletedProcess[str]) -> list[dict[str, Any]]:
    return [r for r in map(json.loads, result.stdout.splitlines()) if r.get("type") == "action"]


def _synced(moto: MotoServer, client: Any, bucket: str, run_cli: Run, tmp_path: Path) -> tuple[Path, bytes, tuple[str, ...]]:
    """A folder holding one 12 MiB file, synced to s3://BUCKET/p/ in three parts; the folder, the file's bytes and
    the command line's arguments to reach the server."""
    client.create_bucket(Bucket=bucket)
    src = tmp_path / "src"
    src.mkdir()
    data = os.urandom(12 * MIB)
    (src / "k.bin").write_bytes(data)
    base = ("--endpoint-url", moto.endpoint_url, "--allow-http", "--json")
    assert run_cli(*base, "sync", "--part-size", "5MiB", str(src), f"s3://{bucket}/p/").returncode == 0
    return src, data, base


def test_sync_up_sends_a_file_whose_object_another_tool_replaced_under_its_digest(
    moto: MotoServer, moto_client: Any, bucket_name: Callable[[], str], run_cli: Run, tmp_path: Path
) -> None:
    bucket = bucket_name()
    src, data, base = _synced(moto, moto_client, bucket, run_cli, tmp_path)
    forged = bytearray(data)
    forged[3 * MIB : 3 * MIB + 4] = b"EVIL"
    _rewrite_keeping_metadata(moto_client, bucket, "p/k.bin", bytes(forged))

    again = run_cli(*base, "-v", "sync", "--part-size", "5MiB", str(src), f"s3://{bucket}/p/")
    assert again.returncode == 0, again.stderr
    assert [a["action"] for a in _actions(again)] == ["upload"], again.stdout
    assert "change detection hashed 1 file(s)" in again.stderr, again.stderr  # one file, read twice: counted once
    assert moto_client.get_object(Bucket=bucket, Key="p/k.bin")["Body"].read() == data


def test_sync_down_does_not_call_the_original_file_unchanged(
    moto: MotoServer, moto_client: Any, bucket_name: Callable[[], str], run_cli: Run, tmp_path: Path
) -> None:
    bucket = bucket_name()
    moto_client.create_bucket(Bucket=bucket)
    src, out = tmp_path / "src", tmp_path / "out"
    src.mkdir()
    out.mkdir()
    data = os.urandom(12 * MIB)
    (src / "k.bin").write_bytes(data)
    (out / "k.bin").write_bytes(data)
    base = ("--endpoint-url", moto.endpoint_url, "--allow-http", "--json")
    assert run_cli(*base, "put", "-r", "--part-size", "5MiB", str(src), f"s3://{bucket}/p/").returncode == 0
    forged = bytearray(data)
    forged[7 * MIB : 7 * MIB + 4] = b"EVIL"
    _rewrite_keeping_metadata(moto_client, bucket, "p/k.bin", bytes(forged))

    down = run_cli(*base, "sync", f"s3://{bucket}/p/", str(out))
    # the object is fetched, and its bytes fail their own digest: nothing replaces the good file
    assert down.returncode == 6, down.stderr
    assert [a["ok"] for a in _actions(down)] == [False], down.stdout
    assert (out / "k.bin").read_bytes() == data


def test_a_genuine_multipart_object_is_still_unchanged_from_a_fresh_state_folder(
    moto: MotoServer, moto_client: Any, bucket_name: Callable[[], str], run_cli: Run, tmp_path: Path
) -> None:
    bucket = bucket_name()
    src, _, base = _synced(moto, moto_client, bucket, run_cli, tmp_path)
    # another machine: no record of the upload, so the object's HEAD and ETag decide
    fresh = {"S3SAFE_STATE_DIR": str(tmp_path / "other-state")}
    again = run_cli(*base, "-v", "sync", str(src), f"s3://{bucket}/p/", env=fresh)
    assert again.returncode == 0, again.stderr
    # -v counts the file read to compare it (it said "hashed 0 file(s)": rt21)
    assert "change detection hashed 1 file(s)" in again.stderr, again.stderr
    assert [(a["action"], a.get("detail")) for a in _actions(again)] == [("skip", "unchanged")], again.stdout
