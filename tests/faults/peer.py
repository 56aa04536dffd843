"""Scenario helpers: objects another tool wrote (the stock AWS CLI), and a server that flips a byte of a GET body.

The AWS CLI is configured with a 5 MiB multipart threshold and part size, so files of a few MiB go up as
multipart uploads ("…-N" ETags, composite CRC32 checksums, no s3safe metadata), as 100 MiB files would with
its defaults.
"""

from __future__ import annotations

import os
import subprocess
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.faults.proxy import Request, Rewritten, build_response

REPO = Path(__file__).resolve().parents[2]
AWS_CLI = Path(os.environ.get("S3SAFE_TEST_AWS_CLI", REPO / ".venv-awscli" / "bin" / "aws"))
PART = 5 * 1024 * 1024


def aws_cli(server: Any, workdir: Path, *, checksums: bool = True) -> Callable[..., subprocess.CompletedProcess[str]]:
    """Run the stock AWS CLI against `server` (with its own config file: small multipart threshold).

    checksums=False: no CRC trailers (`when_required`), for stores that reject aws-chunked bodies (rclone).
    """
    assert AWS_CLI.exists(), f"the AWS CLI is installed by 'make awscli' ({AWS_CLI})"
    config = workdir / "aws-cli-config"
    extra = "" if checksums else "request_checksum_calculation = when_required\nresponse_checksum_validation = when_required\n"
    config.write_text(f"[default]\nregion = us-east-1\n{extra}s3 =\n  multipart_threshold = 5MB\n  multipart_chunksize = 5MB\n")
    env = {**os.environ, "AWS_CONFIG_FILE": str(config), "AWS_SHARED_CREDENTIALS_FILE": str(workdir / "no-credentials"),
           "AWS_ACCESS_KEY_ID": server.access_key, "AWS_SECRET_ACCESS_KEY": server.secret_key, "AWS_DEFAULT_REGION": "us-east-1"}  # fmt: skip
    if getattr(server, "ca_bundle", None):
        env["AWS_CA_BUNDLE"] = server.ca_bundle

    def run(*args: str) -> subprocess.CompletedProcess[str]:
        result = subprocess.run([str(AWS_CLI), "--endpoint-url", server.endpoint_url, "--only-show-errors", *args],
                                capture_output=True, text=True, env=env, timeout=300, check=False)  # fmt: skip
        assert result.returncode == 0, result.stderr[-2000:]
        return result

    return run


class GetBodyFlipper:
    """A `FaultPlan.rewrite_response` hook: flips one byte in the middle of the body of the object GETs
    `select` picks (the whole body, same length), at most `limit` times."""

    def __init__(self, select: Callable[[Request], bool], *, limit: int = 1) -> None:
        self.select = select
        self.limit = limit
        self.flipped: list[str] = []
        self._lock = threading.Lock()

    def __call__(self, request: Request, status: int, headers: dict[str, str], body: bytes) -> Rewritten | None:
        if request.method != "GET" or status != 200 or len(body) < 2 or "chunked" in headers.get("transfer-encoding", "").lower():
            return None
        with self._lock:
            if len(self.flipped) >= self.limit or not self.select(request):
                return None
            self.flipped.append(request.target)
        middle = len(body) // 2
        return Rewritten(build_response(status, headers, body[:middle] + bytes([body[middle] ^ 0x01]) + body[middle + 1 :]))
