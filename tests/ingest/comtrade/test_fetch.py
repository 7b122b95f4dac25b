"""Running plans end to end against the fake server: the lake must equal what the server holds
(no row lost, none duplicated) through caps, 429s, 5xx bursts, bad bodies, quota stops and resumes."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from ingest.comtrade.client import ComtradeAuthError
from ingest.comtrade.fetch import FetchProgress, FetchState, fetch_records, land_records
from ingest.comtrade.parse import parse_landed
from ingest.comtrade.planner import Query, parse_periods
from ingest.config import Paths
from ingest.landing import read_manifest
from tests.fakes.comtrade_records import lake_rows, make_dataset, server_rows
from tests.fakes.comtrade_server import API_KEY, FakeComtrade, Fault

PARTNERS = [392, 156, 0]
CMDS = ["281111", "370790", "854232"]
PERIODS = parse_periods("201901-201912", "M")


@pytest.fixture
def server() -> Iterator[FakeComtrade]:
    with FakeComtrade(make_dataset([410, 392], PARTNERS, PERIODS, CMDS)) as fake:
        yield fake


def _query(**kw: Any) -> Query:
    base = dict(
        reporters=(410,), periods=PERIODS, partners=(392, 156, 0), cmd_codes=tuple(CMDS), flows=("M", "X")
    )
    return Query(**(base | kw))


def _expected(server: FakeComtrade, reporters: tuple[int, ...] = (410,)) -> list[tuple[Any, ...]]:
    """What the server holds for the query, breakdown totals only (partner2 0, mot 0, customs C00)."""
    return server_rows(
        r
        for r in server.records
        if r["reporterCode"] in reporters
        and r["partner2Code"] == 0
        and r["motCode"] == 0
        and r["customsCode"] == "C00"
    )


def _data_calls(server: FakeComtrade) -> list[Any]:
    return [r for r in server.log if "/v1/get/" in r.path or "/preview/" in r.path]


def test_pull_lands_and_parses_exactly_what_the_server_holds(
    home: Paths, server: FakeComtrade, make_client: Callable[..., Any]
) -> None:
    events: list[FetchProgress] = []
    summary = fetch_records(home, _query(), make_client(server.url), progress=events.append)
    expected = _expected(server)
    assert len(expected) == 12 * 3 * 3 * 2
    assert lake_rows(home.lake) == expected  # breakdown rows (double counting) excluded, nothing lost
    assert (summary.calls_planned, summary.calls_made, summary.calls_skipped) == (1, 1, 0)
    assert (summary.rows_landed, summary.rows_kept, summary.rows_quarantined) == (216, 216, 0)
    assert summary.complete and not summary.preview
    assert [e.status for e in events] == ["fetched"] and events[0].rows == 216
    (entry,) = list(read_manifest(home, source="comtrade", dataset="records"))
    assert entry.partition == "freq=M/year=2019/reporter=410"
    assert entry.origin == "live" and entry.params["customsCode"] == "C00"
    assert (
        home.lake / "comtrade/records/freq=M/year=2019/reporter=410" / f"vintage={entry.sha256[:16]}.parquet"
    ).exists()


def test_world_and_aggregate_rows_are_kept_and_flagged(
    home: Paths, server: FakeComtrade, make_client: Callable[..., Any]
) -> None:
    fetch_records(home, _query(), make_client(server.url))
    df = pl.scan_parquet(home.lake / "comtrade/records/**/*.parquet").collect()
    world = df.filter(pl.col("partner_code") == 0)
    assert world.height == 72 and world["is_aggregate"].all()
    assert not df.filter(pl.col("partner_code") != 0)["is_aggregate"].any()


def test_rerun_skips_finished_calls(
    home: Paths, server: FakeComtrade, make_client: Callable[..., Any]
) -> None:
    fetch_records(home, _query(), make_client(server.url))
    again = fetch_records(home, _query(), make_client(server.url))
    assert (again.calls_made, again.calls_skipped, again.files_landed) == (0, 1, 0)
    assert len(_data_calls(server)) == 1
    assert lake_rows(home.lake) == _expected(server)


def test_response_at_the_cap_is_split_never_accepted(
    home: Paths, server: FakeComtrade, make_client: Callable[..., Any]
) -> None:
    server.cap = 50  # the service silently truncates at 50 records
    summary = fetch_records(
        home, _query(partners=None), make_client(server.url), cap=50, check_availability=False
    )
    assert summary.splits >= 3
    assert lake_rows(home.lake) == _expected(server)
    for entry in read_manifest(home, source="comtrade", dataset="records"):
        body = json.loads(entry.absolute(home).read_bytes())
        assert body["count"] < 50, entry.path  # no truncated response was ever landed
    # a rerun resumes from the split record without calling again
    calls = len(_data_calls(server))
    again = fetch_records(
        home, _query(partners=None), make_client(server.url), cap=50, check_availability=False
    )
    assert again.calls_made == 0 and len(_data_calls(server)) == calls


def test_land_records_splits_at_the_cap_from_the_response_and_writes_no_lake(
    home: Paths, server: FakeComtrade, make_client: Callable[..., Any]
) -> None:
    # GIVEN a service that silently truncates at 50 records
    server.cap = 50
    # WHEN the records are landed only (what the Dagster assets run)
    summary = land_records(
        home, _query(partners=None), make_client(server.url), cap=50, check_availability=False
    )
    # THEN the calls at the cap were split, decided from the responses' record counts, and nothing is in the lake
    assert summary.splits >= 3 and summary.complete and not summary.parsed
    assert not home.lake.exists()
    assert (summary.rows_kept, summary.rows_quarantined, summary.lake_files) == (0, 0, [])
    entries = list(read_manifest(home, source="comtrade", dataset="records"))
    counts = [json.loads(e.absolute(home).read_bytes())["count"] for e in entries]
    assert len(entries) == summary.files_landed and all(n < 50 for n in counts)
    assert summary.rows_landed == sum(counts) == len(_expected(server))
    assert summary.lines()[-1] == (
        f"rows: {summary.rows_landed} landed (not parsed yet: the lake asset comtrade/lake_records parses them)"
    )
    # AND the lake's parse step over what landed gives exactly what the server holds
    results = [parse_landed(home, e) for e in entries]
    assert sum(r.rows_kept for r in results) == summary.rows_landed
    assert lake_rows(home.lake) == _expected(server)
    # AND a rerun lands nothing new and calls nothing
    calls = len(_data_calls(server))
    again = land_records(
        home, _query(partners=None), make_client(server.url), cap=50, check_availability=False
    )
    assert (again.calls_made, again.files_landed, again.rows_landed) == (0, 0, 0)
    assert len(_data_calls(server)) == calls


@pytest.mark.parametrize(
    "faults",
    [
        pytest.param([Fault("429", times=2, retry_after=1), Fault("429-header", retry_after=2)], id="429s"),
        pytest.param([Fault("5xx", times=4)], id="5xx-burst"),
        pytest.param([Fault("truncated"), Fault("html")], id="truncated-and-html-200"),
        pytest.param([Fault("reset"), Fault("slow", delay=2.0)], id="dropped-and-slow"),
    ],
)
def test_transient_failures_lose_and_duplicate_nothing(
    home: Paths, server: FakeComtrade, make_client: Callable[..., Any], faults: list[Fault]
) -> None:
    server.faults.extend(faults)
    query = _query(reporters=(410, 392))
    summary = fetch_records(home, query, make_client(server.url, timeout=(1.0, 1.0)))
    assert summary.complete
    assert summary.rows_quarantined == 0  # no error body was landed as data
    assert lake_rows(home.lake) == _expected(server, (410, 392))
    assert all(f.times == 0 for f in server.faults)


def test_quota_stop_then_resume(home: Paths, server: FakeComtrade, make_client: Callable[..., Any]) -> None:
    query = _query(reporters=(410, 392), periods=parse_periods("201901-201912", "M"))
    server.cap = 100
    server.quota_after = 3
    first = fetch_records(home, query, make_client(server.url), cap=100)
    assert not first.complete and "replenished in 5:43:21" in (first.stopped or "")
    landed_first = lake_rows(home.lake)
    assert 0 < len(landed_first) < len(_expected(server, (410, 392)))
    assert len(set(landed_first)) == len(landed_first)
    # the next day: quota replenished, the same command resumes
    server.quota_after = None
    before = len(_data_calls(server))
    second = fetch_records(home, query, make_client(server.url), cap=100)
    assert second.complete
    assert second.calls_skipped >= 1
    assert lake_rows(home.lake) == _expected(server, (410, 392))
    assert len(_data_calls(server)) - before == second.calls_made
    assert first.calls_made + second.calls_made == first.calls_planned  # nothing fetched twice


def test_invalid_key_stops_before_anything_is_landed(
    home: Paths, server: FakeComtrade, make_client: Callable[..., Any]
) -> None:
    with pytest.raises(ComtradeAuthError, match="401"):
        fetch_records(home, _query(), make_client(server.url, api_key="not-the-key"))
    assert lake_rows(home.lake) == []
    assert list(read_manifest(home)) == []


def test_preview_without_key_splits_to_500_records(home: Paths, make_client: Callable[..., Any]) -> None:
    cmds = [f"8542{n:02d}" for n in range(31, 40)]
    records = make_dataset([410], list(range(1, 12)), PERIODS, cmds, breakdowns=False)
    with FakeComtrade(records) as fake:
        summary = fetch_records(
            home,
            _query(partners=tuple(range(1, 12)), cmd_codes=tuple(cmds)),
            make_client(fake.url, api_key=None),
        )
        assert summary.preview
        assert all(not r.had_key for r in fake.log)
        assert all(int(r.params["maxRecords"]) <= 500 for r in _data_calls(fake))
        assert lake_rows(home.lake) == server_rows(records)
        assert summary.calls_made == len(_data_calls(fake)) > len(records) // 500


def test_key_never_written_to_any_file(
    home: Paths, server: FakeComtrade, make_client: Callable[..., Any]
) -> None:
    server.faults.append(Fault("invalid-key", prefix="/data/v1/getDa/"))
    with pytest.raises(ComtradeAuthError):
        fetch_records(home, _query(), make_client(server.url))
    fetch_records(home, _query(), make_client(server.url))
    files = [p for p in Path(home.home).rglob("*") if p.is_file()]
    assert len(files) >= 3
    for p in files:
        assert API_KEY.encode() not in p.read_bytes(), p


def test_state_file_is_json_keyed_by_call_hash(
    home: Paths, server: FakeComtrade, make_client: Callable[..., Any]
) -> None:
    fetch_records(home, _query(), make_client(server.url))
    state = FetchState(home, "records")
    assert state.path == home.landing / "comtrade" / "_state" / "records.json"
    ((key, entry),) = state.entries.items()
    assert len(key) == 64 and entry["partition"] == "freq=M/year=2019/reporter=410"
    assert set(entry["periods"]) == set(PERIODS) and all(v for v in entry["periods"].values())


def test_recorded_response_through_the_whole_path(
    home: Paths, comtrade_fixtures: Path, make_client: Callable[..., Any]
) -> None:
    recorded = json.loads((comtrade_fixtures / "data_v1_get_C_A_HS_chn_2010_total.json").read_text())
    with FakeComtrade(recorded["data"]) as fake:
        query = Query(
            reporters=(156,),
            periods=("2010",),
            partners=(32, 280, 276),
            cmd_codes=("TOTAL",),
            freq="A",
            flows=None,
        )
        summary = fetch_records(home, query, make_client(fake.url))
    assert summary.rows_kept == 4 and summary.rows_quarantined == 0
    df = pl.scan_parquet(home.lake / "comtrade/records/**/*.parquet").collect().sort("primary_value")
    assert df["primary_value"].to_list() == sorted(r["primaryValue"] for r in recorded["data"])
    assert df["reporter_code"].unique().to_list() == [156]
    assert (home.lake / "comtrade/records/freq=A/year=2010/reporter=156").is_dir()


def test_service_cap_below_the_configured_plan_is_still_detected(
    home: Paths, make_client: Callable[..., Any]
) -> None:
    # a free key used with plan=premium: the service truncates at 100,000 (here the preview's 500)
    records = make_dataset([410], list(range(1, 30)), PERIODS, CMDS, breakdowns=False)
    with FakeComtrade(records, cap=500) as fake:
        summary = fetch_records(
            home, _query(partners=None), make_client(fake.url), plan="premium", check_availability=False
        )
    assert summary.splits >= 1
    assert lake_rows(home.lake) == server_rows(records)
