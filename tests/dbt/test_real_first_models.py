"""Real data first (issue #13), in the dbt models: zero is data, a published row is never replaced by a
sample one, one number per flow, and Korea Customs' HSK10 lines in the 2019 export-control marts.

A small home holds real-shaped lake files written with the parsers' own schemas (ingest/kcs/parse.py,
ingest/comtrade/schema.py, ingest/japan/parse.py, ingest/fx/rates.py): Korea Customs lines of
semiconductor-grade HF (HSK10 2811111000) from Japan with the 0 kg / 0 USD months of August and
September 2019, Korea's Comtrade reports of the same trade (a 0 month too), and for one key of each
source a SYNTHETIC sample vintage fetched later than the published one. One `dbt build` of the affected
models (tests and unit tests included) must pick the published rows and keep the zeros; a second, into
a copy of the warehouse after a sample row with a key of its own lands in the lake, must fail on
assert_no_mixed_origins. dbt runs in this process, on one parse of the project (tests/dbt/runner.py).
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import duckdb
import polars as pl
import pytest

from ingest.comtrade.schema import LAKE_SCHEMA as COMTRADE_SCHEMA
from ingest.fx.rates import LAKE_SCHEMA as FX_SCHEMA
from ingest.japan.parse import LAKE_SCHEMA as JAPAN_SCHEMA
from ingest.kcs.parse import LAKE_SCHEMA as KCS_SCHEMA
from tests.dbt.runner import DbtCall, DuckDbt

KOREA, JAPAN, CHINA, WORLD = 410, 392, 156, 0
HF_GRADE = "2811111000"  # Korea Customs' semiconductor-grade hydrogen fluoride line
SELECT = (
    "+fct_export_control_2019_summary +fct_trade_flows_preferred +fct_trade_flows_national_detail "
    "+fct_national_vs_comtrade assert_no_mixed_origins"
)
LIVE_FETCH, SAMPLE_FETCH = "2024-03-01T00:00:00+00:00", "2025-06-01T00:00:00+00:00"  # the sample is newer


def _kcs_line(period: str, iso2: str, hsk10: str, exp_usd: float, imp_usd: float, **lineage: Any) -> dict:
    """One lake row of a Korea Customs response (month × partner × HSK10, both flows side by side)."""
    return {
        "period": period,
        "ref_year": int(period[:4]),
        "ref_month": int(period[4:]),
        "stat_cd": iso2,
        "hsk10": hsk10,
        "hs6": hsk10[:6],
        "exp_wgt_kg": exp_usd / 10,
        "exp_usd": exp_usd,
        "imp_wgt_kg": imp_usd / 10,
        "imp_usd": imp_usd,
        "bal_payments_usd": exp_usd - imp_usd,
        **lineage,
    }


def _comtrade_record(period: str, partner: int, cmd: str, value: float, **lineage: Any) -> dict:
    """One lake row of a Comtrade monthly import record of Korea at the fact grain."""
    return {
        "type_code": "C",
        "freq_code": "M",
        "ref_period_id": int(period + "01"),
        "ref_year": int(period[:4]),
        "ref_month": int(period[4:]),
        "period": period,
        "reporter_code": KOREA,
        "reporter_iso": "KOR",
        "flow_code": "M",
        "partner_code": partner,
        "partner_iso": "W00" if partner == WORLD else None,
        "partner2_code": 0,
        "classification_code": "H5",
        "cmd_code": cmd,
        "aggr_level": 6,
        "customs_code": "C00",
        "mos_code": "0",
        "mot_code": 0,
        "cif_value": value,
        "primary_value": value,
        "legacy_estimation_flag": 0,
        "is_reported": True,
        "is_aggregate": partner == WORLD,
        **lineage,
    }


def _lineage(origin: str, name: str, fetched_at: str) -> dict[str, Any]:
    return {"origin": origin, "source_file": f"{name}.xml", "vintage": name * 4, "fetched_at": fetched_at}


def _write(path: Path, rows: list[dict], schema: pl.Schema) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    frame = (
        pl.DataFrame(
            [{**r, "source_row": i} if "source_row" in schema else r for i, r in enumerate(rows)],
            schema=schema,
        )
        if rows
        else pl.DataFrame(schema=schema)
    )
    frame.write_parquet(path, compression="zstd")


def _build_lake(home: Path) -> None:
    lake = home / "lake"
    live = _lineage("live", "kcs_live_2019_281111", LIVE_FETCH)
    kcs_live = [
        _kcs_line("201906", "JP", HF_GRADE, 20, 1000, **live),
        _kcs_line("201906", "JP", "2811119000", 0, 50, **live),  # another HF line, not the grade
        _kcs_line("201906", "CN", HF_GRADE, 0, 200, **live),
        _kcs_line("201908", "JP", HF_GRADE, 0, 0, **live),  # the zero months Korea Customs publishes
        _kcs_line("201909", "JP", HF_GRADE, 0, 0, **live),
        _kcs_line("201906", "JP", "3707901010", 0, 300, **live),
    ]
    _write(lake / "kcs/trade/year=2019/hs=281111/vintage=live.parquet", kcs_live, KCS_SCHEMA)
    # the same key in a SYNTHETIC sample vintage, fetched later: staging must keep the published line
    sample = [
        _kcs_line("201906", "JP", HF_GRADE, 0, 999_999, **_lineage("sample", "kcs_sample", SAMPLE_FETCH))
    ]
    _write(lake / "kcs/trade/year=2019/hs=281111/vintage=sample.parquet", sample, KCS_SCHEMA)

    partition = lake / "comtrade/records/freq=M/year=2019/reporter=410"
    c_live = _lineage("live", "comtrade_live_410_2019", LIVE_FETCH)
    comtrade_live = [
        _comtrade_record("201906", JAPAN, "281111", 1100, **c_live),
        _comtrade_record("201906", CHINA, "281111", 250, **c_live),
        _comtrade_record("201906", WORLD, "281111", 1500, **c_live),
        _comtrade_record("201908", JAPAN, "281111", 0, **c_live),  # Comtrade's zero month
        _comtrade_record("201906", JAPAN, "854232", 7000, **c_live),  # no Korea Customs line: Comtrade's
    ]
    _write(partition / "vintage=live.parquet", comtrade_live, COMTRADE_SCHEMA)
    c_sample = _lineage("sample", "comtrade_sample_410_2019", SAMPLE_FETCH)
    _write(
        partition / "vintage=sample.parquet",
        [_comtrade_record("201906", JAPAN, "281111", 888_888, **c_sample)],
        COMTRADE_SCHEMA,
    )
    # Japan MOF and the exchange rates: present but empty (this home has no Japanese line)
    _write(lake / "japan/trade/year=2019/vintage=none.parquet", [], JAPAN_SCHEMA)
    _write(lake / "fx/monthly_rates/vintage=none.parquet", [], FX_SCHEMA)


def _dbt_build(dbt: DuckDbt, warehouse: Path, select: str) -> DbtCall:
    """`dbt build` of ``select`` (tests cautious) into ``warehouse``, in this process."""
    return dbt("build", "--select", *select.split(), "--indirect-selection", "cautious", warehouse=warehouse)


@pytest.fixture(scope="module")
def dbt(tmp_path_factory: pytest.TempPathFactory) -> DuckDbt:
    """dbt in this process on the module's home (one parse), after one `dbt build` of the affected
    models (and their tests) over the small lake into the home's build.duckdb."""
    work = tmp_path_factory.mktemp("real_first")
    home = work / "data"
    _build_lake(home)
    db = home / "warehouse" / "build.duckdb"
    db.parent.mkdir(parents=True)
    runner = DuckDbt(home, work)
    done = _dbt_build(runner, db, SELECT)
    assert done.success, f"dbt build failed:\n{done.log[-6000:]}"
    assert done.results and {r.status for r in done.results} <= {"success", "pass"}, done.results
    return runner


