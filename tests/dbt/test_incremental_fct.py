"""fct_trade_flows built incrementally (strategy `replace_partitions`, macros/replace_partitions.sql)
must equal a full rebuild of the same lake: after a new partition, a revision, a blocklist change, a
removed lake file, and when nothing changed; and so must the mirror reports downstream of it
(int_mirror__reports, strategy `replace_where`, macros/replace_slices.sql) and the reconciliation
tables built on them.

The module's home is a copy of the session's published build (tests/published.py: a Dagster `main` run
on a slice of the sample); the tests then change the lake and run `dbt run --select
fct_trade_flows` against that build file, and compare it with a `--full-refresh` build of a copy.
The home is shared and the tests run in file order: each one states (and where cheap, sets up) the
lake it expects, and leaves the blocklist as it found it. dbt runs in this process on a manifest
parsed once for the module (tests/dbt/runner.py); the helpers are in tests/dbt/incremental.py.
"""

from __future__ import annotations

import copy
import re
import shutil
from datetime import timedelta
from pathlib import Path

import duckdb
import pytest

from ingest.config import Paths
from tests.dbt.incremental import (
    CHAIN,
    CHINA,
    CHINA_PARTITION,
    DROPPED,
    MIRROR_LINE,
    PUBLISHED_PARTITIONS,
    V1_FETCHED,
    V2_FETCHED,
    chain_sums,
    checksum,
    china_bodies,
    counts,
    dbt_run,
    dbt_run_log,
    dbt_test,
    duplicate_a_row,
    full_refresh_of_copy,
    gate_blocking,
    keyed,
    lake_files,
    land_china,
    latest_of,
    outside,
    reconciled_rows,
    source_file_of,
    values,
)
from tests.dbt.runner import DbtCall, DuckDbt
from tests.published import Build, copy_home

READ_PARQUET_LIST = re.compile(r"read_parquet\(\[([^\]]*)\], union_by_name = true\)")

# -- fixture and helpers -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def dbt(published_build: Build, tmp_path_factory: pytest.TempPathFactory) -> DuckDbt:
    """dbt in this process on the module's home (one parse of the project for the module), with its
    targets, per-call logs and the copies for full refreshes outside the data home. The home: a copy of
    the session's published build, in which the reconciliation chain and every model upstream of it are
    first rebuilt: the staging views read the lake by absolute path (the fact's lake-file inventory
    holds paths relative to the dataset, so that build re-derives no partition of the copy)."""
    assert published_build.result.success
    store = copy_home(published_build.store, tmp_path_factory.mktemp("incremental") / "data")
    assert store.build_db.exists()
    runner = DuckDbt(store.home, tmp_path_factory.mktemp("incremental_dbt"))
    upstream = " ".join(f"+{model}" for model in CHAIN.split())
    dbt_run_log(runner, store.build_db, select=upstream)
    return runner


@pytest.fixture(scope="module")
def home(dbt: DuckDbt) -> Paths:
    """Every lake and the build warehouse of the published build (tests/published.py: the sample's Korea,
    Japan and China, and the three bad files): the home of ``dbt``."""
    return Paths(dbt.home)


@pytest.fixture(scope="module")
def already_blocked(published_build: Build) -> list[str]:
    """The files the gate blocked in the published build: the bad file of reporter 999 (tests/published.py)."""
    return [published_build.bad_inputs["blocked"]]


# -- tests (file order: each builds on the lake the previous one left) ---------------------------


