"""--dry-run changes nothing anywhere; `--delete` is `--purge` (the AWS CLI habit), never a local delete.

Every mutating command's --dry-run runs between two snapshots of everything it could touch: the state
directory (journals, the verified-state cache), the local folders, and the bucket (objects with their
metadata and ACLs, open multipart uploads). The two snapshots must be equal.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from s3safe.transfer.multipart import Journal, journal_path, save_journal
from s3safe.transfer.state import state_dir
from tests.servers.moto import MotoServer

Run = Callable[..., Any]


def _tree_state(root: Path) -> dict[str, str]:
    out: dict[str, str] = {}
    if not root.exists():
        return out
    for path in sorted(root.rglob("*")):
        rel = path.relative_to(root).as_posix()
        stat = path.lstat()
        if path.is_file():
            out[rel] = f"{stat.st_mode:o}:{stat.st_mtime_ns}:{hashlib.sha256(path.read_bytes()).hexdigest()}"
        else:
            out[rel + "/"] = f"{stat.st_mode:o}"
    return out


def _bucket_state(client: Any, bucket: str, *, skip: str | None = None) -> dict[str, Any]:
    objects = {}
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        for item in page.get("Contents", []):
            key = item["Key"]
            if skip and key.startswith(skip):
                continue
            head = client.head_object(Bucket=bucket, Key=key)
            acl = client.get_object_acl(Bucket=bucket, Key=key)["Grants"] if item.get("StorageClass") != "GLACIER" else None
            objects[key] = (head["ETag"], head.get("ContentType"), head.get("Metadata"), head.get("StorageClass"),
                            head.get("Restore"), json.dumps(acl, sort_keys=True, default=str))  # fmt: skip
    uploads = sorted((u["Key"], u["UploadId"]) for u in client.list_multipart_uploads(Bucket=bucket).get("Uploads", []))
    return {"objects": objects, "uploads": uploads}


@pytest.fixture
def scene(moto: MotoServer, moto_client: Any, bucket_name: Callable[[], str], tmp_path: Path, run_cli: Run) -> dict[str, Any]:
    """A bucket with a backed-up tree, an orphan, an archived object and an upload left open with its journal;
    a local folder with a new file, and a download folder with an extra file and a stale temp file."""
    bucket = bucket_name()
    moto_client.create_bucket(Bucket=bucket)
    base = ("--endpoint-url", moto.endpoint_url, "--allow-http")
    src = tmp_path / "src"
    (src / "d").mkdir(parents=True)
    (src / "d" / "a.txt").write_bytes(b"alpha\n")
    (src / "big.bin").write_bytes(os.urandom(6 * 1024 * 1024))
    done = run_cli(*base, "put", "-r", "--part-size", "5MiB", str(src), f"s3://{bucket}/t/")
    assert done.returncode == 0, done.stderr
    (src / "new.txt").write_bytes(b"not on S3 yet\n")
    moto_client.put_object(Bucket=bucket, Key="t/orphan.txt", Body=b"orphan")
    moto_client.put_object(Bucket=bucket, Key="t/cold.txt", Body=b"cold", StorageClass="GLACIER")
    # a run killed after completing big.bin's upload left a journal and a second, open upload behind
    stale = moto_client.create_multipart_upload(Bucket=bucket, Key="t/big.bin")["UploadId"]
    stat = (src / "big.bin").stat()
    save_journal(journal_path(bucket, "t/big.bin"), Journal(bucket, "t/big.bin", stale, 5 * 1024**2, stat.st_size, stat.st_mtime_ns, "0" * 64))
    down = tmp_path / "down"
    down.mkdir()
    (down / "extra.txt").write_bytes(b"only here")
    (down / ".a.txt.x1.s3safe-tmp").write_bytes(b"left by a killed run")
    os.utime(down / ".a.txt.x1.s3safe-tmp", (1_000_000_000, 1_000_000_000))
    return {"bucket": bucket, "base": base, "src": src, "down": down, "tmp": tmp_path}


def _commands(s: dict[str, Any]) -> list[tuple[str, ...]]:
    b, src, down, tmp = s["bucket"], str(s["src"]), str(s["down"]), s["tmp"]
    return [
        ("put", "-r", "--only-diff", src, f"s3://{b}/t/"),
        ("put", "-r", "--move", src, f"s3://{b}/t/"),
        ("put", "-r", "--purge", src, f"s3://{b}/t/"),
        ("put", "-r", "--local-delete", "--only-diff", src, f"s3://{b}/t/"),
        ("put", str(s["src"] / "new.txt"), f"s3://{b}/t/"),
        ("sync", src, f"s3://{b}/t/", "--delete"),
        ("sync", f"s3://{b}/t/", down, "--purge"),
        ("get", "-r", f"s3://{b}/t/", str(tmp / "fresh")),
        ("get", f"s3://{b}/t/d/a.txt", str(tmp / "one.txt")),
        ("cp", "-r", f"s3://{b}/t/", f"s3://{b}/copy/"),
        ("rm", "-r", f"s3://{b}/t/"),
        ("rb", "--force", f"s3://{b}"),
        ("meta", "set", "-r", f"s3://{b}/t/", "--set", "content-type=text/html"),
        ("acl", "set", "bucket-owner-full-control", "-r", f"s3://{b}/t/"),
        ("uploads", "abort", f"s3://{b}"),
        ("restore", "-r", "--days", "1", "--tier", "Bulk", f"s3://{b}/t/"),
    ]


def test_every_dry_run_changes_nothing_anywhere(scene: dict[str, Any], moto_client: Any, run_cli: Run) -> None:
    state, tmp, bucket = state_dir(), scene["tmp"], scene["bucket"]

    def snapshot() -> dict[str, Any]:
        local = {name: _tree_state(tmp / name) for name in ("src", "down", "fresh")}
        files = sorted(p.name for p in tmp.iterdir())
        return {"state": _tree_state(state), "local": local, "files": files, "bucket": _bucket_state(moto_client, bucket)}

    before = snapshot()
    assert before["bucket"]["uploads"] and any(k.startswith("uploads/") for k in before["state"])
    changed = []
    for command in _commands(scene):
        result = run_cli(*scene["base"], *command[:1], "--dry-run", *command[1:]) if command[0] not in ("meta", "acl", "uploads") \
            else run_cli(*scene["base"], *command[:2], "--dry-run", *command[2:])  # fmt: skip
        assert "Traceback" not in result.stderr, (command, result.stderr)
        assert result.returncode in (0, 7), (command, result.returncode, result.stderr)
        after = snapshot()
        if after != before:
            changed.append((" ".join(command[:2]), {k: (before[k], after[k]) for k in before if before[k] != after[k]}))
            before = after
    assert changed == []


def test_delete_is_an_alias_of_purge_on_sync_and_tree_transfers(
    moto: MotoServer, moto_client: Any, bucket_name: Callable[[], str], tmp_path: Path, run_cli: Run
) -> None:
    bucket = bucket_name()
    moto_client.create_bucket(Bucket=bucket)
    base = ("--endpoint-url", moto.endpoint_url, "--allow-http")
    src = tmp_path / "src"
    src.mkdir()
    (src / "keep.txt").write_bytes(b"keep")
    for key in ("s/gone.txt", "p/gone.txt"):
        moto_client.put_object(Bucket=bucket, Key=key, Body=b"x")
    synced = run_cli(*base, "sync", str(src), f"s3://{bucket}/s/", "--delete")
    assert synced.returncode == 0, synced.stderr
    put = run_cli(*base, "put", "-r", "--delete", str(src), f"s3://{bucket}/p/")
    assert put.returncode == 0, put.stderr
    keys = sorted(o["Key"] for o in moto_client.list_objects_v2(Bucket=bucket)["Contents"])
    assert keys == ["p/keep.txt", "s/keep.txt"]
    assert (src / "keep.txt").read_bytes() == b"keep"  # --delete never touches the source side
    down = tmp_path / "down"
    down.mkdir()
    (down / "stale.txt").write_bytes(b"stale")
    got = run_cli(*base, "get", "-r", "--delete", f"s3://{bucket}/s/", str(down))
    assert got.returncode == 0, got.stderr
    assert sorted(p.name for p in down.iterdir()) == ["keep.txt"]
    capped = run_cli(*base, "sync", str(tmp_path / "empty-but-not"), f"s3://{bucket}/s/", "--delete")
    assert capped.returncode != 0
    assert sorted(o["Key"] for o in moto_client.list_objects_v2(Bucket=bucket)["Contents"]) == keys


_CONFIG_READS = (
    ("policy", "get_bucket_policy", "Policy"), ("acl", "get_bucket_acl", "Grants"), ("logging", "get_bucket_logging", "LoggingEnabled"),
    ("encryption", "get_bucket_encryption", "ServerSideEncryptionConfiguration"),
    ("public_access", "get_public_access_block", "PublicAccessBlockConfiguration"),
    ("ownership", "get_bucket_ownership_controls", "OwnershipControls"), ("versioning", "get_bucket_versioning", "Status"),
    ("lifecycle", "get_bucket_lifecycle_configuration", "Rules"),
)  # fmt: skip


def _config_state(client: Any, bucket: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, call, field in _CONFIG_READS:
        try:
            out[name] = json.dumps(getattr(client, call)(Bucket=bucket).get(field), sort_keys=True, default=str)
        except client.exceptions.ClientError as exc:
            out[name] = exc.response["Error"]["Code"]
    return out


def test_every_bucket_configuration_dry_run_changes_nothing(
    moto: MotoServer, moto_client: Any, bucket_name: Callable[[], str], tmp_path: Path, run_cli: Run
) -> None:
    """harden, policy, logging, audit --fix and reencrypt: their --dry-run prints a plan and sets nothing."""
    from s3safe.crypto import age

    bucket, logs = bucket_name(), bucket_name()
    for name in (bucket, logs):
        moto_client.create_bucket(Bucket=name)
    moto_client.put_bucket_ownership_controls(Bucket=bucket, OwnershipControls={"Rules": [{"ObjectOwnership": "ObjectWriter"}]})
    moto_client.put_bucket_acl(Bucket=bucket, ACL="public-read")
    moto_client.put_object(Bucket=bucket, Key="x/plain.txt", Body=b"plain", ACL="public-read")
    base = ("--endpoint-url", moto.endpoint_url, "--allow-http")
    secret = {"S3SAFE_PASSPHRASE": "correct horse battery staple"}
    src = tmp_path / "src"
    src.mkdir()
    (src / "old.txt").write_bytes(b"legacy AES Crypt")
    # something for each dry run to plan: an AES Crypt object to re-encrypt, logging to move or turn off
    # (no policy is set for real: moto ignores conditions, so a Deny would refuse every request)
    assert run_cli(*base, "put", "--encrypt", "aescrypt", str(src / "old.txt"), f"s3://{bucket}/x/", env=secret).returncode == 0
    assert run_cli(*base, "logging", "enable", f"s3://{bucket}", "--target", f"s3://{logs}/old/").returncode == 0
    _identity, recipient = age.generate_identity()
    commands = [
        ("harden", f"s3://{bucket}", "--keep-acls"),
        ("policy", "apply", f"s3://{bucket}", "--private-acl-only"),
        ("logging", "enable", f"s3://{bucket}", "--target", f"s3://{logs}/l/"),
        ("logging", "disable", f"s3://{bucket}"),
        ("audit", f"s3://{bucket}", "--fix", "--log-target", f"s3://{logs}/l/"),
        ("reencrypt", f"s3://{bucket}/x/", "-r", "--recipient", recipient),
    ]

    def snapshot() -> dict[str, Any]:
        # the access logs moto delivers under old/ grow with every request, dry or not
        return {name: (_config_state(moto_client, name), _bucket_state(moto_client, name, skip="old/")) for name in (bucket, logs)} | {
            "state": _tree_state(state_dir())
        }

    before = snapshot()
    changed = []
    for command in commands:
        words = 2 if command[0] in ("policy", "logging") else 1
        result = run_cli(*base, *command[:words], "--dry-run", *command[words:], env=secret)
        assert "Traceback" not in result.stderr, (command, result.stderr)
        assert "would" in result.stdout, (command, result.stdout, result.stderr)  # a plan, not a refusal
        after = snapshot()
        if after != before:
            changed.append((" ".join(command[:words]), result.returncode))
            before = after
    assert changed == []


def test_quiet_keeps_the_plan_of_a_dry_run_for_tree_transfers_as_for_rm(scene: dict[str, Any], run_cli: Run) -> None:
    """-q drops progress and narrative, not the result: a dry run's result is its plan (an outside tester found
    `-q sync --dry-run` printed nothing while `-q rm -r --dry-run` listed what it would delete)."""
    b, src = scene["bucket"], str(scene["src"])
    synced = run_cli(*scene["base"], "-q", "sync", "--dry-run", "--purge", src, f"s3://{b}/t/")
    assert synced.returncode == 0, synced.stderr
    assert f"(dry run) would upload s3://{b}/t/new.txt" in synced.stdout, synced.stdout
    assert f"(dry run) would delete s3://{b}/t/orphan.txt" in synced.stdout, synced.stdout
    put = run_cli(*scene["base"], "-q", "put", "-r", "--dry-run", src, f"s3://{b}/t/")
    assert f"(dry run) would upload s3://{b}/t/new.txt" in put.stdout, put.stdout
    removed = run_cli(*scene["base"], "-q", "rm", "-r", "--dry-run", f"s3://{b}/t/")
    assert f"(dry run) would delete s3://{b}/t/orphan.txt" in removed.stdout, removed.stdout
