"""HTTP client for the UN Comtrade v1 API: data, preview, availability, bulk files, reference lists.

Calls go through the shared HTTP layer (``ingest.http``: one session, timeouts, a minimum interval
between calls, bounded retries with backoff, jitter and Retry-After on 429, 5xx, connection errors,
timeouts). On top of it, Comtrade's own rules: bodies that are not the expected JSON envelope are
retried; errors that retrying cannot fix (invalid key, spent daily quota with its replenish time,
bad request) raise at once.

The subscription key travels only in the ``Ocp-Apim-Subscription-Key`` header and is masked out
of every message this module produces.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import requests

from ingest import config
from ingest.http import (
    PoliteHttp,
    RetriesExhaustedError,
    RetryPolicy,
    TransientError,
    env_float,
    response_text,
    sha256_file,
    short,
)

KEY_HEADER = "Ocp-Apim-Subscription-Key"
PREVIEW_MAX_RECORDS = 500

_REPLENISH = re.compile(r"replenished in (\d+):(\d{2}):(\d{2})", re.IGNORECASE)


class ComtradeError(RuntimeError):
    """Base class of every error raised by the Comtrade client."""


class ComtradeAuthError(ComtradeError):
    """The key was refused (401, or 403 for an invalid/expired key): retrying cannot help."""


class QuotaExhaustedError(ComtradeError):
    """403 "Out of call volume quota": the daily call quota is spent.

    ``replenish_in`` is the wait the service announced (None when it gave none).
    """

    def __init__(self, message: str, replenish_in: timedelta | None) -> None:
        super().__init__(message)
        self.replenish_in = replenish_in


class ComtradeRequestError(ComtradeError):
    """The service rejected the request itself (400, 404, 414 URL too long, an error in the body)."""


class ComtradeUnavailableError(ComtradeError):
    """Retries were exhausted (rate limit, server errors, timeouts or malformed bodies)."""


class BulkDownloadError(ComtradeError):
    """A bulk file could not be downloaded completely or failed its size/checksum check."""


@dataclass(frozen=True)
class ComtradeResponse:
    """One successful JSON response: the raw bytes (to land as received) and the decoded body."""

    endpoint: str  # path without base URL, e.g. /data/v1/get/C/M/HS
    params: dict[str, str]
    status: int
    content: bytes
    body: dict[str, Any]
    attempts: int

    @property
    def data(self) -> list[Any]:
        """The ``data`` array (records, availability rows or bulk files)."""
        data = self.body.get("data")
        return data if isinstance(data, list) else []

    @property
    def count(self) -> int:
        """The envelope's ``count`` (or the length of ``data`` when it has none)."""
        count = self.body.get("count")
        return count if isinstance(count, int) and not isinstance(count, bool) else len(self.data)


@dataclass(frozen=True)
class BulkFile:
    """One bulk file listed by ``/bulk/v1/get``: a gzip TSV for one reporter and period."""

    file_hash: str  # the listing's ``fileUrl``: the id used in the download path
    reporter_code: int
    period: str
    ref_period_id: int
    classification_code: str
    freq_code: str
    type_code: str
    publication_date: str
    file_size: str  # as listed, e.g. "183.34 KB" (approximate)
    raw: dict[str, Any] = field(default_factory=dict, compare=False)

    @classmethod
    def from_row(cls, row: Mapping[str, Any]) -> BulkFile:
        """Build from one row of the bulk listing."""
        return cls(
            file_hash=str(row["fileUrl"]).rsplit("/", 1)[-1].split("?", 1)[0],
            reporter_code=int(row["reporterCode"]),
            period=str(row.get("period", "")),
            ref_period_id=int(row.get("refPeriodId") or 0),
            classification_code=str(row.get("classificationCode", "")),
            freq_code=str(row.get("freqCode", "")),
            type_code=str(row.get("typeCode", "")),
            publication_date=str(row.get("publicationDate", "")),
            file_size=str(row.get("fileSize", "")),
            raw=dict(row),
        )

    @property
    def approx_bytes(self) -> int | None:
        """The listed size in bytes (the listing rounds it: use only as a sanity bound)."""
        m = re.match(r"^\s*([\d.]+)\s*(B|KB|MB|GB)\s*$", self.file_size, re.IGNORECASE)
        if not m:
            return None
        scale = {"B": 1, "KB": 1024, "MB": 1024**2, "GB": 1024**3}[m.group(2).upper()]
        return int(float(m.group(1)) * scale)


