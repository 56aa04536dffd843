"""--move and --local-delete delete a local file only with evidence from the server that it holds those bytes.

The fault proxy flips one byte of a PUT body on its way to moto, which (like rclone) stores it without
checking the x-amz-checksum-sha256 sent with it. The upload must be reported as failed (exit 6: the item
failed its integrity check, the rest of the run went on), the local file must survive, and the next run must send it again.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from s3safe.crypto import age
from tests.faults.conftest import Target, bucket_digests, open_uploads
from tests.faults.flip import ByteFlipper, key_of
from tests.faults.proxy import FaultPlan, FaultProxy, Request, Rewritten, build_response
from tests.servers.moto import MotoServer


def _write(root: Path, files: dict[str, bytes]) -> dict[str, str]:
    for rel, data in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)
    return {rel: hashlib.sha256(data).hexdigest() for rel, data in files.items()}


def _lines(stdout: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stdout.splitlines() if line.startswith("{")]


def _failed_targets(stdout: str) -> list[str]:
    return [line["target"] for line in _lines(stdout) if line.get("ok") is False]


def _remaining(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}


def _setup(proxied: Target, moto: MotoServer, bucket_name: Callable[[], str]) -> tuple[Any, str]:
    bucket = bucket_name()
    direct = proxied.client(moto.endpoint_url)
    direct.create_bucket(Bucket=bucket)
    return direct, bucket


def test_move_keeps_a_file_whose_single_put_was_corrupted_and_the_next_run_resends_it(
    proxy: FaultProxy, proxied: Target, moto: MotoServer, tmp_path: Path, bucket_name: Callable[[], str]
) -> None:
    direct, bucket = _setup(proxied, moto, bucket_name)
    src = tmp_path / "src"
    files = {"a.txt": b"alpha " * 100, "b.txt": b"bravo " * 90, "c/d.txt": b"delta " * 80}
    expected = _write(src, files)
    flipper = ByteFlipper(lambda r: key_of(r, bucket) == "m/a.txt")
    proxy.set_plan(FaultPlan(rewrite_request=flipper))
    first = proxied.run("--json", "put", "-r", "--move", str(src), f"s3://{bucket}/m/")
    assert flipper.flipped, "the scenario did not corrupt anything"
    assert first.returncode == 6, first.stderr  # every failure an integrity failure: exit 6
    assert _failed_targets(first.stdout) == [f"s3://{bucket}/m/a.txt"], first.stdout
    # the only good copy of a.txt is the local one: it stays; the verified ones were moved
    assert (src / "a.txt").read_bytes() == files["a.txt"]
    assert _remaining(src) == {"a.txt"}
    proxy.clear()
    second = proxied.run("--json", "put", "-r", "--only-diff", "--move", str(src), f"s3://{bucket}/m/")
    assert second.returncode == 0, second.stderr
    assert _remaining(src) == set()
    assert bucket_digests(direct, bucket, "m/") == expected


def test_only_diff_sees_a_plain_etag_that_contradicts_the_file_whatever_the_metadata_claims(
    proxied: Target, moto: MotoServer, tmp_path: Path, bucket_name: Callable[[], str]
) -> None:
    direct, bucket = _setup(proxied, moto, bucket_name)
    src = tmp_path / "src"
    good = b"the only good copy\n" * 40
    _write(src, {"f.txt": good})
    bad = bytearray(good)
    bad[100] ^= 1
    # what a server that never checked the checksum holds: flipped bytes under s3safe's claim of the good digest
    direct.put_object(Bucket=bucket, Key="k/f.txt", Body=bytes(bad), ServerSideEncryption="AES256",
                      Metadata={"s3safe-sha256": hashlib.sha256(good).hexdigest()})  # fmt: skip
    run = proxied.run("--json", "put", "-r", "--local-delete", "--only-diff", str(src), f"s3://{bucket}/k/")
    assert run.returncode == 0, run.stderr
    assert (src / "f.txt").read_bytes() == good
    uploads = [line for line in _lines(run.stdout) if line.get("action") == "upload"]
    assert [line.get("detail") for line in uploads] == ["content differs"], run.stdout
    assert bucket_digests(direct, bucket, "k/") == {"f.txt": hashlib.sha256(good).hexdigest()}


def test_local_delete_keeps_and_resends_a_multipart_file_whose_object_differs_despite_its_metadata(
    proxied: Target, moto: MotoServer, tmp_path: Path, bucket_name: Callable[[], str]
) -> None:
    """A multipart ETag is the server's MD5s of the parts it holds: --only-diff holds s3safe-sha256 to it, so the
    damaged object is sent again (it was taken as unchanged, and only --local-delete's read-back refused it)."""
    direct, bucket = _setup(proxied, moto, bucket_name)
    src = tmp_path / "src"
    good = os.urandom(6 * 1024 * 1024)
    _write(src, {"big.bin": good})
    bad = bytearray(good)
    bad[5 * 1024 * 1024 + 7] ^= 1
    meta = {"s3safe-sha256": hashlib.sha256(good).hexdigest()}
    upload = direct.create_multipart_upload(Bucket=bucket, Key="k/big.bin", Metadata=meta)
    parts = []
    for number, start in enumerate(range(0, len(bad), 5 * 1024 * 1024), start=1):
        r = direct.upload_part(Bucket=bucket, Key="k/big.bin", UploadId=upload["UploadId"], PartNumber=number,
                               Body=bytes(bad[start : start + 5 * 1024 * 1024]))  # fmt: skip
        parts.append({"PartNumber": number, "ETag": r["ETag"]})
    direct.complete_multipart_upload(Bucket=bucket, Key="k/big.bin", UploadId=upload["UploadId"],
                                     MultipartUpload={"Parts": parts})  # fmt: skip
    run = proxied.run("--json", "put", "-r", "--local-delete", "--only-diff", str(src), f"s3://{bucket}/k/")
    assert (src / "big.bin").read_bytes() == good
    assert run.returncode == 0, run.stderr
    uploads = [line for line in _lines(run.stdout) if line.get("action") == "upload"]
    assert [line.get("detail") for line in uploads] == ["content differs (the multipart ETag contradicts the stored digest)"], run.stdout
    assert direct.get_object(Bucket=bucket, Key="k/big.bin")["Body"].read() == good


def test_local_delete_deletes_a_multipart_file_after_a_verified_read_back(
    proxied: Target, moto: MotoServer, tmp_path: Path, bucket_name: Callable[[], str]
) -> None:
    direct, bucket = _setup(proxied, moto, bucket_name)
    src = tmp_path / "src"
    good = os.urandom(6 * 1024 * 1024)
    _write(src, {"big.bin": good})
    put = proxied.run("put", "-r", "--part-size", "5MiB", str(src), f"s3://{bucket}/k/")
    assert put.returncode == 0, put.stderr
    assert "-" in direct.head_object(Bucket=bucket, Key="k/big.bin")["ETag"]
    # a fresh state directory: no record of the upload's evidence, so s3safe must read the object back
    fresh = {"S3SAFE_STATE_DIR": str(tmp_path / "fresh-state")}
    run = proxied.run("--json", "put", "-r", "--local-delete", "--only-diff", str(src), f"s3://{bucket}/k/", extra_env=fresh)
    assert run.returncode == 0, run.stderr
    assert _remaining(src) == set()


def test_move_keeps_a_file_whose_multipart_part_was_corrupted(
    proxy: FaultProxy, proxied: Target, moto: MotoServer, tmp_path: Path, bucket_name: Callable[[], str]
) -> None:
    direct, bucket = _setup(proxied, moto, bucket_name)
    src = tmp_path / "src"
    files = {"big.bin": os.urandom(11 * 1024 * 1024 + 3), "small.txt": b"small\n"}
    expected = _write(src, files)
    flipper = ByteFlipper(lambda r: key_of(r, bucket) == "m/big.bin" and "partNumber=2" in r.target)
    proxy.set_plan(FaultPlan(rewrite_request=flipper))
    first = proxied.run("--json", "put", "-r", "--move", "--part-size", "5MiB", str(src), f"s3://{bucket}/m/")
    assert flipper.flipped, "the scenario did not corrupt anything"
    assert first.returncode == 6, first.stderr  # every failure an integrity failure: exit 6
    assert _failed_targets(first.stdout) == [f"s3://{bucket}/m/big.bin"], first.stdout
    assert (src / "big.bin").read_bytes() == files["big.bin"]
    assert _remaining(src) == {"big.bin"}
    assert "m/big.bin" not in {o["Key"] for o in direct.list_objects_v2(Bucket=bucket).get("Contents", [])}
    assert open_uploads(direct, bucket) == []
    proxy.clear()
    second = proxied.run("--json", "put", "-r", "--only-diff", "--move", "--part-size", "5MiB", str(src), f"s3://{bucket}/m/")
    assert second.returncode == 0, second.stderr
    assert _remaining(src) == set()
    assert bucket_digests(direct, bucket, "m/") == expected


def test_move_keeps_encrypted_files_whose_ciphertext_was_corrupted(
    proxy: FaultProxy, proxied: Target, moto: MotoServer, tmp_path: Path, bucket_name: Callable[[], str]
) -> None:
    """The ETag of an encrypted upload is the MD5 of the ciphertext, which s3safe computes while encrypting."""
    direct, bucket = _setup(proxied, moto, bucket_name)
    identity, recipient = age.generate_identity()
    (tmp_path / "id.txt").write_text(identity + "\n")
    src = tmp_path / "src"
    files = {"small.txt": b"secret " * 100, "big.bin": os.urandom(17 * 1024 * 1024)}
    expected = _write(src, files)
    flipper = ByteFlipper(lambda r: key_of(r, bucket) == "e/small.txt" or (key_of(r, bucket) == "e/big.bin" and "partNumber=1" in r.target),
                          limit=2)  # fmt: skip
    proxy.set_plan(FaultPlan(rewrite_request=flipper))
    first = proxied.run("--json", "put", "-r", "--move", "--recipient", recipient, str(src), f"s3://{bucket}/e/")
    assert len(flipper.flipped) == 2, flipper.flipped
    assert first.returncode == 6, first.stderr  # every failure an integrity failure: exit 6
    assert sorted(_failed_targets(first.stdout)) == [f"s3://{bucket}/e/big.bin", f"s3://{bucket}/e/small.txt"], first.stdout
    assert _remaining(src) == set(files)
    assert open_uploads(direct, bucket) == []
    proxy.clear()
    second = proxied.run("--json", "put", "-r", "--only-diff", "--move", "--recipient", recipient, str(src), f"s3://{bucket}/e/")
    assert second.returncode == 0, second.stderr
    assert _remaining(src) == set()
    out = tmp_path / "out"
    back = proxied.run("get", "-r", "--identity", str(tmp_path / "id.txt"), f"s3://{bucket}/e/", str(out))
    assert back.returncode == 0, back.stderr
    assert {rel: hashlib.sha256((out / rel).read_bytes()).hexdigest() for rel in files} == expected


def test_local_delete_keeps_a_file_rewritten_after_it_was_planned(
    proxy: FaultProxy, proxied: Target, moto: MotoServer, tmp_path: Path, bucket_name: Callable[[], str]
) -> None:
    """a.txt matches on S3 when planned; while the upload of b.txt is held at the proxy it is rewritten. The deletion
    at the end must see that it changed (size, mtime, inode checked again) and keep the new content."""
    _direct, bucket = _setup(proxied, moto, bucket_name)
    src = tmp_path / "src"
    _write(src, {"a.txt": b"first version\n"})
    assert proxied.run("put", "-r", str(src), f"s3://{bucket}/p/").returncode == 0
    _write(src, {"b.txt": b"a new file\n"})
    proxy.set_plan(FaultPlan(hold=lambda r: r.method == "PUT" and key_of(r, bucket) == "p/b.txt"))
    log = tmp_path / "run.log"
    child = proxied.popen("--json", "-t", "1", "put", "-r", "--local-delete", "--only-diff", str(src), f"s3://{bucket}/p/", log=log)
    try:
        assert proxy.held.wait(60), log.read_text()
        (src / "a.txt").write_bytes(b"second version, not on S3 yet\n")
    finally:
        proxy.release()
        child.wait(120)
    assert child.returncode == 0, log.read_text()
    assert (src / "a.txt").read_bytes() == b"second version, not on S3 yet\n"
    kept = [line for line in _lines(log.read_text()) if line.get("action") == "keep"]
    assert [line["target"] for line in kept] == [str(src / "a.txt")], log.read_text()


def test_move_deletions_go_through_the_gate_and_are_counted(
    proxied: Target, moto: MotoServer, tmp_path: Path, bucket_name: Callable[[], str]
) -> None:
    _direct, bucket = _setup(proxied, moto, bucket_name)
    src = tmp_path / "src"
    files = {"a.txt": b"a", "b.txt": b"bb", "c/d.txt": b"ddd"}
    _write(src, files)
    capped = proxied.run("--json", "put", "-r", "--move", "--max-delete", "0", str(src), f"s3://{bucket}/g/")
    assert capped.returncode == 7, capped.stderr
    assert _remaining(src) == set(files)  # uploaded, but not one local file removed
    dry = proxied.run("--json", "put", "-r", "--move", "--dry-run", str(src), f"s3://{bucket}/g2/")
    assert dry.returncode == 0, dry.stderr
    assert sorted(line["target"] for line in _lines(dry.stdout) if line.get("action") == "move") == sorted(
        str(src / rel) for rel in files
    )
    assert _remaining(src) == set(files)
    moved = proxied.run("--json", "put", "-r", "--move", "--max-delete", "3", str(src), f"s3://{bucket}/g/")
    assert moved.returncode == 0, moved.stderr
    assert _remaining(src) == set()
    summary = [line for line in _lines(moved.stdout) if line.get("type") == "summary"][-1]
    assert (summary["transferred"], summary["deleted"]) == (3, 3), summary


def test_move_under_sse_kms_proves_by_read_back(
    proxied: Target, moto: MotoServer, tmp_path: Path, bucket_name: Callable[[], str]
) -> None:
    """With SSE-KMS an ETag is no MD5 of the content, so the upload proves nothing by itself: the object is read
    back and hashed against the file before the file goes."""
    _direct, bucket = _setup(proxied, moto, bucket_name)
    src = tmp_path / "src"
    _write(src, {"a.txt": b"kms " * 50, "big.bin": os.urandom(6 * 1024 * 1024)})
    moved = proxied.run("--json", "put", "-r", "--move", "--sse", "aws:kms", "--part-size", "5MiB", str(src), f"s3://{bucket}/k/")
    assert moved.returncode == 0, moved.stderr
    assert _remaining(src) == set()
    details = [line.get("detail") for line in _lines(moved.stdout) if line.get("action") == "move"]
    assert details == ["evidence: read back and compared"] * 2, moved.stdout


def test_move_keeps_a_file_rewritten_after_its_upload(
    proxy: FaultProxy, proxied: Target, moto: MotoServer, tmp_path: Path, bucket_name: Callable[[], str]
) -> None:
    """a.txt is uploaded, then rewritten while the upload of b.txt is held: the move at the end must keep it."""
    direct, bucket = _setup(proxied, moto, bucket_name)
    src = tmp_path / "src"
    _write(src, {"a.txt": b"as uploaded\n", "b.txt": b"bravo\n"})
    proxy.set_plan(FaultPlan(hold=lambda r: r.method == "PUT" and key_of(r, bucket) == "v/b.txt"))
    log = tmp_path / "run.log"
    child = proxied.popen("--json", "-t", "1", "put", "-r", "--move", str(src), f"s3://{bucket}/v/", log=log)
    try:
        assert proxy.held.wait(60), log.read_text()
        (src / "a.txt").write_bytes(b"rewritten after its upload\n")
    finally:
        proxy.release()
        child.wait(120)
    assert child.returncode == 0, log.read_text()
    assert _remaining(src) == {"a.txt"}
    assert (src / "a.txt").read_bytes() == b"rewritten after its upload\n"
    assert [line["target"] for line in _lines(log.read_text()) if line.get("action") == "keep"] == [str(src / "a.txt")]
    assert bucket_digests(direct, bucket, "v/")["a.txt"] == hashlib.sha256(b"as uploaded\n").hexdigest()


def test_a_single_file_put_whose_body_was_corrupted_exits_6(
    proxy: FaultProxy, proxied: Target, moto: MotoServer, tmp_path: Path, bucket_name: Callable[[], str]
) -> None:
    _direct, bucket = _setup(proxied, moto, bucket_name)
    _write(tmp_path, {"one.txt": b"only copy " * 30})
    proxy.set_plan(FaultPlan(rewrite_request=ByteFlipper(lambda r: key_of(r, bucket) == "one.txt")))
    result = proxied.run("put", str(tmp_path / "one.txt"), f"s3://{bucket}/")
    assert result.returncode == 6, result.stderr
    assert "Traceback" not in result.stderr and "damaged on its way" in result.stderr, result.stderr
    assert (tmp_path / "one.txt").read_bytes() == b"only copy " * 30


def test_a_server_whose_etags_are_no_md5s_is_read_back_not_accused(
    proxy: FaultProxy, proxied: Target, moto: MotoServer, tmp_path: Path, bucket_name: Callable[[], str]
) -> None:
    """Some S3-compatible servers answer a PUT with an ETag that is not the MD5 of the body (an encrypted or
    random tag). That alone is no proof of damage: the object is read back, and the file moves on that evidence."""
    _direct, bucket = _setup(proxied, moto, bucket_name)
    src = tmp_path / "src"
    _write(src, {"a.txt": b"honest bytes " * 20})

    def opaque_etag(request: Request, status: int, headers: dict[str, str], body: bytes) -> Rewritten | None:
        if not request.is_upload or key_of(request, bucket) != "o/a.txt" or status != 200:
            return None
        return Rewritten(build_response(status, {**headers, "etag": '"0123456789abcdef0123456789abcdef"'}, body))

    proxy.set_plan(FaultPlan(rewrite_response=opaque_etag))
    moved = proxied.run("--json", "put", "-r", "--move", str(src), f"s3://{bucket}/o/")
    assert moved.returncode == 0, moved.stderr
    assert _remaining(src) == set()
    assert [line.get("detail") for line in _lines(moved.stdout) if line.get("action") == "move"] == [
        "evidence: read back and compared"
    ], moved.stdout


def test_parts_carry_a_signed_crc64nvme_and_an_unsigned_payload_and_the_object_its_full_crc(
    proxy: FaultProxy, proxied: Target, moto: MotoServer, tmp_path: Path, bucket_name: Callable[[], str]
) -> None:
    """Each part is checksummed once, natively: x-amz-checksum-crc64nvme (a signed header) instead of a SHA-256
    for the server plus another SHA-256 for the signature; the completion hands over the whole object's CRC64NVME
    combined from the parts', which the server keeps as a FULL_OBJECT checksum."""
    import awscrt.checksums  # type: ignore[import-untyped]

    direct, bucket = _setup(proxied, moto, bucket_name)
    src = tmp_path / "src"
    data = os.urandom(11 * 1024 * 1024 + 3)
    _write(src, {"big.bin": data})
    seen: list[Request] = []

    def record(request: Request, body: bytes) -> bytes:
        if "partNumber=" in request.target:
            seen.append(request)
        return body

    proxy.set_plan(FaultPlan(rewrite_request=record))
    put = proxied.run("put", "-r", "--part-size", "5MiB", str(src), f"s3://{bucket}/k/")
    assert put.returncode == 0, put.stderr

    def crc(chunk: bytes) -> str:
        return base64.b64encode(awscrt.checksums.crc64nvme(chunk).to_bytes(8, "big")).decode()

    part = 5 * 1024 * 1024
    expected = {n + 1: crc(data[n * part : (n + 1) * part]) for n in range(3)}
    assert {int(r.target.split("partNumber=")[1].split("&")[0]): r.headers.get("x-amz-checksum-crc64nvme") for r in seen} == expected
    assert {r.headers.get("x-amz-content-sha256") for r in seen} == {"UNSIGNED-PAYLOAD"}
    assert not any("x-amz-checksum-sha256" in r.headers for r in seen)
    head = direct.head_object(Bucket=bucket, Key="k/big.bin", ChecksumMode="ENABLED")
    assert (head.get("ChecksumType"), head.get("ChecksumCRC64NVME")) == ("FULL_OBJECT", crc(data))
