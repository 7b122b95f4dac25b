"""End to end for the national statistics: the main job on a slice of the sample (Korea and Japan
reporting, monthly 2018–2020).

The session's published build (tests/published.py: `published_build`) lands the Comtrade, Korea Customs
and Japan MOF samples and the ECB rates, parses them, runs `dbt build` (models and tests) and publishes;
the tests read the published file. The national samples follow the Comtrade sample's monthly years
(2018–2020); the build's annual Comtrade years and its three bad Comtrade files leave them alone.
"""

from __future__ import annotations

from collections.abc import Iterator

import dagster as dg
import duckdb
import polars as pl
import pytest

from ingest.config import Paths
from ingest.kcs import sample as kcs_sample
from tests.published import SHARED_SCOPE, Build

YEARS = tuple(SHARED_SCOPE["monthly_years"])  # 2018–2020: the years of the national samples


@pytest.fixture(scope="module")
def built(published_build: Build) -> tuple[Paths, dg.ExecuteInProcessResult]:
    """The published session home (built without ECB_BASE_URL: the sample's rates) and its run (read-only)."""
    # the national samples follow the landed Comtrade sample's monthly years: the counts below are theirs
    assert kcs_sample.sample_years(published_build.store) == YEARS == (2018, 2019, 2020)
    return published_build.store, published_build.result


@pytest.fixture(scope="module")
def kcs_hs6() -> list[str]:
    """The HS6 code of every Korea Customs response the sample generates for YEARS (one file each)."""
    return [r.query.hs for r in kcs_sample.KcsSampleGenerator().responses(YEARS)]


@pytest.fixture(scope="module")
def con(built: tuple[Paths, dg.ExecuteInProcessResult]) -> Iterator[duckdb.DuckDBPyConnection]:
    store, _ = built
    with duckdb.connect(str(store.serving_db), read_only=True) as connection:
        yield connection


def test_national_assets_land_and_parse_without_rejects(
    built: tuple[Paths, dg.ExecuteInProcessResult], kcs_hs6: list[str]
) -> None:
    _, result = built
    failures = [e.message for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    assert result.success, failures
    kcs = result.asset_materializations_for_node("kcs__lake_trade")[0].metadata
    # one per year × HS6 code of the sample (26 codes a year in HS2017)
    assert kcs["files_parsed"].value == len(kcs_hs6) == len(YEARS) * 26
    assert kcs["rows_quarantined"].value == 0 and kcs["files_failing_control_total"].value == 0
    japan = result.asset_materializations_for_node("japan__lake_trade")[0].metadata
    # export + import each year, and the last year's preliminary release before its confirmed one
    assert japan["files_parsed"].value == 2 * (len(YEARS) + 1) == 8
    assert japan["rows_kept"].value == japan["rows_in"].value > 100


def test_national_rows_roll_up_into_fct_trade_flows(
    built: tuple[Paths, dg.ExecuteInProcessResult], con: duckdb.DuckDBPyConnection, kcs_hs6: list[str]
) -> None:
    store, _ = built
    # GIVEN the KCS lake (USD, exports and imports side by side)
    lake = pl.read_parquet(str(store.lake / "kcs" / "trade" / "**" / "*.parquet"))
    # THEN the HSK10 detail, and its HS6 roll-up in fct_trade_flows, hold exactly the same dollars
    detail = dict(
        con.execute(
            "select source, sum(value_usd) from fct_trade_flows_national_detail group by 1"
        ).fetchall()
    )
    facts = dict(
        con.execute(
            "select source, sum(value_usd) from fct_trade_flows where source <> 'comtrade' group by 1"
        ).fetchall()
    )
    assert detail["kcs"] == pytest.approx(lake["exp_usd"].sum() + lake["imp_usd"].sum(), rel=1e-12)
    assert facts == pytest.approx(detail, rel=1e-12)
    assert con.execute("select distinct origin from fct_trade_flows_national_detail").fetchall() == [
        ("sample",)
    ]
    n_codes = con.execute(
        "select count(distinct national_code) from fct_trade_flows_national_detail where source = 'kcs'"
    ).fetchone()[0]
    n_hs6 = con.execute("select count(distinct hs6) from fct_trade_flows where source = 'kcs'").fetchone()[0]
    assert n_codes > n_hs6 == len(set(kcs_hs6)) == 26


def test_a_japan_value_is_converted_at_the_stored_rate(con: duckdb.DuckDBPyConnection) -> None:
    row = con.execute(
        """
        select value_national, fx_usd_per_unit, value_usd, fx_rate_method
        from fct_trade_flows_national_detail
        where source = 'japan_mof' and period_key = '201907' and hs6 = '281111' and partner_code = 410
        order by national_code limit 1
        """
    ).fetchone()
    kjpy, rate, usd, method = row
    assert "ECB" in method and 0.008 < rate < 0.01  # about 1 / 108 USD per yen in July 2019
    assert usd == round(kjpy * 1000 * rate, 2)


def test_korea_imports_vs_japan_exports_of_hf_month_by_month_2019(con: duckdb.DuckDBPyConnection) -> None:
    rows = con.execute(
        """
        select ref_month, national_value_usd, benchmark_value_usd, gap_usd, gap_pct
        from fct_national_vs_comtrade
        where comparison = 'mirror_kcs_imports_vs_japan_mof_exports' and hs6 = '281111' and ref_year = 2019
        order by ref_month
        """
    ).fetchall()
    assert [r[0] for r in rows] == list(range(1, 13))
    for _, korea, japan, gap, pct in rows:
        assert korea > 0 and japan > 0
        assert gap == pytest.approx(korea - japan) and pct == pytest.approx(gap / japan * 100, abs=1e-4)
    before = sum(r[2] for r in rows[:6]) / 6
    after = sum(r[2] for r in rows[6:]) / 6
    assert before > 3e6 and after < 0.2 * before  # the July 2019 export controls on both sides


def test_reconciliation_covers_each_comparison(con: duckdb.DuckDBPyConnection) -> None:
    counts = dict(
        con.execute("select comparison, count(gap_usd) from fct_national_vs_comtrade group by 1").fetchall()
    )
    assert set(counts) == {
        "kcs_vs_comtrade",
        "japan_mof_vs_comtrade",
        "mirror_kcs_imports_vs_japan_mof_exports",
        "mirror_japan_mof_imports_vs_kcs_exports",
    }
    assert all(n > 100 for n in counts.values())
    median = con.execute(
        "select median(abs(gap_pct)) from fct_national_vs_comtrade where comparison = 'kcs_vs_comtrade'"
    ).fetchone()[0]
    assert 0.5 < median < 20  # national and Comtrade figures differ, but only by revisions and timing
