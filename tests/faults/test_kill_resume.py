"""kill -9 at random moments of a tree upload and a tree download, then run again until done.

The server is `rclone serve s3` (a separate process, SigV4-checked, over verified HTTPS). The random
moments come from a seed that is printed with every failure; set FAULT_SEED to replay one.
"""

from __future__ import annotations

import hashlib
import os
import random
import signal
import subprocess
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.faults.conftest import Target, bucket_digests, local_digests, make_tree, open_uploads, sha256_file
from tests.servers.rclone import RcloneServer

KILLS = 10  # halved from 20 for the suite's time budget: each interrupted run still resumes and is checked
GET_KILLS = 4
# 1,988 small files (0-40 KiB, ~39 MiB) + 4 x 24 MiB + 8 x 8 MiB: 2,000 files, ~200 MiB
SMALL, SMALL_MAX = 1988, 40 * 1024
BIG = [24 * 1024 * 1024 + 17 * i for i in range(4)] + [8 * 1024 * 1024 + 1000 + i for i in range(8)]
PART = "5MiB"  # the big files are multipart (2 to 5 parts each): kills land between parts too


def _seed() -> int:
    return int(os.environ.get("FAULT_SEED") or random.SystemRandom().randrange(2**31))


def _kill_after(proc: subprocess.Popen[bytes], delay: float) -> bool:
    """SIGKILL `proc` after `delay` seconds; True if it was still running (the kill landed)."""
    try:
        proc.wait(timeout=delay)
    except subprocess.TimeoutExpired:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        return True
    return False


def _rclone_object(rclone: RcloneServer, bucket: str, key: str) -> Path:
    return rclone.root / bucket / key


@pytest.fixture
def state_dir() -> Path:
    return Path(os.environ["S3SAFE_STATE_DIR"])


def test_kill9_during_put_only_diff_then_rerun_until_the_bucket_matches(
    rclone_target: Target, rclone: RcloneServer, tmp_path: Path, bucket_name: Callable[[], str], state_dir: Path
) -> None:
    """10 kills of `put -r --only-diff` of a 2,000-file, ~200 MiB tree, each at a random moment in [0.2, 2.5] s
    of a run (start-up, listing, comparison, small files, multipart parts). A round is one complete sync into
    a fresh prefix: rerun after every kill until a run finishes on its own, then check that the prefix equals
    the source byte for byte, that no multipart upload is left open and no resume journal left behind.
    Rounds repeat until 10 kills have landed (typically 2 or 3 rounds)."""
    seed = _seed()
    rng = random.Random(seed)
    src = tmp_path / "src"
    expected = make_tree(src, small=SMALL, small_max=SMALL_MAX, big=BIG, seed=seed)
    assert len(expected) == 2000
    assert sum((src / rel).stat().st_size for rel in expected) > 195 * 1024 * 1024
    bucket = bucket_name()
    client = rclone_target.client()
    client.create_bucket(Bucket=bucket)
    log = tmp_path / "runs.log"
    kills: list[float] = []
    rounds = 0
    while len(kills) < KILLS:
        rounds += 1
        assert rounds <= 12, f"seed {seed}: kills keep missing the runs ({len(kills)} landed)"
        prefix = f"r{rounds}/"
        put = ("put", "-r", "--only-diff", "--part-size", PART, str(src), f"s3://{bucket}/{prefix}")
        while len(kills) < KILLS:
            delay = rng.uniform(0.2, 2.5)
            proc = rclone_target.popen(*put, log=log)
            if not _kill_after(proc, delay):
                assert proc.returncode == 0, f"seed {seed}: a run failed on its own: {log.read_text()[-2000:]}"
                break
            kills.append(round(delay, 2))
        final = rclone_target.run(*put)
        assert final.returncode == 0, f"seed {seed}, kills at {kills}: {final.stderr[-2000:]}"
        _check_prefix(rclone, client, bucket, prefix, expected, rng, state_dir, note=f"seed {seed}, kills at {kills}")
        # clean final state: one more run finds nothing to do
        again = rclone_target.run("--json", *put)
        assert again.returncode == 0, again.stderr
        assert '"transferred": 0' in again.stdout and '"failed": 0' in again.stdout, again.stdout[-500:]
    print(f"seed {seed}: {len(kills)} kills at {kills} over {rounds} complete syncs")


