"""A small fault-injecting HTTP/1.1 proxy for tests: it sits on 127.0.0.1 in front of a loopback S3 server.

It understands just enough HTTP to frame requests and responses (Content-Length, chunked, 100-continue,
keep-alive), so it can fail one request without disturbing the next. Per request, after reading it in
full, it may:

- ``reset``: close the client connection with a TCP RST before anything reaches the server;
- ``reset_after``: forward the request, let the server act on it, then reset instead of answering
  (the response is lost: the client cannot tell whether the request took effect);
- ``slowdown`` / ``error``: answer ``503 SlowDown`` / ``500 InternalError`` as S3 does;
- ``stall``: wait ``stall_seconds`` (capped) before forwarding;
- ``truncate``: forward, then send only part of the response and close the connection.

Every fault is bounded: at most ``max_faults`` in total and only within ``window_seconds`` of the plan
being set; stalls and holds are capped. Rates are drawn from a seeded generator, so a run can be replayed.
The proxy only ever listens on 127.0.0.1 and only ever connects to the upstream it was given.
"""

from __future__ import annotations

import contextlib
import random
import socket
import ssl
import struct
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import BinaryIO

MAX_STALL_SECONDS = 30.0
MAX_HOLD_SECONDS = 60.0
KINDS = ("reset", "reset_after", "slowdown", "error", "stall", "truncate")


@dataclass(frozen=True)
class Request:
    method: str
    target: str  # path and query, as sent
    headers: dict[str, str]  # lower-case names
    body_length: int

    @property
    def is_upload(self) -> bool:
        return self.method == "PUT" and "x-amz-copy-source" not in self.headers

    @property
    def is_control(self) -> bool:
        """moto's own API: never faulted."""
        return self.target.startswith("/moto-api")


@dataclass
class FaultPlan:
    """Rates are fractions of eligible requests (0.0 to 1.0); the first matching kind in KINDS order wins."""

    reset: float = 0.0
    reset_after: float = 0.0
    slowdown: float = 0.0
    error: float = 0.0
    stall: float = 0.0
    truncate: float = 0.0
    stall_seconds: float = 2.0
    max_faults: int = 1000
    window_seconds: float = 300.0
    seed: int = 0
    eligible: Callable[[Request], bool] = field(default=lambda r: True)
    # hold: requests it selects wait (at most MAX_HOLD_SECONDS) until release() is called
    hold: Callable[[Request], bool] | None = None
    # hostile-server hooks, applied to requests that draw no fault (control requests are never touched):
    # rewrite_request returns the request body to forward (same framing: keep the length unless the
    # headers are fixed up too); rewrite_response returns what to send instead of the server's answer
    rewrite_request: Callable[[Request, bytes], bytes] | None = None
    rewrite_response: Callable[[Request, int, dict[str, str], bytes], Rewritten | None] | None = None


@dataclass(frozen=True)
class Rewritten:
    """A whole response (status line, headers, body) as raw bytes; close=True ends the connection after it.

    tail, when given, is sent after data piece by piece, so a hostile body of gigabytes is generated lazily
    instead of held in the proxy's memory (keep it bounded: it is iterated until it ends or the client leaves).
    """

    data: bytes
    close: bool = False
    tail: Iterable[bytes] | None = None


def build_response(status: int, headers: dict[str, str], body: bytes, *, content_length: int | None = None) -> bytes:
    """A framed HTTP/1.1 response; content_length lets a hostile hook promise fewer (or more) bytes than it sends."""
    out = bytearray(f"HTTP/1.1 {status} X\r\n".encode())
    for name, value in headers.items():
        if name.lower() not in ("content-length", "transfer-encoding"):
            out += f"{name}: {value}\r\n".encode("latin-1")
    out += f"content-length: {len(body) if content_length is None else content_length}\r\n\r\n".encode()
    return bytes(out + body)


def dechunk(body: bytes) -> bytes:
    """The payload of a body kept chunked on the wire (as _read_body keeps it)."""
    out = bytearray()
    rest = body
    while rest:
        size_line, _, rest = rest.partition(b"\r\n")
        size = int(size_line.split(b";")[0], 16)
        if size == 0:
            break
        out += rest[:size]
        rest = rest[size + 2 :]
    return bytes(out)


_SLOWDOWN = b"""<?xml version="1.0" encoding="UTF-8"?>
<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message><RequestId>FAULTPROXY</RequestId></Error>"""
_INTERNAL = b"""<?xml version="1.0" encoding="UTF-8"?>
<Error><Code>InternalError</Code><Message>We encountered an internal error. Please try again.</Message><RequestId>FAULTPROXY</RequestId></Error>"""


class _Closed(Exception):
    """The peer closed the connection between requests."""


