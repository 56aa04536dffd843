"""The write side of restores, through the CLI against moto: an empty source is an error, only s3safe's own
temp files are swept, and a backslash in a key or a file name is an ordinary character on POSIX."""

from __future__ import annotations

import hashlib
import json
import os
import socket
import stat
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.servers.moto import MotoServer

Run = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def bucket(moto_client: Any, bucket_name: Callable[[], str]) -> str:
    name = bucket_name()
    moto_client.create_bucket(Bucket=name)
    return name


def _cli(run_cli: Run, moto: MotoServer, *args: str) -> subprocess.CompletedProcess[str]:
    return run_cli("--endpoint-url", moto.endpoint_url, "--allow-http", *args)


def test_a_restore_from_a_mistyped_prefix_is_not_found(run_cli: Run, moto: MotoServer, moto_client: Any, bucket: str, tmp_path: Path) -> None:
    moto_client.put_object(Bucket=bucket, Key="site/one.html", Body=b"<p>one</p>")
    result = _cli(run_cli, moto, "get", "-r", f"s3://{bucket}/sitee/", str(tmp_path / "z"))
    assert result.returncode == 3, result.stderr
    assert f"s3://{bucket}/sitee/" in result.stderr and "--allow-empty" in result.stderr
    assert "Traceback" not in result.stderr and not (tmp_path / "z").exists()
    result = _cli(run_cli, moto, "sync", f"s3://{bucket}/sitee/", str(tmp_path / "y"))
    assert result.returncode == 3, result.stderr
    # asked for: an empty source is accepted
    result = _cli(run_cli, moto, "get", "-r", "--allow-empty", f"s3://{bucket}/sitee/", str(tmp_path / "z"))
    assert result.returncode == 0, result.stderr


def test_a_single_object_url_with_r_says_so(run_cli: Run, moto: MotoServer, moto_client: Any, bucket: str, tmp_path: Path) -> None:
    moto_client.put_object(Bucket=bucket, Key="site/one.html", Body=b"<p>one</p>")
    for command in (("sync",), ("get", "-r")):
        result = _cli(run_cli, moto, *command, f"s3://{bucket}/site/one.html", str(tmp_path / "x"))
        assert result.returncode == 2, result.stderr
        assert "is an object, not a folder" in result.stderr, result.stderr
        assert "Traceback" not in result.stderr and not (tmp_path / "x").exists()


def test_the_temp_sweep_spares_files_that_only_look_like_temps(
    run_cli: Run, moto: MotoServer, moto_client: Any, bucket: str, tmp_path: Path
) -> None:
    moto_client.put_object(Bucket=bucket, Key="t/a.txt", Body=b"a")
    moto_client.put_object(Bucket=bucket, Key="t/notes.s3safe-tmp", Body=b"an object with the suffix")
    dest = tmp_path / "dest"
    dest.mkdir()
    old = 1_500_000_000
    users = {"draft.s3safe-tmp": b"mine", ".a.txt.123-4.s3safe-tmp": b"also mine", ".a.txt.9-9-0123456789ab.s3safe-tmp": b"forged"}
    for name, data in users.items():
        (dest / name).write_bytes(data)
        os.utime(dest / name, (old, old))
    for _ in range(2):  # the object with the suffix was downloaded, then swept, on alternate runs
        result = _cli(run_cli, moto, "get", "-r", f"s3://{bucket}/t/", str(dest))
        assert result.returncode == 0, result.stderr
        assert "remove-temp" not in result.stdout
        for name, data in users.items():
            assert (dest / name).read_bytes() == data
        assert (dest / "notes.s3safe-tmp").read_bytes() == b"an object with the suffix"


def test_backslashes_are_ordinary_characters_on_posix(
    run_cli: Run, moto: MotoServer, moto_client: Any, bucket: str, tmp_path: Path
) -> None:
    if os.name == "nt":
        pytest.skip("on Windows a backslash is a path separator")
    moto_client.put_object(Bucket=bucket, Key="k/a\\b", Body=b"backslash")
    moto_client.put_object(Bucket=bucket, Key="k/a/b", Body=b"slash")
    dest = tmp_path / "dest"
    result = _cli(run_cli, moto, "get", "-r", f"s3://{bucket}/k/", str(dest))
    assert result.returncode == 0, result.stderr
    assert (dest / "a\\b").read_bytes() == b"backslash" and (dest / "a" / "b").read_bytes() == b"slash"
    # and back: a POSIX file name with a backslash keeps it on S3, so a purge renames nothing
    (dest / "back\\slash.txt").write_bytes(b"name with a backslash")
    result = _cli(run_cli, moto, "put", "-r", "--purge", str(dest), f"s3://{bucket}/k/")
    assert result.returncode == 0, result.stderr
    keys = sorted(o["Key"] for o in moto_client.list_objects_v2(Bucket=bucket, Prefix="k/")["Contents"])
    assert keys == ["k/a/b", "k/a\\b", "k/back\\slash.txt"]
    single = tmp_path / "single"
    single.mkdir()
    result = _cli(run_cli, moto, "get", f"s3://{bucket}/k/back\\slash.txt", str(single))
    assert result.returncode == 0, result.stderr
    assert [p.name for p in single.iterdir()] == ["back\\slash.txt"]


