"""A home moved or copied elsewhere (a backup restored, a benchmark's copy of a built home) keeps what
its incremental fact knows: the lake-file inventory of fct_trade_flows is kept relative to the Comtrade
dataset's folder (macros/replace_partitions.sql), so that the next build re-derives only the partitions
whose lake files changed, not every partition because every path moved. A warehouse whose inventory
still holds absolute paths (built before) is read the same way and rewritten relative by its next build.
And the scope of the generic tests after a build that re-derived many partitions (a semi join on the
state, macros/tests/incremental_test_scope.sql) checks those partitions' rows, as the literals do for few.
"""

from __future__ import annotations

import shutil

import duckdb

from tests.dbt.incremental import checksum, dbt_run, dbt_test, duplicate_a_row, full_refresh_of_copy
from tests.dbt.runner import DuckDbt
from tests.dbt.test_incremental_fct import outcomes
from tests.published import Build, copy_home

INVENTORY = "semitrade_state.fct_trade_flows__lake_files"


def inventory(db: str) -> list[tuple[str, str, int, int]]:
    with duckdb.connect(db, read_only=True) as con:
        return con.execute(f"select * from {INVENTORY} order by all").fetchall()  # noqa: S608 - test literal


def test_a_moved_home_rederives_no_partition_and_equals_a_full_rebuild(
    published_build: Build, tmp_path
) -> None:
    # GIVEN a copy, elsewhere, of a home whose fact was built incrementally from its lake
    assert published_build.result.success
    store = copy_home(published_build.store, tmp_path / "moved" / "data")
    (tmp_path / "dbt").mkdir()
    dbt = DuckDbt(store.home, tmp_path / "dbt")
    db = store.build_db
    records = store.lake / "comtrade" / "records"
    on_disk = sorted(
        p.relative_to(records).as_posix() for p in records.rglob("*.parquet") if p.name != ".empty.parquet"
    )
    built = inventory(str(db))
    assert len(on_disk) >= 3
    assert [r[0] for r in built] == on_disk  # relative paths, one per lake file
    # AND an inventory as a warehouse built before kept it: absolute paths of the original home
    with duckdb.connect(str(db)) as con:
        con.execute(
            f"update {INVENTORY} set file = ? || file",  # noqa: S608 - test literal
            [f"{published_build.store.lake}/comtrade/records/"],
        )
    before = checksum(db)

    # WHEN the copy builds (its staging views re-created for the new home, as a refresh of it does)
    n = dbt_run(dbt, db, select="stg_comtrade__records int_trade_flows__comtrade fct_trade_flows")

    # THEN no Comtrade partition is re-derived, the fact is unchanged and the inventory is relative again
    assert n == 0
    assert checksum(db) == before
    assert inventory(str(db)) == built
    # AND the fact equals a full rebuild of the moved home
    assert checksum(full_refresh_of_copy(store, dbt)) == before


def test_generic_tests_scope_many_rederived_partitions_by_a_semi_join(
    published_build: Build, tmp_path
) -> None:
    # GIVEN a last fact build that re-derived Korea A/2019 and eight partitions without rows: more than
    # the scope names as literals (macros/tests/incremental_test_scope.sql), so a semi join on the state
    assert published_build.result.success
    store = copy_home(published_build.store, tmp_path / "data")
    (tmp_path / "dbt").mkdir()
    dbt = DuckDbt(store.home, tmp_path / "dbt")
    db = store.build_db
    with duckdb.connect(str(db)) as con:
        con.execute("delete from semitrade_state.fct_trade_flows__last_build")
        con.execute("insert into semitrade_state.fct_trade_flows__last_build values ('A', 2019, 410, false)")
        con.execute(
            "insert into semitrade_state.fct_trade_flows__last_build "
            "select 'A', 1990 + i, 999, false from range(8) as r(i)"
        )
    unique = "unique_fct_trade_flows_trade_flow_key"
    conservation = "assert_conservation_comtrade"  # a singular test, scoped the same way
    both = f"{unique} {conservation}"
    saved = tmp_path / "before_planting.duckdb"
    shutil.copyfile(db, saved)

    # WHEN a row of Japan M/2019, a partition that build left alone, is duplicated
    duplicate_a_row(db, "M", 2019, 392)

    # THEN the scoped tests, reading the partitions from the state table, pass ...
    done = dbt_test(dbt, db, both)
    assert done.success, done.log[-2000:]
    assert outcomes(done, unique, conservation) == [("pass", 0), ("pass", 0)]
    assert done.log.count("in (select s.freq_code, s.ref_year, s.reporter_code from semitrade_state.") >= 2
    # ... and with var full_tests both find the duplicate
    done = dbt_test(dbt, db, both, full_tests=True)
    assert outcomes(done, unique, conservation) == [("fail", 1), ("fail", 1)]

    # WHEN a row of the re-derived partition is duplicated
    shutil.copyfile(saved, db)
    duplicate_a_row(db, "A", 2019, 410)

    # THEN the scoped tests find it
    done = dbt_test(dbt, db, both)
    assert not done.success
    assert outcomes(done, unique, conservation) == [("fail", 1), ("fail", 1)]
