"""The plaintext digest in an encrypted object's metadata must not be a cheaper passphrase-guess oracle than
the age header: whoever reads the metadata (a HEAD) must pay at least the age CLI's scrypt cost per guess,
with a salt they could not precompute per bucket name for every user."""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from pathlib import Path
from subprocess import CompletedProcess
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from s3safe.crypto.digest import digest_key_from_passphrase, key_id
from tests.servers.moto import MotoServer

Run = Callable[..., CompletedProcess[str]]
PASSPHRASE = "digest-oracle passphrase 2718"
AGE_WORK_FACTOR = 18  # the age CLI's scrypt cost: N = 2**18


def _put(run_cli: Run, moto: MotoServer, src: Path, bucket: str, *, state: Path) -> CompletedProcess[str]:
    secret = src.parent / "passphrase"
    secret.write_text(PASSPHRASE)
    return run_cli("--endpoint-url", moto.endpoint_url, "--allow-http", "put", "-r", "--only-diff", str(src),
                   f"s3://{bucket}/", "--encrypt", "age", "--passphrase-file", str(secret), "--json",
                   env={"S3SAFE_STATE_DIR": str(state)})  # fmt: skip


def _uploaded(result: CompletedProcess[str]) -> int:
    assert result.returncode == 0, result.stderr
    return sum('"action": "upload"' in line and '"ok": true' in line for line in result.stdout.splitlines())


@pytest.fixture
def uploaded(run_cli: Run, moto: MotoServer, moto_client: Any, bucket_name: Callable[[], str], tmp_path: Path) -> tuple[str, Path]:
    bucket = bucket_name()
    moto_client.create_bucket(Bucket=bucket)
    src = tmp_path / "src"
    src.mkdir()
    (src / "empty.txt").write_bytes(b"")  # known plaintext: its MAC alone would test a guessed key
    (src / "doc.txt").write_bytes(b"contents " * 500)
    assert _uploaded(_put(run_cli, moto, src, bucket, state=tmp_path / "state-a")) == 2
    return bucket, src


def _token(moto_client: Any, bucket: str, key: str) -> str:
    return str(moto_client.head_object(Bucket=bucket, Key=key)["Metadata"]["s3safe-digest"])


def test_metadata_gives_no_cheap_passphrase_oracle(moto_client: Any, uploaded: tuple[str, Path]) -> None:
    bucket, _ = uploaded
    token = _token(moto_client, bucket, "empty.txt")
    scheme, label, mac = token.split(":")
    # the v1 oracle: scrypt N=2**16 with a salt anyone knows (a constant and the bucket name)
    cheap = digest_key_from_passphrase(PASSPHRASE, context=bucket.encode(), work_factor=16)
    assert label != key_id(cheap) and mac != hmac.new(cheap, b"", hashlib.sha256).hexdigest()
    # what a guess costs now: the token names a random salt, and the key needs scrypt at the age CLI's cost
    assert scheme == "hmac-sha256-v2" and label.startswith("s-") and len(bytes.fromhex(label[2:])) == 16
    stretched = Scrypt(salt=b"s3safe/v2/digest-key-from-passphrase\x00" + bytes.fromhex(label[2:]), length=32,
                       n=1 << AGE_WORK_FACTOR, r=8, p=1).derive(PASSPHRASE.encode())  # fmt: skip
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"s3safe/v1", info=b"s3safe/v1/plaintext-digest").derive(stretched)
    assert mac == hmac.new(key, b"", hashlib.sha256).hexdigest()
    assert _token(moto_client, bucket, "doc.txt").split(":")[1] == label  # one salt per bucket: one scrypt per run


def test_another_machine_gets_another_salt_and_still_sees_unchanged_files(
    run_cli: Run, moto: MotoServer, moto_client: Any, uploaded: tuple[str, Path], tmp_path: Path
) -> None:
    bucket, src = uploaded
    first = _token(moto_client, bucket, "doc.txt").split(":")[1]
    assert _uploaded(_put(run_cli, moto, src, bucket, state=tmp_path / "state-a")) == 0  # unchanged: nothing sent
    (src / "new.txt").write_bytes(b"new")
    assert _uploaded(_put(run_cli, moto, src, bucket, state=tmp_path / "state-b")) == 1  # only the new file
    second = _token(moto_client, bucket, "new.txt").split(":")[1]
    assert second != first  # not precomputable: each machine (state directory) draws its own random salt
    assert _uploaded(_put(run_cli, moto, src, bucket, state=tmp_path / "state-a")) == 0  # both salts are understood


def test_restore_checks_the_v2_digest_and_old_tokens_are_replaced_by_one_upload(
    run_cli: Run, moto: MotoServer, moto_conn: Any, moto_client: Any, uploaded: tuple[str, Path], tmp_path: Path
) -> None:
    from s3safe.core.locations import S3Url
    from s3safe.transfer.encryption import Encryption
    from s3safe.transfer.options import UploadOptions
    from s3safe.transfer.single import upload_file

    bucket, src = uploaded
    secret = src.parent / "passphrase"
    got = run_cli("--endpoint-url", moto.endpoint_url, "--allow-http", "get", f"s3://{bucket}/doc.txt",
                  str(tmp_path / "doc.txt"), "--passphrase-file", str(secret), env={"S3SAFE_STATE_DIR": str(tmp_path / "state-c")})  # fmt: skip
    assert got.returncode == 0, got.stderr
    assert "keyed plaintext digest" in got.stdout  # checked under the salt the token names, on a machine without it
    # an object uploaded before digest v2 carries the cheap v1 token: the next --only-diff uploads it once, as v2
    old = Encryption(format="age", passphrase=PASSPHRASE,
                     digest_key=digest_key_from_passphrase(PASSPHRASE, context=bucket.encode())).validate()  # fmt: skip
    upload_file(moto_conn, src / "doc.txt", S3Url(bucket, "doc.txt"), options=UploadOptions(), encryption=old)
    assert _token(moto_client, bucket, "doc.txt").startswith("hmac-sha256-v1:")
    assert _uploaded(_put(run_cli, moto, src, bucket, state=tmp_path / "state-a")) == 1
    assert _token(moto_client, bucket, "doc.txt").startswith("hmac-sha256-v2:s-")