def test_new_partition_then_revision_rederive_one_partition_and_equal_a_full_rebuild(
    home: Paths, dbt: DuckDbt
) -> None:
    # GIVEN the warehouse the Dagster job built (sample partitions of Korea, Japan and China; not China A/2010)
    db = home.build_db
    before = counts(db)
    assert CHINA not in before
    assert {k for k in before if k[0] == "comtrade"} == PUBLISHED_PARTITIONS
    others_before = checksum(db, outside(CHINA))
    v1, v2 = china_bodies()

    # WHEN the real China 2010 response lands in a new partition and the fact builds incrementally
    land_china(home, v1, V1_FETCHED)
    n = dbt_run(dbt, db)

    # THEN exactly that partition is derived, with every record of the response, and nothing else moved
    assert n == 1
    assert values(db, CHINA) == pytest.approx(keyed(v1), rel=1e-12)
    after_new = counts(db)
    assert after_new == before | {CHINA: 4}
    assert checksum(db, outside(CHINA)) == others_before

    # WHEN a revision of that partition lands (values +10 %, record 276/X dropped, fetched later)
    land_china(home, v2, V2_FETCHED)
    assert len(lake_files(home, CHINA_PARTITION)) == 2
    n = dbt_run(dbt, db)

    # THEN only that partition is re-derived: the revised values, and the record the revision no
    # longer carries at its first vintage's value (staging's latest vintage per record)
    assert n == 1
    revised = values(db, CHINA)
    assert revised == pytest.approx(latest_of(v1, v2), rel=1e-12)
    assert revised[DROPPED] == keyed(v1)[DROPPED]
    assert revised[(32, "M")] != keyed(v1)[(32, "M")]
    assert counts(db) == before | {CHINA: 4}
    assert checksum(db, outside(CHINA)) == others_before
    # AND the whole table equals a full rebuild of the same lake
    assert checksum(db) == checksum(full_refresh_of_copy(home, dbt))


def test_blocklist_changes_rederive_the_partitions_of_the_files_named(
    home: Paths, dbt: DuckDbt, already_blocked: list[str]
) -> None:
    # GIVEN both China vintages in the lake, the fact up to date, and the sample annual Japan 2019
    # partition holding a single lake file
    db = home.build_db
    v1, v2 = china_bodies()
    first, _ = land_china(home, v1, V1_FETCHED)
    revision, _ = land_china(home, v2, V2_FETCHED)
    dbt_run(dbt, db)
    japan = ("comtrade", "A", 2019, 392)
    (japan_file,) = lake_files(home, "freq=A/year=2019/reporter=392")
    start = counts(db)
    assert start[CHINA] == 4 and start[japan] > 0
    assert values(db, CHINA) == pytest.approx(latest_of(v1, v2), rel=1e-12)
    start_sum = checksum(db)
    untouched = f"{outside(CHINA)} and {outside(japan)}"
    untouched_sum = checksum(db, untouched)

    # WHEN the gate blocks the China revision and the only file of Japan A/2019, and the fact builds
    with gate_blocking(home, already_blocked, revision.path, source_file_of(japan_file)):
        n = dbt_run(dbt, db)

        # THEN both partitions are re-derived: China falls back to the first vintage, Japan A/2019 is empty
        assert n == 2
        assert values(db, CHINA) == pytest.approx(keyed(v1), rel=1e-12)
        blocked_counts = counts(db)
        assert japan not in blocked_counts
        assert {k: v for k, v in blocked_counts.items() if k not in (CHINA, japan)} == {
            k: v for k, v in start.items() if k not in (CHINA, japan)
        }
        assert checksum(db, untouched) == untouched_sum
        # AND the table equals a full rebuild under the same blocklist
        assert checksum(db) == checksum(full_refresh_of_copy(home, dbt))
        with duckdb.connect(str(db), read_only=True) as con:
            assert (
                con.execute(
                    "select count(*) from main.fct_trade_flows where source_file = ?", [first.path]
                ).fetchone()[0]
                == 4
            )
    # WHEN the files leave the blocklist again
    n = dbt_run(dbt, db)

    # THEN the same two partitions are re-derived and the table is back to the revision, as before
    assert n == 2
    assert values(db, CHINA) == pytest.approx(latest_of(v1, v2), rel=1e-12)
    assert counts(db) == start
    assert checksum(db) == start_sum