def _check_prefix(
    rclone: RcloneServer, client: Any, bucket: str, prefix: str, expected: dict[str, str], rng: random.Random,
    state_dir: Path, *, note: str,
) -> None:  # fmt: skip
    listed = {
        item["Key"][len(prefix) :]
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
        for item in page.get("Contents", [])
    }
    assert listed == set(expected), f"{note}: missing {set(expected) - listed}, extra {listed - set(expected)}"
    # every byte: rclone keeps each object as a plain file under its root
    wrong = [rel for rel, digest in expected.items() if sha256_file(_rclone_object(rclone, bucket, prefix + rel)) != digest]
    assert not wrong, f"{note}: corrupted objects {wrong[:10]}"
    # and a sample through the S3 API as well, the multipart files included
    for rel in [*rng.sample(sorted(expected), 30), "big/b00.bin", "big/b07.bin"]:
        body = client.get_object(Bucket=bucket, Key=prefix + rel)["Body"].read()
        assert hashlib.sha256(body).hexdigest() == expected[rel], f"{note}: {rel}"
    journals = [p.read_text() for p in (state_dir / "uploads").glob("*.json")]
    left = [(u["Key"], u["UploadId"]) for u in open_uploads(client, bucket)]
    assert not left, f"{note}: incomplete multipart uploads remain: {left}; journals {journals}"
    assert not journals, f"{note}: stale resume journals remain: {journals}"


class _Watcher(threading.Thread):
    """Polls a download folder; every file it sees at a final path must already be whole and correct."""

    def __init__(self, root: Path, expected: dict[str, str]) -> None:
        super().__init__(daemon=True)
        self.root = root
        self.expected = expected
        self.checked: dict[str, tuple[int, int]] = {}
        self.bad: list[str] = []
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            self.scan()
            self.stop.wait(0.05)

    def scan(self) -> None:
        if not self.root.exists():
            return
        for path in self.root.rglob("*"):
            if path.name.endswith(".s3safe-tmp"):
                continue
            try:
                st = path.stat()
                if not path.is_file():
                    continue
                where = path.relative_to(self.root).as_posix()
                rel = where.split("/", 1)[1] if "/" in where else where  # below the round's folder
                if self.checked.get(where) == (st.st_ino, st.st_mtime_ns):
                    continue
                if sha256_file(path) != self.expected.get(rel):
                    self.bad.append(where)
                self.checked[where] = (st.st_ino, st.st_mtime_ns)
            except FileNotFoundError:
                continue


def test_kill9_during_get_never_leaves_a_partial_file_at_a_final_path(
    rclone_target: Target, rclone: RcloneServer, tmp_path: Path, bucket_name: Callable[[], str]
) -> None:
    """Downloads go to a temp file and are renamed into place only when verified: a watcher hashes every
    file the moment it appears at its final path, through 4 kills of `get -r --only-diff` (2,000 files,
    ~200 MiB) at random moments in [0.2, 2] s. A round restores into a fresh folder and reruns until a run
    finishes on its own; then the folder equals the bucket and no temp file of a killed run is left."""
    seed = _seed()
    rng = random.Random(seed)
    bucket = bucket_name()
    client = rclone_target.client()
    client.create_bucket(Bucket=bucket)
    # the server's own files are the objects: lay the tree straight into rclone's root (fast, no s3safe involved)
    expected = make_tree(rclone.root / bucket / "t", small=SMALL, small_max=SMALL_MAX, big=BIG, seed=seed)
    assert len(bucket_digests(client, bucket, "t/big/")) == len(BIG)
    restores = tmp_path / "restores"
    restores.mkdir()
    watcher = _Watcher(restores, expected)
    watcher.start()
    log = tmp_path / "get.log"
    kills: list[float] = []
    rounds = 0
    try:
        while len(kills) < GET_KILLS:
            rounds += 1
            assert rounds <= 8, f"seed {seed}: kills keep missing the downloads ({len(kills)} landed)"
            dest = restores / f"r{rounds}"
            get = ("get", "-r", "--only-diff", f"s3://{bucket}/t/", str(dest))
            while len(kills) < GET_KILLS:
                delay = rng.uniform(0.2, 2.0)
                proc = rclone_target.popen(*get, log=log)
                if not _kill_after(proc, delay):
                    assert proc.returncode == 0, log.read_text()[-2000:]
                    break
                kills.append(round(delay, 2))
                watcher.scan()
                assert not watcher.bad, f"seed {seed}: partial or wrong files at final paths: {watcher.bad[:10]}"
            final = rclone_target.run(*get)
            assert final.returncode == 0, final.stderr[-2000:]
            assert local_digests(dest) == expected, f"seed {seed}"
            leftovers = [p.name for p in dest.rglob("*.s3safe-tmp")]
            assert not leftovers, f"seed {seed}: temp files of killed runs remain: {leftovers[:5]}"
    finally:
        watcher.stop.set()
        watcher.join(timeout=30)
    watcher.scan()
    assert not watcher.bad, f"seed {seed}: partial or wrong files at final paths: {watcher.bad[:10]}"
    assert len(watcher.checked) >= len(expected), "the watcher saw fewer files than were restored"
    print(f"seed {seed}: {len(kills)} download kills at {kills} over {rounds} restores")
