"""Reconciliation and indicator marts, end to end on a slice of the SYNTHETIC sample.

The session's published build (tests/published.py: `published_build`; landing → lake → `dbt build` with
every data test and unit test → publication) for Korea, Japan and China, monthly 2018–2020 and annual
2006, 2007 and 2018–2020 (and Korea's and Japan's other annual years 2005–2024), then assertions on the
published marts: mirror reconciliation in both frequencies, weights, the 2019 export-control shock and
the indicators' ranges.
"""

from __future__ import annotations

from collections.abc import Iterator

import dagster as dg
import duckdb
import pytest

from ingest.config import Paths
from tests.published import SHARED_SCOPE, Build

SCOPE = SHARED_SCOPE
KOREA, JAPAN, CHINA, TAIWAN = 410, 392, 156, 490


@pytest.fixture(scope="module")
def built(published_build: Build) -> tuple[Paths, dg.ExecuteInProcessResult]:
    """The published session home and the result of the main job that built it (read-only)."""
    assert {2018, 2019, 2020} <= set(SCOPE["annual_years"]) and SCOPE["monthly_years"] == [2018, 2019, 2020]
    return published_build.store, published_build.result


@pytest.fixture(scope="module")
def con(built: tuple[Paths, dg.ExecuteInProcessResult]) -> Iterator[duckdb.DuckDBPyConnection]:
    store, result = built
    assert result.success
    with duckdb.connect(str(store.serving_db), read_only=True) as connection:
        yield connection


def test_the_main_job_builds_the_marts_with_their_unit_tests(
    built: tuple[Paths, dg.ExecuteInProcessResult],
) -> None:
    # GIVEN the main job on the slice  WHEN it ran  THEN it succeeded (a failing dbt unit test fails `dbt build`)
    _, result = built
    assert result.success
    materialized = {
        e.asset_key.to_user_string() for e in result.get_asset_materialization_events() if e.asset_key
    }
    assert {"fct_reconciled_flows", "fct_ind_rca", "fct_export_control_2019_summary"} <= materialized


def test_reconciliation_covers_both_frequencies_and_all_report_kinds(con: duckdb.DuckDBPyConnection) -> None:
    # GIVEN three reporters and Taiwan as a non-reporting partner
    rows = con.execute(
        "select freq_code, reports_available, count(*) from fct_reconciled_flows group by all order by all"
    ).fetchall()
    counts = {(f, r): n for f, r, n in rows}
    # THEN annual and monthly rows exist, double-reported flows dominate, and single reports are kept
    for freq in ("A", "M"):
        assert counts[(freq, "both")] > 100
        assert counts[(freq, "exporter_only")] > 0 and counts[(freq, "importer_only")] > 0
    # AND in the years all three reporters report annually, the monthly rows far outnumber the annual ones
    annual_both = con.execute(
        "select count(*) from fct_reconciled_flows where freq_code = 'A' and reports_available = 'both' "
        "and list_contains(?, ref_year)",
        [SCOPE["annual_years"]],
    ).fetchone()[0]
    assert counts[("M", "both")] > 10 * annual_both / 2
    # AND no World or aggregate partner slipped in
    assert (
        con.execute(
            "select count(*) from fct_reconciled_flows where 0 in (exporter_code, importer_code)"
        ).fetchone()[0]
        == 0
    )


def test_reconciled_values_lie_between_the_two_reports_and_weights_sum_to_one(
    con: duckdb.DuckDBPyConnection,
) -> None:
    outside, n_both = con.execute(
        """
        select
            count(*) filter (where reconciled_value_usd < least(export_report_fob_usd, import_report_fob_usd) - 1e-6
                                or reconciled_value_usd > greatest(export_report_fob_usd, import_report_fob_usd) + 1e-6),
            count(*)
        from fct_reconciled_flows where reports_available = 'both'
        """
    ).fetchone()
    assert n_both > 0 and outside == 0
    worst, low, high = con.execute(
        "select max(abs(exporter_weight + importer_weight - 1)), min(exporter_weight), max(exporter_weight) from fct_reconciled_flows"
    ).fetchone()
    assert worst < 1e-12 and low == 0.0 and high == 1.0
    # the reconciled annual value stays near the exporter's report (sample noise is a few per cent)
    median_gap = con.execute(
        """
        select median(abs(reconciled_value_usd / export_report_fob_usd - 1))
        from fct_reconciled_flows where reports_available = 'both' and freq_code = 'A'
        """
    ).fetchone()[0]
    assert median_gap < 0.05


