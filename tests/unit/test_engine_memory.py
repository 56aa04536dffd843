"""The transfer engine on the in-memory storage: planning and transfer of a tree without a server, in milliseconds.

The same engine code runs against real servers in tests/functional; these check the engine's own decisions (what
is sent, skipped, resumed or deleted) where no network can blur them. The in-memory store's fidelity to S3 is
checked in tests/functional/test_storage_contract.py.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import os
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from s3safe.core import cancel
from s3safe.core.errors import DeleteCapRefusal, IntegrityError, ListingError, UsageError
from s3safe.core.locations import S3Url
from s3safe.core.models import ActionResult
from s3safe.core.safety import SafetyGate
from s3safe.core.settings import ConnectionSettings
from s3safe.crypto import age
from s3safe.crypto.digest import generate_digest_key
from s3safe.storage.base import Part
from s3safe.storage.connection import Connection
from s3safe.storage.memory import MemoryChunkWriter, MemoryStorage, contents
from s3safe.transfer import download as download_mod
from s3safe.transfer import encrypted as encrypted_mod
from s3safe.transfer import state as state_mod
from s3safe.transfer.download import download_file
from s3safe.transfer.encryption import DIGEST_META, Decryption, Encryption
from s3safe.transfer.engine import TreeOptions, TreeSummary, download_tree, upload_tree
from s3safe.transfer.multipart import journal_path, load_journal
from s3safe.transfer.options import SHA256_META, UploadOptions
from s3safe.transfer.single import upload_file
from s3safe.transfer.state import StateCache

PART = 5 * 1024**2  # the smallest --part-size
BUCKET = "bkt"


@pytest.fixture
def memory() -> MemoryStorage:
    return MemoryStorage(BUCKET)


@pytest.fixture
def conn(memory: MemoryStorage) -> Connection:
    return Connection(ConnectionSettings(endpoint_url="https://memory.invalid", threads=4), objects=memory, admin=memory)


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    root = tmp_path / "src"
    (root / "sub").mkdir(parents=True)
    (root / "a.txt").write_bytes(b"alpha\n")
    (root / "sub" / "b.txt").write_bytes(b"beta\n" * 100)
    (root / "big.bin").write_bytes(os.urandom(PART + 1234))
    return root


def _put(
    conn: Connection, root: Path, *, gate: SafetyGate | None = None, **options: Any
) -> tuple[list[ActionResult], TreeSummary]:
    summary = TreeSummary()
    tree_options = TreeOptions(upload=UploadOptions(part_size=PART), **options)
    results = list(
        upload_tree(conn, root, S3Url(BUCKET, "backup/"), options=tree_options, gate=gate or SafetyGate(), summary=summary)
    )
    return results, summary


def _sent(memory: MemoryStorage, kind: str) -> list[str]:
    return [key for op, _, key in memory.requests if op == kind]


def test_a_tree_goes_up_whole_with_its_digests_and_large_files_in_parts(
    conn: Connection, memory: MemoryStorage, tree: Path
) -> None:
    results, summary = _put(conn, tree)
    assert all(r.ok for r in results) and summary.transferred == 3
    stored = contents(memory, BUCKET)
    assert set(stored) == {"backup/a.txt", "backup/big.bin", "backup/sub/b.txt"}
    for key, data in stored.items():
        local = tree.joinpath(*key.split("/")[1:]).read_bytes()
        assert data == local
        assert memory.object(BUCKET, key).request.metadata[SHA256_META] == hashlib.sha256(local).hexdigest()
    assert _sent(memory, "PART").count("backup/big.bin") == 2 and sorted(_sent(memory, "PUT")) == [
        "backup/a.txt",
        "backup/sub/b.txt",
    ]
    assert memory.object(BUCKET, "backup/big.bin").etag.endswith("-2")


def test_only_diff_sends_only_what_changed_and_purge_deletes_through_the_gate(
    conn: Connection, memory: MemoryStorage, tree: Path
) -> None:
    _put(conn, tree)
    memory.requests.clear()
    _, summary = _put(conn, tree, mode="diff")
    assert summary.transferred == 0 and not _sent(memory, "PUT") and not _sent(memory, "PART")
    (tree / "a.txt").write_bytes(b"alpha, changed\n")
    (tree / "sub" / "b.txt").unlink()
    dry, _ = _put(conn, tree, mode="diff", purge=True, gate=SafetyGate(dry_run=True))
    assert "backup/sub/b.txt" in contents(memory, BUCKET) and any("sub/b.txt" in r.target for r in dry)
    results, summary = _put(conn, tree, mode="diff", purge=True)
    assert all(r.ok for r in results) and (summary.transferred, summary.deleted) == (1, 1)
    assert _sent(memory, "PUT") == ["backup/a.txt"] and _sent(memory, "DELETE") == ["backup/sub/b.txt"]
    assert contents(memory, BUCKET)["backup/a.txt"] == b"alpha, changed\n"


def test_a_no_change_sync_reads_the_state_cache_a_window_at_a_time_not_once_per_file(
    conn: Connection, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(state_mod, "WINDOW_ROWS", 8)
    root = tmp_path / "many"
    root.mkdir()
    for n in range(40):
        (root / f"f{n:02d}").write_bytes(b"x" * n)
    cache = StateCache(tmp_path / "state.sqlite")
    put = lambda: list(upload_tree(conn, root, S3Url(BUCKET, "many/"), options=TreeOptions(mode="diff"), gate=SafetyGate(),  # noqa: E731
                                   summary=(summary := TreeSummary()), cache=cache)) and summary  # fmt: skip
    assert put().transferred == 40
    selects: list[str] = []
    cache._store.db.set_trace_callback(lambda sql: selects.append(sql) if sql.startswith("SELECT") else None)
    again = put()
    assert (again.transferred, again.skipped, again.hashed) == (0, 40, 0)  # every file answered by the cache
    assert len(selects) <= 40 // 8 + 2  # was one query per file


def _interrupt_at_part(monkeypatch: pytest.MonkeyPatch, number: int) -> list[int]:
    """Make the chunk writer stop the run (Ctrl-C) at part `number`; returns the numbers of the parts written."""
    real = MemoryChunkWriter.write_part
    written: list[int] = []

    def write_part(self: MemoryChunkWriter, upload_id: str, n: int, data: bytes, **checksum: Any) -> Part:
        if n >= number:
            raise KeyboardInterrupt
        written.append(n)
        return real(self, upload_id, n, data, **checksum)

    monkeypatch.setattr(MemoryChunkWriter, "write_part", write_part)
    return written


@pytest.mark.parametrize("encrypted", [False, True], ids=["plain", "encrypted"])
def test_an_interrupted_multipart_upload_resumes_through_the_same_chunk_writer(
    conn: Connection, memory: MemoryStorage, tree: Path, monkeypatch: pytest.MonkeyPatch, encrypted: bool,
) -> None:  # fmt: skip
    enc = (
        Encryption(format="age", digest_key=generate_digest_key(), recipients=(age.generate_identity()[1],))
        if encrypted
        else None
    )
    monkeypatch.setattr(encrypted_mod, "INLINE_MAX", 1024**2)  # so that a 5 MiB file is sent in parts
    monkeypatch.setattr(encrypted_mod, "MIN_ENCRYPTED_PART", PART)
    source = tree / "big.bin"
    upload: Callable[[], Any] = lambda: upload_file(conn, source, S3Url(BUCKET, "big.bin"), options=UploadOptions(part_size=PART),  # noqa: E731
                                                    encryption=enc)  # fmt: skip
    with monkeypatch.context() as patch:
        written = _interrupt_at_part(patch, 2)
        with pytest.raises(KeyboardInterrupt):
            upload()
    cancel.reset()
    journal = load_journal(journal_path(BUCKET, "big.bin"))
    assert journal is not None and journal.upload_id and written == [1]
    assert bool(journal.crypto_state) == encrypted  # an encrypted upload's journal regenerates the same ciphertext
    memory.requests.clear()
    upload()
    assert _sent(memory, "PART") == ["big.bin"] and _sent(memory, "COMPLETE") == ["big.bin"]  # part 1 reused
    assert load_journal(journal_path(BUCKET, "big.bin")) is None and not memory.uploads
    stored = memory.object(BUCKET, "big.bin")
    if encrypted:
        assert DIGEST_META in stored.request.metadata and stored.data != source.read_bytes()
    else:
        assert stored.data == source.read_bytes()


def test_standard_input_goes_through_the_same_pipeline(conn: Connection, memory: MemoryStorage) -> None:
    from s3safe.transfer.streams import upload_stream

    short, long = os.urandom(1000), os.urandom(2 * PART + 5)
    upload_stream(conn, io.BytesIO(short), S3Url(BUCKET, "short.bin"), options=UploadOptions(part_size=PART))
    result = upload_stream(conn, io.BytesIO(long), S3Url(BUCKET, "long.bin"), options=UploadOptions(part_size=PART))
    assert contents(memory, BUCKET) == {"short.bin": short, "long.bin": long}
    assert _sent(memory, "PUT") == ["short.bin"] and _sent(memory, "PART") == ["long.bin"] * 3
    assert result.size == len(long) and result.proof is not None  # the parts' ETags were checked as their MD5s
    assert memory.object(BUCKET, "short.bin").request.metadata[SHA256_META] == hashlib.sha256(short).hexdigest()
    assert not memory.uploads  # nothing left open


def test_parts_the_server_checked_by_their_checksum_need_no_md5(conn: Connection, memory: MemoryStorage, tree: Path) -> None:
    """The in-memory store checks each part's CRC64NVME and answers with it, as AWS does: that is the evidence
    (no MD5 of the part is computed to compare with its ETag), and the object has the parts' bytes."""
    source = tree / "big.bin"
    result = upload_file(conn, source, S3Url(BUCKET, "big.bin"), options=UploadOptions(part_size=PART))
    assert result.proof == "part checksums checked by the server"
    assert memory.object(BUCKET, "big.bin").data == source.read_bytes() and _sent(memory, "PART") == ["big.bin"] * 2


