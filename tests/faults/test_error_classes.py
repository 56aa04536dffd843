"""Errors are classified by HTTP status and the service's error code, never by the words of a message
(storage/errors.py, issue #19 item 8): a server whose error document says something misleading still gets
the exit code its answer means, and the library keeps the client's exception as the cause."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import botocore.exceptions
import pytest

from s3safe.core.errors import AccessDeniedError, NotFoundError, S3SafeError
from s3safe.core.settings import ConnectionSettings
from s3safe.storage.connection import Connection
from s3safe.storage.errors import translated
from s3safe.storage.s3 import S3Storage
from tests.faults.conftest import Target
from tests.faults.proxy import FaultPlan, FaultProxy, Request, Rewritten, build_response
from tests.servers.moto import MotoServer


def _error_document(code: str, message: str) -> bytes:
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code><Message>{message}</Message>'
            "<RequestId>r1</RequestId></Error>").encode()  # fmt: skip


def _answer(select: Callable[[Request], bool], status: int, code: str, message: str) -> FaultPlan:
    def rewrite(request: Request, _status: int, _headers: dict[str, str], _body: bytes) -> Rewritten | None:
        if not select(request):
            return None
        body = b"" if request.method == "HEAD" else _error_document(code, message)
        return Rewritten(build_response(status, {"Content-Type": "application/xml"}, body))

    return FaultPlan(rewrite_response=rewrite)


@pytest.fixture
def bucket(proxied: Target, moto: MotoServer, bucket_name: Callable[[], str]) -> str:
    name = bucket_name()
    client = proxied.client(moto.endpoint_url)
    client.create_bucket(Bucket=name)
    client.put_object(Bucket=name, Key="k.txt", Body=b"hello")
    return name


def _object(bucket: str) -> Callable[[Request], bool]:
    return lambda r: r.target.split("?")[0] == f"/{bucket}/k.txt"


@pytest.mark.parametrize(
    ("status", "code", "message", "expected"),
    [
        # the status says absent; the document names a refusal (code and words): not found, exit 3
        (404, "AccessDenied", "Access Denied (HTTP 403)", 3),
        # the status says refused; the document claims the endpoint lacks the feature and that the key is
        # absent: access denied, exit 4 (before: 'not supported by this endpoint', exit 1)
        (403, "NotImplemented", "NoSuchKey: 404 Not Found", 4),
    ],
)
def test_the_status_decides_over_a_misleading_error_document(
    proxy: FaultProxy, proxied: Target, bucket: str, status: int, code: str, message: str, expected: int
) -> None:
    proxy.set_plan(_answer(_object(bucket), status, code, message))
    result = proxied.run("--retries", "0", "acl", "get", f"s3://{bucket}/k.txt", timeout=120)
    assert result.returncode == expected, result.stderr[-2000:]
    assert "Traceback" not in result.stderr and f"s3://{bucket}/k.txt" in result.stderr, result.stderr[-2000:]


def test_a_client_error_whose_message_names_a_refusal_is_classified_by_its_code(
    proxy: FaultProxy, proxied: Target, bucket: str, tmp_path: Path
) -> None:
    """A 400 InvalidArgument whose message says "AccessDenied … 403" is a usage problem (exit 2); obstore's
    text used to be searched for 'AccessDenied' anywhere, which made it exit 4."""
    proxy.set_plan(_answer(lambda r: _object(bucket)(r) and r.method == "GET", 400, "InvalidArgument",
                           "AccessDenied: this answer is not a 403"))  # fmt: skip
    result = proxied.run("--retries", "0", "get", f"s3://{bucket}/k.txt", str(tmp_path / "k.txt"), timeout=120)
    assert result.returncode == 2, result.stderr[-2000:]
    assert not (tmp_path / "k.txt").exists()
    assert "(InvalidArgument)" in result.stderr and "access denied" not in result.stderr, result.stderr[-2000:]


def _storage(proxy: FaultProxy) -> tuple[Connection, S3Storage]:
    conn = Connection(ConnectionSettings(endpoint_url=proxy.endpoint_url, allow_http=True, region="us-east-1", retries=0))
    return conn, S3Storage(conn)


def test_restore_in_progress_is_read_from_the_code_not_the_message(proxy: FaultProxy, bucket: str) -> None:
    _, storage = _storage(proxy)
    restore = _object(bucket)
    proxy.set_plan(_answer(restore, 409, "InvalidObjectState", "RestoreAlreadyInProgress? no: not archived"))
    refused = storage.restore(bucket, "k.txt", days=1, tier="Standard")
    assert not refused.ok and "already in progress" not in (refused.detail or ""), refused
    proxy.set_plan(_answer(restore, 409, "RestoreAlreadyInProgress", "Object restore is already in progress"))
    running = storage.restore(bucket, "k.txt", days=1, tier="Standard")
    assert running.ok and running.detail == "already in progress", running


def test_the_clients_exception_is_kept_as_the_cause(proxy: FaultProxy, bucket: str) -> None:
    conn, _ = _storage(proxy)
    proxy.set_plan(_answer(_object(bucket), 403, "AccessDenied", "Access Denied"))
    with pytest.raises(S3SafeError) as caught, translated("read", bucket=bucket, key="k.txt"):
        conn.client().get_object(Bucket=bucket, Key="k.txt")
    assert isinstance(caught.value, AccessDeniedError), caught.value
    assert isinstance(caught.value.__cause__, botocore.exceptions.ClientError)
    assert (caught.value.service_code, caught.value.http_status) == ("AccessDenied", 403)
    proxy.set_plan(_answer(_object(bucket), 404, "NoSuchKey", "Access Denied"))
    with pytest.raises(NotFoundError) as absent, translated("read", bucket=bucket, key="k.txt"):
        conn.client().get_object(Bucket=bucket, Key="k.txt")
    assert absent.value.__cause__ is not None and absent.value.service_code == "NoSuchKey"


_PRECONDITION = ("PreconditionFailed", "At least one of the pre-conditions you specified did not hold")


@pytest.mark.parametrize("multipart", [False, True], ids=["put", "complete"])
def test_a_412_to_one_write_of_a_tree_fails_that_file_only(
    proxy: FaultProxy, proxied: Target, moto: MotoServer, bucket_name: Callable[[], str], tmp_path: Path, multipart: bool
) -> None:  # fmt: skip
    """Before: obstore's PreconditionError (or botocore's 412 to CompleteMultipartUpload) reached an assert and
    the whole run ended as "internal error: AssertionError"."""
    bucket = bucket_name()
    proxied.client(moto.endpoint_url).create_bucket(Bucket=bucket)
    root = tmp_path / "src"
    root.mkdir()
    for name in ("a.txt", "c.txt"):
        (root / name).write_bytes(b"x" * 10)
    (root / "b.bin").write_bytes(b"b" * (6 * 1024 * 1024 if multipart else 10))  # two parts of --part-size 5MiB

    def write_of_b(request: Request) -> bool:
        path = request.target.split("?")[0]
        if multipart:
            return request.method == "POST" and path == f"/{bucket}/t/b.bin" and "uploadId=" in request.target
        return request.method == "PUT" and path == f"/{bucket}/t/b.bin"

    direct = proxied.client(moto.endpoint_url)

    def theirs_then_412(request: Request, _status: int, _headers: dict[str, str], _body: bytes) -> Rewritten | None:
        if not write_of_b(request):
            return None
        # what a 412 means: the object there is not the one this write was conditioned on (nor the one it sent)
        direct.put_object(Bucket=bucket, Key="t/b.bin", Body=b"theirs")
        return Rewritten(build_response(412, {"Content-Type": "application/xml"}, _error_document(*_PRECONDITION)))

    proxy.set_plan(FaultPlan(rewrite_response=theirs_then_412))
    result = proxied.run("--retries", "0", "put", "-r", *(["--part-size", "5MiB"] if multipart else []), str(root), f"s3://{bucket}/t/")
    assert result.returncode == 5, result.stderr[-2000:]
    failed = [line for line in (result.stdout + result.stderr).splitlines() if "FAILED" in line]
    assert len(failed) == 1 and f"s3://{bucket}/t/b.bin" in failed[0] and "conflict" in failed[0], failed
    assert "internal error" not in result.stderr and "AssertionError" not in result.stderr
    listed = direct.list_objects_v2(Bucket=bucket, Prefix="t/").get("Contents", [])
    assert sorted(o["Key"] for o in listed) == ["t/a.txt", "t/b.bin", "t/c.txt"]  # the rest went on
    assert direct.get_object(Bucket=bucket, Key="t/b.bin")["Body"].read() == b"theirs"


def test_a_412_to_an_unconditional_put_is_one_line(proxy: FaultProxy, proxied: Target, bucket: str, tmp_path: Path) -> None:
    """A single `put` sends no condition; a 412 anyway (a proxy's, a server's own rule) is named, not an internal error."""
    (tmp_path / "k.txt").write_bytes(b"new")
    proxy.set_plan(_answer(lambda r: r.method == "PUT" and r.target.split("?")[0] == f"/{bucket}/k.txt", 412, *_PRECONDITION))
    result = proxied.run("--retries", "0", "put", str(tmp_path / "k.txt"), f"s3://{bucket}/k.txt")
    assert result.returncode == 1, result.stderr[-2000:]
    errors = [line for line in result.stderr.splitlines() if "error" in line]
    assert len(errors) == 1 and f"s3://{bucket}/k.txt" in errors[0] and "(412)" in errors[0], result.stderr[-2000:]
    assert "internal error" not in result.stderr and "Traceback" not in result.stderr


def _conn(proxy: FaultProxy, *, timeout: int = 60) -> Connection:
    return Connection(ConnectionSettings(endpoint_url=proxy.endpoint_url, allow_http=True, region="us-east-1", retries=0, timeout=timeout))


def test_a_listing_whose_connection_is_cut_says_so_in_s3safes_words(proxy: FaultProxy, bucket: str) -> None:
    """rt19 #5: before, botocore's own text ("Connection was closed before we received a valid response from
    endpoint URL: ...") was the message; now the cut connection is told as for an object GET."""
    proxy.set_plan(FaultPlan(reset=1.0, eligible=lambda r: "list-type" in r.target))
    with pytest.raises(S3SafeError) as caught:
        list(S3Storage(_conn(proxy)).iter_entries(bucket, "", recursive=True))
    message = str(caught.value)
    assert "the connection was cut before the server's answer was complete" in message and "endpoint URL" not in message, message
    assert proxy.injected["reset"] >= 1


def test_a_server_that_never_answers_is_a_timeout_not_a_cut_connection(proxy: FaultProxy, proxied: Target, bucket: str,
                                                                        tmp_path: Path) -> None:  # fmt: skip
    """rt19 #6: an object GET (obstore) and a HEAD (botocore) the server holds past --timeout 1: before, the GET
    was reported as "the connection was cut ..." and the HEAD as "cannot reach the S3 endpoint: Read timeout"."""
    proxy.set_plan(FaultPlan(stall=1.0, stall_seconds=4, eligible=_object(bucket)))
    with pytest.raises(S3SafeError) as caught:
        S3Storage(_conn(proxy, timeout=1)).head(bucket, "k.txt")
    assert "the server did not answer within --timeout" in str(caught.value), str(caught.value)
    result = proxied.run("--timeout", "1", "--retries", "0", "get", f"s3://{bucket}/k.txt", str(tmp_path / "k.txt"), timeout=60)
    assert result.returncode != 0 and not (tmp_path / "k.txt").exists(), (result.returncode, result.stderr)
    error = result.stderr.strip().splitlines()[-1]
    assert "the server did not answer within --timeout" in error and "cut" not in error, result.stderr
