"""A server that answers every request with a redirect: one clear error per command, a handful of requests,
never botocore's redirect chase (hundreds of nested HEADs ending in a RecursionError)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from tests.faults.conftest import Target
from tests.faults.proxy import FaultPlan, FaultProxy, Request, Rewritten, build_response
from tests.servers.moto import MotoServer


def _always_redirect(proxy: FaultProxy) -> FaultPlan:
    def rewrite(request: Request, status: int, headers: dict[str, str], body: bytes) -> Rewritten:
        return Rewritten(build_response(307, {"Location": proxy.endpoint_url + request.target}, b""))

    return FaultPlan(rewrite_response=rewrite)


@pytest.mark.parametrize(
    "args",
    [("ls",), ("ls", "s3://redirected/"), ("info", "s3://redirected"), ("get", "s3://redirected/a.txt", "{tmp}/a.txt"),
     ("put", "{tmp}/src.txt", "s3://redirected/a.txt")],
)  # fmt: skip
def test_a_redirecting_server_gives_one_clear_error(proxy: FaultProxy, proxied: Target, tmp_path: Path, args: tuple[str, ...]) -> None:
    (tmp_path / "src.txt").write_text("x")
    proxy.set_plan(_always_redirect(proxy))
    result = proxied.run("--retries", "1", *(a.replace("{tmp}", str(tmp_path)) for a in args), timeout=120)
    assert result.returncode == 1, result.stderr[-2000:]
    errors = [line for line in result.stderr.splitlines() if "error" in line]
    assert len(errors) == 1 and "redirect" in errors[0] and "307" in errors[0], result.stderr[-2000:]
    assert "Traceback" not in result.stderr and "RecursionError" not in result.stderr
    assert proxy.requests <= 12, f"{proxy.requests} requests: {proxy.log[:20]}"
    assert not (tmp_path / "a.txt").exists()


def _redirect_data_requests(proxy: FaultProxy, status: int) -> FaultPlan:
    """HEAD and listings pass (the control requests work); GETs of objects and PUTs are redirected."""

    def rewrite(request: Request, code: int, headers: dict[str, str], body: bytes) -> Rewritten | None:
        data = request.method == "PUT" or (request.method == "GET" and "list-type" not in request.target and request.target.count("/") > 1)
        if not data:
            return None
        return Rewritten(build_response(status, {"Location": proxy.endpoint_url + request.target}, b""))

    return FaultPlan(rewrite_response=rewrite)


@pytest.mark.parametrize("status", [301, 307])
@pytest.mark.parametrize("command", ["get", "put"])
def test_a_redirect_on_data_requests_is_named_as_a_redirect(
    proxy: FaultProxy, proxied: Target, moto: MotoServer, bucket_name: Callable[[], str], tmp_path: Path, status: int, command: str
) -> None:
    """Before: a download said "access denied" (exit 4) and an upload printed obstore's raw debug text."""
    moto_bucket = bucket_name()
    proxied.client(moto.endpoint_url).create_bucket(Bucket=moto_bucket)
    (tmp_path / "one.bin").write_bytes(b"x" * 100)
    assert proxied.run("put", str(tmp_path / "one.bin"), f"s3://{moto_bucket}/t/one.bin").returncode == 0
    proxy.set_plan(_redirect_data_requests(proxy, status))
    args = ("get", f"s3://{moto_bucket}/t/one.bin", str(tmp_path / "out")) if command == "get" else (
        "put", str(tmp_path / "one.bin"), f"s3://{moto_bucket}/red/")
    result = proxied.run("--retries", "1", *args, timeout=120)
    assert result.returncode == 1, result.stderr[-2000:]
    errors = [line for line in result.stderr.splitlines() if "error" in line]
    assert len(errors) == 1, result.stderr[-2000:]
    assert "answered with a redirect" in errors[0] and "does not follow" in errors[0], errors[0]
    # an upload sees the status; obstore's client follows a GET's redirect itself and says only that it failed
    assert command == "get" or f"(HTTP {status})" in errors[0], errors[0]
    assert "Debug source" not in result.stderr and "access denied" not in result.stderr
    assert not (tmp_path / "out").exists()


