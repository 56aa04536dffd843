"""A large download in parallel ranges is verified from the ranges' own CRCs, combined natively into the
object's full CRC64NVME (no SHA-256 pass when no s3safe SHA-256 is stored); a byte flipped in any one range on its
way fails the download (exit 6) and leaves nothing, whether the CRC or s3safe's SHA-256 (checked beside the
ranges, in order) catches it."""

from __future__ import annotations

import base64
import hashlib
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from s3safe.core.errors import EXIT_INTEGRITY, IntegrityError, ServiceError
from s3safe.core.locations import S3Url
from s3safe.core.safety import SafetyGate
from s3safe.core.settings import ConnectionSettings
from s3safe.storage.connection import Connection
from s3safe.transfer import download
from s3safe.transfer.download import download_file
from s3safe.transfer.engine import TreeOptions, TreeSummary, download_tree
from tests.faults.conftest import Target
from tests.faults.proxy import FaultPlan, FaultProxy, Request, Rewritten, build_response

PART = 64 * 1024
SIZE = 5 * PART + 123  # six ranges, the last one short


@pytest.fixture(autouse=True)
def _small_ranges(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(download, "RANGE_PART", PART)
    monkeypatch.setattr(download, "RANGED_MIN", 2 * PART)


class _FlipRange:
    """A rewrite_response hook: flips one byte in the answer to the ranged GET that starts at `start`."""

    def __init__(self, start: int) -> None:
        self.start = start
        self.flipped = 0
        self.ranges: list[str] = []
        self._lock = threading.Lock()

    def __call__(self, request: Request, status: int, headers: dict[str, str], body: bytes) -> Rewritten | None:
        wanted = request.headers.get("range", "")
        if request.method != "GET" or status != 206 or not body:
            return None
        with self._lock:
            self.ranges.append(wanted)
            if not wanted.startswith(f"bytes={self.start}-"):
                return None
            self.flipped += 1
        middle = len(body) // 2
        return Rewritten(build_response(status, headers, body[:middle] + bytes([body[middle] ^ 0x01]) + body[middle + 1 :]))


def _crc64nvme(data: bytes) -> str:
    """The value S3 stores (base64 of the big-endian CRC), given explicitly: botocore computes it only with its CRT extra."""
    import awscrt.checksums  # type: ignore[import-untyped]

    return base64.b64encode(awscrt.checksums.crc64nvme(data).to_bytes(8, "big")).decode()


def _conn(proxy: FaultProxy) -> Connection:
    return Connection(ConnectionSettings(endpoint_url=proxy.endpoint_url, allow_http=True, region="us-east-1", threads=4))


def _bucket(moto_target: Target, bucket_name: Callable[[], str]) -> tuple[Any, str]:
    client = moto_target.client()
    bucket = bucket_name()
    client.create_bucket(Bucket=bucket)
    return client, bucket


def test_ranges_verified_by_their_combined_crc64nvme(
    proxy: FaultProxy, moto_target: Target, bucket_name: Callable[[], str], tmp_path: Path
) -> None:
    client, bucket = _bucket(moto_target, bucket_name)
    data = os.urandom(SIZE)
    client.put_object(Bucket=bucket, Key="big.bin", Body=data, ChecksumAlgorithm="CRC64NVME", ChecksumCRC64NVME=_crc64nvme(data))
    hook = _FlipRange(start=-1)  # flips nothing, records the ranges asked for
    proxy.set_plan(FaultPlan(rewrite_response=hook))
    result = download_file(_conn(proxy), S3Url(bucket, "big.bin"), tmp_path / "out.bin")
    assert (tmp_path / "out.bin").read_bytes() == data
    assert result.verified == "CRC64NVME checksum (combined from 6 ranges)"
    assert result.sha256_hex == ""  # no SHA-256 pass: the server's CRC settled it
    assert sorted(hook.ranges) == sorted(f"bytes={s}-{min(s + PART, SIZE) - 1}" for s in range(0, SIZE, PART))


@pytest.mark.parametrize("start", [0, 3 * PART, 5 * PART])
def test_a_byte_flipped_in_one_range_fails_the_crc(
    proxy: FaultProxy, moto_target: Target, bucket_name: Callable[[], str], tmp_path: Path, start: int
) -> None:
    client, bucket = _bucket(moto_target, bucket_name)
    data = os.urandom(SIZE)
    client.put_object(Bucket=bucket, Key="big.bin", Body=data, ChecksumAlgorithm="CRC64NVME", ChecksumCRC64NVME=_crc64nvme(data))
    hook = _FlipRange(start)
    proxy.set_plan(FaultPlan(rewrite_response=hook))
    out = tmp_path / "dest"
    out.mkdir()
    with pytest.raises(IntegrityError, match="does not match its stored CRC64NVME checksum") as caught:
        download_file(_conn(proxy), S3Url(bucket, "big.bin"), out / "big.bin")
    assert hook.flipped == 1
    assert caught.value.exit_code == EXIT_INTEGRITY == 6
    assert list(out.iterdir()) == []  # no file, no temp file


def test_a_byte_flipped_in_one_range_fails_s3safes_sha256(
    proxy: FaultProxy, moto_target: Target, bucket_name: Callable[[], str], tmp_path: Path
) -> None:
    """An object with s3safe's SHA-256 and no CRC: the follower hashes the ranges in order as they land."""
    client, bucket = _bucket(moto_target, bucket_name)
    data = os.urandom(SIZE)
    client.put_object(Bucket=bucket, Key="big.bin", Body=data, ChecksumAlgorithm="SHA256",
                      Metadata={"s3safe-sha256": hashlib.sha256(data).hexdigest()})  # fmt: skip
    hook = _FlipRange(2 * PART)
    proxy.set_plan(FaultPlan(rewrite_response=hook))
    out = tmp_path / "dest"
    out.mkdir()
    with pytest.raises(IntegrityError, match="SHA-256") as caught:
        download_file(_conn(proxy), S3Url(bucket, "big.bin"), out / "big.bin")
    assert hook.flipped == 1 and caught.value.exit_code == 6
    assert list(out.iterdir()) == []
    proxy.set_plan(FaultPlan())  # the same download, unharmed, verifies
    result = download_file(_conn(proxy), S3Url(bucket, "big.bin"), out / "big.bin")
    assert result.verified == "sha256" and result.sha256_hex == hashlib.sha256(data).hexdigest()
    assert (out / "big.bin").read_bytes() == data


def test_a_streamed_download_is_hashed_beside_the_transfer(
    proxy: FaultProxy, moto_target: Target, bucket_name: Callable[[], str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An object that streams (a server that ignores Range, here: below the ranged size) is hashed by the follower
    thread reading the file back as it grows; a flipped byte still fails it and leaves nothing."""
    monkeypatch.setattr(download, "RANGED_MIN", 1 << 40)
    monkeypatch.setattr(download, "FOLLOW_MIN", PART)
    monkeypatch.setattr(download, "SMALL_OBJECT", PART)  # streamed to a temp file, not fetched into memory
    followers: list[int] = []

    class Recorded(download.Follower):
        def __init__(self, fd: int, ranges: Any, digests: list[Any]) -> None:
            followers.append(fd)
            super().__init__(fd, ranges, digests)

    monkeypatch.setattr(download, "Follower", Recorded)
    client, bucket = _bucket(moto_target, bucket_name)
    data = os.urandom(SIZE)
    client.put_object(Bucket=bucket, Key="big.bin", Body=data, Metadata={"s3safe-sha256": hashlib.sha256(data).hexdigest()})
    flipped: list[str] = []

    def flip(request: Request, status: int, headers: dict[str, str], body: bytes) -> Rewritten | None:
        if request.method != "GET" or status != 200 or len(body) != SIZE:
            return None
        flipped.append(request.target)
        return Rewritten(build_response(status, headers, body[:SIZE - 7] + bytes([body[SIZE - 7] ^ 0x80]) + body[SIZE - 6 :]))

    proxy.set_plan(FaultPlan(rewrite_response=flip))
    out = tmp_path / "dest"
    out.mkdir()
    with pytest.raises(IntegrityError, match="SHA-256"):
        download_file(_conn(proxy), S3Url(bucket, "big.bin"), out / "big.bin")
    assert flipped and list(out.iterdir()) == []
    proxy.set_plan(FaultPlan())
    result = download_file(_conn(proxy), S3Url(bucket, "big.bin"), out / "big.bin")
    assert result.verified == "sha256" and result.sha256_hex == hashlib.sha256(data).hexdigest()
    assert (out / "big.bin").read_bytes() == data
    assert len(followers) == 2  # both downloads were hashed by the follower thread


def test_a_server_that_ignores_range_is_found_out_once_per_run(
    proxy: FaultProxy, moto_target: Target, bucket_name: Callable[[], str], tmp_path: Path
) -> None:
    """A server that answers Range with 200 and the whole object (rclone serve s3 does) cost a round of wasted
    ranged GETs per large object (issue #19, outside tester's item 9): the run's first ranged download now asks
    for one range alone, and once a server is found to ignore Range the other objects stream at once."""
    client, bucket = _bucket(moto_target, bucket_name)
    blobs = {f"t/{name}": os.urandom(SIZE) for name in ("a.bin", "b.bin")}
    for key, data in blobs.items():
        client.put_object(Bucket=bucket, Key=key, Body=data)

    def whole(request: Request, status: int, headers: dict[str, str], body: bytes) -> Rewritten | None:
        key = request.target.split("?")[0].removeprefix(f"/{bucket}/")
        if request.method != "GET" or status != 206 or key not in blobs:
            return None
        answer = {name: value for name, value in headers.items() if name not in ("content-range", "content-length")}
        return Rewritten(build_response(200, answer, blobs[key]))

    proxy.set_plan(FaultPlan(rewrite_response=whole))
    results = list(download_tree(_conn(proxy), S3Url(bucket, "t/"), tmp_path / "out", options=TreeOptions(),
                                 gate=SafetyGate(), summary=TreeSummary()))  # fmt: skip
    assert all(r.ok for r in results), [r.error for r in results if not r.ok]
    assert {name: (tmp_path / "out" / name).read_bytes() for name in ("a.bin", "b.bin")} == {k[2:]: v for k, v in blobs.items()}
    gets = [target for _, method, target in proxy.log if method == "GET" and target.split("?")[0].removeprefix(f"/{bucket}/") in blobs]
    assert len(gets) == 3, gets  # one probe answered whole (its body is not used), then each object streamed once


class _RangesAs200:
    """A rewrite_response hook: answers every ranged GET as `rclone serve s3` does, with the right bytes and
    Content-Range but status 200; `whole_from`: the ranged GETs from that offset get the whole object instead
    (status 200, no Content-Range), as a server that ignores Range would send; `flip`: one byte flipped in the
    range that starts there."""

    def __init__(self, data: bytes, *, whole_from: int | None = None, flip: int | None = None, cut: int | None = None,
                 lie: Callable[[int, dict[str, str], bytes], tuple[dict[str, str], bytes]] | None = None) -> None:  # fmt: skip
        self.data, self.whole_from, self.flip, self.cut, self.lie = data, whole_from, flip, cut, lie
        self.ranged = 0
        self.asked: list[tuple[str, str | None]] = []  # (Range, If-Match) of every ranged GET
        self._lock = threading.Lock()

    def __call__(self, request: Request, status: int, headers: dict[str, str], body: bytes) -> Rewritten | None:
        wanted = request.headers.get("range", "")
        if request.method != "GET" or status != 206:
            return None
        start = int(wanted.removeprefix("bytes=").split("-")[0])
        with self._lock:
            self.ranged += 1
            self.asked.append((wanted, request.headers.get("if-match")))
            cut, self.cut = (True, None) if start == self.cut else (False, self.cut)  # once
        if cut:  # the promised length, half the bytes, then the connection closes
            return Rewritten(build_response(200, headers, body[: len(body) // 2], content_length=len(body)), close=True)
        if self.lie is not None:
            headers, body = self.lie(start, headers, body)
        if self.whole_from is not None and start >= self.whole_from:
            plain = {k: v for k, v in headers.items() if k not in ("content-range", "content-length")}
            return Rewritten(build_response(200, plain, self.data))
        if start == self.flip:
            middle = len(body) // 2
            body = body[:middle] + bytes([body[middle] ^ 0x01]) + body[middle + 1 :]
        return Rewritten(build_response(200, headers, body))


def test_ranges_answered_200_with_exactly_the_range_are_taken_and_verified(
    proxy: FaultProxy, moto_target: Target, bucket_name: Callable[[], str], tmp_path: Path
) -> None:
    """obstore refuses a 200 to a ranged GET; botocore takes it when Content-Length and Content-Range are exactly
    the range asked for, and the combined CRC64NVME still checks every byte (a flipped one: exit 6, no file)."""
    client, bucket = _bucket(moto_target, bucket_name)
    data = os.urandom(SIZE)
    client.put_object(Bucket=bucket, Key="big.bin", Body=data, ChecksumAlgorithm="CRC64NVME", ChecksumCRC64NVME=_crc64nvme(data))
    hook = _RangesAs200(data)
    proxy.set_plan(FaultPlan(rewrite_response=hook))
    conn = _conn(proxy)
    result = download_file(conn, S3Url(bucket, "big.bin"), tmp_path / "out.bin")
    assert (tmp_path / "out.bin").read_bytes() == data
    assert result.verified == "CRC64NVME checksum (combined from 6 ranges)"
    assert hook.ranged == 6  # the run's probe (its first range, through botocore) found it out: no GET wasted
    assert conn.ranges_via_botocore
    out = tmp_path / "dest"
    out.mkdir()
    proxy.set_plan(FaultPlan(rewrite_response=_RangesAs200(data, flip=2 * PART)))
    with pytest.raises(IntegrityError, match="does not match its stored CRC64NVME checksum") as caught:
        download_file(conn, S3Url(bucket, "big.bin"), out / "big.bin")
    assert caught.value.exit_code == 6 and list(out.iterdir()) == []


def test_a_ranged_get_answered_with_the_whole_object_is_streamed_instead(
    proxy: FaultProxy, moto_target: Target, bucket_name: Callable[[], str], tmp_path: Path
) -> None:
    """Ranges taken through botocore until one answer is the whole object (200, no Content-Range): nothing of it
    is written as that range; the object is streamed whole instead, and verified."""
    client, bucket = _bucket(moto_target, bucket_name)
    data = os.urandom(SIZE)
    client.put_object(Bucket=bucket, Key="big.bin", Body=data, ChecksumAlgorithm="CRC64NVME", ChecksumCRC64NVME=_crc64nvme(data))
    proxy.set_plan(FaultPlan(rewrite_response=_RangesAs200(data, whole_from=3 * PART)))
    result = download_file(_conn(proxy), S3Url(bucket, "big.bin"), tmp_path / "out.bin")
    assert (tmp_path / "out.bin").read_bytes() == data
    assert "ranges" not in result.verified  # verified as a streamed object


def test_a_range_answered_200_and_cut_part_way_is_asked_for_again_from_the_byte_it_reached(
    proxy: FaultProxy, moto_target: Target, bucket_name: Callable[[], str], tmp_path: Path
) -> None:
    """A 200-answered range (botocore's path) whose connection closes after half its promised bytes is asked for
    again from the byte it reached, If-Match on the same ETag, as an obstore GET's cut body is (before: the whole
    download failed, exit 6, 'a range came back short', though nothing was wrong with the object)."""
    client, bucket = _bucket(moto_target, bucket_name)
    data = os.urandom(SIZE)
    etag = client.put_object(Bucket=bucket, Key="big.bin", Body=data, ChecksumAlgorithm="CRC64NVME",
                             ChecksumCRC64NVME=_crc64nvme(data))["ETag"]  # fmt: skip
    hook = _RangesAs200(data, cut=3 * PART)
    proxy.set_plan(FaultPlan(rewrite_response=hook))
    result = download_file(_conn(proxy), S3Url(bucket, "big.bin"), tmp_path / "out.bin")
    assert (tmp_path / "out.bin").read_bytes() == data
    assert result.verified == "CRC64NVME checksum (combined from 6 ranges)"
    assert hook.ranged == 7 and (f"bytes={3 * PART + PART // 2}-{4 * PART - 1}", etag) in hook.asked, hook.asked
    proxy.set_plan(FaultPlan(rewrite_response=_RangesAs200(data, cut=3 * PART)))
    out = tmp_path / "dest"
    out.mkdir()
    settings = ConnectionSettings(endpoint_url=proxy.endpoint_url, allow_http=True, region="us-east-1", threads=4, retries=0)
    once = Connection(settings)
    with pytest.raises(ServiceError, match="the connection was cut before the server's answer was complete") as caught:
        download_file(once, S3Url(bucket, "big.bin"), out / "big.bin")  # --retries 0: not resumed, and no integrity failure
    assert caught.value.exit_code != EXIT_INTEGRITY and list(out.iterdir()) == []


@pytest.mark.parametrize("answer", ["other range", "longer", "shorter"])
def test_a_200_that_does_not_hold_exactly_the_range_is_not_written_as_it(
    proxy: FaultProxy, moto_target: Target, bucket_name: Callable[[], str], tmp_path: Path, answer: str
) -> None:
    """A 200 whose Content-Range names another range (of the same length), or whose Content-Length (and body) is
    longer or shorter than the range: not taken as the range; the object streams whole instead, and verifies."""
    client, bucket = _bucket(moto_target, bucket_name)
    data = os.urandom(SIZE)
    client.put_object(Bucket=bucket, Key="big.bin", Body=data, ChecksumAlgorithm="CRC64NVME", ChecksumCRC64NVME=_crc64nvme(data))

    def lie(start: int, headers: dict[str, str], body: bytes) -> tuple[dict[str, str], bytes]:
        if start != 2 * PART:
            return headers, body
        if answer == "other range":
            return {**headers, "content-range": f"bytes {3 * PART}-{4 * PART - 1}/{SIZE}"}, body
        return headers, body + b"x" if answer == "longer" else body[:-1]

    hook = _RangesAs200(data, lie=lie)
    proxy.set_plan(FaultPlan(rewrite_response=hook))
    result = download_file(_conn(proxy), S3Url(bucket, "big.bin"), tmp_path / "out.bin")
    assert (tmp_path / "out.bin").read_bytes() == data
    assert "ranges" not in result.verified  # streamed whole instead, and verified as such
