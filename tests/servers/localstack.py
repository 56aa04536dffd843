"""LocalStack in its strict configuration, on 127.0.0.1 over verified HTTPS, in its own venv.

It validates checksums, Content-MD5, SSE-C, SSE-KMS key ids and pre-signed URL signatures and
expiry; it does not check the credentials of header-signed requests, nor enforce ACLs or
policies (DESIGN.md section 6). LocalStack 2026.3 needs Python >= 3.13, so it runs from
.venv-localstack (made by scripts/localstack-venv.sh) as a child process, never imported here.

Public API:
    start_localstack(workdir, trace_network=None) -> LocalStackServer   ready and loopback-only
    running_localstack(workdir, trace_network=None)   context manager: start, yield, stop
    localstack_fixture(tmp_path_factory)               generator body for a pytest fixture
    listening_addresses(pid) -> {(address, port)}      TCP LISTEN sockets of a process tree
    outbound_addresses(trace_file) -> {(address, port)}  inet peers in a trace_network file
    LocalStackServer: endpoint_url, ca_bundle, port, process, log, workdir, access_key,
        secret_key, region, trace_file; stop(), client_kwargs(), log_tail()
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import ssl
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.servers.certs import make_tls_files
from tests.servers.netcheck import free_port, listening_addresses

__all__ = [
    "ACCESS_KEY",
    "LOOPBACK",
    "REGION",
    "SECRET_KEY",
    "SERVICES",
    "VENV_PYTHON",
    "LocalStackServer",
    "listening_addresses",
    "localstack_environment",
    "localstack_fixture",
    "outbound_addresses",
    "running_localstack",
    "start_localstack",
]

ROOT = Path(__file__).resolve().parents[2]
VENV_PYTHON = ROOT / ".venv-localstack" / "bin" / "python"
SERVICES = ("s3", "kms", "sts")
START_TIMEOUT = 120.0
# its state lives in a scratch folder nobody reads after the run: a graceful shutdown (3-15 s measured) buys nothing
STOP_TIMEOUT = 5.0
# LocalStack accepts any key on header-signed requests, but checks a pre-signed URL against the
# secret "test" for any access key it was not told about: only this pair makes valid URLs.
ACCESS_KEY = "test"
SECRET_KEY = "test"
REGION = "us-east-1"
LOOPBACK = frozenset({"127.0.0.1", "::1"})
# A loopback port where nothing listens: LocalStack's own HTTP calls (the service catalogue it
# fetches when an operation is not implemented, analytics) are refused at once, on this machine.
_BLACKHOLE = "http://127.0.0.1:1"
# = `python -m localstack.runtime.main`, after two things no setting reaches:
# - at start-up the S3 provider builds an internal client and LocalStack asks the system resolver
#   whether "s3.<LOCALSTACK_HOST>" exists: a DNS packet to the machine's name server, and a stall
#   of seconds where none answers. Recording the answer "no" beforehand keeps path-style internal
#   URLs and makes no lookup.
# - object data goes to a fixed /tmp/localstack-s3-storage shared by every LocalStack on the
#   machine (bucket folders of one run visible to, and removable by, another): moved into TMPDIR.
_BOOTSTRAP = """
import os
import localstack.utils.aws.aws_stack as aws_stack
import localstack.services.s3.provider as s3_provider
aws_stack.CACHE_S3_HOSTNAME_DNS_STATUS = False
s3_provider.DEFAULT_S3_TMP_DIR = os.path.join(os.environ["TMPDIR"], "s3-storage")
from localstack.runtime.main import main
main()
"""


@dataclass
class LocalStackServer:
    endpoint_url: str
    ca_bundle: str
    port: int
    process: subprocess.Popen[bytes]
    log: Path
    workdir: Path
    access_key: str = ACCESS_KEY
    secret_key: str = SECRET_KEY
    region: str = REGION
    trace_file: Path | None = None

    def stop(self) -> None:
        """SIGTERM the whole process group, wait until every member is gone, SIGKILL after
        STOP_TIMEOUT. Idempotent. Waits for the group, not just the leader, because the leader
        can be a tracer whose traced LocalStack outlives it."""
        pgid = self.process.pid
        _signal_group(pgid, signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT
        while _group_alive(pgid) and time.monotonic() < deadline:
            self.process.poll()  # reap the leader, or it stays a zombie member of the group
            time.sleep(0.1)
        if _group_alive(pgid):
            _signal_group(pgid, signal.SIGKILL)
        self.process.wait()

    def client_kwargs(self) -> dict[str, Any]:
        """Arguments for boto3.client(...): this server, its CA, fake keys (never ~/.aws)."""
        return {
            "endpoint_url": self.endpoint_url,
            "verify": self.ca_bundle,
            "region_name": self.region,
            "aws_access_key_id": self.access_key,
            "aws_secret_access_key": self.secret_key,
        }

    def log_tail(self, limit: int = 4000) -> str:
        try:
            return self.log.read_text(errors="replace")[-limit:]
        except OSError:
            return "(no log)"


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def _group_alive(pgid: int) -> bool:
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        # fields: state, ppid, pgrp; a zombie has released everything we care about
        if int(fields[2]) == pgid and fields[0] != "Z":
            return True
    return False


def localstack_environment(workdir: Path, port: int, cert_and_key: Path) -> dict[str, str]:
    """The server's whole environment, built from nothing so that no AWS_*, proxy or licence
    variable of the developer's shell reaches it."""
    dirs = {name: workdir / name for name in ("home", "tmp", "cache", "config", "data", "fs", "volume")}
    for path in dirs.values():
        path.mkdir(parents=True, exist_ok=True)
    listen = f"127.0.0.1:{port}"
    return {
        "PATH": f"{VENV_PYTHON.parent}:/usr/local/bin:/usr/bin:/bin",
        "LANG": "C.UTF-8",
        "PYTHONNOUSERSITE": "1",
        # every directory LocalStack writes to is inside workdir, so runs share nothing. (It logs
        # "TMPDIR is deprecated" about an old setting of its own; Python's tempfile honours it.)
        "HOME": str(dirs["home"]),
        "TMPDIR": str(dirs["tmp"]),
        "XDG_CACHE_HOME": str(dirs["cache"]),
        "XDG_CONFIG_HOME": str(dirs["config"]),
        "XDG_DATA_HOME": str(dirs["data"]),
        "FILESYSTEM_ROOT": str(dirs["fs"]),
        "LOCALSTACK_VOLUME_DIR": str(dirs["volume"]),
        # host mode on loopback, no container detection, no DNS server on port 53 of 0.0.0.0;
        # LOCALSTACK_HOST makes the URLs it returns (Location, queue URLs) name this server
        # rather than localhost.localstack.cloud:4566, a public name resolved through DNS
        "GATEWAY_SERVER": "hypercorn",
        "GATEWAY_LISTEN": listen,
        "LOCALSTACK_HOST": listen,
        "OVERRIDE_IN_DOCKER": "0",
        "DNS_ADDRESS": "0",
        # our certificate, so clients verify; never the download of LocalStack's public one
        "CUSTOM_SSL_CERT_PATH": str(cert_and_key),
        "SKIP_SSL_CERT_DOWNLOAD": "1",
        # no analytics or usage events; the two endpoints it takes from the environment point at
        # a closed loopback port in case a code path does not look at DISABLE_EVENTS
        "DISABLE_EVENTS": "1",
        "API_ENDPOINT": _BLACKHOLE,
        "ANALYTICS_API": _BLACKHOLE,
        "OUTBOUND_HTTP_PROXY": "",
        "OUTBOUND_HTTPS_PROXY": "",
        # only what the tests use, loaded at start so a broken service fails the start, not a test
        "SERVICES": ",".join(SERVICES),
        "EAGER_SERVICE_LOADING": "1",
        # strict: both default to "skip" in 2026.3. Checksum and Content-MD5 validation have no
        # switch (the S3 provider always checks); the tests prove they are on.
        "S3_SKIP_SIGNATURE_VALIDATION": "0",
        "S3_SKIP_KMS_KEY_VALIDATION": "0",
        # LocalStack's own boto3 (its internal clients) must not find real credentials or probe
        # instance metadata
        "AWS_ACCESS_KEY_ID": ACCESS_KEY,
        "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_CONFIG_FILE": str(dirs["home"] / "no-aws-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(dirs["home"] / "no-aws-credentials"),
        "AWS_EC2_METADATA_DISABLED": "true",
    }


def _tracer(trace_file: Path) -> list[str]:
    strace = shutil.which("strace")
    if strace is None:
        raise RuntimeError("strace is needed to record LocalStack's outbound connections: apt-get install strace")
    # seccomp-bpf stops only on the traced calls, so the server runs at nearly full speed
    return [strace, "-f", "-qq", "--seccomp-bpf", "-e", "trace=connect,sendto,sendmsg", "-o", str(trace_file)]


_INET = re.compile(r'sin_port=htons\((\d+)\), sin_addr=inet_addr\("([^"]+)"\)')
_INET6 = re.compile(r'sin6_port=htons\((\d+)\),.*?inet_pton\(AF_INET6, "([^"]+)"')


def outbound_addresses(trace_file: Path) -> set[tuple[str, int]]:
    """(address, port) of every IPv4/IPv6 peer the traced tree connected or sent to."""
    found: set[tuple[str, int]] = set()
    for line in trace_file.read_text(errors="replace").splitlines():
        if not any(call in line for call in ("connect(", "sendto(", "sendmsg(")):
            continue
        for pattern in (_INET, _INET6):
            found.update((address, int(port)) for port, address in pattern.findall(line))
    return found


def _health(url: str, context: ssl.SSLContext) -> dict[str, str] | None:
    try:
        # over the same verified channel the tests use
        with urllib.request.urlopen(f"{url}/_localstack/health", timeout=2, context=context) as response:
            services = json.loads(response.read()).get("services", {})
    except (OSError, ValueError, urllib.error.URLError):
        return None
    return services if isinstance(services, dict) else None


def _ready(services: dict[str, str] | None) -> bool:
    return services is not None and all(services.get(name) in ("available", "running") for name in SERVICES)


def _launch(workdir: Path, cert_and_key: Path, ca_bundle: Path, trace_file: Path | None) -> LocalStackServer:
    port = free_port()
    log = workdir / "localstack.log"
    prefix: Sequence[str] = _tracer(trace_file) if trace_file else ()
    with log.open("wb") as out:
        process = subprocess.Popen(
            [*prefix, str(VENV_PYTHON), "-c", _BOOTSTRAP],
            stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
            env=localstack_environment(workdir, port, cert_and_key), cwd=workdir,
            start_new_session=True,  # its own process group, so stop() reaches every child
        )  # fmt: skip
    return LocalStackServer(f"https://127.0.0.1:{port}", str(ca_bundle), port, process, log, workdir, trace_file=trace_file)


def _verify_loopback_only(server: LocalStackServer) -> None:
    found = listening_addresses(server.process.pid)
    if ("127.0.0.1", server.port) not in found:
        # an empty result would make the check below pass vacuously
        raise RuntimeError(f"LocalStack is up but its listening socket is not among {sorted(found)}")
    outside = sorted((address, port) for address, port in found if address not in LOOPBACK)
    if outside:
        raise RuntimeError(f"LocalStack listens beyond loopback: {outside}")


def start_localstack(workdir: Path, trace_network: Path | None = None, timeout: float = START_TIMEOUT) -> LocalStackServer:
    """Start LocalStack strict on a free 127.0.0.1 port; return once S3, KMS and STS are up and
    it is proven to listen on loopback only. With trace_network, it runs under strace, which
    records every connect/sendto/sendmsg there (see outbound_addresses)."""
    if not VENV_PYTHON.exists():
        raise RuntimeError(
            f"LocalStack venv missing ({VENV_PYTHON.parent.parent}): run 'bash scripts/localstack-venv.sh' (make test does)"
        )
    workdir.mkdir(parents=True, exist_ok=True)
    tls = make_tls_files(workdir / "tls")
    context = ssl.create_default_context(cafile=str(tls.ca_cert))
    attempts = 3
    for attempt in range(1, attempts + 1):
        server = _launch(workdir, tls.combined, tls.ca_cert, trace_network)
        deadline = time.monotonic() + timeout
        while not _ready(_health(server.endpoint_url, context)):
            if server.process.poll() is not None or time.monotonic() > deadline:
                server.stop()
                tail = server.log_tail()
                # free_port() can lose its port to another process before LocalStack binds it
                if "address already in use" in tail.lower() and attempt < attempts:
                    break
                raise RuntimeError(f"LocalStack did not become ready on {server.endpoint_url} (log {server.log}):\n{tail}")
            time.sleep(0.25)
        else:
            try:
                _verify_loopback_only(server)
            except BaseException:
                server.stop()
                raise
            return server
    raise AssertionError("unreachable: every attempt returns or raises")


@contextmanager
def running_localstack(workdir: Path, trace_network: Path | None = None) -> Iterator[LocalStackServer]:
    server = start_localstack(workdir, trace_network)
    try:
        yield server
    finally:
        server.stop()


def localstack_fixture(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStackServer]:
    """Body of a pytest fixture: `server = pytest.fixture(scope="module")(localstack_fixture)`."""
    with running_localstack(tmp_path_factory.mktemp("localstack")) as server:
        yield server
