"""SSE-C (issue 20.3): `--sse-c-key-file` on put, get, sync and meta get, round trip on LocalStack (which
checks the key); refused over plain HTTP; the key, its base64 and its MD5 never in any output."""

from __future__ import annotations

import base64
import hashlib
import os
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from tests.conftest import S3SAFE


def _cli(server: Any) -> Callable[..., subprocess.CompletedProcess[str]]:
    base = [S3SAFE, "--endpoint-url", server.endpoint_url]
    if server.endpoint_url.startswith("http://"):
        base.append("--allow-http")
    if getattr(server, "ca_bundle", None):
        base += ["--ca-bundle", server.ca_bundle]

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([*base, *args], capture_output=True, text=True, env=dict(os.environ), timeout=180, check=False)

    return run


def _secrets(key: bytes) -> list[str]:
    return [base64.b64encode(key).decode(), base64.b64encode(hashlib.md5(key).digest()).decode(), key.hex()]


def _client(server: Any) -> Any:
    return boto3.client(
        "s3", endpoint_url=server.endpoint_url, region_name="us-east-1", verify=getattr(server, "ca_bundle", None) or True,
        aws_access_key_id=os.environ["AWS_ACCESS_KEY_ID"], aws_secret_access_key=os.environ["AWS_SECRET_ACCESS_KEY"],
    )  # fmt: skip


@pytest.mark.parametrize("encoding", ["raw", "base64"])
def test_sse_c_round_trip_on_localstack(localstack: Any, tmp_path: Path, bucket_name: Callable[[], str], encoding: str) -> None:
    run = _cli(localstack)
    client = _client(localstack)
    bucket = bucket_name()
    client.create_bucket(Bucket=bucket)
    key = os.urandom(32)
    key_file = tmp_path / "sse-c.key"
    key_file.write_bytes(key if encoding == "raw" else base64.b64encode(key) + b"\n")
    src = tmp_path / "src"
    (src / "sub").mkdir(parents=True)
    files = {"a.txt": b"alpha " * 1000, "sub/b.bin": os.urandom(300_000)}
    for rel, data in files.items():
        (src / rel).write_bytes(data)
    outputs: list[subprocess.CompletedProcess[str]] = []

    one = run("--debug", "put", "--sse-c-key-file", str(key_file), str(src / "a.txt"), f"s3://{bucket}/one/a.txt")
    outputs.append(one)
    assert one.returncode == 0, one.stderr[-3000:]
    # stored under this key: LocalStack, like AWS, refuses to read it without that key or with another one
    for wrong in ({}, {"SSECustomerAlgorithm": "AES256", "SSECustomerKey": os.urandom(32)}):
        with pytest.raises(ClientError):
            client.get_object(Bucket=bucket, Key="one/a.txt", **wrong)
    client.get_object(Bucket=bucket, Key="one/a.txt", SSECustomerAlgorithm="AES256", SSECustomerKey=key)

    got = run("--debug", "get", "--sse-c-key-file", str(key_file), f"s3://{bucket}/one/a.txt", str(tmp_path / "a.txt"))
    outputs.append(got)
    assert got.returncode == 0, got.stderr[-3000:]
    assert (tmp_path / "a.txt").read_bytes() == files["a.txt"]
    if encoding == "base64":  # the key file's form is all that differs: the stored object proves it decoded right
        _assert_no_secret(outputs, key)
        return
    copied = run("cp", "--sse-c-key-file", str(key_file), f"s3://{bucket}/one/a.txt", f"s3://{bucket}/copy/a.txt")
    outputs.append(copied)
    assert copied.returncode == 0, copied.stderr
    with pytest.raises(ClientError):
        client.get_object(Bucket=bucket, Key="copy/a.txt")
    assert client.get_object(Bucket=bucket, Key="copy/a.txt", SSECustomerAlgorithm="AES256", SSECustomerKey=key)["Body"].read() == files["a.txt"]
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(11 * 1024 * 1024))
    multipart = run("put", "--part-size", "5MiB", "--sse-c-key-file", str(key_file), str(big), f"s3://{bucket}/one/big.bin")
    outputs.append(multipart)
    assert multipart.returncode == 0, multipart.stderr
    head = client.head_object(Bucket=bucket, Key="one/big.bin", SSECustomerAlgorithm="AES256", SSECustomerKey=key)
    assert head["ETag"].endswith('-3"'), head
    meta = run("--json", "meta", "get", "--sse-c-key-file", str(key_file), f"s3://{bucket}/one/a.txt")
    outputs.append(meta)
    assert meta.returncode == 0 and '"sse_algorithm": "SSE-C"' in meta.stdout, meta.stdout + meta.stderr

    without = run("get", f"s3://{bucket}/one/a.txt", str(tmp_path / "nokey.txt"))
    assert without.returncode != 0 and "Traceback" not in without.stderr and len(without.stderr.strip().splitlines()) <= 2, without.stderr
    assert not (tmp_path / "nokey.txt").exists()

    up = run("--debug", "sync", "--sse-c-key-file", str(key_file), str(src), f"s3://{bucket}/tree/")
    down = run("-vv", "--debug", "sync", "--sse-c-key-file", str(key_file), f"s3://{bucket}/tree/", str(tmp_path / "back"))
    again = run("--json", "sync", "--sse-c-key-file", str(key_file), str(src), f"s3://{bucket}/tree/")
    outputs += [up, down, again]
    assert up.returncode == 0 and down.returncode == 0 and again.returncode == 0, up.stderr + down.stderr + again.stderr
    assert {rel: (tmp_path / "back" / rel).read_bytes() for rel in files} == files
    assert '"action": "upload"' not in again.stdout
    client.head_object(Bucket=bucket, Key="tree/sub/b.bin", SSECustomerAlgorithm="AES256", SSECustomerKey=key)

    _assert_no_secret(outputs, key)