def test_info_when_every_setting_is_redirected_names_the_bucket_and_fails(
    proxy: FaultProxy, proxied: Target, moto: MotoServer, bucket_name: Callable[[], str]
) -> None:
    """HEAD passes, every GET is redirected: before, each line said "cannot read versioning of:" (no
    bucket) and the command exited 0 though it had learnt nothing."""
    bucket = bucket_name()
    proxied.client(moto.endpoint_url).create_bucket(Bucket=bucket)

    def rewrite(request: Request, code: int, headers: dict[str, str], body: bytes) -> Rewritten | None:
        if request.method != "GET":
            return None
        return Rewritten(build_response(301, {"Location": proxy.endpoint_url + request.target}, b""))

    proxy.set_plan(FaultPlan(rewrite_response=rewrite))
    result = proxied.run("--retries", "1", "info", f"s3://{bucket}", timeout=120)
    assert result.returncode == 1, (result.stdout[-2000:], result.stderr[-2000:])
    assert f"read versioning of s3://{bucket}:" in result.stdout, result.stdout[-2000:]
    errors = [line for line in result.stderr.splitlines() if "error" in line]
    assert len(errors) == 1 and f"s3://{bucket}" in errors[0], result.stderr[-2000:]


def _bad_object_gets(kind: str) -> FaultPlan:
    """Object GETs answer a 500 with an S3 error document, or a body cut short of its Content-Length."""

    def rewrite(request: Request, code: int, headers: dict[str, str], body: bytes) -> Rewritten | None:
        if request.method != "GET" or "/t/" not in request.target:
            return None
        if kind == "500":
            doc = b"<?xml version='1.0'?><Error><Code>InternalError</Code><Message>boom</Message></Error>"
            return Rewritten(build_response(500, {"content-type": "application/xml"}, doc))
        return Rewritten(build_response(code, headers, body[:10], content_length=len(body)), close=True)

    return FaultPlan(rewrite_response=rewrite)


@pytest.mark.parametrize("kind", ["500", "cut"])
def test_a_failed_download_is_one_line_without_the_client_dump(
    proxy: FaultProxy, proxied: Target, moto: MotoServer, bucket_name: Callable[[], str], tmp_path: Path, kind: str
) -> None:
    """Before: the error line carried obstore's Rust debug dump ("Debug source: Generic { … }"), cut off."""
    bucket = bucket_name()
    direct = proxied.client(moto.endpoint_url)
    direct.create_bucket(Bucket=bucket)
    direct.put_object(Bucket=bucket, Key="t/one.bin", Body=b"y" * 5000)
    proxy.set_plan(_bad_object_gets(kind))
    result = proxied.run("--retries", "1", "get", f"s3://{bucket}/t/one.bin", str(tmp_path / "out"), timeout=120)
    assert result.returncode == 1, result.stderr[-2000:]
    errors = [line for line in result.stderr.splitlines() if "error" in line]
    assert len(errors) == 1 and f"s3://{bucket}/t/one.bin" in errors[0], result.stderr[-2000:]
    assert "Debug source" not in errors[0] and "…" not in errors[0], errors[0]
    expected = "the server failed with HTTP 500 (InternalError)" if kind == "500" else "the connection was cut"
    assert expected in errors[0], errors[0]
    assert not (tmp_path / "out").exists()


def test_a_redirect_on_each_download_of_a_tree_fails_each_object_by_name(
    proxy: FaultProxy, proxied: Target, moto: MotoServer, bucket_name: Callable[[], str], tmp_path: Path
) -> None:
    """Before: each object's line was obstore's raw text, and "access denied" whenever "403" appeared in it
    (a request timing such as "12.403ms" was enough)."""
    bucket = bucket_name()
    direct = proxied.client(moto.endpoint_url)
    direct.create_bucket(Bucket=bucket)
    for name in ("a", "b"):
        direct.put_object(Bucket=bucket, Key=f"t/{name}", Body=b"x" * 10)
    proxy.set_plan(_redirect_data_requests(proxy, 307))
    result = proxied.run("--retries", "1", "get", "-r", f"s3://{bucket}/t/", str(tmp_path / "out"), timeout=120)
    assert result.returncode == 5, result.stderr[-2000:]
    failed = [line for line in (result.stdout + result.stderr).splitlines() if "FAILED" in line]
    assert len(failed) == 2, result.stdout[-2000:] + result.stderr[-2000:]
    assert all("answered with a redirect" in line and "does not follow" in line for line in failed), failed
    assert not any("access denied" in line or "Debug source" in line for line in failed), failed
