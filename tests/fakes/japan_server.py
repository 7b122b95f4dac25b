"""A fake Japan MOF / e-Stat file server: a real threaded HTTP server on 127.0.0.1.

Serves ``/files/hs9_country/{year}/{exp|imp}.csv`` and ``/stat-search/file-download?statInfId=…``
from ``files`` (raw bytes, e.g. Shift_JIS), 404 for an unknown file, and scripted faults: 429 with
Retry-After, 503, an HTML page with status 200 (e-Stat's portal), and a UTF-16 body (wrong encoding).
Also serves the ECB ``/service/data/EXR/...`` CSV from ``ecb_csv`` for the exchange-rate tests.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

HTML_PAGE = "<!DOCTYPE html><html lang='ja'><head><title>e-Stat 政府統計の総合窓口</title></head><body>メンテナンス中</body></html>"


@dataclass
class JapanState:
    files: dict[str, bytes] = field(default_factory=dict)  # path or statInfId -> bytes
    faults: list[str] = field(default_factory=list)  # consumed one per request: 429, 503, html, utf16
    ecb_csv: bytes | None = None
    requests: list[str] = field(default_factory=list)


class _Handler(BaseHTTPRequestHandler):
    state: JapanState

    def log_message(self, *args: object) -> None:
        pass

    def _send(self, status: int, body: bytes, ctype: str, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:  # noqa: N802
        url = urlsplit(self.path)
        self.state.requests.append(self.path)
        fault = self.state.faults.pop(0) if self.state.faults else None
        if fault == "429":
            return self._send(429, b"Too Many Requests", "text/plain", {"Retry-After": "0"})
        if fault == "503":
            return self._send(503, b"Service Unavailable", "text/plain")
        if fault == "html":
            return self._send(200, HTML_PAGE.encode(), "text/html; charset=UTF-8")
        if url.path.startswith("/service/data/EXR/"):
            if self.state.ecb_csv is None:
                return self._send(404, b"No results found.", "text/plain")
            return self._send(200, self.state.ecb_csv, "text/csv")
        key = url.path
        if url.path == "/stat-search/file-download":
            key = parse_qs(url.query).get("statInfId", [""])[0]
        body = self.state.files.get(key)
        if body is None:
            return self._send(404, HTML_PAGE.encode(), "text/html")
        if fault == "utf16":
            body = body.decode("cp932").encode("utf-16")
        self._send(200, body, "text/csv", {"Content-Disposition": 'attachment; filename="data.csv"'})


@contextmanager
def serve(state: JapanState) -> Iterator[str]:
    """Run the fake on a free port; yields the base URL."""
    handler = type("Handler", (_Handler,), {"state": state})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
