"""A file rewritten while a single PUT reads or sends it never replaces the previous object with bytes its digests
do not describe. moto and rclone check no checksum: the file was hashed in one read and sent from a second, so a
change in between stored a mix under the first read's SHA-256, and the run blamed the network ("damaged on its
way"). Now the bytes sent are the bytes hashed (one read into memory), and a read a writer tore is read again or
refused before anything is sent. A --max-bandwidth cap is the path that streamed the file from disk before."""

from __future__ import annotations

import hashlib
import os
import types
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from s3safe.core.errors import EXIT_INTEGRITY, IntegrityError
from s3safe.core.locations import S3Url
from s3safe.crypto import age
from s3safe.crypto.digest import generate_digest_key
from s3safe.storage.connection import Connection
from s3safe.transfer import single
from s3safe.transfer.encryption import Encryption
from s3safe.transfer.options import SHA256_META, UploadOptions
from s3safe.transfer.single import upload_file

SERVERS = ["moto", "rclone"]
SIZE = 256 * 1024
PREVIOUS = b"the previous version, which must survive\n"


def _throttled(server: str, request: pytest.FixtureRequest) -> Connection:
    conn: Connection = request.getfixturevalue(f"{server}_conn")
    # a cap far above what the test sends: the paced path, without the wait
    return Connection(replace(conn.settings, max_bandwidth=10**9))


def _bucket_with_previous(conn: Connection, bucket_name: Callable[[], str]) -> tuple[Any, str]:
    client = conn.client()
    name = bucket_name()
    client.create_bucket(Bucket=name)
    client.put_object(Bucket=name, Key="f.bin", Body=PREVIOUS)
    return client, name


def _rewrite_same_size_and_mtime(path: Path) -> None:
    """What the outside tester's writer did: new bytes, the size and mtime put back (the ctime moves on)."""
    stat = path.stat()
    with path.open("r+b") as handle:
        handle.write(os.urandom(stat.st_size))
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))


def _stored(client: Any, bucket: str) -> tuple[bytes, str]:
    got = client.get_object(Bucket=bucket, Key="f.bin")
    metadata = {name.lower(): value for name, value in got["Metadata"].items()}  # rclone capitalises the names
    return got["Body"].read(), metadata.get(SHA256_META, "")


@pytest.mark.parametrize("server", SERVERS)
def test_a_file_rewritten_after_it_was_hashed_stores_the_bytes_hashed(
    server: str, request: pytest.FixtureRequest, bucket_name: Callable[[], str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The file changes once its SHA-256 is taken, before the PUT: what is stored is what was hashed (the old
    code sent the new bytes under the old digest and blamed the network), and the change is reported."""
    conn = _throttled(server, request)
    client, bucket = _bucket_with_previous(conn, bucket_name)
    path = tmp_path / "f.bin"
    hashed = os.urandom(SIZE)
    path.write_bytes(hashed)
    rewritten: list[bool] = []

    class Sha256:
        def __init__(self, data: bytes = b"") -> None:
            self._h = hashlib.sha256(data)

        def update(self, data: bytes) -> None:
            self._h.update(data)

        def digest(self) -> bytes:
            out = self._h.digest()
            if not rewritten:
                rewritten.append(True)
                _rewrite_same_size_and_mtime(path)
            return out

    monkeypatch.setattr(single, "hashlib", types.SimpleNamespace(sha256=Sha256, md5=hashlib.md5))
    with pytest.raises(IntegrityError) as caught:
        upload_file(conn, path, S3Url(bucket, "f.bin"), options=UploadOptions())
    assert rewritten, "the file was never hashed"
    # its ctime moved: reported, as a file changed while it uploads, not as bytes damaged on their way
    assert "changed while it was being uploaded" in str(caught.value) and "damaged" not in str(caught.value)
    body, recorded = _stored(client, bucket)
    assert body == hashed and recorded == hashlib.sha256(hashed).hexdigest()


@pytest.mark.parametrize("server", SERVERS)
def test_a_file_that_keeps_changing_while_it_is_read_is_not_sent_and_the_previous_object_is_kept(
    server: str, request: pytest.FixtureRequest, bucket_name: Callable[[], str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A writer at work during every read (size and mtime put back): refused before the PUT, one clear line."""
    conn = _throttled(server, request)
    client, bucket = _bucket_with_previous(conn, bucket_name)
    path = tmp_path / "f.bin"
    path.write_bytes(os.urandom(SIZE))
    reads = _rewrite_when_opened(path, monkeypatch, times=100)
    with pytest.raises(IntegrityError) as caught:
        upload_file(conn, path, S3Url(bucket, "f.bin"), options=UploadOptions())
    assert str(caught.value).startswith(f"{path} changed while it was being read; nothing was sent")
    assert caught.value.exit_code == EXIT_INTEGRITY == 6
    assert 1 < reads() <= 5, "read again a bounded few times"
    assert _stored(client, bucket)[0] == PREVIOUS


@pytest.mark.parametrize("server", SERVERS)
def test_a_read_torn_once_is_read_again_and_the_whole_new_version_is_stored(
    server: str, request: pytest.FixtureRequest, bucket_name: Callable[[], str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    conn = _throttled(server, request)
    client, bucket = _bucket_with_previous(conn, bucket_name)
    path = tmp_path / "f.bin"
    path.write_bytes(os.urandom(SIZE))
    _rewrite_when_opened(path, monkeypatch, times=1)
    upload_file(conn, path, S3Url(bucket, "f.bin"), options=UploadOptions())
    body, recorded = _stored(client, bucket)
    assert body == path.read_bytes() and recorded == hashlib.sha256(body).hexdigest()


def test_an_encrypted_single_put_of_a_file_that_keeps_changing_is_not_sent(
    moto_conn: Connection, bucket_name: Callable[[], str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The encrypted payload read in memory has the same check: a torn read would be encrypted and stored whole."""
    client, bucket = _bucket_with_previous(moto_conn, bucket_name)
    path = tmp_path / "f.bin"
    path.write_bytes(os.urandom(SIZE))
    _rewrite_when_opened(path, monkeypatch, times=100)
    encryption = Encryption(format="age", digest_key=generate_digest_key(), recipients=(age.generate_identity()[1],)).validate()
    with pytest.raises(IntegrityError, match="changed while it was being read; nothing was sent"):
        upload_file(moto_conn, path, S3Url(bucket, "f.bin"), options=UploadOptions(), encryption=encryption)
    assert _stored(client, bucket)[0] == PREVIOUS


def _rewrite_when_opened(path: Path, monkeypatch: pytest.MonkeyPatch, *, times: int) -> Callable[[], int]:
    """A writer that rewrites `path` each time it is opened for reading, `times` times: between the stat taken
    before a read and the read itself, as a concurrent writer can. Returns how many reads it saw."""
    real_open = Path.open
    seen: list[int] = []

    def open_(self: Path, mode: str = "r", *args: Any, **kwargs: Any) -> Any:
        handle = real_open(self, mode, *args, **kwargs)
        if self == path and mode.startswith("r") and "+" not in mode:
            seen.append(1)
            if len(seen) <= times:
                _rewrite_same_size_and_mtime(path)
        return handle

    monkeypatch.setattr(Path, "open", open_)
    return lambda: len(seen)
