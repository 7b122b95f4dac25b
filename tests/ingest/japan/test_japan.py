"""Japan MOF downloads and parsing: encodings, HTML, 404/429, wide → long, controls, quarantine."""

from __future__ import annotations

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
    # THEN 2 wide rows become 2 + 12 long rows; the quoted HS is unquoted, HS6 derived
    assert (result.rows_in, result.rows_kept, result.rows_quarantined, result.long_rows) == (2, 2, 0, 14)
    df = pl.read_parquet(result.lake_file)
    assert df.schema == parse.LAKE_SCHEMA
    korea = df.filter(pl.col("country_code") == "103").sort("period")
    assert korea["period"].to_list() == ["201907", "201908"]
    assert korea["value_thousand_jpy"].to_list() == [123_456, 7_000]
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
    assert cli_main(["fetch", "japan", "--year", "2019", "--direction", "export"]) == 0
    out = capsys.readouterr()
    assert "CSV rows kept: 2 (14 monthly lake rows), quarantined: 0" in out.out
    assert "[1/1] 2019 export" in out.err
    assert cli_main(["fetch", "japan", "--year", "2019", "--direction", "import"]) == 1
    assert "HTTP 404" in capsys.readouterr().err
