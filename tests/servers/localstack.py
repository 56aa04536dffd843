"""LocalStack in its strict configuration, on 127.0.0.1 over verified HTTPS, in its own venv.

It validates checksums, Content-MD5, SSE-C and pre-signed URL expiry; it does not check
credentials or enforce policies (DESIGN.md section 6).
"""

from __future__ import annotations

import json
import os
import signal
import ssl
import subprocess
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from tests.servers.certs import make_tls_files
from tests.servers.netcheck import assert_loopback_only, free_port

ROOT = Path(__file__).resolve().parents[2]
VENV_PYTHON = ROOT / ".venv-localstack" / "bin" / "python"
START_TIMEOUT = 180


@dataclass
class LocalStackServer:
    endpoint_url: str
    ca_bundle: str
    port: int
    process: subprocess.Popen[bytes]
    log: Path

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


def _environment(workdir: Path, port: int, cert: Path) -> dict[str, str]:
    cache = workdir / "cache"
    cache.mkdir(parents=True, exist_ok=True)
    return {
        "PATH": f"{VENV_PYTHON.parent}:{os.environ.get('PATH', '')}",
        "HOME": str(workdir),
        "XDG_CACHE_HOME": str(cache),
        "FILESYSTEM_ROOT": str(workdir / "fs"),
        "LOCALSTACK_VOLUME_DIR": str(workdir / "volume"),
        # host mode, loopback only, our own certificate
        "GATEWAY_SERVER": "hypercorn",
        "GATEWAY_LISTEN": f"127.0.0.1:{port}",
        "OVERRIDE_IN_DOCKER": "0",
        "DNS_ADDRESS": "0",
        "CUSTOM_SSL_CERT_PATH": str(cert),
        "SKIP_SSL_CERT_DOWNLOAD": "1",
        # nothing leaves the machine: no analytics, events or update checks
        "DISABLE_EVENTS": "1",
        "LOCALSTACK_TELEMETRY": "0",
        "SERVICES": "s3,kms,sts",
        "EAGER_SERVICE_LOADING": "1",
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_CONFIG_FILE": str(workdir / "none"),
        "AWS_SHARED_CREDENTIALS_FILE": str(workdir / "none"),
        "AWS_EC2_METADATA_DISABLED": "true",
    }


def _healthy(url: str, ca: Path) -> bool:
    context = ssl.create_default_context(cafile=str(ca))
    try:
        with urllib.request.urlopen(f"{url}/_localstack/health", timeout=2, context=context) as response:  # loopback only
            status = json.loads(response.read()).get("services", {}).get("s3")
    except (OSError, ValueError):
        return False
    return status in ("available", "running")


def start_localstack(workdir: Path) -> LocalStackServer:
    if not VENV_PYTHON.exists():
        raise RuntimeError(f"LocalStack venv missing at {VENV_PYTHON.parent.parent}: run 'bash scripts/localstack-venv.sh' (make test does)")
    workdir.mkdir(parents=True, exist_ok=True)
    tls = make_tls_files(workdir / "tls")
    port = free_port()
    log = workdir / "localstack.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [str(VENV_PYTHON), "-m", "localstack.runtime.main"],
            stdout=out, stderr=subprocess.STDOUT, env=_environment(workdir, port, tls.combined),
            cwd=workdir, start_new_session=True,
        )  # fmt: skip
    url = f"https://127.0.0.1:{port}"
    server = LocalStackServer(url, str(tls.ca_cert), port, process, log)
    deadline = time.monotonic() + START_TIMEOUT
    while not _healthy(url, tls.ca_cert):
        if process.poll() is not None or time.monotonic() > deadline:
            server.stop()
            raise RuntimeError("LocalStack did not start: " + log.read_text(errors="replace")[-3000:])
        time.sleep(0.5)
    try:
        assert_loopback_only(process.pid)
    except RuntimeError:
        server.stop()
        raise
    return server
