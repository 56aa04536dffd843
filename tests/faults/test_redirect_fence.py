"""A data request redirected to another host: nothing reaches that host, above all no SSE-C key.

Before: obstore's client followed a GET's 307 by itself and re-sent the SSE-C key headers, the session token
and a Referer to the Location's host (botocore's requests already refused redirects).
"""

from __future__ import annotations

import base64
import contextlib
import os
import socket
import ssl
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.faults.conftest import Target
from tests.faults.proxy import FaultPlan, FaultProxy, Request, Rewritten, build_response
from tests.servers.certs import make_tls_files
from tests.servers.moto import MotoServer

BIG = 65 * 1024 * 1024  # above the ranged-download threshold (64 MiB)


class Sink:
    """A listener on a second loopback address that records every connection and byte it is sent."""

    def __init__(self) -> None:
        self._listener = socket.create_server(("127.0.0.2", 0))
        self.port = self._listener.getsockname()[1]
        self.received: list[bytes] = []
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        self._listener.settimeout(0.1)  # so that stop() is noticed promptly
        while not self._stopping.is_set():
            try:
                conn, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            conn.settimeout(2)
            data = b""
            with contextlib.suppress(OSError):
                data = conn.recv(65536)
            self.received.append(data)
            conn.close()

    def stop(self) -> None:
        self._stopping.set()
        self._thread.join(timeout=5)
        self._listener.close()


@pytest.fixture
def sink() -> Iterator[Sink]:
    found = Sink()
    yield found
    found.stop()


@pytest.fixture
def tls_target(moto: MotoServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[FaultProxy, Target]]:
    """moto behind the fault proxy answering HTTPS (SSE-C is refused over plain HTTP)."""
    tls = make_tls_files(tmp_path_factory.mktemp("fence-tls"))
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tls.server_cert, tls.server_key)
    parts = urlsplit(moto.endpoint_url)
    assert parts.hostname and parts.port
    proxy = FaultProxy(parts.hostname, parts.port, tls=context)
    yield proxy, Target(proxy.endpoint_url, moto.access_key, moto.secret_key, ca_bundle=str(tls.ca_cert))
    proxy.stop()


def _redirect_data_to(sink: Sink) -> FaultPlan:
    """Listings, HEADs and multipart set-up pass; object GETs, PUTs and multipart completions answer 307."""

    def rewrite(request: Request, code: int, headers: dict[str, str], body: bytes) -> Rewritten | None:
        data_get = request.method == "GET" and "list-type" not in request.target and request.target.count("/") > 1
        if not (data_get or request.method == "PUT" or (request.method == "POST" and "uploadId=" in request.target)):
            return None
        return Rewritten(build_response(307, {"Location": f"https://127.0.0.2:{sink.port}{request.target}"}, b""))

    return FaultPlan(rewrite_response=rewrite)


CASES = {
    "get": (("get", "s3://{b}/t/one.bin", "{tmp}/out.bin"), 1),
    "get -r": (("get", "-r", "s3://{b}/t/", "{tmp}/tree"), 5),
    "get -": (("get", "s3://{b}/t/one.bin", "-"), 1),
    "ranged get": (("get", "s3://{b}/big/big.bin", "{tmp}/big.bin"), 1),
    "put": (("put", "{tmp}/one.bin", "s3://{b}/up/one.bin"), 1),
    "multipart put": (("put", "--part-size", "5MiB", "{tmp}/part.bin", "s3://{b}/up/part.bin"), 1),
}


# every path with --sse-c (botocore); without it, obstore's whole and ranged GET (the fence; get -r and get - use
# the same GET, and obstore's PUT does not follow redirects)
RUNS = [(case, True) for case in CASES] + [("get", False), ("ranged get", False)]


@pytest.mark.parametrize(("case", "sse_c"), RUNS, ids=[f"{c}-{'sse-c' if s else 'plain'}" for c, s in RUNS])
def test_a_redirect_to_another_host_reaches_nothing_there(
    tls_target: tuple[FaultProxy, Target], sink: Sink, moto: MotoServer, bucket_name: Callable[[], str], tmp_path: Path,
    case: str, sse_c: bool,
) -> None:  # fmt: skip
    proxy, target = tls_target
    bucket = bucket_name()
    direct = target.client(moto.endpoint_url)
    direct.create_bucket(Bucket=bucket)
    direct.put_object(Bucket=bucket, Key="t/one.bin", Body=b"x" * 1000)
    direct.put_object(Bucket=bucket, Key="t/two.bin", Body=b"y" * 1000)
    (tmp_path / "one.bin").write_bytes(b"z" * 1000)
    (tmp_path / "part.bin").write_bytes(b"p" * (6 * 1024 * 1024))  # two parts of --part-size 5MiB
    if case == "ranged get":
        direct.put_object(Bucket=bucket, Key="big/big.bin", Body=bytes(BIG))
    key = os.urandom(32)
    (tmp_path / "key").write_bytes(key)
    proxy.set_plan(_redirect_data_to(sink))
    args, code = CASES[case]
    extra = ("--sse-c-key-file", str(tmp_path / "key")) if sse_c else ()
    argv = [a.replace("{b}", bucket).replace("{tmp}", str(tmp_path)) for a in args]
    result = target.run("--retries", "0", argv[0], *extra, *argv[1:], timeout=120)
    assert sink.received == [], sink.received[:2]  # not one connection to the Location's host
    assert result.returncode == code, result.stderr[-2000:]
    output = result.stdout + result.stderr
    assert "redirect" in output and "Traceback" not in output and "internal error" not in output, output[-2000:]
    if code == 1:
        errors = [line for line in result.stderr.splitlines() if "error" in line]
        assert len(errors) == 1, result.stderr[-2000:]
    assert base64.b64encode(key).decode() not in output
    assert not (tmp_path / "out.bin").exists()