def _assert_no_secret(outputs: list[subprocess.CompletedProcess[str]], key: bytes) -> None:
    assert any("Authorization" in r.stderr for r in outputs), "--debug logged no requests"
    for result in outputs:
        for secret in _secrets(key):
            assert secret not in result.stdout + result.stderr
    # nor in any file s3safe wrote under HOME (config, verified-state cache, journals)
    for path in Path(os.environ["HOME"]).rglob("*"):
        if path.is_file():
            content = path.read_bytes()
            assert not [s for s in _secrets(key) if s.encode() in content] and key not in content, path


def test_sse_c_is_refused_over_plain_http(moto: Any, tmp_path: Path, bucket_name: Callable[[], str]) -> None:
    run = _cli(moto)
    client = _client(moto)
    bucket = bucket_name()
    client.create_bucket(Bucket=bucket)
    key = os.urandom(32)
    (tmp_path / "k").write_bytes(key)
    (tmp_path / "f.txt").write_text("x")
    for args in (("put", "--sse-c-key-file", str(tmp_path / "k"), str(tmp_path / "f.txt"), f"s3://{bucket}/f.txt"),
                 ("get", "--sse-c-key-file", str(tmp_path / "k"), f"s3://{bucket}/f.txt", str(tmp_path / "out")),
                 ("meta", "get", "--sse-c-key-file", str(tmp_path / "k"), f"s3://{bucket}/f.txt")):  # fmt: skip
        result = run("--debug", *args)
        assert result.returncode == 2, result.stderr
        assert "SSE-C is refused over plain HTTP" in result.stderr
        for secret in _secrets(key):
            assert secret not in result.stdout + result.stderr
    assert client.list_objects_v2(Bucket=bucket).get("KeyCount", 0) == 0


def test_a_key_file_without_a_256_bit_key_is_a_usage_error(localstack: Any, tmp_path: Path, bucket_name: Callable[[], str]) -> None:
    run = _cli(localstack)
    (tmp_path / "short").write_bytes(os.urandom(16))
    (tmp_path / "f.txt").write_text("x")
    result = run("put", "--sse-c-key-file", str(tmp_path / "short"), str(tmp_path / "f.txt"), f"s3://{bucket_name()}/f.txt")
    assert result.returncode == 2 and "does not hold a 256-bit key" in result.stderr, result.stderr
    (tmp_path / "good").write_bytes(os.urandom(32))
    bucket = bucket_name()
    _client(localstack).create_bucket(Bucket=bucket)
    both = run("put", "--sse", "AES256", "--sse-c-key-file", str(tmp_path / "good"), str(tmp_path / "f.txt"), f"s3://{bucket}/f.txt")
    assert both.returncode == 2 and "leave out --sse" in both.stderr, both.stderr


