"""A bucket whose default encryption cannot be read keeps it: uploads never downgrade a KMS default (rt19 #4).

A least-privilege user without s3:GetEncryptionConfiguration gets 403 on GET ?encryption, a struggling endpoint
503. s3safe took either for "no default" and sent x-amz-server-side-encryption: AES256, storing the object under
SSE-S3 instead of the bucket's KMS key, exit 0, no word. Now it sends no SSE header (the bucket's default
applies), says so at -v, and reports the encryption the server applied.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.faults.conftest import Target
from tests.faults.proxy import FaultPlan, FaultProxy, Request, Rewritten, build_response
from tests.servers.moto import MotoServer

KMS_KEY = "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555"
UNREAD = "could not be read"


def _encryption_reads_answered(status: int, body: bytes) -> Callable[[Request, int, dict[str, str], bytes], Rewritten | None]:
    """A response hook answering GET ?encryption (and only it) with `status` and `body`."""

    def rewrite(request: Request, _status: int, _headers: dict[str, str], _body: bytes) -> Rewritten | None:
        if request.method != "GET" or "encryption" not in request.target.partition("?")[2]:
            return None
        return Rewritten(build_response(status, {"Content-Type": "application/xml"}, body))

    return rewrite


def _refuse_encryption_reads(status: int) -> FaultPlan:
    """GET ?encryption (and only it) answered 403 AccessDenied or 503 SlowDown, as the red team's proxy did."""
    code = b"AccessDenied" if status == 403 else b"SlowDown"
    return FaultPlan(rewrite_response=_encryption_reads_answered(status, b"<Error><Code>" + code + b"</Code><Message>x</Message></Error>"))


def _claimed_default(algorithm: bytes) -> Callable[[Request, int, dict[str, str], bytes], Rewritten | None]:
    """GET ?encryption answered with a default rule naming `algorithm`, whatever the bucket really has."""
    return _encryption_reads_answered(200, b"<ServerSideEncryptionConfiguration><Rule><ApplyServerSideEncryptionByDefault>"
                                           b"<SSEAlgorithm>" + algorithm + b"</SSEAlgorithm></ApplyServerSideEncryptionByDefault>"
                                           b"</Rule></ServerSideEncryptionConfiguration>")  # fmt: skip


def _new_bucket(proxied: Target, moto: MotoServer, name: str) -> tuple[Any, str]:
    """A new bucket, with no default encryption until a test puts one (moto applies none where none is asked for),
    and a client that reaches moto past the proxy."""
    direct = proxied.client(moto.endpoint_url)
    direct.create_bucket(Bucket=name)
    return direct, name