@pytest.mark.parametrize(("failures", "code"), [({"a.txt": "integrity"}, 6), ({"a.txt": "integrity", "sub/b.txt": "access"}, 5)])
def test_a_tree_whose_every_failure_is_an_integrity_failure_exits_6(
    conn: Connection, tree: Path, monkeypatch: pytest.MonkeyPatch, failures: dict[str, str], code: int
) -> None:
    """Exit codes: 6 when every failed item failed an integrity check (as one object's mismatch does), 5 for
    any other mix (before: 5 whatever the failures were, though the README calls 6 the integrity exit code)."""
    from s3safe.core.errors import AccessDeniedError, IntegrityError, exit_code_for
    from s3safe.transfer import engine

    real = engine.upload_file

    def upload(conn: Connection, source: Path, dest: S3Url, **kwargs: Any) -> Any:
        kind = failures.get(source.relative_to(tree).as_posix())
        if kind == "integrity":
            raise IntegrityError(f"{source}: the SHA-256 sent does not match the body (BadDigest)")
        if kind == "access":
            raise AccessDeniedError(f"{source}: access denied")
        return real(conn, source, dest, **kwargs)

    monkeypatch.setattr(engine, "upload_file", upload)
    results, summary = _put(conn, tree)
    assert sum(not r.ok for r in results) == len(failures) == summary.failed and summary.transferred == 3 - len(failures)
    failure = summary.failure()
    assert failure is not None and exit_code_for(failure) == code, failure
    assert str(failure).startswith(f"{len(failures)} of 3 action(s) failed"), failure
    assert TreeSummary(transferred=3).failure() is None