def test_single_reported_flows_are_used_as_they_are(con: duckdb.DuckDBPyConnection) -> None:
    # GIVEN Taiwan, which never reports: its exports to Korea are known from Korea's imports only
    rows = con.execute(
        """
        select reports_available, exporter_weight, reconciled_value_usd, import_report_cif_usd / (1 + cif_rate), is_exporter_a_reporter
        from fct_reconciled_flows where exporter_code = ? and importer_code = ? and freq_code = 'A'
        """,
        [TAIWAN, KOREA],
    ).fetchall()
    assert rows
    for available, weight, reconciled, converted, exporter_reports in rows:
        assert (available, weight, exporter_reports) == ("importer_only", 0.0, False)
        assert reconciled == pytest.approx(converted, rel=1e-12)


def test_cif_rates_are_bounded_and_explained(con: duckdb.DuckDBPyConnection) -> None:
    low, high, methods = con.execute(
        "select min(cif_rate), max(cif_rate), list(distinct cif_rate_method order by cif_rate_method) from fct_reconciled_flows"
    ).fetchone()
    assert 0.0 <= low and high <= 0.20
    assert "pair_annual_median" in methods


def test_japan_hydrogen_fluoride_share_drops_and_china_or_taiwan_gain(con: duckdb.DuckDBPyConnection) -> None:
    # GIVEN Korea's reported HF imports in the 12 months before and after July 2019
    before, after, months_before, months_after = con.execute(
        """
        select japan_share_before, japan_share_after, n_months_before, n_months_after
        from fct_export_control_2019_summary where hs6 = '281111' and source = 'comtrade'
        """
    ).fetchone()
    # THEN Japan's share collapses
    assert (months_before, months_after) == (12, 12)
    assert before > 0.4 and after < 0.5 * before
    # AND China/Taiwan gained what Japan lost
    gains = dict(
        con.execute(
            "select supplier_code, change_usd from fct_export_control_2019_suppliers "
            "where hs6 = '281111' and source = 'comtrade' and supplier_code in (?, ?, ?)",
            [JAPAN, CHINA, TAIWAN],
        ).fetchall()
    )
    assert gains[JAPAN] < 0
    assert gains[CHINA] > 0 and gains[CHINA] + gains.get(TAIWAN, 0.0) > 0
    # AND monthly: the first half of 2019 against the second
    half = dict(
        con.execute(
            """
            select is_after_2019_export_control, avg(japan_share)
            from fct_export_control_2019_monthly where hs6 = '281111' and source = 'comtrade' and ref_year = 2019 group by 1
            """
        ).fetchall()
    )
    assert half[True] < 0.5 * half[False]
    # AND the reconciled supplier shares tell the same story
    reconciled = dict(
        con.execute(
            """
            select period_key, supplier_share from fct_ind_supplier_shares
            where freq_code = 'A' and importer_code = ? and supplier_code = ? and product_level = 'hs6' and product_code = '281111'
            """,
            [KOREA, JAPAN],
        ).fetchall()
    )
    assert reconciled["2020"] < 0.5 * reconciled["2018"]