def test_removed_lake_files_empty_or_fall_back_and_equal_a_full_rebuild(home: Paths, dbt: DuckDbt) -> None:
    # GIVEN both China vintages and the sample monthly Korea 2019 partition (one lake file), fact up to date
    db = home.build_db
    v1, v2 = china_bodies()
    _, first_file = land_china(home, v1, V1_FETCHED)
    land_china(home, v2, V2_FETCHED)
    dbt_run(dbt, db)
    korea = ("comtrade", "M", 2019, 410)
    (korea_file,) = lake_files(home, "freq=M/year=2019/reporter=410")
    start = counts(db)
    assert start[korea] > 0 and start[CHINA] == 4
    assert DROPPED in values(db, CHINA)
    start_sum = checksum(db)
    untouched = f"{outside(CHINA)} and {outside(korea)}"
    untouched_sum = checksum(db, untouched)
    aside = dbt.work / "aside"
    aside.mkdir(exist_ok=True)

    # WHEN the Korea file and the China FIRST vintage's file leave the lake, and the fact builds
    moved = {f: aside / f"{i}_{f.name}" for i, f in enumerate((korea_file, first_file))}
    for src, dst in moved.items():
        shutil.move(src, dst)
    try:
        n = dbt_run(dbt, db)

        # THEN Korea M/2019 has no row left; China holds the revision alone, so the record only the
        # first vintage carried is gone (a merge on the row key would have kept it); the rest is untouched
        assert n == 2
        now = counts(db)
        assert korea not in now
        china = values(db, CHINA)
        assert DROPPED not in china
        assert china == pytest.approx(keyed(v2), rel=1e-12)
        assert now == {k: v for k, v in start.items() if k != korea} | {CHINA: 3}
        assert checksum(db, untouched) == untouched_sum
        # AND the table equals a full rebuild of the lake without those files
        assert checksum(db) == checksum(full_refresh_of_copy(home, dbt))
    finally:
        # WHEN the files come back
        for src, dst in moved.items():
            shutil.move(dst, src)
    n = dbt_run(dbt, db)

    # THEN both partitions are re-derived again and the table is what it was before the removal
    assert n == 2
    assert counts(db) == start
    assert checksum(db) == start_sum


def test_a_build_without_lake_change_rederives_nothing(home: Paths, dbt: DuckDbt) -> None:
    # GIVEN a fact built incrementally after every earlier change
    db = home.build_db
    dbt_run(dbt, db)
    before = checksum(db)
    before_counts = counts(db)

    # WHEN it builds again with the lake and the blocklist unchanged
    n = dbt_run(dbt, db)

    # THEN no Comtrade partition is re-derived and the table is identical (national rows included)
    assert n == 0
    assert checksum(db) == before
    assert counts(db) == before_counts
    # AND it still equals a full rebuild
    assert before == checksum(full_refresh_of_copy(home, dbt))


def fct_statements(dbt: DuckDbt, db: Path) -> tuple[str, str]:
    """The compiled select and the statements run (delete, insert) of fct_trade_flows' last run into ``db``."""
    target = dbt.work / f"target_{db.stem}"
    compiled = next((target / "compiled").rglob("fct_trade_flows.sql")).read_text()
    run = next((target / "run").rglob("fct_trade_flows.sql")).read_text()
    return compiled, run


NATIONAL_READ = re.compile(r'"int_trade_flows__national"\s+where (\w+)')