# --- the download side: the same engine code as `get -r` and `sync` down, on the in-memory store -----------------


def _get(conn: Connection, out: Path, cache: StateCache, *, gate: SafetyGate | None = None,
         **options: Any) -> tuple[list[ActionResult], TreeSummary]:  # fmt: skip
    summary = TreeSummary()
    results = list(download_tree(conn, S3Url(BUCKET, "backup/"), out, options=TreeOptions(**options), gate=gate or SafetyGate(),
                                 summary=summary, cache=cache))  # fmt: skip
    return results, summary


@pytest.fixture
def cache(tmp_path: Path) -> StateCache:
    return StateCache(tmp_path / "state" / "verified.sqlite")


@pytest.fixture
def uploaded(conn: Connection, tree: Path) -> Path:
    """The tree, uploaded to s3://bkt/backup/ (each object carrying its s3safe-sha256 and mtime)."""
    results, _ = _put(conn, tree)
    assert all(r.ok for r in results)
    return tree


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_a_tree_comes_down_whole_each_file_verified_by_its_stored_digest(
    conn: Connection, memory: MemoryStorage, uploaded: Path, tmp_path: Path, cache: StateCache
) -> None:
    out = tmp_path / "out"
    results, summary = _get(conn, out, cache)
    assert all(r.ok for r in results) and summary.transferred == 3
    assert _files(out) == _files(uploaded)
    assert all(r.detail.endswith("verified by sha256") for r in results if r.action == "download")
    assert (out / "sub" / "b.txt").stat().st_mtime_ns == (uploaded / "sub" / "b.txt").stat().st_mtime_ns
    assert sorted(_sent(memory, "GET")) == ["backup/a.txt", "backup/big.bin", "backup/sub/b.txt"]  # one GET each


