"""An encrypted restore must not be fooled by a forged ciphertext. An age recipient is public: anyone who can
write to the bucket can encrypt content of their choosing to it and mark the object `s3safe-encryption=age`.
Only the keyed plaintext digest tells such an object from a genuine upload, so a restore that holds the
digest key refuses an object without a valid digest under it; and an identity given only through the
environment still refuses an object swapped for plaintext."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from subprocess import CompletedProcess
from typing import Any

import pytest

from tests.servers.moto import MotoServer

Run = Callable[..., CompletedProcess[str]]
EVIL = b"#!/bin/sh\necho forged by whoever holds the public recipient\n"
GENUINE = {"notes.txt": b"notes\n" * 100, "bin/run.sh": b"#!/bin/sh\necho the real one\n"}


def _cli(run_cli: Run, moto: MotoServer, *args: str, env: dict[str, str] | None = None) -> CompletedProcess[str]:
    return run_cli("--endpoint-url", moto.endpoint_url, "--allow-http", *args, env=env)


def _source(tmp_path: Path) -> Path:
    src = tmp_path / "src"
    for rel, data in GENUINE.items():
        (src / rel).parent.mkdir(parents=True, exist_ok=True)
        (src / rel).write_bytes(data)
    return src


def _forge(run_cli: Run, tmp_path: Path, *encrypt_args: str) -> bytes:
    """What an attacker makes with `s3safe encrypt` and nothing secret."""
    evil = tmp_path / "evil.txt"
    evil.write_bytes(EVIL)
    made = run_cli("encrypt", "--to", "age", *encrypt_args, str(evil))
    assert made.returncode == 0, made.stderr
    return (tmp_path / "evil.txt.age").read_bytes()


@pytest.fixture
def recipient_tree(moto: MotoServer, moto_client: Any, bucket_name: Callable[[], str], tmp_path: Path,
                   run_cli: Run) -> tuple[str, Path, str]:  # fmt: skip
    """A tree uploaded to an age recipient (this host then holds digest.key); returns bucket, identity, recipient."""
    bucket = bucket_name()
    moto_client.create_bucket(Bucket=bucket)
    identity = tmp_path / "id.txt"
    made = run_cli("--json", "keygen", "-o", str(identity))
    assert made.returncode == 0, made.stderr
    recipient = json.loads(made.stdout.splitlines()[-1])["recipient"]
    up = _cli(run_cli, moto, "put", "-r", str(_source(tmp_path)), f"s3://{bucket}/", "--recipient", recipient)
    assert up.returncode == 0, up.stderr
    return bucket, identity, recipient


def test_forged_age_objects_are_refused_where_the_digest_key_is_at_hand(
    run_cli: Run, moto: MotoServer, moto_client: Any, recipient_tree: tuple[str, Path, str], tmp_path: Path
) -> None:  # fmt: skip
    bucket, identity, recipient = recipient_tree
    forged = _forge(run_cli, tmp_path, "-r", recipient)
    moto_client.put_object(Bucket=bucket, Key="bin/run.sh", Body=forged, Metadata={"s3safe-encryption": "age"})
    # a digest under some other key is no better than none
    fake = "hmac-sha256-v1:0123456789abcdef:" + "0" * 64
    moto_client.put_object(Bucket=bucket, Key="other.sh", Body=forged,
                           Metadata={"s3safe-encryption": "age", "s3safe-digest": fake})  # fmt: skip
    for command in ("get", "sync"):
        dest = tmp_path / f"restored-{command}"
        extra = ("-r",) if command == "get" else ()
        result = _cli(run_cli, moto, command, *extra, f"s3://{bucket}/", str(dest), "--identity", str(identity))
        assert result.returncode == 6, (command, result.stdout, result.stderr)  # only integrity failures: 6 (the rest goes on)
        assert "Traceback" not in result.stderr
        for key in ("bin/run.sh", "other.sh"):
            assert f"s3://{bucket}/{key}" in result.stderr and "plaintext digest" in result.stderr, result.stderr
        assert (dest / "notes.txt").read_bytes() == GENUINE["notes.txt"]  # the genuine object was restored
        assert sorted(p.relative_to(dest).as_posix() for p in dest.rglob("*")) == ["bin", "notes.txt"]

    one = tmp_path / "one"
    one.mkdir()
    refused = _cli(run_cli, moto, "get", f"s3://{bucket}/bin/run.sh", str(one) + "/", "--identity", str(identity))
    assert refused.returncode == 6, (refused.stdout, refused.stderr)
    assert "--allow-unsigned" in refused.stderr and not list(one.iterdir())
    accepted = _cli(run_cli, moto, "get", f"s3://{bucket}/bin/run.sh", str(one) + "/", "--identity", str(identity),
                    "--allow-unsigned")  # fmt: skip
    assert accepted.returncode == 0, accepted.stderr
    assert (one / "run.sh").read_bytes() == EVIL


def test_a_recipient_only_host_cannot_tell_and_says_what_it_checked(
    run_cli: Run, moto: MotoServer, moto_client: Any, recipient_tree: tuple[str, Path, str], tmp_path: Path
) -> None:  # fmt: skip
    """Without the digest key (a fresh restore host) a forged ciphertext is indistinguishable: age has no
    sender authentication. The restore goes on, as documented, and does not claim a digest check."""
    bucket, identity, recipient = recipient_tree
    moto_client.put_object(Bucket=bucket, Key="bin/run.sh", Body=_forge(run_cli, tmp_path, "-r", recipient),
                           Metadata={"s3safe-encryption": "age"})  # fmt: skip
    elsewhere = {"S3SAFE_CONFIG_DIR": str(tmp_path / "restore-host-config")}
    out = tmp_path / "run.sh"
    got = _cli(run_cli, moto, "--json", "get", f"s3://{bucket}/bin/run.sh", str(out), "--identity", str(identity),
               env=elsewhere)  # fmt: skip
    assert got.returncode == 0, got.stderr
    assert out.read_bytes() == EVIL and "keyed plaintext digest" not in got.stdout
    # the same host given a copy of the uploading host's digest key tells them apart
    copy = tmp_path / "uploader-digest.key"
    copy.write_bytes((Path(os.environ["S3SAFE_CONFIG_DIR"]) / "digest.key").read_bytes())
    out.unlink()
    checked = _cli(run_cli, moto, "get", f"s3://{bucket}/bin/run.sh", str(out), "--identity", str(identity),
                   "--digest-key-file", str(copy), env=elsewhere)  # fmt: skip
    assert checked.returncode == 6 and not out.exists(), (checked.stdout, checked.stderr)
    genuine = _cli(run_cli, moto, "--json", "get", f"s3://{bucket}/notes.txt", str(tmp_path / "notes.txt"),
                   "--identity", str(identity), "--digest-key-file", str(copy), env=elsewhere)  # fmt: skip
    assert genuine.returncode == 0 and "keyed plaintext digest" in genuine.stdout, genuine.stderr


def test_passphrase_restores_always_require_the_digest(
    run_cli: Run, moto: MotoServer, moto_client: Any, bucket_name: Callable[[], str], tmp_path: Path
) -> None:  # fmt: skip
    """With a passphrase the digest key is always at hand: an age passphrase object without an s3safe digest
    (made elsewhere, e.g. `age -p`, and marked by hand) is refused unless --allow-unsigned."""
    bucket = bucket_name()
    moto_client.create_bucket(Bucket=bucket)
    secret = tmp_path / "passphrase"
    secret.write_text("forgery-test-passphrase")
    up = _cli(run_cli, moto, "put", "-r", str(_source(tmp_path)), f"s3://{bucket}/", "--encrypt", "age",
              "--passphrase-file", str(secret))  # fmt: skip
    assert up.returncode == 0, up.stderr
    made = run_cli("encrypt", "--to", "age", str(tmp_path / "src" / "notes.txt"), "-o", str(tmp_path / "unsigned.age"),
                   env={"S3SAFE_PASSPHRASE": "forgery-test-passphrase"})  # fmt: skip
    assert made.returncode == 0, made.stderr
    moto_client.put_object(Bucket=bucket, Key="unsigned.txt", Body=(tmp_path / "unsigned.age").read_bytes(),
                           Metadata={"s3safe-encryption": "age"})  # fmt: skip
    dest = tmp_path / "restored"
    result = _cli(run_cli, moto, "get", "-r", f"s3://{bucket}/", str(dest), "--passphrase-file", str(secret))
    assert result.returncode == 6, (result.stdout, result.stderr)  # every failure an integrity failure: exit 6
    assert f"s3://{bucket}/unsigned.txt" in result.stderr and not (dest / "unsigned.txt").exists()
    assert (dest / "bin" / "run.sh").read_bytes() == GENUINE["bin/run.sh"]
    again = _cli(run_cli, moto, "get", "-r", f"s3://{bucket}/", str(dest), "--passphrase-file", str(secret),
                 "--allow-unsigned")  # fmt: skip
    assert again.returncode == 0, again.stderr
    assert (dest / "unsigned.txt").read_bytes() == GENUINE["notes.txt"]


def test_an_identity_from_the_environment_refuses_swapped_plaintext(
    run_cli: Run, moto: MotoServer, moto_client: Any, recipient_tree: tuple[str, Path, str], tmp_path: Path
) -> None:  # fmt: skip
    """S3SAFE_IDENTITY_FILE serves only decryption: like --identity it says the prefix is encrypted."""
    bucket, identity, _ = recipient_tree
    moto_client.put_object(Bucket=bucket, Key="bin/run.sh", Body=EVIL)  # no marker at all
    env = {"S3SAFE_IDENTITY_FILE": str(identity)}
    dest = tmp_path / "restored"
    result = _cli(run_cli, moto, "get", "-r", f"s3://{bucket}/", str(dest), env=env)
    assert result.returncode == 6, (result.stdout, result.stderr)  # every failure an integrity failure: exit 6
    assert f"s3://{bucket}/bin/run.sh" in result.stderr and "not client-side encrypted" in result.stderr
    assert (dest / "notes.txt").read_bytes() == GENUINE["notes.txt"] and not (dest / "bin" / "run.sh").exists()
    single = _cli(run_cli, moto, "get", f"s3://{bucket}/bin/run.sh", str(tmp_path / "one.sh"), env=env)
    assert single.returncode == 6 and not (tmp_path / "one.sh").exists()
    accepted = _cli(run_cli, moto, "get", f"s3://{bucket}/bin/run.sh", str(tmp_path / "one.sh"), "--allow-unencrypted",
                    env=env)  # fmt: skip
    assert accepted.returncode == 0 and (tmp_path / "one.sh").read_bytes() == EVIL
    # S3SAFE_PASSPHRASE alone (it also unlocks saved credentials) still downloads a plain object as stored
    plain = _cli(run_cli, moto, "get", f"s3://{bucket}/bin/run.sh", str(tmp_path / "plain.sh"),
                 env={"S3SAFE_PASSPHRASE": "only-for-the-vault"})  # fmt: skip
    assert plain.returncode == 0, plain.stderr
