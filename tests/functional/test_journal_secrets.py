"""The resume journal of an encrypted multipart upload holds that object's payload key (the encryptor state):
it must not outlive the upload, whether the upload completes, is aborted with `uploads abort`, or is found
stale by the next `put --only-diff`."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from pathlib import Path
from subprocess import CompletedProcess
from typing import Any

import pytest

from s3safe.core import cancel
from s3safe.core.locations import S3Url
from s3safe.core.safety import SafetyGate
from s3safe.crypto import age
from s3safe.crypto.digest import generate_digest_key
from s3safe.ops.buckets import make_bucket
from s3safe.storage.base import Part
from s3safe.storage.connection import Connection
from s3safe.storage.s3_upload import S3ChunkWriter
from s3safe.transfer import encrypted as encrypted_mod
from s3safe.transfer.encryption import Encryption
from s3safe.transfer.engine import TreeOptions, TreeSummary, upload_tree
from s3safe.transfer.multipart import journal_path, load_journal
from s3safe.transfer.options import UploadOptions
from s3safe.transfer.single import upload_file
from s3safe.transfer.state import state_dir
from tests.servers.moto import MotoServer

Run = Callable[..., CompletedProcess[str]]
PART = 5 * 1024**2


@pytest.fixture
def small_parts(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(encrypted_mod, "INLINE_MAX", 1024**2)
    monkeypatch.setattr(encrypted_mod, "MIN_ENCRYPTED_PART", PART)


def _interrupted_upload(conn: Connection, bucket: str, src: Path, enc: Encryption, monkeypatch: pytest.MonkeyPatch) -> str:
    """Start an encrypted multipart upload of `src`, stop it after part 1; return the journal's key material (hex)."""
    real_send = S3ChunkWriter.write_part

    def failing_send(self: Any, upload_id: str, number: int, data: bytes, **checksum: Any) -> Part:
        if number >= 2:
            raise KeyboardInterrupt
        return real_send(self, upload_id, number, data, **checksum)

    with monkeypatch.context() as patch:
        patch.setattr(S3ChunkWriter, "write_part", failing_send)
        with pytest.raises(KeyboardInterrupt):
            upload_file(conn, src, S3Url(bucket, src.name), options=UploadOptions(part_size=PART), encryption=enc)
    cancel.reset()
    journal = load_journal(journal_path(bucket, src.name))
    assert journal is not None and journal.upload_id and journal.crypto_state
    return journal.crypto_state


def _holding(secret: str) -> list[Path]:
    """Files under the state directory holding the key material, as hex or raw bytes."""
    needles = (secret.encode(), bytes.fromhex(secret))
    root = state_dir()
    return [p for p in root.rglob("*") if p.is_file() and any(n in p.read_bytes() for n in needles)]


@pytest.fixture
def setup(moto_conn: Connection, bucket_name: Callable[[], str], tmp_path: Path) -> tuple[str, Path, Encryption]:
    bucket = bucket_name()
    make_bucket(moto_conn, S3Url(bucket))
    src = tmp_path / "src" / "big.bin"
    src.parent.mkdir()
    src.write_bytes(os.urandom(PART + 12345))
    enc = Encryption(format="age", digest_key=generate_digest_key(), recipients=(age.generate_identity()[1],)).validate()
    return bucket, src, enc


@pytest.mark.usefixtures("small_parts")
def test_uploads_abort_drops_the_journal_and_its_key(
    run_cli: Run, moto: MotoServer, moto_conn: Connection, setup: tuple[str, Path, Encryption], monkeypatch: pytest.MonkeyPatch
) -> None:
    bucket, src, enc = setup
    secret = _interrupted_upload(moto_conn, bucket, src, enc, monkeypatch)
    assert _holding(secret) == [journal_path(bucket, src.name)]  # the test can see the key where it is
    result = run_cli("--endpoint-url", moto.endpoint_url, "--allow-http", "uploads", "abort", f"s3://{bucket}/")
    assert result.returncode == 0, result.stderr
    assert moto_conn.client_for(bucket).list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []
    assert _holding(secret) == []
    assert not journal_path(bucket, src.name).exists()


@pytest.mark.usefixtures("small_parts")
def test_completion_and_stale_cleanup_leave_no_key(
    moto_conn: Connection, setup: tuple[str, Path, Encryption], monkeypatch: pytest.MonkeyPatch
) -> None:
    bucket, src, enc = setup
    secret = _interrupted_upload(moto_conn, bucket, src, enc, monkeypatch)
    kept = src.parent.parent / "journal-copy.json"
    shutil.copy2(journal_path(bucket, src.name), kept)
    upload_file(moto_conn, src, S3Url(bucket, src.name), options=UploadOptions(part_size=PART), encryption=enc)  # resumes
    assert _holding(secret) == []

    # a run killed between completing the upload and removing its journal: the next --only-diff finds it stale
    shutil.copy2(kept, journal_path(bucket, src.name))
    kept.unlink()
    summary = TreeSummary()
    options = TreeOptions(mode="diff", upload=UploadOptions(part_size=PART), encryption=enc)
    results = list(upload_tree(moto_conn, src.parent, S3Url(bucket, ""), options=options, gate=SafetyGate(), summary=summary))
    assert all(r.ok for r in results) and summary.transferred == 0 and summary.skipped == 1
    assert _holding(secret) == []