@pytest.mark.parametrize("supports_range", [True, False], ids=["ranged", "no-range"])
def test_large_objects_come_down_in_parallel_ranges_where_the_backend_honours_range(
    conn: Connection, memory: MemoryStorage, uploaded: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    supports_range: bool,
) -> None:  # fmt: skip
    monkeypatch.setattr(download_mod, "RANGED_MIN", 1024**2)
    monkeypatch.setattr(download_mod, "RANGE_PART", 1024**2 + 7)  # uneven: the last range is short
    memory.features = dataclasses.replace(memory.features, supports_range=supports_range)
    asked: list[tuple[str, int | None, int | None]] = []
    real_get = memory.get

    def get(bucket: str, key: str, **request: Any) -> Any:
        asked.append((key, request.get("start"), request.get("end")))
        return real_get(bucket, key, **request)

    monkeypatch.setattr(memory, "get", get)
    out = tmp_path / "big.bin"
    result = download_file(conn, S3Url(BUCKET, "backup/big.bin"), out)
    assert out.read_bytes() == (uploaded / "big.bin").read_bytes() and result.verified == "sha256"
    size, part = out.stat().st_size, 1024**2 + 7
    if supports_range:  # the run's first range (its probe, asked alone) is the first megabyte, the rest of it after
        probe = [("backup/big.bin", 0, 1024**2), ("backup/big.bin", 1024**2, part)]
        assert sorted(asked) == probe + [("backup/big.bin", start, min(start + part, size)) for start in range(part, size, part)]
    else:
        assert asked == [("backup/big.bin", None, None)]


def _crc64nvme_b64(data: bytes) -> str:
    import base64

    import awscrt.checksums  # type: ignore[import-untyped]

    return base64.b64encode(awscrt.checksums.crc64nvme(data).to_bytes(8, "big")).decode()