def test_all_three_controlled_products_are_in_the_mart(con: duckdb.DuckDBPyConnection) -> None:
    rows = con.execute(
        "select hs6, product_name from fct_export_control_2019_summary where source = 'comtrade' order by 1"
    ).fetchall()
    assert [r[0] for r in rows] == ["281111", "370790", "392099"]
    assert rows[0][1] == "hydrogen fluoride"
    n = con.execute(
        "select count(*) from fct_export_control_2019_monthly where source = 'comtrade'"
    ).fetchone()[0]
    assert n == 3 * 36
    # Korea Customs rows sit beside Comtrade's, read at the code the seed export_control_products names
    # (the SYNTHETIC sample splits HS6 codes into its own HSK10 lines, so the HSK10 grades may be absent)
    kcs = con.execute(
        "select distinct hs6, product_code_level, product_code from fct_export_control_2019_monthly "
        "where source = 'kcs' order by 1"
    ).fetchall()
    allowed = {
        ("281111", "HSK10", "2811111000"),
        ("370790", "HSK10", "3707901010"),
        ("392099", "HS6", "392099"),
    }
    assert kcs and set(kcs) <= allowed
    assert ("392099", "HS6", "392099") in kcs


def test_hhi_is_on_the_0_to_10000_scale(con: duckdb.DuckDBPyConnection) -> None:
    for table, column in (
        ("fct_ind_supplier_concentration", "hhi"),
        ("fct_export_control_2019_monthly", "supplier_hhi"),
        ("fct_export_control_2019_summary", "hhi_before"),
        ("fct_export_control_2019_summary", "hhi_after"),
    ):
        low, high, n = con.execute(
            f"select min({column}), max({column}), count({column}) from {table}"  # noqa: S608 - fixed names
        ).fetchone()
        assert n > 0 and 0 < low and high <= 10000 + 1e-6, table
    # a market with one supplier has HHI 10 000
    assert con.execute(
        "select max(hhi) from fct_ind_supplier_concentration where n_suppliers = 1"
    ).fetchone()[0] == pytest.approx(10000)


def test_indicators_are_in_range_and_consistent(con: duckdb.DuckDBPyConnection) -> None:
    # RCA: segments partition the covered products, and Korea's advantage is in devices, not materials
    worst = con.execute(
        """
        select max(abs(total - 1)) from (
            select sum(exports_usd) / min(exporter_total_usd) as total
            from fct_ind_rca where product_level = 'segment' group by freq_code, period_key, exporter_code
        )
        """
    ).fetchone()[0]
    assert worst < 1e-9
    rca = dict(
        con.execute(
            "select product_code, rca from fct_ind_rca where freq_code = 'A' and period_key = '2019' and exporter_code = ? and product_level = 'segment'",
            [KOREA],
        ).fetchall()
    )
    assert rca["devices"] > 1 > rca["materials"]
    # complementarity in [0, 100], both directions of the corridor present
    tc = dict(
        con.execute(
            """
            select exporter_code, trade_complementarity from fct_ind_trade_complementarity
            where freq_code = 'A' and period_key = '2019' and product_level = 'total'
              and ((exporter_code = ? and importer_code = ?) or (exporter_code = ? and importer_code = ?))
            """,
            [KOREA, JAPAN, JAPAN, KOREA],
        ).fetchall()
    )
    assert set(tc) == {KOREA, JAPAN} and all(0 <= v <= 100 for v in tc.values())
    low, high = con.execute(
        "select min(grubel_lloyd), max(grubel_lloyd) from fct_ind_intra_industry_trade"
    ).fetchone()
    assert 0 <= low and high <= 1 + 1e-12
    # the Korea–Japan balance adds up over segments
    total, by_segment = con.execute(
        """
        select sum(balance_usd) filter (where segment = 'all'), sum(balance_usd) filter (where segment <> 'all')
        from fct_ind_korea_japan_balance where freq_code = 'A'
        """
    ).fetchone()
    assert total == pytest.approx(by_segment, rel=1e-9)
    intensity = con.execute(
        "select count(*), count(*) filter (where trade_intensity < 0) from fct_ind_trade_intensity"
    ).fetchone()
    assert intensity[0] > 0 and intensity[1] == 0


def test_marts_carry_their_descriptions_into_the_warehouse(con: duckdb.DuckDBPyConnection) -> None:
    comment = con.execute(
        "select comment from duckdb_views() where view_name = 'fct_reconciled_flows'"  # a view (see its docs)
    ).fetchone()[0]
    assert "Gaulier & Zignago" in comment
    origins = con.execute("select distinct origin from fct_reconciled_flows").fetchall()
    assert origins == [("sample",)]
