"""A fake Japan MOF / e-Stat file server: a real threaded HTTP server on 127.0.0.1.

Serves ``/files/hs9_country/{year}/{exp|imp}.csv`` and ``/stat-search/file-download?statInfId=…``
from ``files`` (raw bytes, e.g. Shift_JIS), 404 for an unknown file, and scripted faults: 429 with
Retry-After, 503, an HTML page with status 200 (e-Stat's portal), and a UTF-16 body (wrong encoding).
Also serves the ECB ``/service/data/EXR/...`` CSV from ``ecb_csv`` for the exchange-rate tests.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler

from tests.fakes.server import StateFake, split

HTML_PAGE = "<!DOCTYPE html><html lang='ja'><head><title>e-Stat 政府統計の総合窓口</title></head><body>メンテナンス中</body></html>"


@dataclass
class JapanState:
    files: dict[str, bytes] = field(default_factory=dict)  # path or statInfId -> bytes
    faults: list[str] = field(default_factory=list)  # consumed one per request: 429, 503, html, utf16
    ecb_csv: bytes | None = None
    requests: list[str] = field(default_factory=list)


class FakeJapan(StateFake[JapanState]):
    """The fake file server over ``state`` (a test changes ``state`` to script the next answers)."""

    html_page = HTML_PAGE

    def handle(self, h: BaseHTTPRequestHandler) -> None:
        url, q = split(h)
        self.state.requests.append(h.path)
        fault = self.next_fault()
        if self.send_fault(h, fault):
            return None
        if url.path.startswith("/service/data/EXR/"):
            if self.state.ecb_csv is None:
                return self.send(h, 404, b"No results found.", "text/plain")
            return self.send(h, 200, self.state.ecb_csv, "text/csv")
        key = q.get("statInfId", "") if url.path == "/stat-search/file-download" else url.path
        body = self.state.files.get(key)
        if body is None:
            return self.send(h, 404, HTML_PAGE.encode(), "text/html")
        if fault == "utf16":
            body = body.decode("cp932").encode("utf-16")
        return self.send(h, 200, body, "text/csv", {"Content-Disposition": 'attachment; filename="data.csv"'})
