"""moto's S3 server in a thread on 127.0.0.1, with its request recorder for asserting on headers."""

from __future__ import annotations

import json
import os
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ACCESS_KEY = "MOTOTESTKEY"
SECRET_KEY = "moto-test-secret-Pq93kW"


@dataclass
class MotoServer:
    endpoint_url: str
    recording: Path
    server: Any
    access_key: str = ACCESS_KEY
    secret_key: str = SECRET_KEY

    def _post(self, path: str) -> None:
        request = urllib.request.Request(self.endpoint_url + path, data=b"", method="POST")
        with urllib.request.urlopen(request, timeout=10) as response:  # loopback only
            response.read()

    def start_recording(self) -> None:
        self._post("/moto-api/recorder/reset-recording")
        self._post("/moto-api/recorder/start-recording")

    def stop_recording(self) -> list[dict[str, Any]]:
        self._post("/moto-api/recorder/stop-recording")
        if not self.recording.exists():
            return []
        return [json.loads(line) for line in self.recording.read_text().splitlines() if line.strip()]

    def stop(self) -> None:
        self.server.stop()


def start_moto(workdir: Path) -> MotoServer:
    recording = workdir / "moto-recording.jsonl"
    # read by moto's recorder when moto is first imported
    os.environ["MOTO_RECORDER_FILEPATH"] = str(recording)
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    if host != "127.0.0.1":
        server.stop()
        raise RuntimeError(f"moto bound to {host}, not loopback")
    return MotoServer(f"http://127.0.0.1:{port}", recording, server)
