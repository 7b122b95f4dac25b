"""Japan MOF trade statistics live through the e-Stat API 3.0 (``getStatsData``, JSON).

The 品別国別表 (commodity × country) tables of statistics code 00350300 are served by e-Stat as one
"statistics table" per direction and five-year block (``statsDataId``, see ``ESTAT_TABLES``). Their
shape, as used by public clients (see docs/national-statistics.md for what is verified and from where):
``@cat01`` = Japan's 9-digit statistical code, ``@area`` = "50" + the MOF 3-digit country code
(50103 = Korea), ``@time`` = the calendar year ``YYYY000000``, and ``@cat02`` = the measure: 100/110
the two units, 120/130/140 the year's quantity 1 / quantity 2 / value, then for month m
``150+30(m-1)`` quantity 1, ``160+30(m-1)`` quantity 2, ``170+30(m-1)`` value (thousand yen).

One fetch = one year × direction for the codes and partners in scope: one query per HS prefix
(``cdCat01From``/``cdCat01To``) or per batch of at most 100 HS9 codes (``cdCat01``) × batch of at most
100 partners (``cdArea``), each followed page by page through ``RESULT_INF.NEXT_KEY``. Every page is
landed as received (``landing/japan/estat/year=/direction=/``); ``ingest.japan.estat_parse`` turns
the pages of one fetch into ONE lake file in ``lake/japan/trade`` (the same dataset as the CSV path).

The application ID comes from ``$ESTAT_APP_ID`` and goes only into the query string of the request:
never into landed params, manifests, messages or logs (it is masked out of every message, including
urllib3's debug lines, by the shared HTTP layer ``ingest.http``).
"""

from __future__ import annotations

import json
import logging
import os
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import requests

from ingest.http import PoliteHttp, RetriesExhaustedError, TransientError, looks_like_html, short
from ingest.japan.client import COUNTRY_CODE, check_direction

DEFAULT_ESTAT_BASE_URL = "https://api.e-stat.go.jp/rest/3.0/app/json"
MAX_LIMIT = 100_000  # e-Stat: at most 100,000 cells per response
MAX_CODES = 100  # e-Stat: at most 100 comma-separated codes per cdCat01 / cdArea
AREA_PREFIX = "50"  # e-Stat area code = "50" + MOF 3-digit country code

# statsDataId of the national 品別国別表 per direction and block of years. From public code (not from
# the e-Stat manual): the issue text and two independent public clients agree on the 2016-2025 ids;
# the 2001-2015 and 2026- ids come from one public client only. A wrong id fails with e-Stat's own
# STATUS (e.g. 102 "指定されたデータが存在しません"), never silently.
ESTAT_TABLES: tuple[tuple[str, int, int, str], ...] = (
    ("export", 2001, 2005, "0003228116"),
    ("export", 2006, 2010, "0003228117"),
    ("export", 2011, 2015, "0003228118"),
    ("export", 2016, 2020, "0003313965"),
    ("export", 2021, 2025, "0003425293"),
    ("export", 2026, 2030, "0004049306"),
    ("import", 2001, 2005, "0003228183"),
    ("import", 2006, 2010, "0003228184"),
    ("import", 2011, 2015, "0003228185"),
    ("import", 2016, 2020, "0003313966"),
    ("import", 2021, 2025, "0003425294"),
    ("import", 2026, 2030, "0004049326"),
)

log = logging.getLogger(__name__)

_HS = re.compile(r"^\d{2,9}$")


class EstatError(RuntimeError):
    """Base class of every e-Stat API error (the message never holds the application ID)."""


class EstatAuthError(EstatError):
    """e-Stat refused the application ID (STATUS 100)."""


class EstatFormatError(EstatError):
    """The response is not a getStatsData JSON document."""


class EstatUnavailableError(EstatError):
    """Retries were exhausted (429, 5xx, timeouts, HTML maintenance pages)."""


def estat_base_url() -> str:
    """$ESTAT_BASE_URL (default the e-Stat API 3.0 JSON root)."""
    return os.environ.get("ESTAT_BASE_URL", DEFAULT_ESTAT_BASE_URL).rstrip("/")


def stats_data_id_for(year: int, direction: str) -> str:
    """The statsDataId of the 品別国別表 holding ``year`` × ``direction`` (see ``ESTAT_TABLES``)."""
    d = check_direction(direction)
    for table_direction, first, last, stats_data_id in ESTAT_TABLES:
        if table_direction == d and first <= year <= last:
            return stats_data_id
    raise EstatError(
        f"no e-Stat 品別国別表 id is known for {d} {year}: pass the statsDataId explicitly "
        "(--stats-data-id) or use the file download (--via file)"
    )


def time_code(year: int) -> str:
    """e-Stat's time code of a calendar year in these tables (``2019000000``)."""
    return f"{year}000000"


