"""Models downstream of fct_trade_flows in a refresh (issue 14). None of the tables there re-derives
by frequency × year slice (macros/replace_slices.sql): the indicators on reconciled values and
fct_national_vs_comtrade are not year-local, and int_indicators__export_control_imports is cheaper
rebuilt whole from the national detail table (their headers say why). What is tested here:

- int_indicators__export_control_imports built as a refresh of Comtrade files builds it (with the fact,
  fct_trade_flows_national_detail left as it is) equals a full rebuild, after a revision and a removed
  lake file of Korea's monthly reports;
- the generic tests of the view fct_trade_flows_preferred check the rows the fact's last build can have
  changed (macros/tests/incremental_test_scope.sql), and find a fault planted there.

The module's home is a copy of the session's published build (tests/published.py); the tests run in
file order, each on the lake the previous one left. Helpers: tests/dbt/incremental.py.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
import pytest

from ingest.comtrade.parse import parse_landed
from ingest.config import Paths
from ingest.landing import land
from tests.dbt.incremental import (
    dbt_run,
    dbt_run_log,
    dbt_test,
    full_refresh_of_copy,
    lake_files,
)
from tests.dbt.runner import DbtCall, DuckDbt
from tests.published import Build, copy_home

MODEL = "int_indicators__export_control_imports"
TABLE = f"main_intermediate.{MODEL}"
# what a refresh of Comtrade files builds (orchestration/refresh.py): not the national models
SELECT = f"fct_trade_flows {MODEL}"
KOREA_M = "freq=M/year=2019/reporter=410"  # Korea's monthly 2019 Comtrade reports (the sample)
REVISED = ("281111", "M")  # the revision raises Korea's 2019 imports of hydrogen fluoride by 10 %


@pytest.fixture(scope="module")
def dbt(published_build: Build, tmp_path_factory: pytest.TempPathFactory) -> DuckDbt:
    """dbt in this process on a copy of the published build, the model and its upstream built once."""
    assert published_build.result.success
    store = copy_home(published_build.store, tmp_path_factory.mktemp("slices") / "data")
    runner = DuckDbt(store.home, tmp_path_factory.mktemp("slices_dbt"))
    dbt_run_log(runner, store.build_db, select=f"+{MODEL}")
    return runner


@pytest.fixture(scope="module")
def home(dbt: DuckDbt) -> Paths:
    return Paths(dbt.home)


def build(dbt: DuckDbt, db: Path) -> int | None:
    """The fact (incrementally) and the model, as a refresh of Comtrade files builds them; returns the
    Comtrade partitions the fact re-derived."""
    return dbt_run(dbt, db, select=SELECT)


def rows(db: Path, where: str = "true", columns: str = "*") -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(f"select {columns} from {TABLE} where {where} order by all").fetchall()  # noqa: S608


def differences(a: Path, b: Path) -> dict[str, tuple[int, int]]:
    """Rows of the model and of the fact in ``a`` and not in ``b``, and in ``b`` and not in ``a``
    (`except all` both ways: duplicates count)."""
    out = {}
    with duckdb.connect() as con:
        con.execute(f"attach '{a}' as a (read_only)")
        con.execute(f"attach '{b}' as b (read_only)")
        for table in (TABLE, "main.fct_trade_flows"):
            x, y = (f"a.{table}", f"b.{table}")
            out[table] = tuple(
                con.execute(
                    f"select count(*) from (select * from {p} except all select * from {q})"  # noqa: S608
                ).fetchone()[0]
                for p, q in ((x, y), (y, x))
            )
    return out


def equals_full_rebuild(home: Paths, dbt: DuckDbt) -> None:
    """The model and the fact equal a `--full-refresh` build of them and of everything upstream."""
    full = full_refresh_of_copy(home, dbt, select=f"+{MODEL}")
    assert differences(home.build_db, full) == {TABLE: (0, 0), "main.fct_trade_flows": (0, 0)}
    assert rows(full)


def korea_2019_revision(home: Paths) -> dict:
    """Korea's landed monthly 2019 response with its hydrogen fluoride imports raised by 10 %."""
    (landed,) = sorted((home.landing / "comtrade" / "records" / KOREA_M).glob("*.json"))
    body = json.loads(landed.read_bytes())
    hit = 0
    for rec in body["data"]:
        if (rec["cmdCode"], rec["flowCode"]) == REVISED:
            hit += 1
            rec["primaryValue"] = round(rec["primaryValue"] * 1.1, 2)
            rec["cifvalue"] = rec["primaryValue"] if rec["cifvalue"] is not None else None
    assert hit > 0
    return body


