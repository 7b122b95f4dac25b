"""KCS XML → lake: the total row is a control, rows in = kept + quarantined, HS6 is derived."""

from __future__ import annotations

from typing import Any

import polars as pl
import pytest

from ingest.kcs import parse
from ingest.landing import land
from tests.fakes import kcs_server


def _land(home: Any, content: bytes, params: dict[str, str] | None = None) -> Any:
    entry, _ = land(
        home,
        source="kcs",
        dataset="trade",
        partition="year=2019/hs=281111/cnty=all",
        stem="t",
        content=content,
        params=params or {"strtYymm": "201901", "endYymm": "201912", "hsSgn": "281111"},
        origin="sample",
        suffix=".xml",
    )
    return entry


def test_items_land_typed_with_hs6_and_the_total_row_removed(home: Any) -> None:
    # GIVEN two HSK10 lines of 281111 and their 총계 total row
    items = [
        kcs_server.item("2019.07", "JP", "2811111000", imp_usd=1_000, imp_kg=10),
        kcs_server.item("2019.07", "TW", "2811119000", exp_usd=250, imp_usd=2_000),
    ]
    entry = _land(home, kcs_server.render(items))
    # WHEN parsed
    result = parse.parse_landed(home, entry)
    # THEN both items are kept, the total is gone, HS6 is the first six digits
    assert (result.rows_in, result.rows_kept, result.rows_quarantined, result.control_ok) == (2, 2, 0, True)
    df = pl.read_parquet(result.lake_file)
    assert df.schema == parse.LAKE_SCHEMA
    assert df["hs6"].to_list() == ["281111", "281111"]
    assert df["hsk10"].to_list() == ["2811111000", "2811119000"]
    assert df["period"].to_list() == ["201907", "201907"]
    assert df["imp_usd"].sum() == 3_000 and df["source_row"].to_list() == [1, 2]


def test_a_wrong_total_quarantines_the_whole_file(home: Any) -> None:
    items = [kcs_server.item("2019.07", "JP", "2811111000", imp_usd=1_000)]
    result = parse.parse_landed(home, _land(home, kcs_server.render(items, total_offset=7)))
    assert (result.rows_in, result.rows_kept, result.rows_quarantined, result.control_ok) == (1, 0, 1, False)
    q = pl.read_parquet(result.quarantine_file)
    assert "control total mismatch" in q["reason"][0] and "impDlr" in q["reason"][0]


@pytest.mark.parametrize(
    ("bad", "reason"),
    [
        (kcs_server.item("2019.13", "JP", "2811111000", imp_usd=5), "is not YYYY.MM"),
        (kcs_server.item("2019.07", "QQ", "2811111000", imp_usd=5), "not in the kcs_country_codes seed"),
        (kcs_server.item("2019.07", "JP", "28111110", imp_usd=5), "not a 10-digit HSK code"),
        (kcs_server.item("2019.07", "JP", "3707901010", imp_usd=5), "does not belong to the requested hsSgn"),
        (kcs_server.item("2020.01", "JP", "2811111000", imp_usd=5), "outside the requested"),
    ],
    ids=["month-13", "unknown-country", "short-code", "other-hs", "outside-period"],
)
def test_bad_items_are_quarantined_with_their_reason(home: Any, bad: dict[str, str], reason: str) -> None:
    good = kcs_server.item("2019.07", "JP", "2811111000", imp_usd=1_000)
    result = parse.parse_landed(home, _land(home, kcs_server.render([good, bad])))
    assert (result.rows_in, result.rows_kept, result.rows_quarantined) == (2, 1, 1)
    assert reason in pl.read_parquet(result.quarantine_file)["reason"][0]


def test_an_html_body_is_quarantined_whole(home: Any) -> None:
    result = parse.parse_landed(home, _land(home, kcs_server.HTML_PAGE.encode()))
    assert (result.rows_in, result.rows_kept, result.rows_quarantined) == (1, 0, 1)
    assert (
        "not a successful Korea Customs response (root <html>"
        in pl.read_parquet(result.quarantine_file)["reason"][0]
    )