def test_a_build_told_to_keep_the_national_rows_leaves_them_in_place(
    home: Paths, dbt: DuckDbt, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN the fact up to date, with its national rows (Korea's and Japan's customs)
    db = home.build_db
    dbt_run(dbt, db)
    national = checksum(db, "source <> 'comtrade'")
    assert national[1] > 100
    run = ("run", "--select", "fct_trade_flows")

    # WHEN $SEMITRADE_FCT_NATIONAL is neither 'keep' nor 'rederive'
    monkeypatch.setenv("SEMITRADE_FCT_NATIONAL", "yes")
    done = dbt(*run, warehouse=db)

    # THEN the build stops and says so
    assert not done.success
    assert "SEMITRADE_FCT_NATIONAL must be 'keep' or 'rederive', not 'yes'" in done.log

    # WHEN a China file leaves the lake (a Comtrade change only) and the fact builds keeping the
    # national rows, as a refresh whose changed inputs feed no national row asks (orchestration/refresh.py)
    aside = dbt.work / "aside_national"
    aside.mkdir(exist_ok=True)
    china_file = lake_files(home, CHINA_PARTITION)[-1]
    shutil.move(china_file, aside / china_file.name)
    monkeypatch.setenv("SEMITRADE_FCT_NATIONAL", "keep")
    try:
        done = dbt(*run, warehouse=db)

        # THEN China is re-derived, and the national rows are neither read nor deleted: they stay as they were
        assert done.success, done.log[-3000:]
        assert "fct_trade_flows: 1 Comtrade partition(s) to re-derive" in done.log
        assert "the national sources' rows stay" in done.log
        compiled, statements = fct_statements(dbt, db)
        assert NATIONAL_READ.findall(compiled) == ["false"]
        assert "source <> 'comtrade'" not in statements and "delete from" in statements
        assert checksum(db, "source <> 'comtrade'") == national
        # AND the table equals a full rebuild of that lake
        assert checksum(db) == checksum(full_refresh_of_copy(home, dbt))
    finally:
        shutil.move(aside / china_file.name, china_file)
        monkeypatch.delenv("SEMITRADE_FCT_NATIONAL")

    # WHEN the file comes back and the fact builds as by default
    assert dbt_run(dbt, db) == 1

    # THEN the national rows are re-derived whole (read, deleted and inserted again), to the same rows
    compiled, statements = fct_statements(dbt, db)
    assert NATIONAL_READ.findall(compiled) == ["true"]
    assert "where t.source <> 'comtrade' or exists" in statements
    assert checksum(db, "source <> 'comtrade'") == national
    assert checksum(db) == checksum(full_refresh_of_copy(home, dbt))


def test_reconciliation_chain_builds_incrementally_and_equals_a_full_rebuild(
    home: Paths, dbt: DuckDbt, already_blocked: list[str]
) -> None:
    # GIVEN the fact rebuilt by every earlier test (`--select fct_trade_flows` only), while the mirror
    # reports and the reconciled flows were last built by the Dagster job, several fact builds ago
    db = home.build_db

    # WHEN the chain builds incrementally
    log = dbt_run_log(dbt, db, select=CHAIN)

    # THEN the mirror reports take in the changes of every fact build since (China A/2010, Japan
    # A/2019, Korea M/2019), and the whole chain equals a full rebuild of the same lake
    assert [int(n) for n in MIRROR_LINE.findall(log)] == [3]
    start = chain_sums(db)
    assert start == chain_sums(full_refresh_of_copy(home, dbt, select=CHAIN))
    assert start["fct_reconciled_flows"][1] == start["int_mirror__reports"][1] > 0

    # WHEN nothing changed and the chain builds again
    log = dbt_run_log(dbt, db, select=CHAIN)

    # THEN nothing is re-derived and nothing moves
    assert [int(n) for n in MIRROR_LINE.findall(log)] == [0]
    assert chain_sums(db) == start

    # GIVEN Korea's annual 2019 report (double-reported with Japan) and the reconciled rows outside it
    korea = "freq=A/year=2019/reporter=410"
    (korea_file,) = lake_files(home, korea)
    korea_2019 = "freq_code = 'A' and ref_year = 2019 and exporter_code = 410"
    other_years = (
        "freq_code = 'A' and ref_year <> 2019 and exporter_code = 410 and reports_available = 'both'"
    )
    both_before = reconciled_rows(db, f"{korea_2019} and reports_available = 'both'")
    both_other_years = reconciled_rows(db, other_years)
    assert both_before > 0 and both_other_years > 0
    # WHEN the gate blocks it and the chain builds incrementally
    with gate_blocking(home, already_blocked, source_file_of(korea_file)):
        log = dbt_run_log(dbt, db, select=CHAIN)

        # THEN the mirror reports take in one fact partition; Korea's 2019 exports are now known from
        # the importers' reports only, and its other years are left as they were ...
        assert [int(n) for n in MIRROR_LINE.findall(log)] == [1]
        assert reconciled_rows(db, f"{korea_2019} and reports_available = 'both'") == 0
        assert reconciled_rows(db, f"{korea_2019} and reports_available = 'importer_only'") >= both_before
        assert reconciled_rows(db, other_years) == both_other_years
        # ... and every table of the chain equals a full rebuild under the same blocklist
        blocked = chain_sums(db)
        assert blocked != start
        assert blocked == chain_sums(full_refresh_of_copy(home, dbt, select=CHAIN))

    # WHEN the file leaves the blocklist and the chain builds again
    log = dbt_run_log(dbt, db, select=CHAIN)

    # THEN the chain is back where it started, row for row
    assert [int(n) for n in MIRROR_LINE.findall(log)] == [1]
    assert chain_sums(db) == start


def outcomes(done: DbtCall, *tests: str) -> list[tuple[str, int | None]]:
    """(status, failures) of each of ``tests`` in one `dbt test` call."""
    return [(done.result(t).status, done.result(t).failures) for t in tests]


def test_generic_tests_of_an_incremental_build_check_the_rows_it_rederived(home: Paths, dbt: DuckDbt) -> None:
    # GIVEN a last fact build that re-derived Korea A/2019 alone (the unblock of the test above)
    db = home.build_db
    with duckdb.connect(str(db), read_only=True) as con:
        last = con.execute(
            "select freq_code, ref_year, reporter_code, is_full from semitrade_state.fct_trade_flows__last_build"
        ).fetchall()
    assert last == [("A", 2019, 410, False)]
    unique = "unique_fct_trade_flows_trade_flow_key"
    conservation = "assert_conservation_comtrade"  # a singular test, scoped the same way
    both = f"{unique} {conservation}"
    saved = dbt.work / "before_planting.duckdb"
    shutil.copyfile(db, saved)
    try:
        # WHEN a row of Japan M/2019, a partition that build left alone, is duplicated
        duplicate_a_row(db, "M", 2019, 392)

        # THEN the tests of the fact check the re-derived rows and pass ...
        done = dbt_test(dbt, db, both)
        assert done.success, done.log[-2000:]
        assert outcomes(done, unique, conservation) == [("pass", 0), ("pass", 0)]
        assert re.search(rf"PASS {unique} ", done.log), done.log[-2000:]
        assert re.search(rf"PASS {conservation} ", done.log), done.log[-2000:]
        # (the conservation check read the lake files of Korea A/2019 alone, by path)
        files = lake_files_read(dbt, db, conservation)
        assert files[0].name == ".empty.parquet" and len(files) > 1
        assert all("/freq=A/year=2019/reporter=410/" in str(f) for f in files[1:]), files
        # ... and with var full_tests they check every row and both find the duplicate
        done = dbt_test(dbt, db, both, full_tests=True)
        assert not done.success
        assert lake_files_read(dbt, db, conservation) is None  # the whole lake
        assert outcomes(done, unique, conservation) == [("fail", 1), ("fail", 1)]
        assert re.search(rf"FAIL 1 {unique}", done.log), done.log[-2000:]
        assert re.search(rf"FAIL 1 {conservation}", done.log), done.log[-2000:]

        # WHEN a row of the re-derived partition is duplicated
        shutil.copyfile(saved, db)
        duplicate_a_row(db, "A", 2019, 410)

        # THEN the scoped tests find it
        done = dbt_test(dbt, db, both)
        assert not done.success
        assert outcomes(done, unique, conservation) == [("fail", 1), ("fail", 1)]
        assert re.search(rf"FAIL 1 {unique}", done.log), done.log[-2000:]
        assert re.search(rf"FAIL 1 {conservation}", done.log), done.log[-2000:]
    finally:
        shutil.copyfile(saved, db)


def lake_files_read(dbt: DuckDbt, db: Path, node: str = "fct_trade_flows") -> list[Path] | None:
    """The lake files the compiled SQL of ``node``'s last run into ``db`` reads by path; None when it
    reads the lake's glob instead."""
    compiled = next((dbt.work / f"target_{db.stem}" / "compiled").rglob(f"{node}.sql")).read_text()
    if "/lake/comtrade/records/**/*.parquet" in compiled:
        return None
    found = READ_PARQUET_LIST.findall(compiled)
    assert len(found) == 1, compiled
    return [Path(p.strip().removeprefix("'").removesuffix("'")) for p in found[0].split(",")]


def fct_files_read(dbt: DuckDbt, db: Path) -> list[Path]:
    """The files the compiled SQL of fct_trade_flows' last run into ``db`` reads by path (it must read no glob)."""
    files = lake_files_read(dbt, db)
    assert files is not None, "fct_trade_flows read the lake's glob"
    return files


def test_an_incremental_build_reads_the_files_of_the_rederived_partitions_by_path(
    home: Paths, dbt: DuckDbt
) -> None:
    # GIVEN the fact up to date, China A/2010 with its two vintages and Korea M/2019 with its one lake file
    db = home.build_db
    v1, v2 = china_bodies()
    assert dbt_run(dbt, db) == 0
    records = home.lake / "comtrade" / "records"
    assert fct_files_read(dbt, db) == [
        records / ".empty.parquet"
    ]  # nothing to re-derive: the schema file alone
    korea = ("comtrade", "M", 2019, 410)
    (korea_file,) = lake_files(home, "freq=M/year=2019/reporter=410")
    start = counts(db)
    assert start[korea] > 0 and start[CHINA] == 4
    untouched = f"{outside(CHINA)} and {outside(korea)}"
    untouched_sum = checksum(db, untouched)

    # WHEN a third China vintage lands (values +20 % on the revision) and Korea M/2019's file leaves the
    # lake, and the fact builds
    v3 = copy.deepcopy(v2)
    for rec in v3["data"]:
        rec["primaryValue"] = round(rec["primaryValue"] * 1.2, 2)
        rec["cifvalue"] = rec["primaryValue"] if rec["cifvalue"] is not None else None
    _, third_file = land_china(home, v3, V2_FETCHED + timedelta(days=30))
    aside = dbt.work / "aside_by_path"
    aside.mkdir(exist_ok=True)
    shutil.move(korea_file, aside / korea_file.name)
    try:
        assert dbt_run(dbt, db) == 2

        # THEN the fact read the schema file and every file of China A/2010 (its three vintages, for the
        # latest-vintage rule), by path, and no other file; Korea M/2019 (no file left) is emptied
        china_files = lake_files(home, CHINA_PARTITION)
        assert len(china_files) == 3 and third_file in china_files
        assert fct_files_read(dbt, db) == [records / ".empty.parquet", *china_files]
        assert values(db, CHINA) == pytest.approx(latest_of(v1, v2, v3), rel=1e-12)
        assert DROPPED in values(db, CHINA)  # only the first vintage carries it
        assert counts(db) == {k: v for k, v in start.items() if k != korea}
        assert checksum(db, untouched) == untouched_sum
        # AND the table equals a full rebuild of the same lake
        assert checksum(db) == checksum(full_refresh_of_copy(home, dbt))
    finally:
        shutil.move(aside / korea_file.name, korea_file)
        third_file.unlink()
    # WHEN the lake is back as it was
    assert dbt_run(dbt, db) == 2

    # THEN so is the table (Korea's file is read back by path)
    assert fct_files_read(dbt, db) == [
        records / ".empty.parquet",
        *lake_files(home, CHINA_PARTITION),
        korea_file,
    ]
    assert counts(db) == start
    assert checksum(db) == checksum(full_refresh_of_copy(home, dbt))
