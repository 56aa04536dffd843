"""Streams: `put - S3URL` from standard input, `get S3URL -` to standard output, on moto.

The round trip is STREAM_MIB through the real CLI, plain and age-encrypted, with the peak RSS of the s3safe
process measured (getrusage of its only child, from a wrapper): memory must not grow with the stream.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import S3SAFE
from tests.servers.moto import MotoServer

Run = Callable[..., subprocess.CompletedProcess[str]]
# a process that held the stream whole would peak above start-up (~75 MB) + STREAM_MIB, over the limit; a streaming
# one stays flat (measured ~95 MB put, ~75 MB get at 100 and 200 MiB alike), so 100 MiB shows the property
STREAM_MIB = 100
RSS_LIMIT_MB = 150
BLOCK = 1024 * 1024
# runs the command it is given and prints its child's peak RSS (KiB on Linux) on its own stderr's last line
PEAK_RSS = ("import resource, subprocess, sys\n"
            "code = subprocess.call(sys.argv[1:])\n"
            "print('peak-rss-kib', resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr)\n"
            "sys.exit(code)\n")  # fmt: skip


def _blocks(mib: int) -> Iterator[bytes]:
    """Deterministic, incompressible-looking bytes, made one MiB at a time (never held whole)."""
    seed = hashlib.sha256(b"stream").digest()
    for n in range(mib):
        yield hashlib.shake_256(seed + n.to_bytes(4, "big")).digest(BLOCK)


def _measured(moto: MotoServer, *args: str, env: dict[str, str]) -> list[str]:
    return [sys.executable, "-c", PEAK_RSS, S3SAFE, "--endpoint-url", moto.endpoint_url, "--allow-http", *args]


def _peak_mb(stderr: bytes) -> float:
    line = [ln for ln in stderr.decode(errors="replace").splitlines() if ln.startswith("peak-rss-kib")][-1]
    return int(line.split()[1]) / 1024


def _round_trip(moto: MotoServer, url: str, *, env: dict[str, str], tmp: Path, up: tuple[str, ...] = (), down: tuple[str, ...] = ()) -> None:
    import os

    full_env = {**os.environ, **env}
    sent = hashlib.sha256()
    with (tmp / "put.out").open("w+b") as out, (tmp / "put.err").open("w+b") as err:
        put = subprocess.Popen(_measured(moto, "put", *up, "-", url, env=full_env), stdin=subprocess.PIPE, stdout=out,
                               stderr=err, env=full_env)  # fmt: skip
        assert put.stdin is not None
        try:
            for block in _blocks(STREAM_MIB):
                sent.update(block)
                put.stdin.write(block)
        finally:
            put.stdin.close()
        put.wait(timeout=300)
        out.seek(0)
        err.seek(0)
        put_out, put_err = out.read(), err.read()
    assert put.returncode == 0, put_err.decode(errors="replace")
    assert f"{STREAM_MIB * BLOCK} bytes from standard input" in put_out.decode()
    assert _peak_mb(put_err) < RSS_LIMIT_MB, f"put - held {_peak_mb(put_err):.0f} MB"

    got = hashlib.sha256()
    size = 0
    with (tmp / "get.err").open("w+b") as err:
        get = subprocess.Popen(_measured(moto, "get", *down, url, "-", env=full_env), stdout=subprocess.PIPE, stderr=err,
                               env=full_env)  # fmt: skip
        assert get.stdout is not None
        while block := get.stdout.read(BLOCK):
            got.update(block)
            size += len(block)
        get.wait(timeout=300)
        err.seek(0)
        get_err = err.read()
    assert get.returncode == 0, get_err.decode(errors="replace")
    assert (size, got.hexdigest()) == (STREAM_MIB * BLOCK, sent.hexdigest())  # stdout is exactly the object
    assert b"verified by" in get_err
    assert _peak_mb(get_err) < RSS_LIMIT_MB, f"get - held {_peak_mb(get_err):.0f} MB"


@pytest.fixture
def bucket(moto_client: Any, bucket_name: Callable[[], str]) -> Iterator[str]:
    name = bucket_name()
    moto_client.create_bucket(Bucket=name)
    yield name
    for item in moto_client.list_objects_v2(Bucket=name).get("Contents", []):  # moto holds them: free the memory
        moto_client.delete_object(Bucket=name, Key=item["Key"])


def test_stream_round_trip_plain_in_constant_memory(bucket: str, moto: MotoServer, tmp_path: Path) -> None:
    _round_trip(moto, f"s3://{bucket}/db.dump", env={}, tmp=tmp_path)


def test_stream_round_trip_encrypted_in_constant_memory(bucket: str, moto: MotoServer, run_cli: Run, tmp_path: Path) -> None:
    key = tmp_path / "identity.txt"
    made = run_cli("--json", "keygen", "-o", str(key))
    assert made.returncode == 0, made.stderr
    recipient = json.loads(made.stdout.splitlines()[0])["recipient"]
    _round_trip(moto, f"s3://{bucket}/db.dump.age", env={"S3SAFE_IDENTITY_FILE": str(key)}, tmp=tmp_path,
                up=("--recipient", recipient))


def test_short_stream_is_one_put_and_a_file_named_dash_needs_dot_slash(
    bucket: str, moto: MotoServer, moto_client: Any, run_cli: Run, tmp_path: Path
) -> None:  # fmt: skip
    args = ("--endpoint-url", moto.endpoint_url, "--allow-http")
    put = run_cli(*args, "put", "-", f"s3://{bucket}/note.txt", input_text="hello from a pipe\n")
    assert put.returncode == 0, put.stderr
    head = moto_client.head_object(Bucket=bucket, Key="note.txt")
    assert head["Metadata"]["s3safe-sha256"] == hashlib.sha256(b"hello from a pipe\n").hexdigest()
    (tmp_path / "-").write_text("a file called dash")
    from_file = run_cli(*args, "put", "./-", f"s3://{bucket}/dash.txt", cwd=tmp_path)
    assert from_file.returncode == 0, from_file.stderr
    assert moto_client.get_object(Bucket=bucket, Key="dash.txt")["Body"].read() == b"a file called dash"
    to_file = run_cli(*args, "get", f"s3://{bucket}/note.txt", "./-", cwd=tmp_path)
    assert to_file.returncode == 0 and (tmp_path / "-").read_text() == "hello from a pipe\n"


def test_short_encrypted_stream_round_trip(bucket: str, moto: MotoServer, moto_client: Any, run_cli: Run, tmp_path: Path) -> None:
    key = tmp_path / "identity.txt"
    made = run_cli("--json", "keygen", "-o", str(key))
    recipient = json.loads(made.stdout.splitlines()[0])["recipient"]
    args = ("--endpoint-url", moto.endpoint_url, "--allow-http")
    put = run_cli(*args, "put", "--recipient", recipient, "-", f"s3://{bucket}/secret.txt", input_text="a short secret\n")
    assert put.returncode == 0, put.stderr
    stored = moto_client.get_object(Bucket=bucket, Key="secret.txt")
    assert stored["Body"].read().startswith(b"age-encryption.org/v1") and stored["Metadata"]["s3safe-plain-size"] == "15"
    got = run_cli(*args, "get", f"s3://{bucket}/secret.txt", "-", env={"S3SAFE_IDENTITY_FILE": str(key)})
    assert got.returncode == 0, got.stderr
    assert got.stdout == "a short secret\n" and "keyed plaintext digest" in got.stderr


def test_get_to_stdout_that_fails_verification_exits_6_and_says_bytes_went_out(
    bucket: str, moto: MotoServer, moto_client: Any, run_cli: Run
) -> None:  # fmt: skip
    moto_client.put_object(Bucket=bucket, Key="bad.bin", Body=b"the real bytes", Metadata={"s3safe-sha256": "0" * 64})
    result = run_cli("--endpoint-url", moto.endpoint_url, "--allow-http", "get", f"s3://{bucket}/bad.bin", "-")
    assert result.returncode == 6, result.stderr
    assert result.stdout == "the real bytes"  # already out when the check failed
    assert "already went to standard output" in result.stderr and "Traceback" not in result.stderr


def test_get_to_stdout_whose_reader_stops_early_ends_quietly(bucket: str, moto: MotoServer, moto_client: Any) -> None:
    """rt17 #9: `get S3URL - | head -c 100` said "cannot download …: Broken pipe", exit 1; like `cat | head` it ends
    quietly, exit 0 (README's pipe rules)."""
    moto_client.put_object(Bucket=bucket, Key="big.bin", Body=bytes(3 * BLOCK))  # well past a pipe's buffer
    get = subprocess.Popen([S3SAFE, "--endpoint-url", moto.endpoint_url, "--allow-http", "get", f"s3://{bucket}/big.bin", "-"],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE)  # fmt: skip
    assert get.stdout is not None and get.stderr is not None
    assert get.stdout.read(100) == bytes(100)
    get.stdout.close()  # the reader goes away
    err = get.stderr.read().decode()
    assert get.wait(timeout=60) == 0, err
    assert [line for line in err.splitlines() if "plain HTTP" not in line] == [], err


def test_stream_no_clobber_and_retention(moto_conn: Any, moto_client: Any, bucket_name: Callable[[], str]) -> None:
    """A stream goes through the same conditional write and Object Lock as a file (multipart here)."""
    import io
    from datetime import UTC, datetime, timedelta

    from s3safe.core.errors import WriteConflict
    from s3safe.core.locations import S3Url
    from s3safe.ops.buckets import make_bucket
    from s3safe.storage.s3 import S3Storage
    from s3safe.transfer.options import UploadOptions
    from s3safe.transfer.streams import upload_stream

    name = bucket_name()
    make_bucket(moto_conn, S3Url(name), object_lock=True)
    data = b"\x03" * (5 * 1024**2 + 1)
    until = datetime.now(UTC) + timedelta(days=1)
    options = UploadOptions(no_clobber=True, part_size=5 * 1024**2, retain_until=until, lock_mode="GOVERNANCE")
    upload_stream(moto_conn, io.BytesIO(data), S3Url(name, "s.bin"), options=options)
    details = S3Storage(moto_conn).head(name, "s.bin")
    assert details.size == len(data) and details.locked_until is not None
    with pytest.raises(WriteConflict, match="already exists"):
        upload_stream(moto_conn, io.BytesIO(b"short"), S3Url(name, "s.bin"), options=options)
    assert len(moto_client.list_object_versions(Bucket=name)["Versions"]) == 1