def test_a_bucket_that_blocks_sse_c_is_named_in_one_line(localstack: Any, tmp_path: Path, bucket_name: Callable[[], str]) -> None:
    """BlockedEncryptionTypes (the default for new buckets since April 2026): AWS answers a bare 403."""
    run = _cli(localstack)
    client = _client(localstack)
    bucket = bucket_name()
    client.create_bucket(Bucket=bucket)
    client.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration={"Rules": [
        {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}, "BlockedEncryptionTypes": {"EncryptionType": ["SSE-C"]}}]})  # fmt: skip
    (tmp_path / "k").write_bytes(os.urandom(32))
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "f.txt").write_text("x")
    for args in (("put", str(tmp_path / "src" / "f.txt"), f"s3://{bucket}/f.txt"), ("sync", str(tmp_path / "src"), f"s3://{bucket}/t/")):
        result = run(args[0], "--sse-c-key-file", str(tmp_path / "k"), *args[1:])
        assert result.returncode in (4, 5), result.stderr  # put: the file fails (5); sync: the plan (4)
        assert f"bucket s3://{bucket} blocks SSE-C uploads (BlockedEncryptionTypes" in result.stderr, result.stderr
        assert "Traceback" not in result.stderr
    assert client.list_objects_v2(Bucket=bucket).get("KeyCount", 0) == 0


def test_a_put_with_an_sse_c_key_reports_sse_c(localstack: Any, tmp_path: Path, bucket_name: Callable[[], str]) -> None:
    run = _cli(localstack)
    bucket = bucket_name()
    _client(localstack).create_bucket(Bucket=bucket)
    (tmp_path / "k").write_bytes(os.urandom(32))
    (tmp_path / "f.txt").write_text("secret text\n")
    for output in ("--json", "--verbose"):
        put = run(output, "put", "--sse-c-key-file", str(tmp_path / "k"), str(tmp_path / "f.txt"), f"s3://{bucket}/f.txt")
        assert put.returncode == 0, put.stderr
        assert "sse SSE-C" in put.stdout and "bucket default" not in put.stdout, put.stdout



def test_a_wrong_or_missing_sse_c_key_is_named_as_such(localstack: Any, tmp_path: Path, bucket_name: Callable[[], str]) -> None:
    """LocalStack checks the key as AWS does: a wrong key or none for an SSE-C object is a refusal that must
    say the key is the likely cause, for single get, meta get and get -r, never raw server text."""
    run = _cli(localstack)
    bucket = bucket_name()
    _client(localstack).create_bucket(Bucket=bucket)
    (tmp_path / "right.key").write_bytes(os.urandom(32))
    (tmp_path / "wrong.key").write_bytes(os.urandom(32))
    (tmp_path / "f.txt").write_text("secret text\n")
    put = run("--json", "put", "--sse-c-key-file", str(tmp_path / "right.key"), str(tmp_path / "f.txt"), f"s3://{bucket}/t/f.txt")
    assert put.returncode == 0, put.stderr
    url = f"s3://{bucket}/t/f.txt"
    cases = {
        "wrong get": ("get", "--sse-c-key-file", str(tmp_path / "wrong.key"), url, str(tmp_path / "out1")),
        "wrong meta": ("meta", "get", "--sse-c-key-file", str(tmp_path / "wrong.key"), url),
        "wrong tree": ("get", "-r", "--sse-c-key-file", str(tmp_path / "wrong.key"), f"s3://{bucket}/t/", str(tmp_path / "tree1")),
        "none get": ("get", url, str(tmp_path / "out2")),
        "none meta": ("meta", "get", url),
        "none tree": ("get", "-r", f"s3://{bucket}/t/", str(tmp_path / "tree2")),
    }
    results = {name: run(*args) for name, args in cases.items()}
    for name, result in results.items():
        assert result.returncode == (5 if "tree" in name else 4), {n: (r.returncode, r.stderr) for n, r in results.items()}
        assert "SSE-C key" in result.stderr and "--sse-c-key-file" in result.stderr, (name, result.stderr)
        assert "Bad Request" not in result.stderr and "<?xml" not in result.stderr and "Generic S3 error" not in result.stderr, (name, result.stderr)
        assert "(check the bucket policy" not in result.stderr and "Traceback" not in result.stderr, (name, result.stderr)
    assert not (tmp_path / "out1").exists() and not (tmp_path / "out2").exists()