class ComtradeClient(config.KeyedClient):
    """A polite, retrying client for one Comtrade base URL and (optional) subscription key.

    Without a key only the public endpoints (preview, public availability) can be used. ``http``
    tunes the shared layer (``PoliteHttp``: timeout, min_interval, retry, session, sleep, rng); the
    default retry policy is ``RetryPolicy()`` (6 attempts, at most 600 s of waiting).
    """

    def __init__(self, base_url: str | None = None, api_key: str | None = None, **http: Any) -> None:
        self.base_url = (base_url or config.comtrade_base_url()).rstrip("/")
        self._key = api_key or None
        http["retry"] = http.get("retry") or RetryPolicy()
        self.http = PoliteHttp(secrets=(self._key,), **http)

    @classmethod
    def from_env(cls, api_key: str | None = None, **kwargs: Any) -> ComtradeClient:
        """A client configured from $COMTRADE_BASE_URL and $COMTRADE_API_KEY (or ``api_key`` when given;
        blank = no key), with optional tuning: $COMTRADE_MIN_INTERVAL (seconds between calls, default 1),
        $COMTRADE_MAX_ATTEMPTS (6), $COMTRADE_RETRY_BASE_DELAY (2 s), $COMTRADE_MAX_TOTAL_WAIT (600 s)
        and $COMTRADE_TIMEOUT (120 s)."""
        defaults = RetryPolicy()

        def env(name: str, default: float) -> float:
            return env_float(name, default, ComtradeError, "a number of seconds or attempts")

        retry = RetryPolicy(
            max_attempts=int(env("COMTRADE_MAX_ATTEMPTS", defaults.max_attempts)),
            base_delay=env("COMTRADE_RETRY_BASE_DELAY", defaults.base_delay),
            max_delay=defaults.max_delay,
            max_total_wait=env("COMTRADE_MAX_TOTAL_WAIT", defaults.max_total_wait),
            jitter=defaults.jitter,
        )
        kwargs.setdefault("retry", retry)
        kwargs.setdefault("min_interval", env("COMTRADE_MIN_INTERVAL", 1.0))
        kwargs.setdefault("timeout", (10.0, env("COMTRADE_TIMEOUT", 120.0)))
        key = config.comtrade_api_key() if api_key is None else api_key.strip() or None
        return cls(config.comtrade_base_url(), key, **kwargs)

    def close(self) -> None:
        """Close the underlying session."""
        self.http.close()

    def __enter__(self) -> ComtradeClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- public API ---------------------------------------------------------------------------

    def get_records(self, type_code: str, freq: str, cl: str, params: Mapping[str, Any]) -> ComtradeResponse:
        """Final data records (``/data/v1/get``); needs a key. Grain: one record per reporter ×
        partner × partner2 × flow × commodity × customs × mode of transport × period; values in USD."""
        self._require_key("/data/v1/get")
        return self._json(f"/data/v1/get/{type_code}/{freq}/{cl}", params, kind="data")

    def preview_records(
        self, type_code: str, freq: str, cl: str, params: Mapping[str, Any]
    ) -> ComtradeResponse:
        """Records from the keyless preview endpoint (at most 500 records a call)."""
        params = dict(params)
        max_records = int(params.get("maxRecords", PREVIEW_MAX_RECORDS))
        params["maxRecords"] = str(min(max_records, PREVIEW_MAX_RECORDS))
        return self._json(f"/public/v1/preview/{type_code}/{freq}/{cl}", params, kind="data", send_key=False)

    def records(self, type_code: str, freq: str, cl: str, params: Mapping[str, Any]) -> ComtradeResponse:
        """Records via ``get`` when a key is configured, else via ``preview``."""
        if self.has_key:
            return self.get_records(type_code, freq, cl, params)
        return self.preview_records(type_code, freq, cl, params)

    def availability(
        self, type_code: str, freq: str, cl: str, params: Mapping[str, Any]
    ) -> list[dict[str, Any]]:
        """Data availability rows (reporterCode, period, classificationCode, totalRecords,
        datasetChecksum, firstReleased, lastReleased): ``/data/v1/getDa`` with a key, else the public one."""
        prefix = "/data/v1/getDa" if self.has_key else "/public/v1/getDa"
        resp = self._json(f"{prefix}/{type_code}/{freq}/{cl}", params, kind="data", send_key=self.has_key)
        return [row for row in resp.data if isinstance(row, dict)]

    def bulk_files(self, type_code: str, freq: str, cl: str, params: Mapping[str, Any]) -> list[BulkFile]:
        """The bulk files available (``/bulk/v1/get``), one per reporter and period; needs a key."""
        self._require_key("/bulk/v1/get")
        resp = self._json(f"/bulk/v1/get/{type_code}/{freq}/{cl}", params, kind="data")
        return [BulkFile.from_row(row) for row in resp.data if isinstance(row, dict)]

    def reference(self, name: str) -> dict[str, Any]:
        """A reference list, e.g. ``reference("Reporters")`` → ``/files/v1/app/reference/Reporters.json``."""
        if not re.match(r"^[A-Za-z0-9_]+$", name):
            raise ComtradeRequestError(
                f"reference list name {name!r} must be letters, digits or _ (e.g. 'Reporters')"
            )
        return self._json(f"/files/v1/app/reference/{name}.json", {}, kind="reference", send_key=False).body

    def download_bulk(
        self, file: BulkFile, dest: Path, *, sha256: str | None = None, chunk_size: int = 1 << 16
    ) -> Path:
        """Stream bulk ``file`` to ``dest`` (resuming a partial ``dest.part`` with an HTTP Range request),
        verify its size against Content-Length / Content-Disposition (and ``sha256`` when given), then
        rename it to ``dest``. Returns ``dest``."""
        self._require_key("/bulk/v1/file")
        endpoint = f"/bulk/v1/file/{file.reporter_code}/{file.file_hash}"
        part = dest.with_name(dest.name + ".part")
        dest.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.http.download(
                self.base_url + endpoint,
                {"format": "json"},
                part,
                label=endpoint,
                headers=self._headers(send_key=True),
                check=lambda resp: self._raise_for_fatal(resp, endpoint),
                chunk_size=chunk_size,
            )
        except RetriesExhaustedError as exc:
            raise BulkDownloadError(_gave_up(exc)) from None
        if sha256 is not None:
            digest = sha256_file(part)
            if digest != sha256.lower():
                part.unlink()
                raise BulkDownloadError(
                    f"bulk file {file.file_hash} for reporter {file.reporter_code}: sha256 {digest[:16]}… "
                    f"does not match the expected {sha256[:16]}…; the partial file was removed, fetch again"
                )
        part.replace(dest)
        return dest

    # -- internals ----------------------------------------------------------------------------

    def _require_key(self, endpoint: str) -> None:
        if not self.has_key:
            raise ComtradeAuthError(
                f"{endpoint} needs a subscription key: set COMTRADE_API_KEY (free keys at comtradedeveloper.un.org), "
                "or use the keyless preview endpoint"
            )

    def _mask(self, text: str) -> str:
        return self.http.mask(text)

    def _headers(self, *, send_key: bool) -> dict[str, str]:
        """gzip always; the key only where the endpoint needs it (it never travels in the URL)."""
        headers = {"Accept-Encoding": "gzip"}
        if send_key and self._key:
            headers[KEY_HEADER] = self._key
        return headers

    def _raise_for_fatal(self, resp: requests.Response, endpoint: str) -> None:
        """Raise at once for statuses that retrying cannot fix."""
        status = resp.status_code
        if status == 401:
            raise ComtradeAuthError(
                f"{endpoint}: HTTP 401, the subscription key was refused; check COMTRADE_API_KEY "
                "(the primary key of your comtrade - v1 subscription)"
            )
        if status == 403:
            text = self._mask(response_text(resp))
            if "quota" in text.lower():
                replenish = _replenish_in(text)
                when = f" Quota will be replenished in {replenish}." if replenish is not None else ""
                raise QuotaExhaustedError(
                    f"{endpoint}: the daily call quota of this key is spent.{when} Run the same command again "
                    "after that: what was fetched so far is kept and the run resumes where it stopped",
                    replenish,
                )
            raise ComtradeAuthError(
                f"{endpoint}: HTTP 403, the key is invalid, expired or not subscribed to this API "
                f"({short(text)}); check COMTRADE_API_KEY"
            )
        if status == 414:
            raise ComtradeRequestError(
                f"{endpoint}: HTTP 414, the request URL is too long; ask for fewer codes per call"
            )
        if 400 <= status < 500 and status not in (408, 429):
            raise ComtradeRequestError(f"{endpoint}: HTTP {status}: {short(self._mask(response_text(resp)))}")

    def _json(
        self, endpoint: str, params: Mapping[str, Any], *, kind: str, send_key: bool = True
    ) -> ComtradeResponse:
        """GET ``endpoint`` and return its decoded JSON, retrying transient failures (429, 5xx,
        timeouts, and 'broken bodies': truncated, HTML or not the expected envelope)."""
        str_params = {k: str(v) for k, v in params.items() if v is not None}

        def check(resp: requests.Response, content: bytes) -> dict[str, Any]:
            self._raise_for_fatal(resp, endpoint)
            return _check_body(content, kind)

        try:
            result, body = self.http.get(
                self.base_url + endpoint,
                str_params,
                check=check,
                label=endpoint,
                headers=self._headers(send_key=send_key),
            )
        except RetriesExhaustedError as exc:
            raise ComtradeUnavailableError(_gave_up(exc)) from None
        return ComtradeResponse(endpoint, str_params, result.status, result.content, body, result.attempts)