_SWAPPER = """
import os, sys, time
dest, outside, stop = sys.argv[1], sys.argv[2], sys.argv[3]
folder = os.path.join(dest, "d")
deadline = time.monotonic() + 120
n = 0
while not os.path.exists(stop) and time.monotonic() < deadline:
    n += 1
    try:
        os.rename(folder, os.path.join(dest, f"moved{n}"))  # the real folder moves aside, inside dest
    except OSError:
        pass
    try:
        os.symlink(outside, folder)  # and a link to outside takes its name
    except OSError:
        pass
    time.sleep(0.001)
    try:
        if os.path.islink(folder):
            os.unlink(folder)
    except OSError:
        pass
"""


def test_a_symlink_swapped_in_during_get_r_cannot_redirect_a_write(
    run_cli: Run, moto: MotoServer, moto_client: Any, bucket: str, tmp_path: Path
) -> None:
    """A local process swaps the folder being restored and a symlink to outside every millisecond: whatever
    fails, nothing may appear outside the destination (the tar/rsync race)."""
    for i in range(300):
        moto_client.put_object(Bucket=bucket, Key=f"t/d/f{i:03d}.txt", Body=b"x" * 10)
    outside, dest, stop = tmp_path / "outside", tmp_path / "dest", tmp_path / "stop"
    outside.mkdir()
    dest.mkdir()
    swapper = subprocess.Popen([sys.executable, "-c", _SWAPPER, str(dest), str(outside), str(stop)])
    try:
        for _ in range(4):
            result = _cli(run_cli, moto, "get", "-r", f"s3://{bucket}/t/", str(dest))
            assert list(outside.iterdir()) == []
            assert result.returncode in (0, 5), result.stderr
            assert "Traceback" not in result.stderr and "internal error" not in result.stderr
    finally:
        stop.touch()
        swapper.wait(timeout=60)
    assert list(outside.iterdir()) == []


def test_a_symlink_inside_the_destination_is_reported_not_followed(
    run_cli: Run, moto: MotoServer, moto_client: Any, bucket: str, tmp_path: Path
) -> None:
    moto_client.put_object(Bucket=bucket, Key="t/d/f.txt", Body=b"x")
    moto_client.put_object(Bucket=bucket, Key="t/ok.txt", Body=b"ok")
    outside, dest = tmp_path / "outside", tmp_path / "dest"
    outside.mkdir()
    dest.mkdir()
    (dest / "d").symlink_to(outside, target_is_directory=True)
    result = _cli(run_cli, moto, "get", "-r", f"s3://{bucket}/t/", str(dest))
    assert result.returncode == 5, result.stderr
    assert "d is a symbolic link" in result.stderr and "Traceback" not in result.stderr
    assert list(outside.iterdir()) == [] and (dest / "ok.txt").read_bytes() == b"ok"


def test_get_r_into_an_existing_file_is_a_usage_error(run_cli: Run, moto: MotoServer, moto_client: Any, bucket: str, tmp_path: Path) -> None:
    moto_client.put_object(Bucket=bucket, Key="t/a.txt", Body=b"a")
    (tmp_path / "file").write_bytes(b"keep")
    result = _cli(run_cli, moto, "get", "-r", f"s3://{bucket}/t/", str(tmp_path / "file"))
    assert result.returncode == 2, result.stderr
    assert f"{tmp_path / 'file'} is a file, not a folder" in result.stderr and "Traceback" not in result.stderr
    assert (tmp_path / "file").read_bytes() == b"keep"


def test_a_fifo_is_written_into_not_replaced(run_cli: Run, moto: MotoServer, moto_client: Any, bucket: str, tmp_path: Path) -> None:
    body = os.urandom(3 * 1024 * 1024)  # large: streamed, so the bytes go out before they are verified
    moto_client.put_object(Bucket=bucket, Key="big.bin", Body=body)
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    received: list[bytes] = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_bytes()), daemon=True)
    reader.start()
    result = _cli(run_cli, moto, "get", f"s3://{bucket}/big.bin", str(fifo))
    reader.join(timeout=60)
    assert result.returncode == 0, result.stderr
    assert received == [body]
    assert stat.S_ISFIFO(fifo.lstat().st_mode)


