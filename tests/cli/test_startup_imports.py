"""A restore (`get -r`) and a no-change `sync` with credentials in the environment never import boto3: they
need no botocore request, and importing it (and resolving a session) cost more than the whole restore of
2,000 small objects. Nor the --where language when no condition is given. Checked with Python's own import
log, not with timings. Nor age and the key lookup when no object is encrypted, nor the download side in a sync to S3."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.conftest import S3SAFE
from tests.servers.rclone import RcloneServer


def _run(rclone: RcloneServer, *args: str) -> tuple[subprocess.CompletedProcess[str], set[str]]:
    argv = [
        sys.executable,
        "-X",
        "importtime",
        S3SAFE,
        "--endpoint-url",
        rclone.endpoint_url,
        "--ca-bundle",
        rclone.ca_bundle,
        *args,
    ]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=120, check=False)
    imported = {line.rsplit("|", 1)[1].strip() for line in done.stderr.splitlines() if line.startswith("import time:")}
    return done, imported


def _client(rclone: RcloneServer) -> Any:
    import boto3
    from botocore.config import Config

    return boto3.client("s3", endpoint_url=rclone.endpoint_url, region_name="us-east-1", verify=rclone.ca_bundle,
                        aws_access_key_id=rclone.access_key, aws_secret_access_key=rclone.secret_key,
                        config=Config(request_checksum_calculation="when_required"))  # fmt: skip


def _make_bucket(rclone: RcloneServer, bucket: str) -> None:
    """Through the S3 API: a folder made under the server's root may not be seen (rclone caches its listing)."""
    _client(rclone).create_bucket(Bucket=bucket)


def test_restore_and_no_change_sync_never_import_boto3(rclone: RcloneServer, tmp_path: Path) -> None:
    bucket = f"imports-{uuid.uuid4().hex[:10]}"
    _make_bucket(rclone, bucket)
    src = tmp_path / "src"
    (src / "sub").mkdir(parents=True)
    for name in ("a.txt", "sub/b.txt", "sub/c.txt"):
        (src / name).write_text(f"content of {name}\n")
    put, imported = _run(rclone, "put", "-r", str(src), f"s3://{bucket}/t/")
    assert put.returncode == 0, put.stderr[-1500:]
    assert "botocore.session" in imported  # an upload reads the bucket's settings through botocore: the check can fail
    assert "boto3" not in imported  # botocore's own session: boto3 and s3transfer serve s3safe nothing
    # botocore probes for awscrt.auth and, with the CRT signer disabled (the default), never uses it: the CRT's
    # native library is not loaded for that probe
    assert "_awscrt" not in imported

    got, imported = _run(rclone, "get", "-r", f"s3://{bucket}/t/", str(tmp_path / "back"))
    assert got.returncode == 0, got.stderr[-1500:]
    assert (tmp_path / "back" / "sub" / "c.txt").read_text() == "content of sub/c.txt\n"
    assert not {"boto3", "botocore.session", "s3safe.query"} & imported  # no --where: no condition language
    assert not {"s3safe.crypto.age", "s3safe.crypto.keys"} & imported  # nothing was encrypted: no age, no key lookup

    synced, imported = _run(rclone, "--json", "sync", str(src), f"s3://{bucket}/t/")
    assert synced.returncode == 0, synced.stderr[-1500:]
    assert '"transferred": 0' in synced.stdout and '"skipped": 3' in synced.stdout, synced.stdout
    assert not {"boto3", "botocore.session", "s3safe.query"} & imported  # no --where: no condition language
    # a sync to S3 fetches nothing: none of the download side is loaded
    assert not {"s3safe.transfer.tree_download", "s3safe.transfer.download", "s3safe.transfer.ranged"} & imported


def test_a_saved_profile_still_signs_the_restore_when_the_environment_holds_other_keys(
    rclone: RcloneServer, tmp_path: Path, run_cli: Callable[..., subprocess.CompletedProcess[str]]
) -> None:
    """The shortcut takes the environment's keys only where botocore would: a saved profile comes first.
    rclone checks every signature, so a request signed with the environment's (wrong) keys is refused."""
    bucket = f"saved-{uuid.uuid4().hex[:10]}"
    _make_bucket(rclone, bucket)
    _client(rclone).put_object(Bucket=bucket, Key="t/a.txt", Body=b"alpha")
    repo = Path(__file__).resolve().parents[2]
    env = {  # a keyring backend kept in a file of the test's (tests/file_keyring.py): no passphrase KDF to wait for
        "PYTHONPATH": os.pathsep.join((str(repo / "src"), str(repo))), "PYTHON_KEYRING_BACKEND": "tests.file_keyring.FileKeyring",
        "S3SAFE_TEST_KEYRING_FILE": str(tmp_path / "keyring.json"),
        "AWS_ACCESS_KEY_ID": "AKIAWRONGENVKEY00000", "AWS_SECRET_ACCESS_KEY": "wrong-environment-secret",
    }  # fmt: skip
    base = ["--endpoint-url", rclone.endpoint_url, "--ca-bundle", rclone.ca_bundle]
    refused = run_cli(*base, "get", "-r", f"s3://{bucket}/t/", str(tmp_path / "no"), env=env)
    assert refused.returncode == 4, refused.stderr[-1500:]  # the environment's keys really are wrong
    saved = run_cli("auth", "save", "srv", input_text=f"{rclone.access_key}\n{rclone.secret_key}\n", env=env)
    assert saved.returncode == 0, saved.stderr[-1500:]
    assert run_cli("auth", "use", "srv", env=env).returncode == 0
    got = run_cli(*base, "get", "-r", f"s3://{bucket}/t/", str(tmp_path / "back"), env=env)
    assert got.returncode == 0, got.stderr[-1500:]
    assert (tmp_path / "back" / "a.txt").read_bytes() == b"alpha"
