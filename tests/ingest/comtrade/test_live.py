"""Live smoke test against the real UN Comtrade API.

Skipped unless COMTRADE_API_KEY is set and comtradeapi.un.org is reachable. Run it with
``COMTRADE_API_KEY=... .venv/bin/pytest -m live tests/ingest/comtrade/test_live.py``. It spends two
calls of the key's daily quota (availability + one small data query: Korea's imports of hydrogen
fluoride, HS 281111, from Japan in 2019, monthly) and checks that rows land in a temporary lake.
"""

from __future__ import annotations

import os
import socket
from urllib.parse import urlsplit

import polars as pl
import pytest

from ingest import config
from ingest.comtrade.client import ComtradeClient
from ingest.comtrade.fetch import fetch_records
from ingest.comtrade.planner import Query, parse_periods
from ingest.config import Paths

# Read at import: the `home` fixture clears COMTRADE_API_KEY so that offline tests never use it.
_LIVE_KEY = os.environ.get("COMTRADE_API_KEY")


def _reachable(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    try:
        socket.create_connection((host, 443), timeout=3).close()
    except OSError:
        return False
    return True


@pytest.mark.live
def test_live_small_query(home: Paths, monkeypatch: pytest.MonkeyPatch) -> None:
    key = _LIVE_KEY
    if not key:
        pytest.skip("COMTRADE_API_KEY is not set")
    base = config.DEFAULT_COMTRADE_BASE_URL
    if not _reachable(base):
        pytest.skip(f"{base} is not reachable")
    query = Query(
        reporters=(410,),
        periods=parse_periods("201901-201912", "M"),
        partners=(392,),
        cmd_codes=("281111",),
        flows=("M",),
    )
    with ComtradeClient(base, key) as client:
        summary = fetch_records(home, query, client)
    assert summary.complete and summary.calls_made == 1
    df = pl.scan_parquet(home.lake / "comtrade/records/**/*.parquet").collect()
    assert df.height == summary.rows_kept > 0
    assert set(df["partner_code"]) == {392} and set(df["cmd_code"]) == {"281111"}
    for p in home.home.rglob("*"):
        if p.is_file():
            assert key.encode() not in p.read_bytes()