def test_a_character_device_is_written_into_and_a_socket_refused(
    run_cli: Run, moto: MotoServer, moto_client: Any, bucket: str, tmp_path: Path
) -> None:
    moto_client.put_object(Bucket=bucket, Key="k.txt", Body=b"into the void")
    if os.geteuid() != 0:
        pytest.skip("making a device node needs root")
    null = tmp_path / "null"
    os.mknod(null, 0o666 | stat.S_IFCHR, os.makedev(1, 3))  # a second /dev/null, here (the real one is not risked)
    before = null.lstat().st_mode
    result = _cli(run_cli, moto, "get", f"s3://{bucket}/k.txt", str(null))
    assert result.returncode == 0, result.stderr
    assert null.lstat().st_mode == before and stat.S_ISCHR(before) and null.lstat().st_rdev == os.makedev(1, 3)
    sock_path = tmp_path / "sock"
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(sock_path))
        result = _cli(run_cli, moto, "get", f"s3://{bucket}/k.txt", str(sock_path))
    assert result.returncode == 2, result.stderr
    assert f"{sock_path} is a socket" in result.stderr
    assert stat.S_ISSOCK(sock_path.lstat().st_mode)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


def test_modes_are_stored_at_upload_and_restored_without_setuid_unless_asked(
    run_cli: Run, moto: MotoServer, moto_client: Any, bucket: str, tmp_path: Path
) -> None:
    modes = {"run.sh": 0o755, "secret.txt": 0o640, "suid": 0o4755, "web/index.html": 0o644}
    src = tmp_path / "src"
    for name, mode in modes.items():
        (src / name).parent.mkdir(parents=True, exist_ok=True)
        (src / name).write_bytes(name.encode())
        (src / name).chmod(mode)
    assert _cli(run_cli, moto, "put", "-r", str(src), f"s3://{bucket}/m/").returncode == 0
    stored = moto_client.head_object(Bucket=bucket, Key="m/run.sh")["Metadata"]
    assert stored["s3safe-mode"] == "0755"
    moto_client.put_object(Bucket=bucket, Key="m/none.txt", Body=b"no mode stored")
    old_umask = os.umask(0o027)
    try:
        result = _cli(run_cli, moto, "get", "-r", f"s3://{bucket}/m/", str(tmp_path / "dst"))
        kept = _cli(run_cli, moto, "get", "-r", "--keep-setuid", f"s3://{bucket}/m/", str(tmp_path / "kept"))
        single = _cli(run_cli, moto, "get", f"s3://{bucket}/m/run.sh", str(tmp_path / "one.sh"))
    finally:
        os.umask(old_umask)
    assert result.returncode == 0 and kept.returncode == 0 and single.returncode == 0, result.stderr + kept.stderr + single.stderr
    dst = tmp_path / "dst"
    assert {name: _mode(dst / name) for name in modes} == {**modes, "suid": 0o755}
    assert _mode(dst / "none.txt") == 0o666 & ~0o027  # no stored mode: what a new file gets here
    if os.geteuid() == 0:  # only root (or the owner in its own groups) may set setuid
        assert _mode(tmp_path / "kept" / "suid") == 0o4755
    assert _mode(tmp_path / "one.sh") == 0o755


def test_mode_metadata_does_not_make_only_diff_upload_an_existing_tree_again(
    run_cli: Run, moto: MotoServer, moto_client: Any, bucket: str, tmp_path: Path
) -> None:
    src = tmp_path / "src"
    src.mkdir()
    body = b"uploaded before modes were stored"
    (src / "old.txt").write_bytes(body)
    # as an earlier s3safe stored it: content digest and mtime, no mode
    moto_client.put_object(Bucket=bucket, Key="legacy/old.txt", Body=body,
                           Metadata={"s3safe-sha256": hashlib.sha256(body).hexdigest(), "s3safe-mtime": "1600000000.0"})  # fmt: skip
    result = _cli(run_cli, moto, "--json", "put", "-r", "--only-diff", str(src), f"s3://{bucket}/legacy/")
    assert result.returncode == 0, result.stderr
    summary = next(json.loads(line) for line in result.stdout.splitlines() if '"summary"' in line)
    assert summary["transferred"] == 0 and summary["skipped"] == 1


def test_a_link_at_the_target_of_a_single_get_is_replaced_not_written_through(
    run_cli: Run, moto: MotoServer, moto_client: Any, bucket: str, tmp_path: Path
) -> None:
    moto_client.put_object(Bucket=bucket, Key="k.txt", Body=b"downloaded")
    victim = tmp_path / "victim"
    victim.write_bytes(b"precious")
    link = tmp_path / "planted"
    link.symlink_to(victim)
    result = _cli(run_cli, moto, "get", f"s3://{bucket}/k.txt", str(link))
    assert result.returncode == 0, result.stderr
    assert victim.read_bytes() == b"precious"
    assert not link.is_symlink() and link.read_bytes() == b"downloaded"
