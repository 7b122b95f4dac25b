"""Japan MOF downloads and parsing: encodings, HTML, 404/429, wide → long, controls, quarantine."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import polars as pl
import pytest

from ingest.japan import parse
from ingest.japan.client import (
    JapanClient,
    JapanFormatError,
    JapanNotFoundError,
    JapanUnavailableError,
    decode_csv,
)
from ingest.landing import land
from orchestration.cli import main as cli_main
from tests.fakes import japan_server
from tests.ingest.japan.conftest import csv_row, make_csv


@pytest.mark.parametrize(
    ("encoding", "expected"),
    [("cp932", "shift_jis"), ("utf-8", "utf-8"), ("utf-8-sig", "utf-8-sig")],
    ids=["shift-jis", "utf-8", "utf-8-bom"],
)
def test_encodings_are_detected_explicitly(encoding: str, expected: str) -> None:
    # GIVEN a CSV whose unit column holds Japanese text (個 = pieces), so the encodings differ in bytes
    content = make_csv([csv_row("1", "2019", "854232000", "103", [1] * 12, unit1="個")], encoding)
    text, found = decode_csv(content)
    assert found == expected and "個" in text


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (japan_server.HTML_PAGE.encode(), "HTML page"),
        (make_csv([], "utf-16"), "UTF-16"),
        (b"Exp or Imp,Year\r\n1,2019,\x81\xff\xfe\r\n", "neither UTF-8 nor Shift_JIS"),
        ("輸出入,年\r\n1,2019\r\n".encode("cp932"), "not the MOF country × HS9 table"),
    ],
    ids=["html", "utf-16", "undecodable", "unexpected-header"],
)
def test_bad_files_are_refused_with_a_clear_error(content: bytes, message: str) -> None:
    with pytest.raises(JapanFormatError, match=message):
        decode_csv(content)


def test_download_then_parse_wide_to_long(japan_client: JapanClient, home: Any) -> None:
    # GIVEN the 2019 export table: HF to Korea (103) in Jul/Aug, and 10 a month to Taiwan (106)
    resp = japan_client.download(2019, "export")
    assert resp.encoding == "utf-8"  # ASCII-only bytes decode as UTF-8 first
    entry, _ = land(
        home,
        source="japan",
        dataset="trade",
        partition=resp.partition,
        stem=resp.stem,
        content=resp.content,
        params=resp.params,
        suffix=".csv",
    )
    # WHEN parsed
    result = parse.parse_landed(home, entry)
    # THEN 2 wide rows become 12 + 12 long rows (Korea's reported zero months are rows with 0);
    # the quoted HS is unquoted, HS6 derived
    assert (result.rows_in, result.rows_kept, result.rows_quarantined, result.long_rows) == (2, 2, 0, 24)
    assert result.months_unpublished == 0
    df = pl.read_parquet(result.lake_file)
    assert df.schema == parse.LAKE_SCHEMA
    korea = df.filter(pl.col("country_code") == "103").sort("period")
    assert korea["period"].to_list() == [f"2019{m:02d}" for m in range(1, 13)]
    assert korea["value_thousand_jpy"].to_list() == [0] * 6 + [123_456, 7_000] + [0] * 4
    assert korea.filter(pl.col("period") == "201901").select("quantity1", "quantity2").row(0) == (0.0, 0.0)
    assert set(df["hs9"]) == {"281111000"} and set(df["hs6"]) == {"281111"} and set(df["flow_code"]) == {"X"}


def test_e_stat_address_is_used_with_a_stat_inf_id(
    japan_client: JapanClient, japan_state: japan_server.JapanState
) -> None:
    resp = japan_client.download(2019, "export", stat_inf_id="0003313000")
    assert resp.params["statInfId"] == "0003313000"
    assert japan_state.requests[-1] == "/stat-search/file-download?statInfId=0003313000&fileKind=1"


@pytest.mark.parametrize(
    ("faults", "error", "message"),
    [
        (["html"] * 3, JapanUnavailableError, "HTML page"),
        (["429"] * 3, JapanUnavailableError, "HTTP 429"),
        (["utf16"], JapanFormatError, "UTF-16"),
    ],
    ids=["html-200", "rate-limited", "wrong-encoding"],
)
def test_download_errors(
    japan_client: JapanClient,
    japan_state: japan_server.JapanState,
    faults: list[str],
    error: type,
    message: str,
) -> None:
    japan_state.faults = list(faults)
    with pytest.raises(error, match=message):
        japan_client.download(2019, "export")


def test_429_then_success_is_retried(japan_client: JapanClient, japan_state: japan_server.JapanState) -> None:
    japan_state.faults = ["429", "503"]
    assert japan_client.download(2019, "export").attempts == 3


def test_unpublished_file_is_not_found(japan_client: JapanClient) -> None:
    with pytest.raises(JapanNotFoundError, match="2031 import: HTTP 404"):
        japan_client.download(2031, "import")


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        (csv_row("1", "2019", "28111100", "103", [1] * 12), "not a 9-digit"),
        (csv_row("1", "2019", "281111000", "999", [1] * 12), "not in the japan_customs_country_codes seed"),
        (csv_row("2", "2019", "281111000", "103", [1] * 12), "does not match the file's direction"),
        (
            csv_row("1", "2019", "281111000", "103", [1] * 12).replace(",12,", ",13,", 1),
            "is not the sum of the months",
        ),
    ],
    ids=["short-hs", "unknown-country", "wrong-direction", "year-total-mismatch"],
)
def test_bad_rows_are_quarantined(home: Any, row: str, reason: str) -> None:
    good = csv_row("1", "2019", "281111000", "105", [5] * 12)
    entry, _ = land(
        home,
        source="japan",
        dataset="trade",
        partition="year=2019/direction=export",
        stem="t",
        content=make_csv([good, row]),
        params={"year": "2019", "direction": "export"},
        suffix=".csv",
    )
    result = parse.parse_landed(home, entry)
    assert (result.rows_in, result.rows_kept, result.rows_quarantined) == (2, 1, 1)
    assert reason in pl.read_parquet(result.quarantine_file)["reason"][0]


def test_cli_fetch_japan(
    home: Any, japan_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("JAPAN_CUSTOMS_BASE_URL", japan_url)
    monkeypatch.delenv("ESTAT_APP_ID")  # without a key, --via file is the default
    assert cli_main(["fetch", "japan", "--year", "2019", "--direction", "export"]) == 0
    out = capsys.readouterr()
    assert "CSV rows kept: 2 (24 monthly lake rows), quarantined: 0" in out.out
    assert "[1/1] 2019 export" in out.err
    assert cli_main(["fetch", "japan", "--year", "2019", "--direction", "import", "--via", "file"]) == 1
    assert "HTTP 404" in capsys.readouterr().err
    assert (
        cli_main(
            ["fetch", "japan", "--year", "2019", "--direction", "import", "--via", "file", "--hs", "2811"]
        )
        == 1
    )
    assert "--hs, --partner and --stats-data-id are for --via estat" in capsys.readouterr().err


def _parse_csv(home: Any, rows: list[str], fetched_at: datetime | None = None) -> parse.ParseResult:
    entry, _ = land(
        home,
        source="japan",
        dataset="trade",
        partition="year=2019/direction=export",
        stem="t",
        content=make_csv(rows),
        params={"year": "2019", "direction": "export"},
        suffix=".csv",
        fetched_at=fetched_at,
    )
    return parse.parse_landed(home, entry)


def _wide(country: str, months: list[tuple[str, str, str]]) -> str:
    """A 2019 export row of HF with explicit (Quantity1, Quantity2, Value) cells per month ("" = empty)."""
    totals = [str(sum(int(m[i] or 0) for m in months)) for i in range(3)]
    return ",".join(["1", "2019", "281111000", country, "", "KG", *totals, *(c for m in months for c in m)])


def test_a_reported_zero_is_a_row_and_an_empty_month_is_absent(home: Any) -> None:
    # GIVEN Korea with a reported 0 in August, and China whose March cells are all empty
    korea = _wide("103", [("0", "4", "9")] * 7 + [("0", "0", "0")] + [("0", "4", "9")] * 4)
    china = _wide("105", [("0", "2", "4")] * 2 + [("", "", "")] + [("0", "2", "4")] * 9)
    result = _parse_csv(home, [korea, china])
    # THEN both rows are kept; Korea has 12 months (August = 0), China 11 (no March row)
    assert (result.rows_kept, result.rows_quarantined, result.long_rows) == (2, 0, 23)
    df = pl.read_parquet(result.lake_file)
    korea_aug = df.filter((pl.col("country_code") == "103") & (pl.col("period") == "201908"))
    assert korea_aug.select("value_thousand_jpy", "quantity2").row(0) == (0, 0.0)
    assert "201903" not in df.filter(pl.col("country_code") == "105")["period"].to_list()


def test_months_after_the_last_non_zero_month_are_not_published_yet(home: Any) -> None:
    # GIVEN a table released through May: June to December hold 0 in every row
    zero = ("0", "0", "0")
    rows = [
        _wide("103", [("0", "1", "5"), zero, ("0", "1", "5"), ("0", "1", "5"), ("0", "1", "5")] + [zero] * 7),
        _wide("105", [zero] * 4 + [("0", "1", "3")] + [zero] * 7),
    ]
    result = _parse_csv(home, rows, fetched_at=datetime(2019, 7, 10, tzinfo=UTC))
    # THEN only January-May are rows (February's 0 for Korea is a reported zero); 2 × 7 months unpublished
    assert (result.long_rows, result.months_unpublished) == (10, 14)
    df = pl.read_parquet(result.lake_file)
    assert sorted(set(df["period"])) == [f"20190{m}" for m in range(1, 6)]
    assert df.filter(pl.col("country_code") == "103").sort("period")["value_thousand_jpy"].to_list() == [
        5,
        0,
        5,
        5,
        5,
    ]


def test_trailing_zero_months_of_a_past_year_are_reported_zeros(home: Any) -> None:
    # GIVEN the same figures fetched in March 2020, when every 2019 month had been released
    zero = ("0", "0", "0")
    rows = [_wide("105", [zero] * 4 + [("0", "1", "3")] + [zero] * 7)]
    result = _parse_csv(home, rows, fetched_at=datetime(2020, 3, 2, tzinfo=UTC))
    # THEN the zeros after May are data: 12 rows, none left out
    assert (result.long_rows, result.months_unpublished) == (12, 0)


def test_a_quantity_without_a_value_is_quarantined(home: Any) -> None:
    bad = _wide("103", [("0", "2", "")] + [("0", "2", "4")] * 11)
    result = _parse_csv(home, [_wide("105", [("0", "2", "4")] * 12), bad])
    assert (result.rows_kept, result.rows_quarantined) == (1, 1)
    assert (
        pl.read_parquet(result.quarantine_file)["reason"][0]
        == "Value-Jan is empty but a quantity of Jan is reported"
    )
