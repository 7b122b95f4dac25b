"""Client for Japan's Ministry of Finance trade statistics CSV downloads (e-Stat, code 00350300).

One CSV per year and direction (country × 9-digit statistical code, monthly columns): columns
``Exp or Imp`` (1 export, 2 import), ``Year``, [``Custom``], ``HS``, ``Country``, ``Unit1``, ``Unit2``,
then Quantity1/Quantity2/Value for the year and for each month Jan…Dec; values in thousand yen.
Files are often Shift_JIS: the bytes are decoded explicitly (UTF-8 with or without BOM, else
Shift_JIS/cp932) and anything else is refused with a clear error rather than landed.

Where the file lives: e-Stat serves each table as ``{base}/stat-search/file-download?statInfId=<id>
&fileKind=1`` (the id is listed on e-Stat for each year/direction table); a mirror can serve the
same bytes as ``{base}/files/hs9_country/{year}/{exp|imp}.csv``. ``$JAPAN_CUSTOMS_BASE_URL`` sets base.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import Any, Literal

import requests

from ingest.http import PoliteHttp, RetriesExhaustedError, TransientError, looks_like_html, short
from ingest.landing import Place

# The CSVs land in landing/japan/trade/ (their rows in lake/japan/trade/, ingest/japan/parse.py).
SOURCE = "japan"
DATASET = "trade"
DEFAULT_JAPAN_BASE_URL = "https://www.e-stat.go.jp"
Direction = Literal["export", "import"]
DIRECTION_CODE = {"export": "1", "import": "2"}
REQUIRED_COLUMNS = ("Exp or Imp", "Year", "HS", "Country", "Unit1", "Unit2")
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
# MOF's codes, in the CSVs and in e-Stat alike: the 9-digit statistical code (HS6 + 3 national digits)
# and the 3-digit country code.
HS9_CODE = re.compile(r"^\d{9}$")
COUNTRY_CODE = re.compile(r"^\d{3}$")


class JapanError(RuntimeError):
    """Base class of every error raised for the Japan MOF downloads."""


class JapanNotFoundError(JapanError):
    """The file is not published (HTTP 404): wrong year/direction/statInfId, or not released yet."""


class JapanFormatError(JapanError):
    """The bytes are not a Japan MOF trade CSV (wrong encoding, HTML, unexpected header)."""


class JapanUnavailableError(JapanError):
    """Retries were exhausted (429, 5xx, timeouts, HTML pages instead of the CSV)."""


def japan_base_url() -> str:
    """$JAPAN_CUSTOMS_BASE_URL (default the e-Stat site)."""
    return os.environ.get("JAPAN_CUSTOMS_BASE_URL", DEFAULT_JAPAN_BASE_URL).rstrip("/")


def _refuse_mixed_encodings(content: bytes, utf8_error: UnicodeDecodeError) -> None:
    """Raise JapanFormatError when some lines are UTF-8 text and others are not: decoding the whole
    file as Shift_JIS would silently garble the UTF-8 lines (Shift_JIS kana and kanji are never
    valid UTF-8, so a genuine Shift_JIS file has no non-ASCII line that decodes as UTF-8)."""
    for number, line in enumerate(content.split(b"\n"), start=1):
        if line.isascii():
            continue
        try:
            line.decode("utf-8", "strict")
        except UnicodeDecodeError:
            continue
        bad_line = content[: utf8_error.start].count(b"\n") + 1
        raise JapanFormatError(
            f"mixed encodings: line {number} is UTF-8 but line {bad_line} is not (byte {utf8_error.start}); "
            "the file was edited or concatenated from different sources: download it again"
        )


def decode_csv(content: bytes) -> tuple[str, str]:
    """Decode a Japan MOF CSV: UTF-8 (BOM or not) or Shift_JIS (cp932). Returns (text, encoding).

    Raises JapanFormatError for HTML, UTF-16/NUL bytes, bytes valid in neither encoding, or a text
    whose first line is not the expected header (e.g. decoded with the wrong code page).
    """
    if looks_like_html(content):
        raise JapanFormatError(
            "an HTML page came back where the trade CSV was expected (portal or error page)"
        )
    if content.startswith((b"\xff\xfe", b"\xfe\xff")) or b"\x00" in content[:4096]:
        raise JapanFormatError(
            "the file is UTF-16 (NUL bytes): expected UTF-8 or Shift_JIS CSV; download the CSV again"
        )
    if content.startswith(b"\xef\xbb\xbf"):
        text, encoding = content[3:].decode("utf-8", "strict"), "utf-8-sig"
    else:
        try:
            text, encoding = content.decode("utf-8", "strict"), "utf-8"
        except UnicodeDecodeError as utf8_error:
            _refuse_mixed_encodings(content, utf8_error)
            try:
                text, encoding = content.decode("cp932", "strict"), "shift_jis"
            except UnicodeDecodeError as exc:
                raise JapanFormatError(
                    f"the file is neither UTF-8 nor Shift_JIS (undecodable byte at {exc.start}); "
                    "it may be another code page or corrupted"
                ) from None
    header = text.split("\n", 1)[0].strip().lstrip("\ufeff")
    cols = [c.strip().strip('"') for c in header.split(",")]
    missing = [c for c in REQUIRED_COLUMNS if c not in cols]
    if missing or not any(c.startswith("Value-") for c in cols):
        raise JapanFormatError(
            f"header ({encoding}) is not the MOF country × HS9 table: missing {missing or ['Value-<month>']}; "
            f"starts with {short(header, 80)!r}"
        )
    return text, encoding


@dataclass(frozen=True)
class JapanResponse:
    """A downloaded CSV: raw bytes as received and the encoding they were read with."""

    year: int
    direction: Direction
    params: dict[str, str]
    status: int
    content: bytes
    encoding: str
    attempts: int

    @property
    def partition(self) -> str:
        return f"year={self.year}/direction={self.direction}"

    @property
    def stem(self) -> str:
        return f"hs9_country_{self.year}_{self.direction}"

    def place(self) -> Place:
        """Where the CSV lands under landing/japan/trade, and the parameters its manifest line records."""
        return Place(SOURCE, DATASET, self.partition, self.stem, ".csv", self.params)


def check_direction(direction: str) -> Direction:
    if direction not in DIRECTION_CODE:
        raise JapanError(f"direction must be 'export' or 'import', not {direction!r}")
    return direction  # type: ignore[return-value]


class JapanClient:
    """A polite, retrying downloader for one base URL."""

    def __init__(self, base_url: str | None = None, **http: Any) -> None:
        self.base_url = (base_url or japan_base_url()).rstrip("/")
        self.http = PoliteHttp(**http)

    @classmethod
    def from_env(cls, **http: Any) -> JapanClient:
        return cls(japan_base_url(), **http)

    def __enter__(self) -> JapanClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.http.close()

    def url_for(self, year: int, direction: Direction, stat_inf_id: str | None) -> tuple[str, dict[str, str]]:
        if stat_inf_id:
            if not re.match(r"^\d{6,12}$", stat_inf_id):
                raise JapanError(
                    f"statInfId {stat_inf_id!r} must be the numeric id e-Stat lists for the table"
                )
            return f"{self.base_url}/stat-search/file-download", {"statInfId": stat_inf_id, "fileKind": "1"}
        return f"{self.base_url}/files/hs9_country/{year}/{direction[:3]}.csv", {}

    def download(self, year: int, direction: str, *, stat_inf_id: str | None = None) -> JapanResponse:
        """The country × HS9 CSV for ``year`` and ``direction``. Grain of a row: HS9 × country (× port
        in the port table), monthly columns; values in thousand yen (exports FOB, imports CIF)."""
        d = check_direction(direction)
        if not 1988 <= year <= 2100:
            raise JapanError(f"year {year} is outside the published range (1988 onwards)")
        url, params = self.url_for(year, d, stat_inf_id)
        found: dict[str, str] = {}

        def check(resp: requests.Response, content: bytes) -> str:
            if resp.status_code == 404:
                raise JapanNotFoundError(
                    f"{year} {d}: HTTP 404, the file is not published (yet) at this address"
                )
            if resp.status_code != 200:
                raise JapanError(
                    f"{year} {d}: HTTP {resp.status_code}: {short(content.decode('utf-8', 'replace'))}"
                )
            if looks_like_html(content):
                raise TransientError("an HTML page came back where the trade CSV was expected")
            _, encoding = decode_csv(content)
            found["encoding"] = encoding
            return encoding

        try:
            result, encoding = self.http.get(url, params, check=check, label=f"Japan MOF {year} {d}")
        except RetriesExhaustedError as exc:
            raise JapanUnavailableError(f"{exc}; try again later") from None
        except requests.RequestException as exc:  # pragma: no cover - defensive
            raise JapanUnavailableError(short(str(exc))) from None
        out_params = {"year": str(year), "direction": d, **params, "release": "as_published"}
        return JapanResponse(year, d, out_params, result.status, result.content, encoding, result.attempts)
