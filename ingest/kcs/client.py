"""Client for the Korea Customs Service trade-by-item-and-country API (data.go.kr, XML).

``GET {KCS_BASE_URL}/1220000/nitemtrade/getNitemtradeList?serviceKey=…&strtYymm=YYYYMM&endYymm=YYYYMM
&hsSgn=…&cntyCd=…``: at most 12 months within one calendar year per call; ``hsSgn`` (2/4/6/10-digit HS)
and/or ``cntyCd`` (ISO2) required. One call returns every row (no paging). Values in US dollars,
weights in kg; the first item is a total row (``year`` = "총계").

The key travels only as the ``serviceKey`` query parameter; it is masked out of every message and
never returned in the request parameters this module hands to the landing (see ``KcsResponse.params``).
"""

from __future__ import annotations

import os
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

import requests

from ingest.config import KeyedClient
from ingest.http import PoliteHttp, RetriesExhaustedError, TransientError, env_float, looks_like_html, short
from ingest.landing import Place

# Answers land in landing/kcs/trade/ (their rows in lake/kcs/trade/, ingest/kcs/parse.py).
SOURCE = "kcs"
DATASET = "trade"
DEFAULT_KCS_BASE_URL = "https://apis.data.go.kr"
ENDPOINT = "/1220000/nitemtrade/getNitemtradeList"
TOTAL_LABEL = "총계"
_YYYYMM = re.compile(r"^(\d{4})(0[1-9]|1[0-2])$")
_HS = re.compile(r"^(\d{2}|\d{4}|\d{6}|\d{10})$")
_ISO2 = re.compile(r"^[A-Z]{2}$")
# Gateway (data.go.kr) errors come as plain text or as an OpenAPI_ServiceResponse envelope.
_GATEWAY_AUTH = (
    "SERVICE_KEY_IS_NOT_REGISTERED_ERROR",
    "SERVICE_ACCESS_DENIED_ERROR",
    "UNREGISTERED_IP_ERROR",
    "DEADLINE_HAS_EXPIRED_ERROR",
)
_GATEWAY_QUOTA = (
    "LIMITED_NUMBER_OF_SERVICE_REQUESTS_EXCEEDS_ERROR",
    "LIMITED_NUMBER_OF_SERVICE_REQUESTS_PER_SECOND_EXCEEDS_ERROR",
)


class KcsError(RuntimeError):
    """Base class of every error raised by the Korea Customs client."""


class KcsAuthError(KcsError):
    """The service key was refused (resultCode 30 or a gateway SERVICE_KEY_… error)."""


class KcsQuotaError(KcsError):
    """The daily request quota of the key is spent (gateway LIMITED_NUMBER_OF_SERVICE_REQUESTS…)."""


class KcsRequestError(KcsError):
    """The request itself is wrong (resultCode 99: missing parameter; bad period; other result codes)."""


class KcsUnavailableError(KcsError):
    """Retries were exhausted (429, 5xx, timeouts, HTML pages or truncated XML instead of data)."""


@dataclass(frozen=True)
class KcsQuery:
    """One API call: a period of at most 12 months in one calendar year, an HS code and/or a country."""

    start: str  # YYYYMM
    end: str  # YYYYMM
    hs: str | None = None
    country: str | None = None

    def __post_init__(self) -> None:
        validate_query(self)

    @property
    def year(self) -> int:
        return int(self.start[:4])

    def params(self) -> dict[str, str]:
        """Request parameters without the key (safe to land in the manifest)."""
        out = {"strtYymm": self.start, "endYymm": self.end}
        if self.hs:
            out["hsSgn"] = self.hs
        if self.country:
            out["cntyCd"] = self.country
        return out

    @property
    def partition(self) -> str:
        return f"year={self.year}/hs={self.hs or 'all'}/cnty={self.country or 'all'}"

    @property
    def stem(self) -> str:
        return f"nitemtrade_{self.start}_{self.end}"

    def place(self) -> Place:
        """Where the answer to this query lands, and the parameters its manifest line records."""
        return Place(SOURCE, DATASET, self.partition, self.stem, ".xml", self.params())