def outcomes(done: DbtCall, prefix: str) -> tuple[str, int | None]:
    """(status, failures) of the one test whose name starts with ``prefix``."""
    (found,) = [r for r in done.results if r.name.startswith(prefix)]
    return found.status, found.failures


# -- tests (file order) ---------------------------------------------------------------------------


def test_a_revised_monthly_partition_as_a_refresh_builds_it_equals_a_full_rebuild(
    home: Paths, dbt: DuckDbt
) -> None:
    # GIVEN the model up to date, with comtrade rows of Korea's monthly 2019 and kcs rows
    db = home.build_db
    assert build(dbt, db) == 0
    assert rows(db, "source = 'kcs'")
    other_years = "not (source = 'comtrade' and ref_year = 2019)"
    untouched = rows(db, other_years)
    hf_2019 = "source = 'comtrade' and ref_year = 2019 and hs6 = '281111'"
    hf = "period_key, partner_code, imports_usd"
    hf_before = {(p, c): v for p, c, v in rows(db, hf_2019, hf)}
    assert hf_before

    # WHEN a revision of Korea's monthly 2019 report lands (hydrogen fluoride imports +10 %)
    entry, _ = land(
        home,
        source="comtrade",
        dataset="records",
        partition=KOREA_M,
        stem="get_C_M_HS_410_2019",
        content=json.dumps(korea_2019_revision(home)).encode(),
        params={"period": "2019", "test": "revision"},
        origin="sample",
    )
    assert parse_landed(home, entry).rows_quarantined == 0
    n = build(dbt, db)

    # THEN the fact re-derives that partition and the model holds the revised values, every other
    # year's comtrade row and every kcs row as they were
    assert n == 1
    hf_after = {(p, c): v for p, c, v in rows(db, hf_2019, hf)}
    assert hf_after.keys() == hf_before.keys()
    assert hf_after == pytest.approx({k: v * 1.1 for k, v in hf_before.items()}, rel=1e-6)
    assert rows(db, other_years) == untouched
    # AND it equals a full rebuild of the same lake
    equals_full_rebuild(home, dbt)


def test_a_removed_lake_file_empties_its_year_and_equals_a_full_rebuild(home: Paths, dbt: DuckDbt) -> None:
    # GIVEN the model up to date, Korea's monthly 2019 partition holding two vintages
    db = home.build_db
    assert build(dbt, db) == 0
    files = lake_files(home, KOREA_M)
    assert len(files) == 2
    start = rows(db)
    other_years = "not (source = 'comtrade' and ref_year = 2019)"
    untouched = rows(db, other_years)
    aside = dbt.work / "aside_slices"
    aside.mkdir(exist_ok=True)

    # WHEN both files leave the lake and the fact and the model build
    for f in files:
        shutil.move(f, aside / f.name)
    try:
        n = build(dbt, db)

        # THEN the fact re-derives that partition: the model has no comtrade row of 2019 left, the
        # rest is as it was
        assert n == 1
        assert rows(db, "source = 'comtrade' and ref_year = 2019") == []
        assert rows(db, other_years) == untouched
        # AND it equals a full rebuild of the lake without those files
        equals_full_rebuild(home, dbt)
    finally:
        for f in files:
            shutil.move(aside / f.name, f)

    # WHEN the files come back: the model is back where it was, row for row
    assert build(dbt, db) == 1
    assert rows(db) == start