@pytest.fixture
def kms_bucket(proxied: Target, moto: MotoServer, bucket_name: Callable[[], str]) -> tuple[Any, str]:
    direct, bucket = _new_bucket(proxied, moto, bucket_name("kmsdefault"))
    direct.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration={"Rules": [
        {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": KMS_KEY}}]})  # fmt: skip
    return direct, bucket


@pytest.mark.parametrize(("status", "size"), [(403, 10), (503, 6 * 1024 * 1024)], ids=["403-single-put", "503-multipart"])
def test_an_unreadable_kms_default_is_not_downgraded_to_aes256(
    proxy: FaultProxy, proxied: Target, kms_bucket: tuple[Any, str], tmp_path: Path, status: int, size: int
) -> None:
    direct, bucket = kms_bucket
    source = tmp_path / "f.bin"
    source.write_bytes(b"k" * size)
    proxy.set_plan(_refuse_encryption_reads(status))
    done = proxied.run("-v", "--retries", "1", "put", "--part-size", "5MiB", str(source), f"s3://{bucket}/k", timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    head = direct.head_object(Bucket=bucket, Key="k")
    assert (head.get("ServerSideEncryption"), head.get("SSEKMSKeyId")) == ("aws:kms", KMS_KEY)
    assert "sse aws:kms" in done.stdout, done.stdout
    assert UNREAD in done.stderr, done.stderr[-2000:]


def test_a_server_side_copy_into_a_bucket_whose_kms_default_is_unreadable_keeps_it(
    proxy: FaultProxy, proxied: Target, kms_bucket: tuple[Any, str]
) -> None:
    direct, bucket = kms_bucket
    direct.put_object(Bucket=bucket, Key="src", Body=b"copy me", ServerSideEncryption="AES256")
    proxy.set_plan(_refuse_encryption_reads(403))
    done = proxied.run("--retries", "0", "cp", f"s3://{bucket}/src", f"s3://{bucket}/dst", timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert direct.head_object(Bucket=bucket, Key="dst").get("ServerSideEncryption") == "aws:kms"


def test_an_object_the_server_stored_unencrypted_after_an_unreadable_default_is_warned_about(
    proxy: FaultProxy, proxied: Target, moto: MotoServer, bucket_name: Callable[[], str], tmp_path: Path
) -> None:
    """moto applies no encryption where none is asked for and the bucket has no default: the user is told."""
    direct, bucket = _new_bucket(proxied, moto, bucket_name("nodefault"))
    (tmp_path / "f.txt").write_text("plain")
    proxy.set_plan(_refuse_encryption_reads(403))
    done = proxied.run("put", str(tmp_path / "f.txt"), f"s3://{bucket}/k", timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert direct.head_object(Bucket=bucket, Key="k").get("ServerSideEncryption") is None
    assert f"s3safe: warning: s3://{bucket}/k is stored WITHOUT server-side encryption" in done.stderr, done.stderr[-2000:]
    assert "sse none" in done.stdout, done.stdout


@pytest.mark.parametrize("recursive", [False, True], ids=["cp", "cp-r"])
def test_a_copy_the_server_stored_unencrypted_after_an_unreadable_default_is_warned_about(
    recursive: bool, proxy: FaultProxy, proxied: Target, moto: MotoServer, bucket_name: Callable[[], str]
) -> None:
    """rt23 E: `cp`/`cp -r` into a bucket without a default whose setting could not be read stored the copies
    unencrypted, exit 0, not a word (every upload warned)."""
    direct, bucket = _new_bucket(proxied, moto, bucket_name("nodefault"))
    direct.put_object(Bucket=bucket, Key="src/a", Body=b"copy me")
    proxy.set_plan(_refuse_encryption_reads(403))
    args = ["cp", "-r", f"s3://{bucket}/src/", f"s3://{bucket}/dst/"] if recursive else ["cp", f"s3://{bucket}/src/a", f"s3://{bucket}/dst/a"]
    done = proxied.run("--retries", "0", *args, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert direct.head_object(Bucket=bucket, Key="dst/a").get("ServerSideEncryption") is None
    assert f"s3safe: warning: s3://{bucket}/dst/a is stored WITHOUT server-side encryption" in done.stderr, done.stderr[-2000:]


def test_a_default_algorithm_s3safe_does_not_know_is_left_to_the_bucket(
    proxy: FaultProxy, proxied: Target, moto: MotoServer, bucket_name: Callable[[], str], tmp_path: Path
) -> None:
    """rt23 K: a default encryption rule with an algorithm s3safe does not know was overridden with AES256."""
    _, bucket = _new_bucket(proxied, moto, bucket_name("unknowndefault"))
    sent: list[dict[str, str]] = []

    def keep(request: Request, body: bytes) -> bytes:
        if request.method == "PUT" and request.target.split("?")[0] == f"/{bucket}/k":
            sent.append(request.headers)
        return body

    proxy.set_plan(FaultPlan(rewrite_response=_claimed_default(b"aws:future"), rewrite_request=keep))
    (tmp_path / "f.txt").write_text("x")
    done = proxied.run("--retries", "0", "put", str(tmp_path / "f.txt"), f"s3://{bucket}/k", timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert sent and all("x-amz-server-side-encryption" not in headers for headers in sent), sent


def test_aes256_asked_for_over_a_kms_default_is_sent_and_said(proxied: Target, kms_bucket: tuple[Any, str], tmp_path: Path) -> None:
    """rt23 I: `--sse AES256` (or `sse = AES256` in the config file) replaced a bucket's KMS default without a word."""
    direct, bucket = kms_bucket
    (tmp_path / "f.txt").write_text("x")
    done = proxied.run("put", "--sse", "AES256", str(tmp_path / "f.txt"), f"s3://{bucket}/k", timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert direct.head_object(Bucket=bucket, Key="k").get("ServerSideEncryption") == "AES256"  # as asked
    assert f"s3://{bucket} encrypts new objects with aws:kms by default" in done.stderr, done.stderr[-2000:]


def test_an_sse_header_the_endpoint_did_not_apply_is_reported_as_none_and_said_once(
    proxy: FaultProxy, proxied: Target, moto: MotoServer, bucket_name: Callable[[], str], tmp_path: Path
) -> None:
    """rt23 J: with the SSE header lost on its way (a plain-HTTP path stripped it; some endpoints ignore it) the
    object was stored unencrypted and s3safe still said `sse AES256`. The first object written to the bucket is
    read back once: here its HEAD answers without the SSE header, as such an endpoint's does."""
    _, bucket = _new_bucket(proxied, moto, bucket_name("ssedropped"))

    def unencrypted(request: Request, status: int, headers: dict[str, str], body: bytes) -> Rewritten | None:
        if request.method != "HEAD" or request.target.split("?")[0] in (f"/{bucket}", f"/{bucket}/"):
            return None
        kept = {name: value for name, value in headers.items() if name.lower() != "x-amz-server-side-encryption"}
        return Rewritten(build_response(status, kept, b"", content_length=int(headers.get("content-length", "0"))))

    proxy.set_plan(FaultPlan(rewrite_response=unencrypted))
    (tmp_path / "f.txt").write_text("x")
    done = proxied.run("put", str(tmp_path / "f.txt"), f"s3://{bucket}/k", timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "sse none" in done.stdout and "sse AES256" not in done.stdout, done.stdout
    assert f"stored s3://{bucket}/k WITHOUT the server-side encryption sent with it (AES256)" in done.stderr, done.stderr
    src = tmp_path / "tree"
    src.mkdir()
    for n in range(3):
        (src / f"{n}.txt").write_text(str(n))
    tree = proxied.run("put", "-r", str(src), f"s3://{bucket}/t/", timeout=120)
    assert tree.returncode == 0, tree.stderr[-2000:]
    assert tree.stderr.count("WITHOUT the server-side encryption sent with it") == 1, tree.stderr


def test_a_default_the_endpoint_names_but_does_not_apply_is_reported_as_none_and_said(
    proxy: FaultProxy, proxied: Target, moto: MotoServer, bucket_name: Callable[[], str], tmp_path: Path
) -> None:
    """rt24 N1: an endpoint that names aws:kms as the bucket's default but applies none: no header was sent (the
    default was relied on) and s3safe reported `sse aws:kms` for an object stored unencrypted."""
    direct, bucket = _new_bucket(proxied, moto, bucket_name("fakedefault"))

    proxy.set_plan(FaultPlan(rewrite_response=_claimed_default(b"aws:kms")))
    (tmp_path / "f.txt").write_text("x")
    done = proxied.run("put", str(tmp_path / "f.txt"), f"s3://{bucket}/k", timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert direct.head_object(Bucket=bucket, Key="k").get("ServerSideEncryption") is None
    assert "sse none" in done.stdout and "sse aws:kms" not in done.stdout, done.stdout
    assert f"stored s3://{bucket}/k WITHOUT server-side encryption although it names aws:kms" in done.stderr, done.stderr


def test_a_stream_whose_default_was_unreadable_is_still_held_to_its_etag(
    proxy: FaultProxy, proxied: Target, moto: MotoServer, bucket_name: Callable[[], str]
) -> None:
    """rt23 F: `put -` with the bucket's default encryption unreadable said "verified by nothing" although the
    read-back showed SSE-S3 and the ETag was the MD5 of the bytes sent."""
    direct, bucket = _new_bucket(proxied, moto, bucket_name("streamdefault"))
    direct.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration={"Rules": [
        {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]})  # fmt: skip
    proxy.set_plan(_refuse_encryption_reads(403))
    done = subprocess.run(proxied.command("put", "-", f"s3://{bucket}/k"), input=b"streamed bytes\n", capture_output=True,
                          env=proxied.full_env(), timeout=120, check=False)  # fmt: skip
    out, err = done.stdout.decode(), done.stderr.decode()
    assert done.returncode == 0, err[-2000:]
    assert direct.head_object(Bucket=bucket, Key="k").get("ServerSideEncryption") == "AES256"
    assert "verified by ETag = MD5 of the bytes sent" in out and "verified by nothing" not in out, out