def validate_query(q: KcsQuery) -> None:
    """Raise KcsRequestError for a query the API would refuse (checked before any call)."""
    for name, value in (("start", q.start), ("end", q.end)):
        if not _YYYYMM.match(value):
            raise KcsRequestError(f"{name} period {value!r} is not YYYYMM (e.g. 201901)")
    if q.start[:4] != q.end[:4] or q.start > q.end:
        raise KcsRequestError(
            f"period {q.start}-{q.end} must run forward within one calendar year (the API allows at most "
            "12 months in one year); split it with plan_periods()"
        )
    if not q.hs and not q.country:
        raise KcsRequestError(
            "give an HS code (hsSgn) and/or a country (cntyCd): the API refuses neither (resultCode 99)"
        )
    if q.hs and not _HS.match(q.hs):
        raise KcsRequestError(f"HS code {q.hs!r} must have 2, 4, 6 or 10 digits")
    if q.country and not _ISO2.match(q.country):
        raise KcsRequestError(f"country {q.country!r} must be an ISO2 code in capitals (e.g. JP)")


def plan_periods(start: str, end: str) -> list[tuple[str, str]]:
    """Split ``start``..``end`` (YYYYMM, inclusive) into calendar-year chunks of at most 12 months."""
    for value in (start, end):
        if not _YYYYMM.match(value):
            raise KcsRequestError(f"period {value!r} is not YYYYMM (e.g. 201901)")
    if start > end:
        raise KcsRequestError(f"period {start}-{end} runs backwards")
    chunks = []
    for year in range(int(start[:4]), int(end[:4]) + 1):
        lo = max(start, f"{year}01")
        hi = min(end, f"{year}12")
        chunks.append((lo, hi))
    return chunks


@dataclass(frozen=True)
class KcsResponse:
    """A valid XML response: raw bytes (to land) and the number of items including the total row."""

    query: KcsQuery
    status: int
    content: bytes
    items: int
    attempts: int

    @property
    def params(self) -> dict[str, str]:
        return self.query.params()


def kcs_base_url() -> str:
    """Base URL of the data.go.kr gateway ($KCS_BASE_URL)."""
    return os.environ.get("KCS_BASE_URL", DEFAULT_KCS_BASE_URL).rstrip("/")


def kcs_service_key(raw: str | None = None) -> str | None:
    """The data.go.kr service key ($DATA_GO_KR_KEY, or ``raw`` when given), decoded; never log or persist it."""
    key = (os.environ.get("DATA_GO_KR_KEY", "") if raw is None else raw).strip()
    # data.go.kr shows an "Encoding" and a "Decoding" key; requests encodes, so use the decoded form.
    return unquote(key) if key else None


