"""Japan MOF through the e-Stat API 3.0: paging, STATUS codes, retries, key masking, zeros, lake rows."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterator
from datetime import datetime, tzinfo

import polars as pl
import pytest

from ingest.config import Paths
from ingest.http import RetryPolicy
from ingest.japan import parse
from ingest.japan.estat import (
    EstatAuthError,
    EstatClient,
    EstatError,
    EstatUnavailableError,
    plan_queries,
    stats_data_id_for,
)
from ingest.japan.estat_fetch import fetch_estat, land_estat, parse_landed_fetches
from ingest.landing import read_manifest
from orchestration.cli import main as cli_main
from tests.fakes import estat_server
from tests.fakes.estat_server import line_cells

EXPORTS_2016_20 = "0003313965"
EXPORTS_2021_25 = "0003425293"
# Korea, 2019: hydrogen fluoride collapses in July; August is a REPORTED zero.
KOREA_HF = [5000, 5200, 4800, 5100, 4900, 5300, 1200, 0, 300, 400, 500, 600]
TAIWAN_HF = [100, 100, "-", 100, 100, 100, 100, 100, 100, 100, 100, 100]  # March: no figure ("-")
CHINA_MEM = [70, 71, 72, 73, 74, 75, 76, 77, 78, 79, 80, 81]


def _app_id() -> str:
    return os.environ["ESTAT_APP_ID"]  # the session canary (tests/conftest.py): must never leak


@pytest.fixture
def estat_state() -> estat_server.EstatState:
    cells_2019 = (
        line_cells("281111000", "50103", 2019, KOREA_HF)
        + line_cells("281111000", "50106", 2019, TAIWAN_HF)
        + line_cells("854232100", "50105", 2019, CHINA_MEM)
        + line_cells("854232100", "50304", 2019, [10] * 12, year_total=121)  # total ≠ sum of months
        + line_cells("854232100", "50999", 2019, [1] * 12)  # 999: not a MOF country code
        + line_cells("381800100", "50103", 2019, [9] * 12)  # not in the scope
    )
    # 2025 released through July: e-Stat fills August to December with 0 (not yet published)
    cells_2025 = line_cells("281111000", "50103", 2025, [40, 41, 42, 43, 44, 45, 46, 0, 0, 0, 0, 0])
    return estat_server.EstatState(
        app_id=_app_id(),
        tables={
            EXPORTS_2016_20: cells_2019 + line_cells("281111000", "50103", 2020, [7] * 12),
            EXPORTS_2021_25: cells_2025,
        },
    )


@pytest.fixture
def estat_url(estat_state: estat_server.EstatState) -> Iterator[str]:
    with estat_server.FakeEstat(estat_state) as fake:
        yield fake.url


def _client(url: str, app_id: str | None = None, limit: int = 50) -> EstatClient:
    return EstatClient(
        app_id or _app_id(),
        url,
        limit=limit,
        min_interval=0,
        timeout=(2, 5),
        sleep=lambda s: None,
        retry=RetryPolicy(max_attempts=3, base_delay=0.01, max_delay=0.05, max_total_wait=5),
    )


def test_table_ids_by_year_and_direction() -> None:
    assert stats_data_id_for(2019, "export") == "0003313965"
    assert stats_data_id_for(2016, "import") == "0003313966"
    assert stats_data_id_for(2021, "export") == "0003425293"
    assert stats_data_id_for(2025, "import") == "0003425294"
    with pytest.raises(EstatError, match="no e-Stat 品別国別表 id is known for import 1999"):
        stats_data_id_for(1999, "import")


def test_queries_are_batched_by_100_codes_and_100_partners() -> None:
    hs9 = [f"{854232000 + i}" for i in range(150)]
    partners = [f"{100 + i:03d}" for i in range(120)]
    queries = plan_queries("0003313965", 2019, ["281111", "3818", *hs9], partners)
    assert len(queries) == (2 + 2) * 2
    first = queries[0].params()
    assert first == {
        "statsDataId": "0003313965",
        "cdTime": "2019000000",
        "cdCat01From": "281111000",
        "cdCat01To": "281111999",
        "cdArea": ",".join(f"50{p}" for p in partners[:100]),
    }
    assert queries[2].params()["cdCat01From"] == "381800000"
    assert [len(q.hs9) for q in queries[4:]] == [100, 100, 50, 50]
    with pytest.raises(EstatError, match=r"partners \['KR'\] are not 3-digit MOF country codes"):
        plan_queries("0003313965", 2019, ["281111"], ["KR"])


def test_fetch_pages_lands_and_parses_exact_values(
    store: Paths, estat_url: str, estat_state: estat_server.EstatState
) -> None:
    # GIVEN HF and memories in scope, five partners, and pages of 50 cells (one line = 41 cells)
    with _client(estat_url) as client:
        s = fetch_estat(
            store, 2019, "export", ["281111", "854232"], ["103", "105", "106", "304", "999"], client
        )
    # THEN two queries (one per HS6 prefix), 2 + 3 pages, NEXT_KEY followed from 51 and 101
    assert (s.stats_data_id, s.queries, len(s.files), s.files_new, s.no_data_queries) == (
        EXPORTS_2016_20,
        2,
        5,
        5,
        0,
    )
    asked = [(r.get("cdCat01From"), r.get("startPosition")) for r in estat_state.requests]
    assert asked == [
        ("281111000", None),
        ("281111000", "51"),
        ("854232000", None),
        ("854232000", "51"),
        ("854232000", "101"),
    ]
    assert {r["cdTime"] for r in estat_state.requests} == {"2019000000"}
    assert {r["cdArea"] for r in estat_state.requests} == {"50103,50105,50106,50304,50999"}
    # AND 5 lines in = 3 kept + 2 quarantined (bad year total, unknown country)
    p = s.parsed
    assert (p.cells_in, p.lines_in, p.lines_kept, p.lines_quarantined) == (5 * 41, 5, 3, 2)
    assert (p.long_rows, p.months_absent, p.months_unpublished, p.published_through) == (35, 1, 0, 12)
    df = pl.read_parquet(p.lake_file)
    assert df.schema == parse.LAKE_SCHEMA
    assert str(p.lake_file).endswith(
        f"lake/japan/trade/year=2019/direction=export/vintage={p.vintage[:16]}.parquet"
    )
    korea = df.filter(pl.col("country_code") == "103").sort("period")
    assert korea["value_thousand_jpy"].to_list() == KOREA_HF  # August's reported 0 is a row
    assert korea.filter(pl.col("period") == "201908").select("quantity2", "unit1", "unit2").row(0) == (
        0.0,
        None,
        "KG",
    )
    assert korea.filter(pl.col("period") == "201907")["quantity2"].item() == 600.0
    taiwan = df.filter(pl.col("country_code") == "106")
    assert "201903" not in taiwan["period"].to_list() and taiwan.height == 11  # "-" is absence
    china = df.filter(pl.col("country_code") == "105").sort("period")
    assert china["value_thousand_jpy"].to_list() == CHINA_MEM and set(china["hs6"]) == {"854232"}
    assert (
        set(df["flow_code"]) == {"X"}
        and set(df["origin"]) == {"live"}
        and set(df["release"]) == {"as_published"}
    )
    assert (
        set(df["vintage"]) == {p.vintage}
        and df["source_file"].str.starts_with("japan/estat/year=2019/").all()
    )
    # lineage: source_file / source_row point at the value cell in the landed page
    row = korea.filter(pl.col("period") == "201907").row(0, named=True)
    page = json.loads((store.landing / row["source_file"]).read_bytes())
    cell = page["GET_STATS_DATA"]["STATISTICAL_DATA"]["DATA_INF"]["VALUE"][row["source_row"] - 1]
    assert (cell["@cat01"], cell["@area"], cell["@cat02"], cell["$"]) == ("281111000", "50103", "350", "1200")
    reasons = sorted(pl.read_parquet(p.quarantine_file)["reason"].to_list())
    assert reasons == [
        "@cat01 854232100 @area 50304: year value (cat02 140) 121 is not the sum of the months (120)",
        "@cat01 854232100 @area 50999: country 999 is not in the japan_customs_country_codes seed",
    ]


class _August2025(datetime):
    """The clock of a fetch made on 20 August 2025 (landing stamps fetched_at with it)."""

    @classmethod
    def now(cls, tz: tzinfo | None = None) -> datetime:  # noqa: D102
        return datetime(2025, 8, 20, tzinfo=tz)


def test_months_after_the_last_published_month_are_not_zeros(
    store: Paths, estat_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN the 2025 table released through July (August-December filled with 0 by e-Stat), fetched in August 2025
    monkeypatch.setattr("ingest.landing.datetime", _August2025)
    with _client(estat_url) as client:
        s = fetch_estat(store, 2025, "export", ["281111000"], ["103"], client)
    p = s.parsed
    assert (p.lines_kept, p.long_rows, p.published_through, p.months_unpublished) == (1, 7, 7, 5)
    df = pl.read_parquet(p.lake_file).sort("period")
    assert df["period"].to_list() == [f"20250{m}" for m in range(1, 8)]
    assert df["value_thousand_jpy"].to_list() == [40, 41, 42, 43, 44, 45, 46]


def test_no_data_is_status_1_and_an_empty_lake_file(store: Paths, estat_url: str) -> None:
    with _client(estat_url) as client:
        s = fetch_estat(store, 2019, "export", ["290000"], ["103"], client)
    assert (s.no_data_queries, len(s.files), s.parsed.lines_in, s.parsed.long_rows) == (1, 1, 0, 0)
    assert pl.read_parquet(s.lake_file).schema == parse.LAKE_SCHEMA
    [entry] = list(read_manifest(store, source="japan", dataset="estat"))
    assert entry.params["estat_status"] == "1" and entry.origin == "live"


def test_a_second_identical_fetch_lands_nothing_new(store: Paths, estat_url: str) -> None:
    with _client(estat_url) as client:
        first = fetch_estat(store, 2019, "export", ["281111"], ["103"], client)
        again = fetch_estat(store, 2019, "export", ["281111"], ["103"], client)
    assert (first.files_new, again.files_new, again.parsed.skipped) == (1, 0, True)
    # AND the landed pages alone rebuild the same lake file (no network)
    first.lake_file.unlink()
    [rebuilt] = parse_landed_fetches(store)
    assert (rebuilt.vintage, rebuilt.lines_kept, rebuilt.long_rows) == (first.parsed.vintage, 1, 12)
    assert rebuilt.lake_file == first.lake_file and rebuilt.lake_file.exists()
    assert again.parsed.vintage == first.parsed.vintage
    assert (again.parsed.lines_kept, again.parsed.lines_quarantined, again.parsed.long_rows) == (1, 0, 12)


def test_land_estat_lands_only_and_the_lake_step_parses_the_fetch(store: Paths, estat_url: str) -> None:
    # GIVEN Korea's and Taiwan's HF in scope; WHEN the pages are landed only (what the Dagster assets run)
    with _client(estat_url) as client:
        landing = land_estat(store, 2019, "export", ["281111"], ["103", "106"], client)
    # THEN the pages are landed with their scope, and nothing is in the lake
    assert (landing.queries, len(landing.files), landing.files_new) == (1, 2, 2)  # 82 cells, 50 a page
    assert (landing.hs_scope, landing.partners) == (("281111",), ("103", "106"))
    assert not (store.lake / "japan").exists()
    # WHEN the lake asset's step parses what landed; THEN both lines are kept, August's reported 0 a row
    [parsed] = parse_landed_fetches(store)
    assert (parsed.skipped, parsed.lines_in, parsed.lines_kept, parsed.lines_quarantined) == (False, 2, 2, 0)
    df = pl.read_parquet(parsed.lake_file)
    korea = df.filter(pl.col("country_code") == "103").sort("period")
    assert korea["value_thousand_jpy"].to_list() == KOREA_HF
    assert parsed.long_rows == 12 + 11  # Taiwan's March has no figure: no row


@pytest.mark.parametrize("http_status", [403, 200], ids=["http-403", "http-200"])
def test_an_invalid_app_id_is_status_100_and_never_echoed(
    store: Paths, estat_url: str, estat_state: estat_server.EstatState, http_status: int
) -> None:
    estat_state.auth_http_status = http_status
    wrong = "wrong-app-id-0123456789"
    with _client(estat_url, app_id=wrong) as client, pytest.raises(EstatAuthError) as err:
        fetch_estat(store, 2019, "export", ["281111"], ["103"], client)
    assert "STATUS 100: 認証に失敗しました。" in str(err.value) and "check ESTAT_APP_ID" in str(err.value)
    assert wrong not in str(err.value)
    assert list(read_manifest(store)) == []  # nothing landed


def test_an_unknown_table_is_a_clear_status_error(store: Paths, estat_url: str) -> None:
    with (
        _client(estat_url) as client,
        pytest.raises(EstatError, match="STATUS 102: 指定されたデータが存在しません"),
    ):
        fetch_estat(store, 2019, "export", ["281111"], ["103"], client, stats_data_id="0000000000")


def test_429_then_503_are_retried_and_html_is_exhausted(
    store: Paths, estat_url: str, estat_state: estat_server.EstatState
) -> None:
    estat_state.faults = ["429", "503"]
    with _client(estat_url) as client:
        query = plan_queries(EXPORTS_2016_20, 2019, ["281111"], ["103"])[0]
        assert client.get_page(query).attempts == 3
        estat_state.faults = ["html"] * 3
        with pytest.raises(EstatUnavailableError, match="HTML page") as err:
            client.get_page(query)
    assert _app_id() not in str(err.value)


def test_the_app_id_is_sent_but_never_logged_or_landed(
    store: Paths, estat_url: str, estat_state: estat_server.EstatState, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    estat_state.faults = ["503"]  # a retry warning is logged too
    estat_state.echo_app_id = True  # a server echoing the appId in PARAMETER: masked before landing
    with _client(estat_url) as client:
        fetch_estat(store, 2019, "export", ["281111"], ["103"], client)
    assert all(f"appId={_app_id()}" in q for q in estat_state.raw_queries)
    assert "getStatsData?appId=***" in caplog.text  # urllib3's debug line, masked
    assert _app_id() not in caplog.text
    for entry in read_manifest(store):
        assert "appId" not in entry.params
        assert _app_id().encode() not in entry.absolute(store).read_bytes()
    assert _app_id() not in store.manifest.read_text()


def test_from_env_is_none_without_a_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ESTAT_APP_ID")
    assert EstatClient.from_env() is None
    monkeypatch.setenv("ESTAT_APP_ID", "  ")
    assert EstatClient.from_env() is None
    monkeypatch.setenv("ESTAT_APP_ID", "some-id")
    monkeypatch.setenv("ESTAT_BASE_URL", "http://127.0.0.1:9/rest/3.0/app/json/")
    with EstatClient.from_env() as client:  # type: ignore[union-attr]
        assert client.base_url == "http://127.0.0.1:9/rest/3.0/app/json"


def test_cli_fetch_japan_via_estat(
    store: Paths, estat_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ESTAT_BASE_URL", estat_url)
    argv = [
        "fetch",
        "japan",
        "--year",
        "2019",
        "--direction",
        "export",
        "--hs",
        "281111",
        "--partner",
        "103,106",
    ]
    assert cli_main(argv) == 0  # ESTAT_APP_ID is set: --via estat is the default
    out = capsys.readouterr()
    assert "HS9 × partner lines kept: 2 (23 monthly lake rows), quarantined: 0" in out.out
    assert "[1/1] 2019 export: e-Stat 0003313965, 1 queries, 1 pages (1 new)" in out.err
    monkeypatch.delenv("ESTAT_APP_ID")
    assert cli_main([*argv, "--via", "estat"]) == 1
    assert "--via estat needs an e-Stat application ID in ESTAT_APP_ID" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("declared", "kept", "long_rows", "reason"),
    [(True, 1, 11, None), (False, 0, 0, "@cat02 190 (quantity2) '#' is not a non-negative number")],
    ids=["mark-declared-in-note", "undeclared-mark"],
)
def test_a_special_character_is_absence_only_when_the_page_declares_it(
    store: Paths,
    estat_url: str,
    estat_state: estat_server.EstatState,
    declared: bool,
    kept: int,
    long_rows: int,
    reason: str | None,
) -> None:
    # GIVEN a line whose February value and quantity are "#"
    values: list[int | str] = [3, "#", *[3] * 10]
    estat_state.tables["0000000001"] = line_cells(
        "281111000", "50103", 2019, values, quantity2=[1, "#", *[1] * 10]
    )
    if declared:
        estat_state.notes.append({"@char": "#", "$": "秘匿"})
    with _client(estat_url) as client:
        s = fetch_estat(store, 2019, "export", ["281111"], ["103"], client, stats_data_id="0000000001")
    assert (s.parsed.lines_kept, s.parsed.long_rows) == (kept, long_rows)
    if reason:
        assert pl.read_parquet(s.parsed.quarantine_file)["reason"][0].endswith(reason)
    else:
        df = pl.read_parquet(s.lake_file)
        assert "201902" not in df["period"].to_list() and s.parsed.months_absent == 1
