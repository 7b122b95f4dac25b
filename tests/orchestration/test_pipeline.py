"""End to end: every asset materialized into a temporary SEMITRADE_HOME, then checks on the marts.

The home is the session's published build (tests/published.py: `published_build`): a slice of the
sample (Korea, Japan, China; monthly 2018–2020; annual years on both sides of the HS2007 break and
2018–2020; Korea's and Japan's annual series 2005–2024) and three bad files, through the real landing,
parser, quality gate, `dbt build` (models and their tests) and publication.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import duckdb
import polars as pl
import pytest

from ingest.config import Paths
from ingest.quality.verdict import read_blocklist
from ingest.reference import hs_version_for_year
from orchestration.cli import main as cli_main
from tests.published import BAD_REPORTERS, LONG_SERIES, SAMPLE_PARTITIONS, SHARED_SCOPE, Build

SCOPE = SHARED_SCOPE


@pytest.fixture(scope="module")
def built(published_build: Build) -> tuple[Paths, dg.ExecuteInProcessResult]:
    """The shared published home and the result of the main job that built it (read-only)."""
    return published_build.store, published_build.result


@pytest.fixture(scope="module")
def con(built: tuple[Paths, dg.ExecuteInProcessResult]) -> Iterator[duckdb.DuckDBPyConnection]:
    store, _ = built
    with duckdb.connect(str(store.serving_db), read_only=True) as connection:
        yield connection


def test_the_main_job_succeeds_with_all_dbt_tests(
    built: tuple[Paths, dg.ExecuteInProcessResult], con: duckdb.DuckDBPyConnection
) -> None:
    _, result = built
    assert result.success
    checks = [e for e in result.all_events if e.event_type_value == "ASSET_CHECK_EVALUATION"]
    assert len(checks) >= 20
    # every check passed but the Comtrade gate, which blocked the bad file landed to be blocked
    # (tests/quality/test_pipeline_quality.py)
    failed = [e.event_specific_data for e in checks if not e.event_specific_data.passed]
    assert [(c.check_name, c.asset_key.to_user_string()) for c in failed] == [
        ("quality_gate", "comtrade/lake_records")
    ]
    lake_meta = result.asset_materializations_for_node("comtrade__lake_records")[0].metadata
    reporters, monthly, annual = (len(SCOPE[k]) for k in ("reporters", "monthly_years", "annual_years"))
    # one file per reporter × (monthly years + annual years), Korea's and Japan's annual years outside
    # the scope, and the three bad files
    long_series = len(LONG_SERIES.reporters) * len(set(LONG_SERIES.annual_years) - set(SCOPE["annual_years"]))
    assert len(SAMPLE_PARTITIONS) == reporters * (monthly + annual) + long_series == 3 * (3 + 5) + 2 * 15
    assert lake_meta["files_parsed"].value == len(SAMPLE_PARTITIONS) + len(BAD_REPORTERS)
    # the quarantined rows are those of the bad files (a negative value, an empty file): none of the sample
    quarantined = con.execute("select count(*), count(distinct source_file) from fct_quarantine").fetchone()
    assert lake_meta["rows_quarantined"].value == quarantined[0] == 2 and quarantined[1] == 2
    assert lake_meta["rows_kept"].value == lake_meta["rows_in"].value - lake_meta["rows_quarantined"].value


def test_fact_rows_equal_the_lake_rows(
    built: tuple[Paths, dg.ExecuteInProcessResult], con: duckdb.DuckDBPyConnection
) -> None:
    store, _ = built
    # GIVEN the lake without the file the gate blocked
    blocked = read_blocklist(store, "comtrade", "records")["blocked_source_files"]
    lake = (
        pl.scan_parquet(str(store.lake / "comtrade" / "records" / "**" / "*.parquet"))
        .filter(~pl.col("source_file").is_in(blocked))
        .collect()
    )
    n, total = con.execute(
        "select count(*), sum(value_usd) from fct_trade_flows where source = 'comtrade'"
    ).fetchone()
    assert n == lake.height > 10_000
    assert total == pytest.approx(lake["primary_value"].sum(), rel=1e-12)
    # the scope's reporters, and the reporter of the bad file with one good row
    reporters = con.execute("select distinct reporter_code from fct_trade_flows where source = 'comtrade'")
    assert {r for (r,) in reporters.fetchall()} == {*SCOPE["reporters"], BAD_REPORTERS["quarantined_row"]}


def test_every_row_is_labelled_synthetic(con: duckdb.DuckDBPyConnection) -> None:
    assert con.execute("select distinct origin, is_synthetic from fct_trade_flows").fetchall() == [
        ("sample", True)
    ]


def test_korea_hydrogen_fluoride_imports_from_japan_collapse_after_july_2019(
    con: duckdb.DuckDBPyConnection,
) -> None:
    rows = con.execute(
        """
        select f.period_key, f.value_usd
        from fct_trade_flows as f
        join dim_country as r on r.m49_code = f.reporter_code
        join dim_country as p on p.m49_code = f.partner_code
        join dim_period as d on d.period_key = f.period_key
        where r.iso3 = 'KOR' and p.iso3 = 'JPN' and f.hs6 = '281111' and f.flow_code = 'M'
          and d.freq_code = 'M' and d.year between 2018 and 2020
        order by 1
        """
    ).fetchall()
    series = dict(rows)
    assert len(series) == 36
    before = sum(series[f"2019{m:02d}"] for m in range(1, 7)) / 6
    after = sum(series[f"2019{m:02d}"] for m in range(7, 13)) / 6
    assert before > 3e6 and after < 0.2 * before


def test_world_rows_are_flagged_aggregate(con: duckdb.DuckDBPyConnection) -> None:
    flagged = con.execute(
        "select count(*) from fct_trade_flows where partner_code = 0 and not is_aggregate"
    ).fetchone()[0]
    world = con.execute("select count(*) from fct_trade_flows where partner_code = 0").fetchone()[0]
    assert flagged == 0 and world > 0


def test_products_carry_segments_across_hs_versions(con: duckdb.DuckDBPyConnection) -> None:
    rows = dict(
        con.execute("select hs_version, count(distinct segment) from fct_trade_flows group by 1").fetchall()
    )
    # every HS version of the landed years (HS2002 to HS2022), each with all three segments
    assert rows == {hs_version_for_year(year): 3 for _, year, _ in SAMPLE_PARTITIONS}
    assert set(rows) == {"H2", "H3", "H4", "H5", "H6"}
    assert con.execute("select count(*) from fct_trade_flows where segment is null").fetchone()[0] == 0


def test_published_file_is_read_only_and_complete(built: tuple[Paths, dg.ExecuteInProcessResult]) -> None:
    store, _ = built
    mode = store.serving_db.stat().st_mode
    assert not mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)
    with duckdb.connect(str(store.serving_db), read_only=True) as c:
        names = {
            r[0]
            for r in c.execute(
                "select table_name from information_schema.tables where table_schema = 'main'"
            ).fetchall()
        }
        assert {"fct_trade_flows", "dim_country", "dim_product", "dim_period", "dim_flow"} <= names
        comment = c.execute(
            "select comment from duckdb_tables() where table_name = 'fct_trade_flows'"
        ).fetchone()[0]
        assert "Bilateral trade in goods" in comment


def test_summary_command_lists_tables_and_says_synthetic(
    built: tuple[Paths, dg.ExecuteInProcessResult],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    store, _ = built
    monkeypatch.setenv("SEMITRADE_HOME", str(store.home))
    assert cli_main(["summary"]) == 0
    out = capsys.readouterr().out
    assert "main.fct_trade_flows" in out and "SYNTHETIC sample" in out
    assert str(store.serving_db) in out and "make dev" in out


def test_no_temporary_files_are_left_behind(built: tuple[Paths, dg.ExecuteInProcessResult]) -> None:
    store, _ = built
    leftovers = [p for p in Path(store.home).rglob("*.tmp")]
    assert leftovers == []
    assert os.path.exists(store.manifest)
