"""`meta set` leaves s3safe's own record of an object's bytes alone: a digest set by hand would make --only-diff
call a changed file unchanged (or the reverse), and every download would check the bytes against it."""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.servers.moto import MotoServer

Run = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def uploaded(
    moto: MotoServer, moto_client: Any, bucket_name: Callable[[], str], run_cli: Run, tmp_path: Path
) -> tuple[str, tuple[str, ...]]:
    """A bucket holding a.txt as s3safe uploaded it, and the command line's arguments to reach the server."""
    bucket = bucket_name()
    moto_client.create_bucket(Bucket=bucket)
    (tmp_path / "a.txt").write_text("hello\n")
    base = ("--endpoint-url", moto.endpoint_url, "--allow-http")
    assert run_cli(*base, "put", str(tmp_path / "a.txt"), f"s3://{bucket}/a.txt").returncode == 0
    return bucket, base


@pytest.mark.parametrize(
    "change",
    [
        ["--set", "s3safe-sha256=" + "0" * 64],
        ["--set", "S3SAFE-SHA256=" + "0" * 64],  # metadata names are case-insensitive
        ["--unset", "s3safe-sha256"],
        ["--set", "s3safe-crc64nvme=AAAAAAAAAAA="],
        ["--set", "team=ops", "--set", "s3safe-digest=forged"],
        ["--unset", "s3safe-encryption"],
    ],
)
def test_meta_set_refuses_to_change_s3safes_evidence_and_changes_nothing(
    change: list[str], uploaded: tuple[str, tuple[str, ...]], moto_client: Any, run_cli: Run
) -> None:
    bucket, base = uploaded
    before = moto_client.head_object(Bucket=bucket, Key="a.txt")

    refused = run_cli(*base, "meta", "set", f"s3://{bucket}/a.txt", *change)
    assert refused.returncode == 2, refused.stderr
    assert "record of the bytes its upload sent" in refused.stderr
    assert len(refused.stderr.strip().splitlines()) <= 2 and "Traceback" not in refused.stderr
    after = moto_client.head_object(Bucket=bucket, Key="a.txt")
    assert after["Metadata"] == before["Metadata"] and after["ETag"] == before["ETag"]


def test_meta_set_of_other_names_keeps_the_evidence(
    uploaded: tuple[str, tuple[str, ...]], moto_client: Any, run_cli: Run
) -> None:
    bucket, base = uploaded
    digest = moto_client.head_object(Bucket=bucket, Key="a.txt")["Metadata"]["s3safe-sha256"]
    done = run_cli(*base, "meta", "set", f"s3://{bucket}/a.txt", "--set", "team=ops", "--set", "s3safe-mtime=1700000000")
    assert done.returncode == 0, done.stderr
    metadata = moto_client.head_object(Bucket=bucket, Key="a.txt")["Metadata"]
    assert metadata["team"] == "ops" and metadata["s3safe-sha256"] == digest


@pytest.mark.parametrize(
    "command",
    [
        ["put", "--meta", "s3safe-encryption=age-v1", "{file}", "s3://{bucket}/new.txt"],
        ["put", "-r", "--meta", "S3SAFE-SHA256=00", "{folder}", "s3://{bucket}/tree/"],
        ["sync", "--meta", "s3safe-plain-size=5", "{folder}", "s3://{bucket}/tree/"],
        ["cp", "--meta", "s3safe-digest=forged", "s3://{bucket}/a.txt", "s3://{bucket}/copy.txt"],
    ],
    ids=["put", "put-r", "sync", "cp"],
)
def test_meta_of_s3safes_own_names_is_refused_and_nothing_is_stored(
    command: list[str], moto: MotoServer, moto_client: Any, bucket_name: Callable[[], str], run_cli: Run, tmp_path: Path
) -> None:
    """A plain file stored with `s3safe-encryption` could not be downloaded again (it claims to be ciphertext)."""
    bucket = bucket_name()
    moto_client.create_bucket(Bucket=bucket)
    folder = tmp_path / "tree"
    folder.mkdir()
    (folder / "a.txt").write_text("hello\n")
    base = ("--endpoint-url", moto.endpoint_url, "--allow-http")
    assert run_cli(*base, "put", str(folder / "a.txt"), f"s3://{bucket}/a.txt").returncode == 0
    argv = [part.format(file=folder / "a.txt", folder=folder, bucket=bucket) for part in command]
    refused = run_cli(*base, *argv)
    assert refused.returncode == 2, refused.stderr
    assert "names that start with s3safe- are s3safe's own record of the file" in refused.stderr
    assert "Traceback" not in refused.stderr
    keys = [o["Key"] for o in moto_client.list_objects_v2(Bucket=bucket).get("Contents", [])]
    assert keys == ["a.txt"]


@pytest.mark.parametrize("dest", ["s3://{bucket}/a.txt", "s3://{bucket}/"], ids=["same-key", "same-folder"])
def test_cp_of_one_object_onto_itself_is_a_usage_error(
    dest: str, moto: MotoServer, moto_client: Any, bucket_name: Callable[[], str], run_cli: Run, tmp_path: Path
) -> None:
    """It was a failed item of a bulk run: '0 done, 1 failed', exit 5 (rt21)."""
    bucket = bucket_name()
    moto_client.create_bucket(Bucket=bucket)
    moto_client.put_object(Bucket=bucket, Key="a.txt", Body=b"x")
    before = moto_client.head_object(Bucket=bucket, Key="a.txt")["ETag"]
    result = run_cli("--endpoint-url", moto.endpoint_url, "--allow-http", "cp", f"s3://{bucket}/a.txt", dest.format(bucket=bucket))
    assert result.returncode == 2, result.stderr
    assert "are the same object; nothing to copy" in result.stderr and "failed" not in result.stdout
    assert moto_client.head_object(Bucket=bucket, Key="a.txt")["ETag"] == before


