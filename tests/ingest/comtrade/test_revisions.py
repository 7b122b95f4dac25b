"""Revisions: availability (datasetChecksum, lastReleased) decides what is re-fetched; the lake keeps
every vintage, so the latest equals the server now and the earlier vintage equals what it was."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import polars as pl
import pytest

from ingest.comtrade.fetch import fetch_records
from ingest.comtrade.planner import Query, parse_periods
from ingest.config import Paths
from tests.fakes.comtrade_records import lake_rows, make_dataset, server_rows
from tests.fakes.comtrade_server import FakeComtrade

PERIODS = parse_periods("201901-201912", "M")
QUERY = Query(
    reporters=(410, 392),
    periods=PERIODS,
    partners=(392, 410, 0),
    cmd_codes=("281111", "370790"),
    flows=("M", "X"),
)


@pytest.fixture
def server() -> Iterator[FakeComtrade]:
    with FakeComtrade(
        make_dataset([410, 392], [392, 410, 0], PERIODS, ["281111", "370790"], breakdowns=False)
    ) as f:
        yield f


def _data_calls(server: FakeComtrade) -> list[Any]:
    return [r for r in server.log if r.path.startswith("/data/v1/get/")]


def test_revision_refetches_only_the_revised_reporter_period(
    home: Paths, server: FakeComtrade, make_client: Callable[..., Any]
) -> None:
    fetch_records(home, QUERY, make_client(server.url))
    before = server_rows(server.records)
    assert lake_rows(home.lake) == before
    n_before = len(_data_calls(server))

    revised = server.revise(410, "201907", factor=1.5)
    assert revised == 12
    summary = fetch_records(home, QUERY, make_client(server.url))

    new_calls = _data_calls(server)[n_before:]
    assert [(c.params["reporterCode"], c.params["period"]) for c in new_calls] == [("410", "201907")]
    assert (summary.calls_made, summary.files_landed, summary.rows_kept) == (1, 1, 12)
    # the lake keeps both vintages: latest per key = the server now; all rows = old + the 12 revised
    assert lake_rows(home.lake, latest_only=True) == server_rows(server.records)
    all_rows = lake_rows(home.lake)
    assert len(all_rows) == len(before) + 12
    assert set(before) <= set(all_rows)
    part = home.lake / "comtrade/records/freq=M/year=2019/reporter=410"
    assert len(list(part.glob("vintage=*.parquet"))) == 2
    assert len(list((home.lake / "comtrade/records/freq=M/year=2019/reporter=392").glob("*.parquet"))) == 1

    # a third run finds nothing changed and calls nothing
    third = fetch_records(home, QUERY, make_client(server.url))
    assert third.calls_made == 0 and len(_data_calls(server)) == n_before + 1


def test_earlier_vintage_is_the_table_as_first_published(
    home: Paths, server: FakeComtrade, make_client: Callable[..., Any]
) -> None:
    fetch_records(home, QUERY, make_client(server.url))
    old = {r[:8]: r[8] for r in server_rows(server.records) if r[0] == 410 and r[3] == "201907"}
    server.revise(410, "201907", factor=2.0)
    fetch_records(home, QUERY, make_client(server.url))
    df = (
        pl.scan_parquet(home.lake / "comtrade/records/**/*.parquet")
        .collect()
        .filter((pl.col("reporter_code") == 410) & (pl.col("period") == "201907"))
    )
    vintages = df.group_by("vintage").agg(pl.col("primary_value").sum())
    assert vintages.height == 2
    first, second = sorted(vintages["primary_value"].to_list())
    assert first == pytest.approx(sum(old.values()))  # the vintage as first published
    assert second == pytest.approx(2 * sum(old.values()), rel=1e-6)  # the revision


def test_second_revision_of_the_same_period_is_picked_up(
    home: Paths, server: FakeComtrade, make_client: Callable[..., Any]
) -> None:
    fetch_records(home, QUERY, make_client(server.url))
    server.revise(392, "201903", factor=1.2, released="2021-01-01T00:00:00")
    fetch_records(home, QUERY, make_client(server.url))
    server.revise(392, "201903", factor=1.2, released="2022-01-01T00:00:00")
    summary = fetch_records(home, QUERY, make_client(server.url))
    assert summary.calls_made == 1
    assert lake_rows(home.lake, latest_only=True) == server_rows(server.records)


def test_without_availability_a_rerun_only_resumes(
    home: Paths, server: FakeComtrade, make_client: Callable[..., Any]
) -> None:
    fetch_records(home, QUERY, make_client(server.url), check_availability=False)
    server.revise(410, "201907")
    summary = fetch_records(home, QUERY, make_client(server.url), check_availability=False)
    assert summary.calls_made == 0 and summary.calls_skipped == 2