def _read_head(stream: BinaryIO) -> tuple[bytes, dict[str, str], bytes]:
    """(first line, headers with lower-case names, raw header block) of one message."""
    first = stream.readline(65537)
    if not first:
        raise _Closed
    lines = [first]
    headers: dict[str, str] = {}
    while True:
        line = stream.readline(65537)
        if not line:
            raise _Closed
        lines.append(line)
        if line in (b"\r\n", b"\n"):
            break
        name, _, value = line.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip()
    return first.rstrip(b"\r\n"), headers, b"".join(lines)


def _read_body(stream: BinaryIO, headers: dict[str, str], *, until_close: bool = False) -> bytes:
    """The raw body bytes as framed on the wire (chunked bodies are kept chunked)."""
    if "chunked" in headers.get("transfer-encoding", "").lower():
        raw = bytearray()
        while True:
            size_line = stream.readline(65537)
            if not size_line:
                raise _Closed
            raw += size_line
            size = int(size_line.split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while True:  # trailers, then the empty line
                    line = stream.readline(65537)
                    if not line:
                        raise _Closed
                    raw += line
                    if line in (b"\r\n", b"\n"):
                        return bytes(raw)
            data = stream.read(size + 2)
            if len(data) < size + 2:
                raise _Closed
            raw += data
    if "content-length" in headers:
        length = int(headers["content-length"])
        data = stream.read(length)
        if len(data) < length:
            raise _Closed
        return data
    if until_close:
        return stream.read()
    return b""


def _rst(sock: socket.socket) -> None:
    """Close with a TCP reset rather than an orderly FIN."""
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    with contextlib.suppress(OSError):
        sock.close()


class FaultProxy:
    def __init__(self, upstream_host: str, upstream_port: int, *, tls: ssl.SSLContext | None = None) -> None:
        """`tls`: the server context the proxy answers with (HTTPS to the client, plain HTTP upstream)."""
        if upstream_host not in ("127.0.0.1", "localhost"):
            raise ValueError("the fault proxy fronts loopback servers only")
        self.upstream = (upstream_host, upstream_port)
        self._tls = tls
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._lock = threading.Lock()
        self._plan = FaultPlan()
        self._plan_started = time.monotonic()
        self._rng = random.Random(0)
        self._faults = 0
        self.injected: Counter[str] = Counter()
        self.requests = 0
        self.log: list[tuple[str, str, str]] = []  # (kind or "pass", method, target)
        self._release = threading.Event()
        self.held = threading.Event()
        self._stopping = threading.Event()
        self._sockets: set[socket.socket] = set()
        self._thread = threading.Thread(target=self._accept_loop, name="fault-proxy", daemon=True)
        self._thread.start()

    @property
    def endpoint_url(self) -> str:
        return f"{'https' if self._tls else 'http'}://127.0.0.1:{self.port}"

    # --- control -----------------------------------------------------------------------------------
    def set_plan(self, plan: FaultPlan) -> None:
        with self._lock:
            self._plan = plan
            self._plan_started = time.monotonic()
            self._rng = random.Random(plan.seed)
            self._faults = 0
            self.injected.clear()
            self.requests = 0
            self.log.clear()
            self._release.clear()
            self.held.clear()

    def clear(self) -> None:
        self.set_plan(FaultPlan())
        self._release.set()

    def release(self) -> None:
        self._release.set()

    def stop(self) -> None:
        self._stopping.set()
        self._release.set()
        with contextlib.suppress(OSError):
            self._listener.close()
        with self._lock:
            for sock in list(self._sockets):
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
                with contextlib.suppress(OSError):
                    sock.close()
        self._thread.join(timeout=10)

    # --- decisions ---------------------------------------------------------------------------------
    def _decide(self, request: Request) -> tuple[str | None, bool]:
        """(fault kind or None, hold?) for one request."""
        with self._lock:
            self.requests += 1
            plan = self._plan
            hold = bool(plan.hold and not request.is_control and plan.hold(request))
            in_window = time.monotonic() - self._plan_started <= plan.window_seconds
            if request.is_control or not in_window or self._faults >= plan.max_faults or not plan.eligible(request):
                self.log.append(("pass", request.method, request.target))
                return None, hold
            draw = self._rng.random()
            edge = 0.0
            for kind in KINDS:
                edge += getattr(plan, kind)
                if draw < edge:
                    self._faults += 1
                    self.injected[kind] += 1
                    self.log.append((kind, request.method, request.target))
                    return kind, hold
            self.log.append(("pass", request.method, request.target))
            return None, hold

    # --- serving -----------------------------------------------------------------------------------
    def _accept_loop(self) -> None:
        self._listener.settimeout(0.2)  # so that stop() is noticed promptly
        while not self._stopping.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            client.settimeout(None)
            with self._lock:
                self._sockets.add(client)
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _connect(self) -> tuple[socket.socket, BinaryIO]:
        up = socket.create_connection(self.upstream, timeout=120)
        with self._lock:
            self._sockets.add(up)
        return up, up.makefile("rb")

    def _serve(self, client: socket.socket) -> None:
        client.settimeout(120)
        if self._tls is not None:
            try:
                client = self._tls.wrap_socket(client, server_side=True)
            except OSError:  # ssl.SSLError included: a client that gave up on the handshake
                with contextlib.suppress(OSError):
                    client.close()
                return
            with self._lock:
                self._sockets.add(client)
        reader = client.makefile("rb")
        up: socket.socket | None = None
        up_reader: BinaryIO | None = None
        try:
            while not self._stopping.is_set():
                try:
                    first, headers, _ = _read_head(reader)
                except (_Closed, OSError):
                    return
                method, target, _version = first.decode("latin-1").split(" ", 2)
                if headers.get("expect", "").lower() == "100-continue":
                    client.sendall(b"HTTP/1.1 100 Continue\r\n\r\n")
                body = _read_body(reader, headers)
                request = Request(method, target, headers, len(body))
                kind, hold = self._decide(request)
                if hold:
                    self.held.set()
                    self._release.wait(MAX_HOLD_SECONDS)
                if kind == "reset":
                    _rst(client)
                    return
                if kind in ("slowdown", "error"):
                    status = b"503 Slow Down" if kind == "slowdown" else b"500 Internal Server Error"
                    payload = _SLOWDOWN if kind == "slowdown" else _INTERNAL
                    client.sendall(b"HTTP/1.1 " + status + b"\r\nContent-Type: application/xml\r\nContent-Length: "
                                   + str(len(payload)).encode() + b"\r\n\r\n" + payload)  # fmt: skip
                    continue
                if kind == "stall":
                    self._stopping.wait(min(self._plan.stall_seconds, MAX_STALL_SECONDS))
                plan = self._plan
                if kind is None and not request.is_control and plan.rewrite_request is not None:
                    body = plan.rewrite_request(request, body)
                # forward: the request line and headers as received, without Expect (answered above)
                out = bytearray(first + b"\r\n")
                for name, value in headers.items():
                    if name != "expect":
                        out += f"{name}: {value}\r\n".encode("latin-1")
                out += b"\r\n" + body
                for attempt in (1, 2):
                    reused = up is not None
                    if up is None:
                        up, up_reader = self._connect()
                    assert up is not None and up_reader is not None
                    try:
                        up.sendall(out)
                        status_line, rheaders, rhead = _read_head(up_reader)
                        while status_line.split(b" ")[1:2] == [b"100"]:
                            status_line, rheaders, rhead = _read_head(up_reader)
                        break
                    except (_Closed, OSError):
                        # an idle keep-alive connection the server had closed: one retry on a new one
                        with contextlib.suppress(OSError):
                            up.close()
                        up, up_reader = None, None
                        if not reused or attempt == 2:
                            _rst(client)
                            return
                code = int(status_line.split(b" ")[1])
                no_body = method == "HEAD" or code in (204, 304) or 100 <= code < 200
                framed = "content-length" in rheaders or "chunked" in rheaders.get("transfer-encoding", "").lower()
                try:
                    rbody = b"" if no_body else _read_body(up_reader, rheaders, until_close=not framed)
                except (_Closed, OSError):
                    _rst(client)
                    return
                upstream_closes = (
                    rheaders.get("connection", "").lower() == "close"
                    or status_line.startswith(b"HTTP/1.0")
                    or (not no_body and not framed)
                )
                if upstream_closes:
                    with contextlib.suppress(OSError):
                        up.close()
                    up, up_reader = None, None
                if kind == "reset_after":
                    _rst(client)
                    return
                if kind == "truncate":
                    whole = rhead + rbody
                    cut = len(rhead) + len(rbody) // 2 if rbody else len(rhead) // 2
                    with contextlib.suppress(OSError):
                        client.sendall(whole[:cut])
                        client.shutdown(socket.SHUT_WR)
                    with contextlib.suppress(OSError):
                        client.close()
                    return
                if kind is None and not request.is_control and plan.rewrite_response is not None:
                    rewritten = plan.rewrite_response(request, code, rheaders, rbody)
                    if rewritten is not None:
                        client.sendall(rewritten.data)
                        for piece in rewritten.tail or ():
                            client.sendall(piece)
                        if rewritten.close:
                            return
                        continue
                client.sendall(rhead + rbody)
                if not no_body and not framed:
                    return  # the body ended with the connection
        except OSError:
            return
        finally:
            with contextlib.suppress(OSError):
                client.close()
            if up is not None:
                with contextlib.suppress(OSError):
                    up.close()
            with self._lock:
                self._sockets.discard(client)
                if up is not None:
                    self._sockets.discard(up)
