"""Multipart objects another tool wrote with parts of unequal sizes (6, 5, 7 MiB + 100 bytes; 5, 7, 7 MiB):
the first part's size and the part count do not tell the layout, so s3safe must measure the parts before it
recomputes a multipart ETag or a composite checksum (moto gives no ObjectParts from GetObjectAttributes)."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from s3safe.crypto import age
from tests.faults.conftest import Target
from tests.faults.flip import key_of
from tests.faults.peer import GetBodyFlipper
from tests.faults.proxy import FaultPlan, FaultProxy
from tests.faults.test_peer_objects import _part_checksum
from tests.servers.moto import MotoServer

MIB = 1024 * 1024


def _upload(client: Any, bucket: str, key: str, sizes: list[int], *, algorithm: str | None = None) -> bytes:
    """A multipart upload with parts of exactly `sizes` bytes, as boto3 makes it; returns the object's bytes."""
    data = os.urandom(sum(sizes))
    extra = {"ChecksumAlgorithm": algorithm} if algorithm else {}
    upload = client.create_multipart_upload(Bucket=bucket, Key=key, **extra)["UploadId"]
    parts, start = [], 0
    for number, size in enumerate(sizes, start=1):
        body = data[start : start + size]
        start += size
        sums = {f"Checksum{algorithm}": _part_checksum(algorithm, body)} if algorithm else {}
        sent = client.upload_part(Bucket=bucket, Key=key, UploadId=upload, PartNumber=number, Body=body, **sums)
        parts.append({"PartNumber": number, "ETag": sent["ETag"], **sums})
    client.complete_multipart_upload(Bucket=bucket, Key=key, UploadId=upload, MultipartUpload={"Parts": parts})
    return data


def _detail(stdout: str) -> str:
    lines = [json.loads(line) for line in stdout.splitlines() if line.startswith("{")]
    return " ".join(str(line.get("detail", "")) for line in lines if line.get("action") == "download")


def test_uneven_parts_that_the_first_part_and_count_do_not_tell_are_measured_and_verified(
    proxy: FaultProxy, proxied: Target, moto: MotoServer, tmp_path: Path, bucket_name: Callable[[], str]
) -> None:
    bucket = bucket_name()
    client = proxied.client(moto.endpoint_url)
    client.create_bucket(Bucket=bucket)
    uneven = [6 * MIB, 5 * MIB, 7 * MIB, 100]
    objects = {"none/uneven": _upload(client, bucket, "none/uneven", uneven),
               "sha/uneven": _upload(client, bucket, "sha/uneven", uneven, algorithm="SHA256"),
               "two/bigger-last": _upload(client, bucket, "two/bigger-last", [5 * MIB, 7 * MIB])}  # fmt: skip
    for key, data in objects.items():
        target = tmp_path / key.replace("/", "-")
        got = proxied.run("--json", "get", f"s3://{bucket}/{key}", str(target))
        assert got.returncode == 0, got.stderr
        assert target.read_bytes() == data
        detail = _detail(got.stdout)
        assert "verified by size" not in detail and ("multipart ETag" in detail or "SHA256" in detail), got.stdout

    # an unchanged local copy is not "content differs": nothing is sent
    src = tmp_path / "src"
    src.mkdir()
    (src / "uneven").write_bytes(objects["none/uneven"])
    up = proxied.run("--json", "sync", str(src), f"s3://{bucket}/none/")
    assert up.returncode == 0, up.stderr
    assert '"action": "upload"' not in up.stdout, up.stdout
    down = proxied.run("--json", "get", "-r", "--only-diff", f"s3://{bucket}/none/", str(src))
    assert down.returncode == 0, down.stderr
    assert '"action": "download"' not in down.stdout, down.stdout

    # parts that do not fit a uniform guess at all: a flipped byte is an integrity failure, not "verified by size"
    odd = _upload(client, bucket, "odd/obj", [5 * MIB, 7 * MIB, 7 * MIB])
    good = proxied.run("--json", "get", f"s3://{bucket}/odd/obj", str(tmp_path / "odd-good"))
    assert good.returncode == 0 and (tmp_path / "odd-good").read_bytes() == odd, good.stderr
    assert "verified by size" not in _detail(good.stdout), good.stdout
    flipper = GetBodyFlipper(lambda r: key_of(r, bucket) == "odd/obj")
    proxy.set_plan(FaultPlan(rewrite_response=flipper))
    bad = proxied.run("get", f"s3://{bucket}/odd/obj", str(tmp_path / "odd-bad"))
    assert flipper.flipped, "the scenario did not corrupt anything"
    assert bad.returncode == 6, bad.stdout + bad.stderr
    assert f"s3://{bucket}/odd/obj" in bad.stderr and not (tmp_path / "odd-bad").exists(), bad.stderr


def test_an_encrypted_upload_honours_part_size_in_whole_ciphertext_chunks(
    proxy: FaultProxy, proxied: Target, moto: MotoServer, tmp_path: Path, bucket_name: Callable[[], str]
) -> None:
    """--part-size was ignored for encrypted uploads (always 8 MiB parts; issue #19, outside tester's item 5). It is
    honoured, rounded up to whole age STREAM chunks (64 KiB + 16-byte tag), and -v says so; the parts' sizes are
    measured at the proxy, and the object decrypts back to the file."""
    bucket = bucket_name()
    proxied.client(moto.endpoint_url).create_bucket(Bucket=bucket)
    identity, recipient = age.generate_identity()
    (tmp_path / "id.txt").write_text(identity + "\n")
    plain = os.urandom(11 * MIB)
    (tmp_path / "big.bin").write_bytes(plain)
    sizes: list[int] = []

    def record(request: Any, body: bytes) -> bytes:
        if request.method == "PUT" and "partNumber=" in request.target:
            sizes.append(request.body_length)
        return body

    proxy.set_plan(FaultPlan(rewrite_request=record))
    sent = proxied.run("-v", "put", "--recipient", recipient, "--part-size", "5MiB", str(tmp_path / "big.bin"), f"s3://{bucket}/big.age")
    assert sent.returncode == 0, sent.stderr[-2000:]
    chunk = 64 * 1024 + 16
    assert sorted(sizes, reverse=True)[:2] == [80 * chunk, 80 * chunk] and len(sizes) == 3, sizes
    assert (f"s3safe: info: --part-size {5 * MIB}: encrypted parts are {80 * chunk} bytes (a whole number of {chunk}-byte"
            " age ciphertext chunks)") in sent.stderr, sent.stderr[-2000:]  # fmt: skip
    back = proxied.run("get", "--identity", str(tmp_path / "id.txt"), f"s3://{bucket}/big.age", str(tmp_path / "back.bin"))
    assert back.returncode == 0, back.stderr[-2000:]
    assert (tmp_path / "back.bin").read_bytes() == plain