@dataclass(frozen=True)
class EstatQuery:
    """One filter of a fetch: HS (a prefix range or a list of HS9 codes) × partner areas."""

    stats_data_id: str
    year: int
    hs_prefix: str | None = None  # 2-8 digits: cdCat01From/To over its 9-digit codes
    hs9: tuple[str, ...] = ()  # explicit 9-digit codes (cdCat01), at most MAX_CODES
    areas: tuple[str, ...] = ()  # e-Stat area codes ("50103"), at most MAX_CODES; () = every partner

    def params(self) -> dict[str, str]:
        """The filter parameters (never the application ID)."""
        out = {"statsDataId": self.stats_data_id, "cdTime": time_code(self.year)}
        if self.hs_prefix:
            width = 9 - len(self.hs_prefix)
            out["cdCat01From"] = self.hs_prefix + "0" * width
            out["cdCat01To"] = self.hs_prefix + "9" * width
        elif self.hs9:
            out["cdCat01"] = ",".join(self.hs9)
        if self.areas:
            out["cdArea"] = ",".join(self.areas)
        return out


def _batches(items: Sequence[str], size: int) -> list[tuple[str, ...]]:
    return [tuple(items[i : i + size]) for i in range(0, len(items), size)] or [()]


def plan_queries(
    stats_data_id: str, year: int, hs_codes: Sequence[str], partners: Sequence[str] | None
) -> list[EstatQuery]:
    """The queries of one fetch: each HS prefix (< 9 digits) on its own, HS9 codes by 100, partners
    (MOF 3-digit codes) by 100; no partners = every partner. Raises EstatError for a malformed code."""
    codes = sorted(set(hs_codes))
    if not codes:
        raise EstatError("no HS codes to fetch: give 9-digit codes or HS prefixes (e.g. 281111)")
    bad = [c for c in codes if not _HS.match(c)]
    if bad:
        raise EstatError(f"HS codes {bad} are not 2 to 9 digits")
    bad = [p for p in partners or () if not COUNTRY_CODE.match(p)]
    if bad:
        raise EstatError(f"partners {bad} are not 3-digit MOF country codes (103 = Korea)")
    areas = [AREA_PREFIX + p for p in sorted(set(partners or ()))]
    hs_filters: list[tuple[str | None, tuple[str, ...]]] = [(c, ()) for c in codes if len(c) < 9]
    hs_filters += [(None, batch) for batch in _batches([c for c in codes if len(c) == 9], MAX_CODES) if batch]
    return [
        EstatQuery(stats_data_id, year, prefix, hs9, area_batch)
        for prefix, hs9 in hs_filters
        for area_batch in _batches(areas, MAX_CODES)
    ]


@dataclass(frozen=True)
class EstatPage:
    """One getStatsData response as received, with what paging needs."""

    query: EstatQuery
    params: dict[str, str]  # what was asked (filters, startPosition, limit), without the appId
    status: int  # e-Stat RESULT.STATUS: 0 data, 1 no data
    content: bytes
    total: int  # RESULT_INF.TOTAL_NUMBER (0 when STATUS 1)
    cells: int  # VALUE cells in this page
    next_key: int | None
    attempts: int


def read_result(body: Any) -> tuple[int, str]:
    """(STATUS, ERROR_MSG) of a getStatsData document; EstatFormatError when it is not one."""
    root = body.get("GET_STATS_DATA") if isinstance(body, dict) else None
    result = root.get("RESULT") if isinstance(root, dict) else None
    if not isinstance(result, dict) or "STATUS" not in result:
        raise EstatFormatError(
            "the response has no GET_STATS_DATA.RESULT.STATUS: not a getStatsData document"
        )
    try:
        return int(result["STATUS"]), str(result.get("ERROR_MSG", ""))
    except (TypeError, ValueError):
        raise EstatFormatError(f"RESULT.STATUS {result['STATUS']!r} is not a number") from None


def values_of(body: dict[str, Any]) -> list[dict[str, Any]]:
    """The DATA_INF.VALUE cells of a document (a single cell arrives as an object, not a list)."""
    data = body["GET_STATS_DATA"].get("STATISTICAL_DATA", {}).get("DATA_INF", {})
    cells = data.get("VALUE", []) if isinstance(data, dict) else []
    return [cells] if isinstance(cells, dict) else list(cells)


def _result_inf(body: dict[str, Any]) -> dict[str, Any]:
    inf = body["GET_STATS_DATA"].get("STATISTICAL_DATA", {}).get("RESULT_INF")
    if not isinstance(inf, dict):
        raise EstatFormatError("STATUS 0 but no STATISTICAL_DATA.RESULT_INF in the response")
    return inf


