"""Client-side encryption through put/get/sync against real servers: round trips, change detection
without decrypting, no plaintext at rest, tamper and wrong-key failures, encrypted multipart and resume."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from s3safe.core import cancel
from s3safe.core.errors import AccessDeniedError, IntegrityError
from s3safe.core.locations import S3Url
from s3safe.core.safety import SafetyGate
from s3safe.crypto import age
from s3safe.crypto.digest import generate_digest_key
from s3safe.ops.buckets import make_bucket
from s3safe.storage.base import Part
from s3safe.storage.connection import Connection
from s3safe.storage.s3_upload import S3ChunkWriter
from s3safe.transfer import encrypted as encrypted_mod
from s3safe.transfer.download import download_file
from s3safe.transfer.encryption import DIGEST_META, ENCRYPTION_META, PLAIN_SIZE_META, Decryption, Encryption
from s3safe.transfer.engine import TreeOptions, TreeSummary, download_tree, upload_tree
from s3safe.transfer.multipart import journal_path, load_journal
from s3safe.transfer.options import UploadOptions
from s3safe.transfer.single import upload_file
from s3safe.transfer.state import StateCache
from tests.servers.rclone import RcloneServer

MARKER = b"PLAINTEXT-MARKER-7f3a"


def _tree(root: Path) -> dict[str, bytes]:
    files = {
        "notes/a.txt": MARKER + b" alpha\n" * 50,
        "notes/b.txt": MARKER + b" beta",
        "deep/x/y/z.bin": os.urandom(70_000) + MARKER,  # more than one 64 KiB age chunk
        "empty.txt": b"",
    }
    for rel, data in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)
    return files


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


@pytest.fixture
def keys() -> tuple[str, str]:
    return age.generate_identity()


@pytest.fixture
def enc(keys: tuple[str, str]) -> Encryption:
    return Encryption(format="age", digest_key=generate_digest_key(), recipients=(keys[1],)).validate()


def _dec(identity: str, digest_key: bytes | None) -> Decryption:
    return Decryption(identities=lambda: [identity], digest_key=lambda _b: digest_key)


def _up(conn: Connection, root: Path, url: S3Url, cache: StateCache, **options: Any) -> TreeSummary:
    summary = TreeSummary()
    results = list(upload_tree(conn, root, url, options=TreeOptions(**options), gate=SafetyGate(), summary=summary, cache=cache))
    assert all(r.ok for r in results), [r.error for r in results if not r.ok]
    return summary


def _down(conn: Connection, url: S3Url, root: Path, cache: StateCache, **options: Any) -> TreeSummary:
    summary = TreeSummary()
    results = list(
        download_tree(conn, url, root, options=TreeOptions(**options), gate=SafetyGate(), summary=summary, cache=cache)
    )
    assert all(r.ok for r in results), [r.error for r in results if not r.ok]
    return summary


@pytest.fixture
def cache(tmp_path: Path) -> StateCache:
    return StateCache(tmp_path / "state" / "verified.sqlite")


def test_age_tree_round_trip_on_rclone_leaves_no_plaintext_at_rest(
    rclone: RcloneServer, rclone_conn: Connection, bucket_name: Callable[[], str], tmp_path: Path,
    keys: tuple[str, str], enc: Encryption, cache: StateCache,
) -> None:  # fmt: skip
    bucket = bucket_name()
    make_bucket(rclone_conn, S3Url(bucket), plain=True)
    src, out = tmp_path / "src", tmp_path / "out"
    files = _tree(src)
    summary = _up(rclone_conn, src, S3Url(bucket, "backup/"), cache, mode="diff", encryption=enc)
    assert summary.transferred == len(files)
    stored = {
        p.relative_to(rclone.root / bucket).as_posix(): p.read_bytes() for p in (rclone.root / bucket).rglob("*") if p.is_file()
    }
    assert set(stored) >= {f"backup/{k}" for k in files}
    for key, data in stored.items():
        if key.startswith("backup/"):
            assert MARKER not in data, key
            assert data.startswith(b"age-encryption.org/v1\n"), key
    _down(rclone_conn, S3Url(bucket, "backup/"), out, cache, decryption=_dec(keys[0], enc.digest_key))
    assert _files(out) == files


def test_only_diff_detects_same_size_edit_without_decrypting(
    moto_conn: Connection, bucket_name: Callable[[], str], tmp_path: Path, keys: tuple[str, str], enc: Encryption,
    cache: StateCache,
) -> None:  # fmt: skip
    bucket = bucket_name()
    make_bucket(moto_conn, S3Url(bucket))
    src = tmp_path / "src"
    files = _tree(src)
    url = S3Url(bucket, "b/")
    _up(moto_conn, src, url, cache, mode="diff", encryption=enc)
    again = _up(moto_conn, src, url, cache, mode="diff", encryption=enc)
    assert (again.transferred, again.skipped, again.requests) == (0, len(files), 0)  # cache: no HEAD on the common path
    # a same-size edit keeping the mtime is what the cache cannot see: a fresh cache must find it by digest
    target = src / "notes" / "b.txt"
    stat = target.stat()
    target.write_bytes(files["notes/b.txt"].replace(b"beta", b"BETA"))
    os.utime(target, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    fresh = StateCache(tmp_path / "other.sqlite")
    changed = _up(moto_conn, src, url, fresh, mode="diff", encryption=enc)
    assert (changed.transferred, changed.skipped) == (1, len(files) - 1)
    head = moto_conn.client_for(bucket).head_object(Bucket=bucket, Key="b/notes/b.txt")
    meta = head["Metadata"]
    assert meta[ENCRYPTION_META] == "age" and meta[PLAIN_SIZE_META] == str(len(files["notes/b.txt"]))
    assert meta[DIGEST_META].startswith("hmac-sha256-v1:")
    assert hashlib.sha256(files["notes/b.txt"]).hexdigest() not in str(meta)  # no bare hash of the plaintext
    assert head.get("ServerSideEncryption") == "AES256"  # server-side encryption stays on as well
    # and the download side compares by digest too: an unchanged tree downloads nothing
    out = tmp_path / "out"
    _down(moto_conn, url, out, cache, mode="diff", decryption=_dec(keys[0], enc.digest_key))
    second = _down(
        moto_conn, url, out, StateCache(tmp_path / "third.sqlite"), mode="diff", decryption=_dec(keys[0], enc.digest_key)
    )
    assert (second.transferred, second.skipped) == (0, len(files))
    # with the cache of the run that downloaded them, unchanged decrypted files need no HEAD at all
    third = _down(moto_conn, url, out, cache, mode="diff", decryption=_dec(keys[0], enc.digest_key))
    assert (third.transferred, third.skipped, third.requests) == (0, len(files), 0)


def test_wrong_identity_and_tampering_leave_no_file(
    moto_conn: Connection, moto_client: Any, bucket_name: Callable[[], str], tmp_path: Path,
    keys: tuple[str, str], enc: Encryption,
) -> None:  # fmt: skip
    bucket = bucket_name()
    make_bucket(moto_conn, S3Url(bucket))
    src = tmp_path / "secret.txt"
    src.write_bytes(MARKER * 100)
    upload_file(moto_conn, src, S3Url(bucket, "s.txt"), options=UploadOptions(), encryption=enc)
    out = tmp_path / "out"
    out.mkdir()
    other, _ = age.generate_identity()
    with pytest.raises(AccessDeniedError):
        download_file(moto_conn, S3Url(bucket, "s.txt"), out / "s.txt", decryption=_dec(other, None))
    assert list(out.iterdir()) == []
    # flip one ciphertext byte, keeping the metadata (as an attacker with write access could)
    obj = moto_client.get_object(Bucket=bucket, Key="s.txt")
    body = bytearray(obj["Body"].read())
    body[-20] ^= 0x01
    meta = {k: v for k, v in obj["Metadata"].items() if k != "s3safe-sha256"}
    moto_client.put_object(Bucket=bucket, Key="s.txt", Body=bytes(body), Metadata=meta)
    with pytest.raises(IntegrityError):
        download_file(moto_conn, S3Url(bucket, "s.txt"), out / "s.txt", decryption=_dec(keys[0], enc.digest_key))
    assert list(out.iterdir()) == []
    # raw download (no decryption) gives the ciphertext as stored
    download_file(moto_conn, S3Url(bucket, "s.txt"), out / "raw", decryption=None)
    assert (out / "raw").read_bytes() == bytes(body)


def test_aescrypt_passphrase_round_trip(moto_conn: Connection, bucket_name: Callable[[], str], tmp_path: Path) -> None:
    from s3safe.crypto.digest import digest_key_from_passphrase

    bucket = bucket_name()
    make_bucket(moto_conn, S3Url(bucket))
    src = tmp_path / "legacy.txt"
    src.write_bytes(MARKER * 10)
    key = digest_key_from_passphrase("correct horse", context=bucket.encode(), work_factor=10)
    enc = Encryption(format="aescrypt", digest_key=key, passphrase="correct horse", aescrypt_iterations=1000)
    upload_file(moto_conn, src, S3Url(bucket, "l.txt"), options=UploadOptions(), encryption=enc)
    raw = moto_conn.client_for(bucket).get_object(Bucket=bucket, Key="l.txt")["Body"].read()
    assert raw[:4] == b"AES\x03" and MARKER not in raw
    out = tmp_path / "l.txt"
    result = download_file(moto_conn, S3Url(bucket, "l.txt"), out,
                           decryption=Decryption(passphrase=lambda: "correct horse", digest_key=lambda _b: key))  # fmt: skip
    assert out.read_bytes() == src.read_bytes()
    assert "keyed plaintext digest" in (result.verified or "")
    # a wrong passphrase names the object, not just "this … file" (rt17 #9); nothing is left at the destination
    with pytest.raises(AccessDeniedError, match=rf"^s3://{bucket}/l\.txt: wrong passphrase for this AES Crypt file"):
        download_file(moto_conn, S3Url(bucket, "l.txt"), tmp_path / "denied.txt",
                      decryption=Decryption(passphrase=lambda: "wrong horse", digest_key=lambda _b: key))  # fmt: skip
    assert not (tmp_path / "denied.txt").exists()


def test_encrypted_multipart_resumes_with_the_same_ciphertext(
    moto_conn: Connection, bucket_name: Callable[[], str], tmp_path: Path, keys: tuple[str, str], enc: Encryption,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    bucket = bucket_name()
    make_bucket(moto_conn, S3Url(bucket))
    src = tmp_path / "big.bin"
    src.write_bytes(os.urandom(9 * 1024**2 + 12345) + MARKER)
    options = UploadOptions(part_size=5 * 1024**2)
    monkeypatch.setattr(encrypted_mod, "INLINE_MAX", 1024**2)
    monkeypatch.setattr(encrypted_mod, "MIN_ENCRYPTED_PART", 5 * 1024**2)
    # interrupt after the first part was sent
    real_send = S3ChunkWriter.write_part
    sent: list[int] = []

    def failing_send(self: Any, upload_id: str, number: int, data: bytes, **checksum: Any) -> Part:
        if number >= 2:
            raise KeyboardInterrupt
        sent.append(number)
        return real_send(self, upload_id, number, data, **checksum)

    monkeypatch.setattr(S3ChunkWriter, "write_part", failing_send)
    with pytest.raises(KeyboardInterrupt):
        upload_file(moto_conn, src, S3Url(bucket, "big.bin"), options=options, encryption=enc)
    cancel.reset()
    journal = load_journal(journal_path(bucket, "big.bin"))
    assert journal is not None and journal.crypto_state and sent == [1]
    assert os.stat(journal_path(bucket, "big.bin")).st_mode & 0o077 == 0
    # the next run reuses part 1 (regenerated byte for byte) and sends the rest
    counts: list[int] = []

    def counting_send(self: Any, upload_id: str, number: int, data: bytes, **checksum: Any) -> Part:
        counts.append(number)
        return real_send(self, upload_id, number, data, **checksum)

    monkeypatch.setattr(S3ChunkWriter, "write_part", counting_send)
    upload_file(moto_conn, src, S3Url(bucket, "big.bin"), options=options, encryption=enc)
    assert sorted(counts) == [2]
    assert load_journal(journal_path(bucket, "big.bin")) is None
    assert moto_conn.client_for(bucket).list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []
    out = tmp_path / "back.bin"
    download_file(moto_conn, S3Url(bucket, "big.bin"), out, decryption=_dec(keys[0], enc.digest_key))
    assert out.read_bytes() == src.read_bytes()


def test_reencrypt_migrates_aescrypt_objects_to_age_in_place(
    moto_conn: Connection, moto_client: Any, bucket_name: Callable[[], str], tmp_path: Path, keys: tuple[str, str],
    enc: Encryption,
) -> None:  # fmt: skip
    import pyAesCrypt  # type: ignore[import-untyped]

    from s3safe.crypto.digest import digest_key_from_passphrase
    from s3safe.ops.reencrypt import reencrypt

    bucket = bucket_name()
    make_bucket(moto_conn, S3Url(bucket))
    passphrase = "s3express-era-passphrase"
    # one object s3safe encrypted with AES Crypt, one uploaded as S3Express -le did (a bare .aes, no markers),
    # one plain object and one already in age: only the first two change
    mine = tmp_path / "mine.txt"
    mine.write_bytes(MARKER * 500)
    legacy = Encryption(format="aescrypt", passphrase=passphrase, aescrypt_iterations=1000,
                        digest_key=digest_key_from_passphrase(passphrase, context=bucket.encode(), work_factor=10))  # fmt: skip
    upload_file(moto_conn, mine, S3Url(bucket, "d/mine.txt"), options=UploadOptions(metadata={"owner": "ops"}), encryption=legacy)
    theirs = tmp_path / "theirs.txt"
    theirs.write_bytes(MARKER + os.urandom(100_000))
    pyAesCrypt.encryptFile(str(theirs), str(tmp_path / "theirs.aes"), passphrase, 64 * 1024)
    moto_client.put_object(Bucket=bucket, Key="d/theirs.txt", Body=(tmp_path / "theirs.aes").read_bytes())
    moto_client.put_object(Bucket=bucket, Key="d/plain.txt", Body=b"plain")
    upload_file(moto_conn, mine, S3Url(bucket, "d/already.txt"), options=UploadOptions(), encryption=enc)
    before = {k: moto_client.get_object(Bucket=bucket, Key=f"d/{k}")["Body"].read() for k in ("plain.txt", "already.txt")}

    old = Decryption(passphrase=lambda: passphrase)
    planned = list(
        reencrypt(moto_conn, S3Url(bucket, "d/"), to=enc, decryption=old, recursive=True, gate=SafetyGate(dry_run=True))
    )
    assert sorted(r.target for r in planned if r.dry_run) == [
        f"s3://{bucket}/d/mine.txt (aescrypt -> age)",
        f"s3://{bucket}/d/theirs.txt (aescrypt -> age)",
    ]
    assert moto_client.get_object(Bucket=bucket, Key="d/mine.txt")["Body"].read()[:3] == b"AES"  # dry run changed nothing

    wrong = list(reencrypt(moto_conn, S3Url(bucket, "d/"), to=enc, decryption=Decryption(passphrase=lambda: "nope"),
                           recursive=True, gate=SafetyGate()))  # fmt: skip
    assert [r.ok for r in wrong if r.action == "reencrypt"] == [False, False]
    assert moto_client.get_object(Bucket=bucket, Key="d/mine.txt")["Body"].read()[:3] == b"AES"  # nothing replaced

    done = list(reencrypt(moto_conn, S3Url(bucket, "d/"), to=enc, decryption=old, recursive=True, gate=SafetyGate()))
    assert sorted(r.target for r in done if r.action == "reencrypt" and r.ok) == [
        f"s3://{bucket}/d/mine.txt",
        f"s3://{bucket}/d/theirs.txt",
    ]
    for key, source in (("mine.txt", mine), ("theirs.txt", theirs)):
        raw = moto_client.get_object(Bucket=bucket, Key=f"d/{key}")
        assert raw["Body"].read().startswith(b"age-encryption.org/v1\n") and raw["Metadata"][ENCRYPTION_META] == "age"
        out = tmp_path / f"back-{key}"
        download_file(moto_conn, S3Url(bucket, f"d/{key}"), out, decryption=_dec(keys[0], enc.digest_key))
        assert out.read_bytes() == source.read_bytes()
    assert moto_client.head_object(Bucket=bucket, Key="d/mine.txt")["Metadata"]["owner"] == "ops"
    assert {k: moto_client.get_object(Bucket=bucket, Key=f"d/{k}")["Body"].read() for k in before} == before
