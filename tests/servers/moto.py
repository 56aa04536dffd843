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
    ca_bundle: str | None = None
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


class _TlsMotoServer:
    """ThreadedMotoServer's twin with TLS: werkzeug serves moto's app behind a test certificate."""

    def __init__(self, cert: Path, key: Path) -> None:
        import threading

        from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
        from werkzeug.serving import make_server

        app = DomainDispatcherApplication(create_backend_app)
        self._server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=MotoRequestHandler,
                                   ssl_context=(str(cert), str(key)))  # fmt: skip
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def get_host_and_port(self) -> tuple[str, int]:
        host, port = self._server.server_address[:2]
        return str(host), int(port)

    def stop(self) -> None:
        self._server.shutdown()
        self._thread.join(timeout=10)


def _route_athena_rest_json() -> None:
    """botocore (1.44) speaks Athena as rest-json (`POST /query-executions`, `GET /query-executions/ID`);
    moto 5.2 routes only `POST /` to its Athena handler, which itself already matches operations by
    botocore's model. One more route lets those requests reach it (before the server builds its app)."""
    import moto.athena.urls as athena_urls
    from moto.athena.responses import AthenaResponse

    athena_urls.url_paths.setdefault("{0}/(?P<rest_json_path>.+)$", AthenaResponse.dispatch)


def start_moto(workdir: Path, *, tls: bool = False) -> MotoServer:
    """moto on 127.0.0.1; with `tls`, over HTTPS with a throwaway CA (MotoServer.ca_bundle)."""
    import logging

    # the werkzeug request log would drown the demo's and tests' own output
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    recording = workdir / "moto-recording.jsonl"
    # read by moto's recorder when moto is first imported: before anything below imports moto (else the
    # recorder writes ./moto_recording and every recorded-request assertion sees nothing)
    os.environ["MOTO_RECORDER_FILEPATH"] = str(recording)
    _route_athena_rest_json()
    server: Any
    ca_bundle = None
    if tls:
        from tests.servers.certs import make_tls_files

        files = make_tls_files(workdir / "tls")
        server = _TlsMotoServer(files.server_cert, files.server_key)
        ca_bundle = str(files.ca_cert)
    else:
        from moto.server import ThreadedMotoServer

        server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        server.start()
    host, port = server.get_host_and_port()
    if host != "127.0.0.1":
        server.stop()
        raise RuntimeError(f"moto bound to {host}, not loopback")
    scheme = "https" if tls else "http"
    return MotoServer(f"{scheme}://127.0.0.1:{port}", recording, server, ca_bundle=ca_bundle)
