"""`rclone serve s3` on 127.0.0.1 (plain HTTP, fake key pair), checked to listen on loopback only."""

from __future__ import annotations

import os
import signal
import socket
import struct
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

ACCESS_KEY = "BENCHKEYEXAMPLE0000"
SECRET_KEY = "bench-secret-not-a-real-key-0000"
BUCKET = "bench"
SERVER_FLAGS = ("--force-path-style=true", "--etag-hash", "MD5", "--vfs-cache-mode", "off")
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass
class Server:
    url: str
    port: int
    root: Path
    process: subprocess.Popen[bytes]
    log_path: Path
    argv: list[str]
    access_key: str = ACCESS_KEY
    secret_key: str = SECRET_KEY

    def cpu_seconds(self) -> float:
        """user+sys CPU seconds the server process has used so far (from /proc)."""
        try:
            fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return float("nan")
        return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _socket_inodes(pid: int) -> set[str]:
    inodes: set[str] = set()
    try:
        names = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return inodes
    for fd in names:
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    return inodes


def _decode(address: str, family: int) -> str:
    raw = bytes.fromhex(address)
    if family == socket.AF_INET:
        return socket.inet_ntop(family, struct.pack("<I", struct.unpack(">I", raw)[0]))
    return socket.inet_ntop(family, struct.pack("<4I", *struct.unpack(">4I", raw)))


def listening_addresses(pid: int) -> set[tuple[str, int]]:
    """(address, port) of every TCP socket in LISTEN state owned by `pid` (Linux /proc)."""
    inodes = _socket_inodes(pid)
    found: set[tuple[str, int]] = set()
    for table, family in (("/proc/net/tcp", socket.AF_INET), ("/proc/net/tcp6", socket.AF_INET6)):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            local, state, inode = fields[1], fields[3], fields[9]
            if state == "0A" and inode in inodes:
                address, port = local.split(":")
                found.add((_decode(address, family), int(port, 16)))
    return found


def start_server(rclone: Path, workdir: Path, *, timeout: float = 30.0) -> Server:
    """Serve `workdir/root` over S3 on a free loopback port; RuntimeError if it listens anywhere else."""
    root = workdir / "server-root"
    (root / BUCKET).mkdir(parents=True, exist_ok=True)
    home = workdir / "server-home"
    home.mkdir(parents=True, exist_ok=True)
    (home / "rclone.conf").touch()
    port = free_port()
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(home),
        "RCLONE_CONFIG": str(home / "rclone.conf"),
        # the key pair goes by environment (not argv); rclone reads list flags as CSV, hence the quotes
        "RCLONE_AUTH_KEY": f'"{ACCESS_KEY},{SECRET_KEY}"',
    }
    argv = [str(rclone), "serve", "s3", str(root), "--addr", f"127.0.0.1:{port}", *SERVER_FLAGS]
    log_path = workdir / "rclone-serve.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    server = Server(f"http://127.0.0.1:{port}", port, root, process, log_path, argv)
    deadline = time.monotonic() + timeout
    try:
        while True:
            if process.poll() is not None:
                raise RuntimeError("rclone serve s3 exited: " + log_path.read_text(errors="replace")[-2000:])
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"rclone serve s3 did not listen on 127.0.0.1:{port} within {timeout:.0f} s") from None
                time.sleep(0.1)
        listening = listening_addresses(process.pid)
        outside = sorted((a, p) for a, p in listening if a not in ("127.0.0.1", "::1"))
        if outside or not listening:
            raise RuntimeError(f"rclone serve s3 must listen on loopback only; it listens on {sorted(listening)}")
    except BaseException:
        server.stop()
        raise
    return server