def _gave_up(exc: RetriesExhaustedError) -> str:
    return f"{exc}. The service may be overloaded or rate limiting; try again later"


def _replenish_in(text: str) -> timedelta | None:
    m = _REPLENISH.search(text)
    if not m:
        return None
    return timedelta(hours=int(m.group(1)), minutes=int(m.group(2)), seconds=int(m.group(3)))


def _check_body(content: bytes, kind: str) -> dict[str, Any]:
    """Decode a 200 body and check it has the expected shape, else raise ``TransientError``
    (a truncated or HTML body is a failure of the transport, worth another try)."""
    try:
        body = json.loads(content)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise TransientError(f"200 body is not JSON ({exc}); starts with {content[:60]!r}") from None
    if not isinstance(body, dict):
        raise TransientError(f"200 body is JSON {type(body).__name__}, not an object")
    if kind == "reference":
        return body
    if body.get("error"):
        raise ComtradeRequestError(f"the service reported an error: {short(str(body['error']))}")
    data = body.get("data")
    if not isinstance(data, list):
        raise TransientError("200 body has no 'data' list (not a Comtrade envelope)")
    count = body.get("count")
    if isinstance(count, int) and count != len(data):
        raise TransientError(f"envelope count={count} but data holds {len(data)} rows")
    return body