def plant(db: Path, table: str, where: str) -> None:
    """A second copy of one row of ``table`` matching ``where`` (a planted fault)."""
    with duckdb.connect(str(db)) as con:
        done = con.execute(f"insert into {table} select * from {table} where {where} limit 1").fetchone()  # noqa: S608
    assert done == (1,), where


def test_preferred_view_tests_check_the_rows_the_last_fact_build_can_have_changed(
    home: Paths, dbt: DuckDbt
) -> None:
    # GIVEN a last fact build that re-derived Korea M/2019 (the test above)
    db = home.build_db
    with duckdb.connect(str(db), read_only=True) as con:
        last = con.execute(
            "select freq_code, ref_year, reporter_code, is_full from semitrade_state.fct_trade_flows__last_build"
        ).fetchall()
    assert last == [("M", 2019, 410, False)]
    preferred = "unique_fct_trade_flows_preferred_trade_flow_key"
    kept = "not is_aggregate and flow_code in ('M', 'X') and partner_code <> 0"
    saved = dbt.work / "slices_before_planting.duckdb"
    shutil.copyfile(db, saved)
    try:
        # WHEN a Comtrade row of Japan's annual 2019 (a partition that build left alone, no national
        # source: kept by the view) is duplicated in the fact
        japan_a_2019 = (
            f"source = 'comtrade' and freq_code = 'A' and ref_year = 2019 and reporter_code = 392 and {kept}"
        )
        plant(db, "main.fct_trade_flows", japan_a_2019)

        # THEN the view's scoped test passes, and with var full_tests it finds the duplicate
        done = dbt_test(dbt, db, "fct_trade_flows_preferred")
        assert done.success, done.log[-3000:]
        assert outcomes(done, preferred) == ("pass", 0)
        assert "source <> 'comtrade' or (freq_code = 'M' and reporter_code = 392)" in done.log
        done = dbt_test(dbt, db, "fct_trade_flows_preferred", full_tests=True)
        assert outcomes(done, preferred) == ("fail", 1)

        # WHEN the fact has a duplicate in a national source, or in the partition its last build
        # re-derived (set to Japan A/2019 here: the view keeps no Comtrade row of Korea M/2019, which
        # Korea Customs covers)
        for state, where in (
            (None, f"source = 'japan_mof' and {kept}"),
            (("A", 2019, 392), japan_a_2019),
        ):
            shutil.copyfile(saved, db)
            plant(db, "main.fct_trade_flows", where)
            if state:
                with duckdb.connect(str(db)) as con:
                    con.execute(
                        "update semitrade_state.fct_trade_flows__last_build set freq_code = ?, ref_year = ?, reporter_code = ?",
                        list(state),
                    )
            # THEN the view's scoped test finds it
            assert outcomes(dbt_test(dbt, db, "fct_trade_flows_preferred"), preferred) == ("fail", 1), where

        # WHEN Japan MOF no longer covers a group of Japan's monthly 2020 Comtrade rows (a national
        # change, which every build re-derives) and the Comtrade row the view now keeps is duplicated
        shutil.copyfile(saved, db)
        with duckdb.connect(str(db)) as con:
            group = con.execute(
                "select period_key, flow_code, hs6 from main.fct_trade_flows where source = 'comtrade' "  # noqa: S608
                f"and freq_code = 'M' and ref_year = 2020 and reporter_code = 392 and {kept} order by all limit 1"
            ).fetchone()
            con.execute(
                "delete from main.fct_trade_flows where source = 'japan_mof' and reporter_code = 392 "
                "and freq_code = 'M' and period_key = ? and flow_code = ? and hs6 = ?",
                list(group),
            )
        plant(
            db,
            "main.fct_trade_flows",
            f"source = 'comtrade' and reporter_code = 392 and freq_code = 'M' and {kept} and period_key = '{group[0]}' "
            f"and flow_code = '{group[1]}' and hs6 = '{group[2]}'",
        )
        # THEN the view's scoped test finds it: a Comtrade row of a reporter with a national source is in scope
        assert outcomes(dbt_test(dbt, db, "fct_trade_flows_preferred"), preferred) == ("fail", 1)
    finally:
        shutil.copyfile(saved, db)