@pytest.mark.parametrize("size", [2 * 1024**2 + 3, PART + 1234], ids=["one-put", "parts"])
def test_s3safes_own_crc64nvme_verifies_a_ranged_download_without_a_sha256_pass(
    conn: Connection, memory: MemoryStorage, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, size: int
) -> None:  # fmt: skip
    """An object s3safe uploaded carries its whole CRC64NVME beside its SHA-256 (from the same read of the file); a
    download in ranges combines the ranges' CRCs into it and runs no SHA-256 follower; a byte changed in the stored
    object (same size, same ETag: the store's own record unchanged) fails the download, and nothing is written."""
    from s3safe.transfer import single as single_mod
    from s3safe.transfer.options import CRC64NVME_META

    monkeypatch.setattr(single_mod, "CRC64NVME_MIN", 1024**2)
    monkeypatch.setattr(download_mod, "RANGED_MIN", 1024**2)
    monkeypatch.setattr(download_mod, "RANGE_PART", 1024**2 + 7)
    followers: list[int] = []
    monkeypatch.setattr(download_mod, "Follower", lambda fd, *args: followers.append(fd))
    source = tmp_path / "big.bin"
    data = os.urandom(size)
    source.write_bytes(data)
    upload_file(conn, source, S3Url(BUCKET, "big.bin"), options=UploadOptions(part_size=PART))
    metadata = memory.object(BUCKET, "big.bin").request.metadata
    assert metadata[CRC64NVME_META] == _crc64nvme_b64(data) and metadata[SHA256_META] == hashlib.sha256(data).hexdigest()
    result = download_file(conn, S3Url(BUCKET, "big.bin"), tmp_path / "back.bin")
    ranges = -(-size // (1024**2 + 7)) + 1  # and the first split in two: the run's probe is its first megabyte
    assert (tmp_path / "back.bin").read_bytes() == data and followers == []
    assert result.verified == f"CRC64NVME checksum (s3safe's, combined from {ranges} ranges)" and result.sha256_hex == ""
    stored = memory.buckets[BUCKET]["big.bin"]
    flipped = bytearray(data)
    flipped[size // 2] ^= 0x20
    memory.buckets[BUCKET]["big.bin"] = dataclasses.replace(stored, data=bytes(flipped))
    out = tmp_path / "out"
    out.mkdir()
    refused = r"does not match its stored CRC64NVME checksum \(s3safe metadata\); nothing was written"
    with pytest.raises(IntegrityError, match=refused):
        download_file(conn, S3Url(BUCKET, "big.bin"), out / "big.bin")
    assert list(out.iterdir()) == []


def test_a_file_changed_between_its_digests_and_its_parts_is_not_completed(
    conn: Connection, memory: MemoryStorage, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The CRC64NVME recorded in the metadata is read before the upload starts; the parts' CRCs, combined, must come
    to the same value, or the file changed in between (here: same size, mtime put back, so no stat shows it) and the
    object would carry a checksum of other bytes: the upload is abandoned and nothing is stored."""
    from s3safe.transfer import single as single_mod

    monkeypatch.setattr(single_mod, "CRC64NVME_MIN", 1024**2)
    source = tmp_path / "big.bin"
    source.write_bytes(os.urandom(PART + 1234))
    real = single_mod._digests  # a file sent in parts is read once for its digests; its parts are read again

    def digests_then_rewrite(path: Path, **kwargs: Any) -> Any:
        found = real(path, **kwargs)
        before = source.stat()
        source.write_bytes(os.urandom(before.st_size))
        os.utime(source, ns=(before.st_atime_ns, before.st_mtime_ns))
        return found

    monkeypatch.setattr(single_mod, "_digests", digests_then_rewrite)
    with pytest.raises(IntegrityError, match="changed while it was being uploaded"):
        upload_file(conn, source, S3Url(BUCKET, "big.bin"), options=UploadOptions(part_size=PART))
    assert "big.bin" not in contents(memory, BUCKET) and not memory.uploads
    assert _sent(memory, "PART") and not _sent(memory, "COMPLETE")


def test_a_crc64nvme_given_with_meta_is_refused_before_anything_is_sent(
    conn: Connection, memory: MemoryStorage, tree: Path
) -> None:
    """s3safe-crc64nvme describes bytes s3safe read: a value passed with --meta is refused, not stored beside (or held
    against) the parts' CRC."""
    from s3safe.transfer.options import CRC64NVME_META

    options = UploadOptions(part_size=PART, metadata={CRC64NVME_META: "AAAAAAAAAAA=", "owner": "ops"})
    with pytest.raises(UsageError, match="s3safe-crc64nvme: names that start with s3safe- are s3safe's own"):
        upload_file(conn, tree / "big.bin", S3Url(BUCKET, "big.bin"), options=options)
    assert "big.bin" not in contents(memory, BUCKET) and not memory.requests


def test_only_diff_down_fetches_only_what_changed(
    conn: Connection, memory: MemoryStorage, uploaded: Path, tmp_path: Path, cache: StateCache
) -> None:
    out = tmp_path / "out"
    _get(conn, out, cache)
    memory.requests.clear()
    results, summary = _get(conn, out, cache, mode="diff")
    assert all(r.ok for r in results) and (summary.transferred, summary.skipped) == (0, 3) and not _sent(memory, "GET")
    (uploaded / "a.txt").write_bytes(b"alpha, changed upstream\n")
    _put(conn, uploaded, mode="diff")
    memory.requests.clear()
    results, summary = _get(conn, out, cache, mode="diff")
    assert all(r.ok for r in results) and summary.transferred == 1 and _sent(memory, "GET") == ["backup/a.txt"]
    assert (out / "a.txt").read_bytes() == b"alpha, changed upstream\n"


def test_purge_of_local_files_goes_through_the_gate(conn: Connection, uploaded: Path, tmp_path: Path, cache: StateCache) -> None:
    out = tmp_path / "out"
    _get(conn, out, cache)
    extras = [out / "extra.txt", out / "sub" / "extra.txt"]
    for extra in extras:
        extra.write_bytes(b"only here")
    dry, summary = _get(conn, out, cache, mode="diff", purge=True, gate=SafetyGate(dry_run=True))
    planned = [r for r in dry if r.action == "delete-local"]
    assert sorted(r.target for r in planned) == sorted(map(str, extras)) and all(r.dry_run for r in planned)
    assert all(extra.exists() for extra in extras) and summary.deleted == 0  # a dry run changes nothing
    with pytest.raises(DeleteCapRefusal, match="more than 1"):
        _get(conn, out, cache, mode="diff", purge=True, gate=SafetyGate(max_delete=1))
    assert all(extra.exists() for extra in extras)  # the cap refuses before the first deletion
    results, summary = _get(conn, out, cache, mode="diff", purge=True)
    assert all(r.ok for r in results) and summary.deleted == 2 and not any(extra.exists() for extra in extras)
    assert _files(out) == _files(uploaded)


def test_an_object_whose_bytes_do_not_match_its_stored_sha256_is_refused_and_nothing_is_written(
    conn: Connection, memory: MemoryStorage, uploaded: Path, tmp_path: Path, cache: StateCache
) -> None:
    stored = memory.buckets[BUCKET]
    original = stored["backup/sub/b.txt"]
    stored["backup/sub/b.txt"] = dataclasses.replace(original, data=original.data.replace(b"beta", b"BETA", 1))  # same size
    out = tmp_path / "out"
    results, summary = _get(conn, out, cache, purge=True)
    failed = [r for r in results if not r.ok]
    assert [r.target for r in failed][:1] == [f"s3://{BUCKET}/backup/sub/b.txt"] and summary.failed == 1
    assert "does not match its stored SHA-256 (s3safe metadata); nothing was written" in (failed[0].error or "")
    assert not (out / "sub" / "b.txt").exists() and (out / "a.txt").exists()
    with pytest.raises(IntegrityError, match="SHA-256"):
        download_file(conn, S3Url(BUCKET, "backup/sub/b.txt"), tmp_path / "single.txt")
    assert not (tmp_path / "single.txt").exists()


def test_an_encrypted_tree_round_trips_and_is_stored_as_ciphertext(
    conn: Connection, memory: MemoryStorage, tree: Path, tmp_path: Path, cache: StateCache
) -> None:
    identity, recipient = age.generate_identity()
    enc = Encryption(format="age", digest_key=generate_digest_key(), recipients=(recipient,)).validate()
    results, _ = _put(conn, tree, encryption=enc)
    assert all(r.ok for r in results)
    assert all(data.startswith(b"age-encryption.org/v1\n") for data in contents(memory, BUCKET).values())
    out = tmp_path / "out"
    dec = Decryption(identities=lambda: [identity], digest_key=lambda _bucket: enc.digest_key)
    results, summary = _get(conn, out, cache, decryption=dec)
    assert all(r.ok for r in results) and summary.transferred == 3
    assert _files(out) == _files(tree)
    assert all("age authentication, keyed plaintext digest" in r.detail for r in results if r.action == "download")


@pytest.mark.parametrize(("listed", "said"), [(lambda keys: [keys[1], keys[0], *keys[2:]], "out of order"),
                                               (lambda keys: [keys[0], *keys], "twice")], ids=["disorder", "repeat"])  # fmt: skip
def test_a_listing_out_of_order_or_with_a_repeated_key_is_refused_above_the_backend(
    conn: Connection, memory: MemoryStorage, uploaded: Path, tmp_path: Path, cache: StateCache,
    listed: Callable[[list[str]], list[str]], said: str,
) -> None:  # fmt: skip
    out = tmp_path / "out"
    _get(conn, out, cache)
    keep = out / "zz-only-here.txt"
    keep.write_bytes(b"a purge must not reach me")
    memory.misorder = listed
    with pytest.raises(ListingError, match=said):
        _get(conn, out, cache, purge=True)
    assert keep.exists()


def test_as_of_on_a_store_without_versions_is_a_usage_error(
    conn: Connection, uploaded: Path, tmp_path: Path, cache: StateCache
) -> None:
    with pytest.raises(UsageError, match="keeps object versions"):
        _get(conn, tmp_path / "out", cache, as_of=datetime.now(UTC))
    assert not (tmp_path / "out").exists()


def test_parts_waiting_to_be_sent_stay_within_the_runs_byte_budget(
    memory: MemoryStorage, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each multipart upload kept up to min(-t, 8) parts queued, outside the budget: ten 70 MiB files at -t 10 held
    831 MiB (rt21). A part now holds its bytes in the run's budget from before it is read until it was sent."""
    import threading
    import time

    from s3safe.core.concurrency import Budget
    from s3safe.storage import memory as memory_mod
    from s3safe.transfer import pipeline

    root = tmp_path / "many"
    root.mkdir()
    for i in range(8):
        (root / f"f{i}.bin").write_bytes(os.urandom(2 * PART + 1))
    conn = Connection(ConnectionSettings(endpoint_url="https://memory.invalid", threads=8), objects=memory, admin=memory)
    conn.budget = Budget(8, memory=3 * PART + PART // 2)  # room for three parts
    lock, alive, peak = threading.Lock(), [0], [0]
    real_cut, real_write = pipeline._cut, memory_mod.MemoryChunkWriter.write_part

    def counted_cut(*args: Any, **kwargs: Any) -> Any:
        for part in real_cut(*args, **kwargs):
            with lock:
                alive[0] += len(part)
                peak[0] = max(peak[0], alive[0])
            yield part

    def slow_write(self: Any, upload_id: str, number: int, data: bytes, **kwargs: Any) -> Any:
        time.sleep(0.02)  # a slow server: parts pile up in the queues while it answers
        try:
            return real_write(self, upload_id, number, data, **kwargs)
        finally:
            with lock:
                alive[0] -= len(data)

    monkeypatch.setattr(pipeline, "_cut", counted_cut)
    monkeypatch.setattr(memory_mod.MemoryChunkWriter, "write_part", slow_write)
    summary = TreeSummary()
    results = list(upload_tree(conn, root, S3Url(BUCKET, "many/"), options=TreeOptions(upload=UploadOptions(part_size=PART)),
                               gate=SafetyGate(), summary=summary))  # fmt: skip
    assert all(r.ok for r in results) and summary.transferred == 8
    assert _sent(memory, "PART").count("many/f0.bin") == 3
    assert 0 < peak[0] <= conn.budget.memory, f"{peak[0] / PART:.1f} parts in memory at once"
    assert conn.budget.buffered == 0  # every part's bytes given back
