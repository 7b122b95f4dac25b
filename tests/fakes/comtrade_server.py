"""A fake UN Comtrade v1 API: a real threaded HTTP server on 127.0.0.1 that behaves like the service.

It holds a dataset of records and answers ``/data/v1/get`` (key required), ``/public/v1/preview``
(no key, 500 records at most), ``/data|public/v1/getDa`` (availability with datasetChecksum and
lastReleased), ``/bulk/v1/get`` + ``/bulk/v1/file`` (gzip TSV, HTTP Range) and
``/files/v1/app/reference/*.json``. Query parameters filter like the real API (an unknown value
matches nothing, so the answer is ``count: 0``); results are silently truncated at the record cap.

Scripted faults reproduce what the real service does: 429 with or without Retry-After, 5xx bursts,
403 quota after N calls, 401 invalid key, truncated JSON, HTML with status 200, slow responses and
dropped connections; ``revise`` publishes a new release of one reporter-period.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from ingest.comtrade.schema import API_FIELDS
from tests.fakes.server import FakeServer

API_KEY = "fake-key-0123456789abcdef"
QUOTA_BODY = {
    "statusCode": 403,
    "message": "Out of call volume quota. Quota will be replenished in 05:43:21.",
}
INVALID_KEY_BODY = {
    "statusCode": 401,
    "message": "Access denied due to invalid subscription key. Make sure to provide a valid key for an active subscription.",
}
FILTERS = {
    "reporterCode": "reporterCode",
    "partnerCode": "partnerCode",
    "partner2Code": "partner2Code",
    "period": "period",
    "cmdCode": "cmdCode",
    "flowCode": "flowCode",
    "customsCode": "customsCode",
    "motCode": "motCode",
}
KNOWN_PARAMS = set(FILTERS) | {
    "maxRecords",
    "format",
    "breakdownMode",
    "includeDesc",
    "countOnly",
    "aggregateBy",
}


@dataclass
class Fault:
    """A scripted failure for the next ``times`` requests whose path starts with ``prefix``."""

    kind: str  # 429 | 429-header | 5xx | truncated | html | slow | reset | invalid-key | quota
    times: int = 1
    prefix: str = "/data/v1/get/"
    retry_after: int = 3
    delay: float = 0.0


@dataclass
class Release:
    """The availability of one reporter-period."""

    first_released: str = "2020-02-03T00:00:00"
    last_released: str = "2020-02-03T00:00:00"
    version: int = 1


@dataclass
class LoggedRequest:
    """What the server saw (the key only as a yes/no)."""

    path: str
    params: dict[str, str]
    had_key: bool
    status: int = 0
    headers: dict[str, str] = field(default_factory=dict)


class FakeComtrade(FakeServer):
    """The fake service. Use as a context manager; ``url`` is its base URL."""

    html_type = "text/html"
    protocol_version = "HTTP/1.1"

    def __init__(
        self,
        records: list[dict[str, Any]] | None = None,
        *,
        api_key: str = API_KEY,
        cap: int = 100_000,
        preview_cap: int = 500,
        quota_after: int | None = None,
        references: dict[str, bytes] | None = None,
    ) -> None:
        super().__init__()
        self.records: list[dict[str, Any]] = list(records or [])
        self.api_key = api_key
        self.cap = cap
        self.preview_cap = preview_cap
        self.quota_after = quota_after
        self.references = references or {}
        self.faults: list[Fault] = []
        self.log: list[LoggedRequest] = []
        self.data_calls = 0
        self.releases: dict[tuple[int, str], Release] = {}
        self.bulk: dict[str, tuple[dict[str, Any], bytes]] = {}
        self.bulk_cut_once: int | None = None  # drop the first download after this many bytes
        self.ignore_range = False

    # -- dataset --------------------------------------------------------------------------------

    def release(self, reporter: int, period: str) -> Release:
        """The current release of one reporter-period."""
        return self.releases.setdefault((reporter, period), Release())

    def checksum(self, reporter: int, period: str) -> str:
        """A checksum of every record of one reporter-period (changes when the data change)."""
        rows = sorted(
            json.dumps(r, sort_keys=True)
            for r in self.records
            if r["reporterCode"] == reporter and r["period"] == period
        )
        return hashlib.sha256("\n".join(rows).encode()).hexdigest()[:32]

    def revise(
        self, reporter: int, period: str, factor: float = 1.1, released: str = "2021-06-30T00:00:00"
    ) -> int:
        """Publish a revision: multiply the values of one reporter-period and bump its release."""
        n = 0
        for rec in self.records:
            if rec["reporterCode"] == reporter and rec["period"] == period:
                for f in ("primaryValue", "cifvalue", "fobvalue"):
                    if rec[f] is not None:
                        rec[f] = round(rec[f] * factor, 2)
                n += 1
        rel = self.release(reporter, period)
        rel.last_released, rel.version = released, rel.version + 1
        return n

    def select(self, params: dict[str, str], freq: str) -> list[dict[str, Any]]:
        """Records matching query ``params`` like the real API (unknown parameters match nothing)."""
        if any(k not in KNOWN_PARAMS for k in params):
            return []
        wanted = {FILTERS[k]: set(v.split(",")) for k, v in params.items() if k in FILTERS and v != ""}
        return [
            r
            for r in self.records
            if r["freqCode"] == freq and all(str(r[f]) in vals for f, vals in wanted.items())
        ]

    def add_bulk_file(
        self,
        reporter: int,
        period: str,
        records: list[dict[str, Any]],
        *,
        file_hash: str | None = None,
        published: str = "2024-03-10T04:54:11Z",
    ) -> str:
        """Publish a bulk gzip TSV for one reporter-period; returns its hash (the listing's fileUrl)."""
        lines = ["\t".join(API_FIELDS)]
        for rec in records:
            lines.append("\t".join("" if rec[f] is None else str(rec[f]) for f in API_FIELDS))
        raw = gzip.compress(("\n".join(lines) + "\n").encode(), mtime=0)
        file_hash = file_hash or hashlib.sha256(raw).hexdigest()
        meta = {
            "fileUrl": file_hash,
            "fileSize": f"{len(raw) / 1024:.2f} KB",
            "isOriginalClassification": True,
            "reporterCode": reporter,
            "freqCode": "A" if len(period) == 4 else "M",
            "typeCode": "C",
            "classificationCode": "H5",
            "refPeriodId": int(f"{period}0101" if len(period) == 4 else f"{period}01"),
            "period": int(period),
            "publicationDate": published,
            "partitionKey": str(reporter),
            "rowKey": file_hash,
            "timestamp": "2024-03-10T04:54:11.8900761+00:00",
            "eTag": "W/\"datetime'2024-03-10T04%3A54%3A11Z'\"",
        }
        self.bulk[file_hash] = (meta, raw)
        return file_hash

    # -- HTTP -----------------------------------------------------------------------------------

    def _take_fault(self, path: str) -> Fault | None:
        with self.lock:
            for fault in self.faults:
                if path.startswith(fault.prefix) and fault.times > 0:
                    fault.times -= 1
                    return fault
        return None

    def _send(
        self, entry: LoggedRequest, h: BaseHTTPRequestHandler, status: int, body: bytes, **kw: Any
    ) -> None:
        """``send`` (``ctype``, ``headers``), recording the status in the request log."""
        entry.status = status
        self.send(h, status, body, **kw)

    def _json(self, h: BaseHTTPRequestHandler, status: int, body: Any, entry: LoggedRequest) -> None:
        self._send(entry, h, status, json.dumps(body).encode())

    def _rows(self, h: BaseHTTPRequestHandler, rows: list[dict[str, Any]], entry: LoggedRequest) -> None:
        """200 with ``rows`` in the API's envelope."""
        self._json(h, 200, {"elapsedTime": "0.01 secs", "count": len(rows), "data": rows, "error": ""}, entry)

    def handle(self, h: BaseHTTPRequestHandler) -> None:
        parts = urlsplit(h.path)
        path = parts.path
        params = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        key = h.headers.get("Ocp-Apim-Subscription-Key")
        entry = LoggedRequest(
            path,
            params,
            key is not None,
            headers={k: v for k, v in h.headers.items() if k.lower() != "ocp-apim-subscription-key"},
        )
        with self.lock:
            self.log.append(entry)
        fault = self._take_fault(path)
        if fault is not None and self._apply_fault(h, fault, entry):
            return
        segs = [s for s in path.split("/") if s]
        needs_key = path.startswith(("/data/", "/bulk/"))
        if needs_key and (key is None or key != self.api_key):
            self._json(h, 401, INVALID_KEY_BODY, entry)
            return
        if path.startswith(("/data/v1/get/", "/public/v1/preview/")) and len(segs) == 6:
            with self.lock:
                self.data_calls += 1
                over = self.quota_after is not None and self.data_calls > self.quota_after
            if over:
                self._json(h, 403, QUOTA_BODY, entry)
                return
            cap = self.cap if path.startswith("/data/") else self.preview_cap
            limit = min(cap, int(params.get("maxRecords") or cap))
            self._rows(h, self.select({k: v for k, v in params.items()}, segs[4])[:limit], entry)
        elif path.startswith(("/data/v1/getDa/", "/public/v1/getDa/")):
            self._rows(h, self._availability(params), entry)
        elif path.startswith("/bulk/v1/get/"):
            rows = [
                m
                for m, _ in self.bulk.values()
                if not params.get("reporterCode")
                or str(m["reporterCode"]) in params["reporterCode"].split(",")
            ]
            self._rows(h, rows, entry)
        elif path.startswith("/bulk/v1/file/") and len(segs) == 5 and segs[4] in self.bulk:
            self._bulk_file(h, segs[4], entry)
        elif path.startswith("/files/v1/app/reference/") and segs[-1] in self.references:
            self._send(entry, h, 200, self.references[segs[-1]], ctype="application/json")
        else:
            self._send(entry, h, 404, b"<html><body>Resource not found</body></html>", ctype="text/html")

    def _availability(self, params: dict[str, str]) -> list[dict[str, Any]]:
        reporters = set(params.get("reporterCode", "").split(",")) - {""}
        periods = set(params.get("period", "").split(",")) - {""}
        keys = sorted({(r["reporterCode"], r["period"]) for r in self.records})
        out = []
        for rep, per in keys:
            if reporters and str(rep) not in reporters or periods and per not in periods:
                continue
            rel = self.release(rep, per)
            total = sum(1 for r in self.records if r["reporterCode"] == rep and r["period"] == per)
            out.append(
                {
                    "typeCode": "C",
                    "freqCode": "A" if len(per) == 4 else "M",
                    "period": per,
                    "reporterCode": rep,
                    "reporterISO": f"R{rep}",
                    "reporterDesc": f"Reporter {rep}",
                    "classificationCode": "H5",
                    "isOriginalClassification": True,
                    "totalRecords": total,
                    "datasetChecksum": self.checksum(rep, per),
                    "firstReleased": rel.first_released,
                    "lastReleased": rel.last_released,
                }
            )
        return out

    def _bulk_file(self, h: BaseHTTPRequestHandler, file_hash: str, entry: LoggedRequest) -> None:
        meta, raw = self.bulk[file_hash]
        start = 0
        rng = h.headers.get("Range")
        if rng and rng.startswith("bytes=") and not self.ignore_range:
            start = int(rng[6:].split("-")[0])
        body = raw[start:]
        status = 206 if start else 200
        entry.status = status
        h.send_response(status)
        h.send_header("Content-Type", "application/TSV")
        h.send_header("Content-Length", str(len(body)))
        name = (
            f"C/{meta['freqCode']}/{meta['reporterCode']}/C_{meta['freqCode']}_{meta['reporterCode']}.txt.gz"
        )
        h.send_header("Content-Disposition", f'attachment; filename="{name}"; size={len(raw)}')
        if start:
            h.send_header("Content-Range", f"bytes {start}-{len(raw) - 1}/{len(raw)}")
        h.end_headers()
        cut = self.bulk_cut_once
        if cut is not None:
            self.bulk_cut_once = None
            h.wfile.write(body[:cut])
            h.wfile.flush()
            h.close_connection = True
            return
        h.wfile.write(body)

    def _apply_fault(self, h: BaseHTTPRequestHandler, fault: Fault, entry: LoggedRequest) -> bool:
        """Serve ``fault``; False when the request should then be answered normally (slow)."""
        kind = fault.kind
        if kind == "429":
            self._send(
                entry,
                h,
                429,
                f"Rate limit is exceeded. Try again in {fault.retry_after} seconds.".encode(),
                ctype="text/plain",
            )
        elif kind == "429-header":
            self._send(
                entry,
                h,
                429,
                json.dumps({"statusCode": 429, "message": "Rate limit is exceeded."}).encode(),
                headers={"Retry-After": str(fault.retry_after)},
            )
        elif kind == "5xx":
            self._send(entry, h, 503, b"<html><body>Service Unavailable</body></html>", ctype="text/html")
        elif kind == "quota":
            self._json(h, 403, QUOTA_BODY, entry)
        elif kind == "invalid-key":
            self._json(h, 401, INVALID_KEY_BODY, entry)
        elif kind == "forbidden-key":
            self._json(
                h,
                403,
                {"statusCode": 403, "message": "Forbidden: the subscription key is invalid or expired."},
                entry,
            )
        elif kind == "html":
            self._send(entry, h, 200, self.html_page.encode(), ctype=self.html_type)
        elif kind == "truncated":
            body = json.dumps(
                {"elapsedTime": "0.01 secs", "count": 2, "data": [{"typeCode": "C"}] * 2}
            ).encode()
            self._send(entry, h, 200, body[: len(body) // 2])
        elif kind == "reset":
            entry.status = -1
            h.close_connection = True
            h.connection.close()
        elif kind == "slow":
            time.sleep(fault.delay)
            return False
        else:
            raise ValueError(f"unknown fault kind {kind!r}")
        return True


def reference_payloads(folder: Path) -> dict[str, bytes]:
    """Recorded reference lists under ``folder`` (reference_<Name>.json) keyed by served name <Name>.json."""
    return {
        p.name.removeprefix("reference_"): p.read_bytes()
        for p in folder.glob("reference_*.json")
        if not p.name.endswith(".meta.json")
    }
