"""Fixtures for the Japan MOF tests: an isolated store and a fake e-Stat file server."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.fakes import japan_server

MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
HEADER = "Exp or Imp,Year,HS,Country,Unit1,Unit2,Quantity1-Year,Quantity2-Year,Value-Year," + ",".join(
    f"Quantity1-{m},Quantity2-{m},Value-{m}" for m in MONTHS
)


def csv_row(
    flow: str, year: str, hs: str, country: str, values: list[int], unit1: str = "", unit2: str = "KG"
) -> str:
    """One wide row with Value per month (quantities = value / 2 in unit2)."""
    months = ",".join(f"0,{v // 2},{v}" for v in values)
    return (
        f"{flow},{year},{hs},{country},{unit1},{unit2},0,{sum(v // 2 for v in values)},{sum(values)},{months}"
    )


def make_csv(rows: list[str], encoding: str = "cp932") -> bytes:
    return ("\r\n".join([HEADER, *rows]) + "\r\n").encode(encoding)


@pytest.fixture
def home(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    from ingest import config

    monkeypatch.setenv("SEMITRADE_HOME", str(tmp_path / "home"))
    return config.paths()


@pytest.fixture
def japan_state() -> japan_server.JapanState:
    hf = [0] * 12
    hf[6], hf[7] = 123_456, 7_000
    rows = [
        csv_row("1", "2019", "'281111000'", "103", hf),
        csv_row("1", "2019", "281111000", "106", [10] * 12),
    ]
    return japan_server.JapanState(
        files={"/files/hs9_country/2019/exp.csv": make_csv(rows), "0003313000": make_csv(rows)}
    )


@pytest.fixture
def japan_url(japan_state: japan_server.JapanState) -> Iterator[str]:
    with japan_server.FakeJapan(japan_state) as fake:
        yield fake.url


@pytest.fixture
def japan_client(japan_url: str) -> Any:
    from ingest.http import RetryPolicy
    from ingest.japan.client import JapanClient

    return JapanClient(
        japan_url,
        min_interval=0,
        timeout=(2, 5),
        sleep=lambda s: None,
        retry=RetryPolicy(max_attempts=3, base_delay=0.01, max_delay=0.05, max_total_wait=5),
    )