@pytest.fixture(scope="module")
def built(dbt: DuckDbt) -> Path:
    """The home after that build."""
    return dbt.home


def _rows(home: Path, sql: str, params: list[object] | None = None) -> list[tuple]:
    with duckdb.connect(str(home / "warehouse" / "build.duckdb"), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


def test_zero_months_are_rows_with_zero_in_the_national_detail_and_the_fact(built: Path) -> None:
    # GIVEN Korea Customs' 0 kg / 0 USD of semiconductor-grade HF from Japan in August and September 2019
    detail = _rows(
        built,
        "select period_key, flow_code, value_usd, net_weight_kg, origin from main.fct_trade_flows_national_detail "
        "where national_code = ? and partner_national_code = 'JP' order by 1, 2",
        [HF_GRADE],
    )
    # THEN both months are rows with 0 in both flows (a line lists both flows: the export column is a
    # reported 0 too), next to June's published line (the later SAMPLE vintage of it is not used)
    assert detail == [
        ("201906", "M", 1000.0, 100.0, "live"),
        ("201906", "X", 20.0, 2.0, "live"),
        ("201908", "M", 0.0, 0.0, "live"),
        ("201908", "X", 0.0, 0.0, "live"),
        ("201909", "M", 0.0, 0.0, "live"),
        ("201909", "X", 0.0, 0.0, "live"),
    ]
    # AND fct_trade_flows holds them at HS6, next to Comtrade's own zero month and published records
    facts = _rows(
        built,
        "select source, period_key, value_usd from main.fct_trade_flows where reporter_code = ? and "
        "partner_code = ? and flow_code = 'M' and hs6 = '281111' order by 1, 2",
        [KOREA, JAPAN],
    )
    assert facts == [
        ("comtrade", "201906", 1100.0),
        ("comtrade", "201908", 0.0),
        ("kcs", "201906", 1050.0),  # 1 000 (2811111000) + 50 (2811119000)
        ("kcs", "201908", 0.0),
        ("kcs", "201909", 0.0),
    ]
    # AND no sample row reached the fact: the published vintage won for both sources
    assert _rows(built, "select distinct origin from main.fct_trade_flows") == [("live",)]


def test_the_export_control_mart_reads_kcs_at_hsk10_beside_comtrade_with_its_zero_months(built: Path) -> None:
    rows = _rows(
        built,
        """
        select source, product_code_level, product_code, period_key, total_imports_usd, from_japan_usd,
            japan_share, n_suppliers, is_total_from_partners
        from main.fct_export_control_2019_monthly where hs6 = '281111' order by 1, 4
        """,
    )
    assert rows == [
        ("comtrade", "HS6", "281111", "201906", 1500.0, 1100.0, pytest.approx(1100 / 1500), 2, False),
        ("comtrade", "HS6", "281111", "201908", 0.0, 0.0, None, 0, True),
        # the HSK10 grade only (2811119000 is left out): Japan 1 000 of 1 200
        ("kcs", "HSK10", HF_GRADE, "201906", 1200.0, 1000.0, pytest.approx(1000 / 1200), 2, True),
        ("kcs", "HSK10", HF_GRADE, "201908", 0.0, 0.0, None, 0, True),
        ("kcs", "HSK10", HF_GRADE, "201909", 0.0, 0.0, None, 0, True),
    ]
    photoresist = _rows(
        built,
        "select source, product_code, total_imports_usd from main.fct_export_control_2019_monthly where hs6 = '370790'",
    )
    assert photoresist == [("kcs", "3707901010", 300.0)]


def test_the_preferred_mart_keeps_one_report_per_flow(built: Path) -> None:
    rows = _rows(
        built,
        """
        select source, preferred_rule, period_key, partner_code, hs6, value_usd
        from main.fct_trade_flows_preferred
        where reporter_code = ? and freq_code = 'M' and flow_code = 'M' order by 3, 5, 4
        """,
        [KOREA],
    )
    national = "national_source"
    # Korea Customs covers HF and photoresist (Comtrade's 1 100 and 250 are not added), Comtrade alone
    # reports 854232; the World row is left out; the zero months stay rows with 0
    assert rows == [
        ("kcs", national, "201906", CHINA, "281111", 200.0),
        ("kcs", national, "201906", JAPAN, "281111", 1050.0),
        ("kcs", national, "201906", JAPAN, "370790", 300.0),
        ("comtrade", "comtrade_no_national_source", "201906", JAPAN, "854232", 7000.0),
        ("kcs", national, "201908", JAPAN, "281111", 0.0),
        ("kcs", national, "201909", JAPAN, "281111", 0.0),
    ]
    total = _rows(
        built,
        "select sum(value_usd) from main.fct_trade_flows_preferred where freq_code = 'M' and flow_code = 'M'",
    )
    assert total == [(200 + 1050 + 300 + 7000 + 0 + 0,)]


def test_a_sample_row_beside_published_ones_fails_the_build(dbt: DuckDbt, tmp_path: Path) -> None:
    # GIVEN the built home where a SAMPLE line with a key of its own (October) lands, and a copy of its
    # warehouse (the home's own stays as built; the lake file leaves again at the end)
    db = tmp_path / "warehouse" / "build.duckdb"  # the home's file name: its parsed manifest serves
    db.parent.mkdir()
    shutil.copyfile(dbt.home / "warehouse" / "build.duckdb", db)
    stray_file = dbt.home / "lake/kcs/trade/year=2019/hs=281111/vintage=stray.parquet"
    stray = [_kcs_line("201910", "JP", HF_GRADE, 0, 5, **_lineage("sample", "kcs_sample_oct", SAMPLE_FETCH))]
    _write(stray_file, stray, KCS_SCHEMA)
    try:
        # WHEN the models over the lake are rebuilt into the copy (the staging views too: they name the
        # lake's path) with the mixed-origin test; the seeds are already in the copied warehouse
        done = _dbt_build(
            dbt,
            db,
            "+fct_trade_flows +fct_trade_flows_national_detail assert_no_mixed_origins --exclude resource_type:seed",
        )
    finally:
        stray_file.unlink()
    # THEN the build fails on assert_no_mixed_origins, naming both tables
    assert not done.success, done.log[-3000:]
    failing = done.result("assert_no_mixed_origins")
    assert (failing.status, failing.failures) == ("fail", 2)
    assert [r.name for r in done.results if r.status not in ("success", "pass")] == [
        "assert_no_mixed_origins"
    ]
    assert "Failure in test assert_no_mixed_origins" in done.log
    assert "Got 2 results, configured to fail if != 0" in done.log