class EstatClient:
    """getStatsData over the shared polite HTTP layer (throttle, retries, Retry-After, masking)."""

    def __init__(
        self, app_id: str, base_url: str | None = None, *, limit: int = MAX_LIMIT, **http: Any
    ) -> None:
        if not app_id or not app_id.strip():
            raise EstatError("the e-Stat application ID is empty: set ESTAT_APP_ID")
        if not 1 <= limit <= MAX_LIMIT:
            raise EstatError(f"limit must be 1..{MAX_LIMIT}, not {limit}")
        self._app_id = app_id.strip()
        self.base_url = (base_url or estat_base_url()).rstrip("/")
        self.limit = limit
        # the shared layer masks the appId out of messages and of urllib3's URL log lines until close()
        self.http = PoliteHttp(secrets=(self._app_id,), **http)

    @classmethod
    def from_env(cls, app_id: str | None = None, **http: Any) -> EstatClient | None:
        """A client keyed by $ESTAT_APP_ID (or ``app_id`` when given), or None when it is blank (the
        caller then uses the file download instead, or says that live e-Stat access needs a key)."""
        app_id = (os.environ.get("ESTAT_APP_ID", "") if app_id is None else app_id).strip()
        return cls(app_id, estat_base_url(), **http) if app_id else None

    def __enter__(self) -> EstatClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the session (the appId is no longer masked in third-party logs after this)."""
        self.http.close()

    def _check(self, label: str) -> Callable[[requests.Response, bytes], dict[str, Any]]:
        def check(resp: requests.Response, content: bytes) -> dict[str, Any]:
            if looks_like_html(content):
                raise TransientError("an HTML page came back where the getStatsData JSON was expected")
            try:
                body = json.loads(content)
            except ValueError:
                if resp.status_code != 200:
                    raise EstatError(
                        f"{label}: HTTP {resp.status_code}: {short(self.http.mask(content[:300].decode('utf-8', 'replace')))}"
                    ) from None
                raise TransientError("the response is not JSON (cut off?)") from None
            status, message = read_result(body)
            message = short(self.http.mask(message))
            if status == 100:
                raise EstatAuthError(
                    f"{label}: e-Stat refused the application ID (STATUS 100: {message}); "
                    "check ESTAT_APP_ID (register at https://www.e-stat.go.jp/api/)"
                )
            if status >= 100:
                raise EstatError(f"{label}: e-Stat STATUS {status}: {message}")
            if resp.status_code != 200:
                raise EstatError(f"{label}: HTTP {resp.status_code} with STATUS {status}")
            return body

        return check

    def get_page(self, query: EstatQuery, start: int | None = None) -> EstatPage:
        """One page of ``query`` from ``start`` (1-based; None = the first)."""
        params = {**query.params(), "limit": str(self.limit), "metaGetFlg": "N"}
        if start is not None:
            params["startPosition"] = str(start)
        label = f"e-Stat {query.stats_data_id} {query.year}"
        try:
            result, body = self.http.get(
                f"{self.base_url}/getStatsData",
                {"appId": self._app_id, **params},
                check=self._check(label),
                label=label,
            )
        except RetriesExhaustedError as exc:
            raise EstatUnavailableError(f"{self.http.mask(str(exc))}; try again later") from None
        except requests.RequestException as exc:  # pragma: no cover - defensive
            raise EstatUnavailableError(short(self.http.mask(str(exc)))) from None
        content = result.content
        secret = self._app_id.encode()
        if secret in content:  # a server echoing the appId: keys never reach landing/
            content = content.replace(secret, b"***")
        status, _ = read_result(body)
        if status != 0:  # 1: no data matches the filter (2 does not apply to getStatsData)
            return EstatPage(query, params, status, content, 0, 0, None, result.attempts)
        inf = _result_inf(body)
        try:
            total = int(inf.get("TOTAL_NUMBER", 0))
            next_key = int(inf["NEXT_KEY"]) if inf.get("NEXT_KEY") not in (None, "") else None
        except (TypeError, ValueError):
            raise EstatFormatError(f"{label}: RESULT_INF {short(str(inf))} has non-numeric counts") from None
        cells = len(values_of(body))
        return EstatPage(query, params, status, content, total, cells, next_key, result.attempts)

    def pages(self, query: EstatQuery) -> Iterator[EstatPage]:
        """Every page of ``query``, following NEXT_KEY; checks that the pages add up to TOTAL_NUMBER."""
        page = self.get_page(query)
        yield page
        seen, total = page.cells, page.total
        while page.next_key is not None:
            if page.next_key <= int(page.params.get("startPosition", "1")):
                raise EstatFormatError(f"NEXT_KEY {page.next_key} does not move forward: paging would loop")
            page = self.get_page(query, page.next_key)
            yield page
            seen += page.cells
        if page.status == 0 and seen != total:
            raise EstatFormatError(
                f"e-Stat {query.stats_data_id} {query.year}: the pages hold {seen} cells but TOTAL_NUMBER "
                f"is {total} (the table changed while paging?): fetch again"
            )
