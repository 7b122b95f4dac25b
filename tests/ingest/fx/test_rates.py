"""Exchange rates: the ECB CSV, the bundled daily history, and a known-answer yen → USD conversion."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import polars as pl
import pytest

from ingest.fx import rates
from ingest.http import PoliteHttp, RetryPolicy
from tests.fakes import japan_server

# ECB csvdata layout (a subset of its columns). July 2019 monthly averages as the ECB publishes them:
# USD 1.1218, JPY 121.41, KRW 1320.29 per euro (the bundled daily history reproduces them, see below).
ECB_CSV = (
    b"KEY,FREQ,CURRENCY,CURRENCY_DENOM,EXR_TYPE,EXR_SUFFIX,TIME_PERIOD,OBS_VALUE,OBS_STATUS,TITLE\n"
    b"EXR.M.JPY.EUR.SP00.A,M,JPY,EUR,SP00,A,2019-07,121.41,A,Japanese yen/Euro\n"
    b"EXR.M.KRW.EUR.SP00.A,M,KRW,EUR,SP00,A,2019-07,1320.29,A,Korean won/Euro\n"
    b"EXR.M.USD.EUR.SP00.A,M,USD,EUR,SP00,A,2019-07,1.1218,A,US dollar/Euro\n"
)


@pytest.fixture
def home(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    from ingest import config

    monkeypatch.setenv("SEMITRADE_HOME", str(tmp_path / "home"))
    return config.paths()


@pytest.fixture
def ecb() -> Iterator[tuple[str, japan_server.JapanState]]:
    state = japan_server.JapanState(ecb_csv=ECB_CSV)
    with japan_server.FakeJapan(state) as fake:
        yield fake.url, state


def _http() -> PoliteHttp:
    return PoliteHttp(
        min_interval=0,
        sleep=lambda s: None,
        retry=RetryPolicy(max_attempts=2, base_delay=0.01, max_total_wait=1),
    )


def test_known_japan_value_converts_to_usd_to_the_cent() -> None:
    # GIVEN 123,456 thousand yen in July 2019 and the ECB July 2019 averages USD 1.1218, JPY 121.41 per euro
    # WHEN converted through the euro
    usd = rates.kjpy_to_usd(123_456, 1.1218, 121.41)
    # THEN by hand: 123,456,000 × 1.1218 / 121.41 = 138,492,940.8 / 121.41 = 1,140,704.5614… → 1,140,704.56
    assert Decimal(usd).quantize(Decimal("0.01"), ROUND_HALF_UP) == Decimal("1140704.56")


def test_bundled_daily_history_averages_to_the_published_monthly_rates() -> None:
    monthly = rates.offline_monthly_rates()
    assert round(monthly[("201907", "USD")], 4) == 1.1218
    assert round(monthly[("201907", "JPY")], 2) == 121.41
    assert round(monthly[("201907", "KRW")], 2) == 1320.29


def test_live_ecb_rates_land_and_reach_the_lake(home: Any, ecb: tuple[str, japan_server.JapanState]) -> None:
    url, state = ecb
    result = rates.build_rates(home, live=True, base_url=url, http=_http())
    assert result.rate_source == "ecb_api" and result.fallback_reason is None
    assert state.requests[0].startswith("/service/data/EXR/M.JPY+KRW+USD.EUR.SP00.A?format=csvdata")
    df = pl.read_parquet(result.lake_file)
    assert df.schema == rates.LAKE_SCHEMA
    assert dict(zip(df["currency"], df["ccy_per_eur"], strict=True)) == {
        "JPY": 121.41,
        "KRW": 1320.29,
        "USD": 1.1218,
    }
    assert set(df["method"]) == {rates.ECB_METHOD}


def test_an_html_answer_falls_back_to_the_bundled_history(
    home: Any, ecb: tuple[str, japan_server.JapanState]
) -> None:
    url, state = ecb
    state.faults = ["html", "html"]
    result = rates.build_rates(home, live=True, base_url=url, http=_http())
    assert result.rate_source == "ecb_daily_history_bundled"
    assert "HTML page" in result.fallback_reason
    assert result.first_period <= "201501" and result.rows > 3 * 12 * 10


def test_a_malformed_ecb_csv_is_refused() -> None:
    with pytest.raises(rates.FxError, match="lacks columns"):
        rates.parse_ecb_csv(b"DATE,VALUE\n2019-07,1\n")