def check_xml(content: bytes) -> int:
    """Validate a 200 body; return the number of items. Raise Kcs*Error or TransientError."""
    text = content[:4000].decode("utf-8", "replace")
    for marker in _GATEWAY_AUTH:
        if marker in text:
            raise KcsAuthError(
                f"the data.go.kr gateway refused the service key ({marker}); check DATA_GO_KR_KEY and that "
                "the key is approved for the Korea Customs 'nitemtrade' service"
            )
    for marker in _GATEWAY_QUOTA:
        if marker in text:
            raise KcsQuotaError(
                f"the data.go.kr gateway says the request quota is spent ({marker}); try again tomorrow"
            )
    if looks_like_html(content):
        raise TransientError(f"an HTML page came back where XML data was expected: {short(text, 120)!r}")
    try:
        root = ET.fromstring(content)
    except ET.ParseError as exc:
        raise TransientError(
            f"body is not well-formed XML ({exc}); starts with {short(text, 80)!r}"
        ) from None
    if root.tag != "response":
        raise TransientError(f"XML root is <{root.tag}>, not <response>: not a Korea Customs answer")
    code = (root.findtext("header/resultCode") or "").strip()
    msg = (root.findtext("header/resultMsg") or "").strip()
    if code == "30":
        raise KcsAuthError(f"resultCode 30 ({msg or 'SERVICE KEY IS NOT REGISTERED'}): check DATA_GO_KR_KEY")
    if code == "22":
        raise KcsQuotaError(f"resultCode 22 ({msg}): the daily request quota of the key is spent")
    if code == "99":
        raise KcsRequestError(
            f"resultCode 99 ({msg}): a required parameter is missing or invalid (hsSgn or cntyCd, strtYymm, endYymm)"
        )
    if code not in ("00", "0", "000", "03"):
        raise KcsRequestError(f"resultCode {code or '(none)'} ({msg}): the service refused the request")
    items = root.findall("body/items/item")
    if items and (items[0].findtext("year") or "").strip() != TOTAL_LABEL:
        raise TransientError(
            f"first item is not the {TOTAL_LABEL} total row: body looks truncated or reordered"
        )
    total_count = root.findtext("body/totalCount")
    if total_count and total_count.strip().isdigit() and int(total_count) != len(items):
        raise TransientError(
            f"totalCount={total_count.strip()} but the body holds {len(items)} items (truncated?)"
        )
    return len(items)


class KcsClient(KeyedClient):
    """A polite, retrying client for one data.go.kr base URL and service key."""

    def __init__(self, base_url: str | None = None, service_key: str | None = None, **http: Any) -> None:
        self.base_url = (base_url or kcs_base_url()).rstrip("/")
        self._key = service_key or None
        self.http = PoliteHttp(secrets=(self._key,), **http)

    @classmethod
    def from_env(cls, service_key: str | None = None, **http: Any) -> KcsClient:
        """Configured from $KCS_BASE_URL, $DATA_GO_KR_KEY (or ``service_key`` when given) and
        $KCS_MIN_INTERVAL (seconds between calls, default 1: data.go.kr throttles bursts)."""
        http.setdefault("min_interval", env_float("KCS_MIN_INTERVAL", 1.0, KcsRequestError))
        return cls(kcs_base_url(), kcs_service_key(service_key), **http)

    def __enter__(self) -> KcsClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.http.close()

    def trade(self, query: KcsQuery) -> KcsResponse:
        """Trade by HS item and country for ``query``. Grain of an item: month × country × HSK10;
        values in US dollars (exports FOB, imports CIF), weights in kg; item 0 is the total row."""
        if not self._key:
            raise KcsAuthError(
                "DATA_GO_KR_KEY is not set: get a key for the Korea Customs nitemtrade service at data.go.kr"
            )
        params = {"serviceKey": self._key, **query.params()}
        label = f"KCS {ENDPOINT} {query.params()}"

        def check(resp: requests.Response, content: bytes) -> int:
            if resp.status_code in (401, 403):
                if any(m in content.decode("utf-8", "replace") for m in (*_GATEWAY_QUOTA, *_GATEWAY_AUTH)):
                    return check_xml(content)
                raise KcsAuthError(
                    f"HTTP {resp.status_code}: the gateway refused the service key; check DATA_GO_KR_KEY"
                )
            if resp.status_code != 200:
                raise KcsRequestError(
                    f"HTTP {resp.status_code}: {short(self.http.mask(content.decode('utf-8', 'replace')))}"
                )
            return check_xml(content)

        try:
            result, items = self.http.get(self.base_url + ENDPOINT, params, check=check, label=label)
        except RetriesExhaustedError as exc:
            raise KcsUnavailableError(
                f"{exc}; the service may be overloaded or rate limiting (429): try again later"
            ) from None
        except requests.RequestException as exc:  # pragma: no cover - defensive, masked
            raise KcsUnavailableError(self.http.mask(str(exc))) from None
        return KcsResponse(query, result.status, result.content, items, result.attempts)