@pytest.mark.parametrize("src", ["s3://{bucket}/tree/", "s3://{bucket}/tree"], ids=["folder", "no-slash"])
def test_cp_r_of_a_prefix_onto_itself_is_a_usage_error(
    src: str, moto: MotoServer, moto_client: Any, bucket_name: Callable[[], str], run_cli: Run
) -> None:
    """Each object failed as 'the same object': '0 done, N failed', exit 5 (rt22)."""
    bucket = bucket_name()
    moto_client.create_bucket(Bucket=bucket)
    moto_client.put_object(Bucket=bucket, Key="tree/a.txt", Body=b"x")
    result = run_cli("--endpoint-url", moto.endpoint_url, "--allow-http", "cp", "-r", src.format(bucket=bucket),
                     f"s3://{bucket}/tree/")  # fmt: skip
    assert result.returncode == 2, result.stderr
    assert "is both the source and the destination; nothing to copy" in result.stderr


@pytest.mark.parametrize(
    ("change", "said"),
    [
        (["--set", "s3safe-mode=banana"], "s3safe-mode must be a file mode in octal"),
        (["--set", "s3safe-mode=10000"], "s3safe-mode must be a file mode in octal"),
        (["--set", "S3SAFE-MODE=0x1ff"], "s3safe-mode must be a file mode in octal"),
        (["--set", "s3safe-mtime=yesterday"], "s3safe-mtime must be seconds since 1970"),
        (["--set", "s3safe-mtime=1e400"], "s3safe-mtime must be seconds since 1970"),
        (["--set", "s3safe-mtime=-999999999999"], "s3safe-mtime must be seconds since 1970"),  # past what a clock holds
        (["--unset", "not a name"], "invalid metadata name"),
    ],
)
def test_meta_set_refuses_values_a_restore_could_not_use(
    change: list[str], said: str, uploaded: tuple[str, tuple[str, ...]], moto_client: Any, run_cli: Run
) -> None:
    """rt22: nonsense s3safe-mode/-mtime values were stored, and every restore then warned and ignored them."""
    bucket, base = uploaded
    before = moto_client.head_object(Bucket=bucket, Key="a.txt")
    refused = run_cli(*base, "meta", "set", f"s3://{bucket}/a.txt", *change)
    assert refused.returncode == 2, refused.stderr
    assert said in refused.stderr, refused.stderr
    assert moto_client.head_object(Bucket=bucket, Key="a.txt")["Metadata"] == before["Metadata"]


def test_meta_set_takes_usable_mode_and_mtime_and_header_spelled_names(
    uploaded: tuple[str, tuple[str, ...]], moto_client: Any, run_cli: Run, tmp_path: Path
) -> None:
    """A mode and mtime as s3safe records them are taken (and a restore applies them); a name written with its
    header prefix is stored once (rt21 L3: x-amz-meta-x-amz-meta-team), and --unset ' team' removes 'team'."""
    bucket, base = uploaded
    done = run_cli(*base, "meta", "set", f"s3://{bucket}/a.txt", "--set", "s3safe-mode=0600", "--set", "s3safe-mtime=1000000000.5",
                   "--set", "x-amz-meta-team=ops")  # fmt: skip
    assert done.returncode == 0, done.stderr
    metadata = moto_client.head_object(Bucket=bucket, Key="a.txt")["Metadata"]
    assert metadata["team"] == "ops" and not any(name.startswith("x-amz-meta") for name in metadata), metadata
    restored = tmp_path / "restored.txt"
    assert run_cli(*base, "get", f"s3://{bucket}/a.txt", str(restored)).returncode == 0
    assert (restored.stat().st_mode & 0o777, restored.stat().st_mtime_ns) == (0o600, 1_000_000_000_500_000_000)
    removed = run_cli(*base, "meta", "set", f"s3://{bucket}/a.txt", "--unset", " team")
    assert removed.returncode == 0, removed.stderr
    assert "team" not in moto_client.head_object(Bucket=bucket, Key="a.txt")["Metadata"]


@pytest.mark.parametrize(
    "change",
    [
        ["--set", "x-amz-meta-content-type=text/html"],
        ["--set", "X-Amz-Meta-Cache-Control=no-store"],
        ["--unset", "x-amz-meta-content-type"],
        ["--set", "team=a", "--unset", "TEAM"],
    ],
)
def test_meta_set_refuses_names_it_could_take_for_another_thing(
    change: list[str], uploaded: tuple[str, tuple[str, ...]], moto_client: Any, run_cli: Run
) -> None:
    """rt23 C: `--set x-amz-meta-content-type=text/html` (user metadata, by its prefix) changed the object's real
    Content-Type, so the object was served as HTML; a name both set and unset lost the unset silently."""
    bucket, base = uploaded
    before = moto_client.head_object(Bucket=bucket, Key="a.txt")
    refused = run_cli(*base, "meta", "set", f"s3://{bucket}/a.txt", *change)
    assert refused.returncode == 2, refused.stderr
    after = moto_client.head_object(Bucket=bucket, Key="a.txt")
    assert (after["ContentType"], after.get("CacheControl"), after["Metadata"]) == (before["ContentType"], before.get("CacheControl"), before["Metadata"])
