"""The generic tests on the Comtrade lake source (source('comtrade', 'records')) check, in an incremental
DuckDB build, only the lake files that changed since fct_trade_flows' last build
(macros/tests/lake_test_scope.sql): a bad row in a new file still fails its test, an unchanged file is
not read again (even a bad one: it was tested when it came), a gate blocklist change re-tests the files
of its partitions, and var full_tests tests every file.

The module's home is a copy of the session's published build (tests/published.py), whose warehouse holds
the fact's recorded state; dbt runs in this process (tests/dbt/runner.py). The tests run in file order on
the one home, each stating the lake it expects.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import duckdb
import pytest

from ingest.config import Paths
from tests.dbt.incremental import dbt_run, dbt_test, gate_blocking, lake_files, source_file_of
from tests.dbt.runner import DbtCall, DuckDbt
from tests.published import Build, copy_home

SOURCE_TESTS = "source:comtrade.records,test_type:generic"  # the 9 value tests of the sources yml
NOT_NULL_REPORTER = "source_not_null_comtrade_records_reporter_code"
PARTITION = "freq=A/year=2019/reporter=410"  # a partition of the published build (Korea 2019)
READ_PARQUET_LIST = re.compile(r"read_parquet\(\[([^\]]*)\], union_by_name = true\)")


@pytest.fixture(scope="module")
def dbt(published_build: Build, tmp_path_factory: pytest.TempPathFactory) -> DuckDbt:
    """dbt in this process on a copy of the session's published build (its fact's state recorded)."""
    assert published_build.result.success
    store = copy_home(published_build.store, tmp_path_factory.mktemp("lake_scope") / "data")
    assert store.build_db.exists()
    return DuckDbt(store.home, tmp_path_factory.mktemp("lake_scope_dbt"))


@pytest.fixture(scope="module")
def home(dbt: DuckDbt) -> Paths:
    return Paths(dbt.home)


@pytest.fixture(scope="module")
def already_blocked(published_build: Build) -> list[str]:
    return [published_build.bad_inputs["blocked"]]


def records_dir(home: Paths) -> Path:
    return home.lake / "comtrade" / "records"


def files_read(dbt: DuckDbt, db: Path, test: str) -> list[str] | None:
    """The lake files the compiled SQL of source test ``test`` reads (relative to the dataset's folder),
    or None when it reads the source's whole glob."""
    compiled = next((dbt.work / f"target_{db.stem}" / "compiled").rglob(f"{test}.sql")).read_text()
    found = READ_PARQUET_LIST.findall(compiled)
    if not found:
        assert "/lake/comtrade/records/**/*.parquet" in compiled, compiled
        return None
    assert len(found) == 1, compiled
    prefix = f"'{records_dir(Paths(dbt.home))}/"
    paths = [p.strip() for p in found[0].split(",")]
    assert all(p.startswith(prefix) for p in paths), paths
    return [p.removeprefix(prefix).removesuffix("'") for p in paths]


def statuses(done: DbtCall) -> dict[str, tuple[str, int | None]]:
    return {r.name: (r.status, r.failures) for r in done.results}


def plant_null_reporters(home: Paths) -> tuple[Path, int]:
    """A new lake file (a new vintage of an existing partition) whose rows have no reporter_code: a copy
    of the partition's file with reporter_code set to null. Returns it and its row count."""
    original = lake_files(home, PARTITION)[0]
    bad = original.with_name("vintage=badbadbadbadbad0.parquet")
    with duckdb.connect() as con:
        con.execute(
            f"copy (select * replace (null::integer as reporter_code) from read_parquet('{original}')) "  # noqa: S608 - test paths
            f"to '{bad}' (format parquet)"
        )
        n = con.execute(f"select count(*) from read_parquet('{bad}')").fetchone()[0]  # noqa: S608
    assert n > 0
    return bad, n


def test_scoped_source_tests_read_only_new_files_and_still_fail_on_a_bad_row(
    home: Paths, dbt: DuckDbt, already_blocked: list[str]
) -> None:
    db = home.build_db
    # GIVEN the published build, nothing changed in the lake since its fact was built
    done = dbt_test(dbt, db, SOURCE_TESTS)
    assert done.success and len(done.results) == 9, done.results
    assert {s for s, _ in statuses(done).values()} == {"pass"}
    # THEN every source test reads the dataset's schema file alone
    assert files_read(dbt, db, NOT_NULL_REPORTER) == [".empty.parquet"]

    # WHEN a new lake file holds rows without reporter_code
    bad, n_bad = plant_null_reporters(home)
    bad_key = bad.relative_to(records_dir(home)).as_posix()
    try:
        done = dbt_test(dbt, db, SOURCE_TESTS)
        # THEN the scoped test reads that file alone and fails on every one of its rows
        assert not done.success
        results = statuses(done)
        assert results.pop(NOT_NULL_REPORTER) == ("fail", n_bad)
        assert {s for s, _ in results.values()} == {"pass"}, results
        assert files_read(dbt, db, NOT_NULL_REPORTER) == [".empty.parquet", bad_key]
        # and with var full_tests every file is read, and the same rows fail
        done = dbt_test(dbt, db, SOURCE_TESTS, full_tests=True)
        assert statuses(done)[NOT_NULL_REPORTER] == ("fail", n_bad)
        assert files_read(dbt, db, NOT_NULL_REPORTER) is None

        # WHEN the fact is built over that lake (its state now holds the bad file: an unchanged file)
        assert dbt_run(dbt, db) == 1
        # THEN the scoped tests do not read it again (they pass); full_tests still finds its rows
        done = dbt_test(dbt, db, SOURCE_TESTS)
        assert done.success, done.results
        assert files_read(dbt, db, NOT_NULL_REPORTER) == [".empty.parquet"]
        done = dbt_test(dbt, db, SOURCE_TESTS, full_tests=True)
        assert statuses(done)[NOT_NULL_REPORTER] == ("fail", n_bad)

        # WHEN the gate's blocklist changes for the landed file of that partition
        partition = lake_files(home, PARTITION)
        target = next(p for p in partition if p != bad)
        with gate_blocking(home, already_blocked, source_file_of(target)):
            done = dbt_test(dbt, db, SOURCE_TESTS)
            # THEN every file of that partition is tested again, the bad one included
            assert statuses(done)[NOT_NULL_REPORTER] == ("fail", n_bad)
            keys = sorted(p.relative_to(records_dir(home)).as_posix() for p in partition)
            assert files_read(dbt, db, NOT_NULL_REPORTER) == [".empty.parquet", *keys]
    finally:
        bad.unlink()
    # AND once the bad file left the lake and the fact was rebuilt, nothing is left to test
    assert dbt_run(dbt, db) == 1
    done = dbt_test(dbt, db, SOURCE_TESTS)
    assert done.success and files_read(dbt, db, NOT_NULL_REPORTER) == [".empty.parquet"]


def test_full_refresh_and_first_build_test_every_file(home: Paths, dbt: DuckDbt) -> None:
    db = home.build_db
    # GIVEN the module's warehouse (state recorded, nothing new in the lake)
    # WHEN the source tests run in a --full-refresh build THEN they read the whole lake
    done = dbt("build", "--select", SOURCE_TESTS, "--full-refresh", warehouse=db)
    assert done.success and len(done.results) == 9, done.results
    assert files_read(dbt, db, NOT_NULL_REPORTER) is None
    # GIVEN a warehouse without the fact's recorded state (a first build)
    fresh = dbt.work / "first" / db.name
    fresh.parent.mkdir(exist_ok=True)
    shutil.copyfile(db, fresh)
    with duckdb.connect(str(fresh)) as con:
        con.execute("drop schema semitrade_state cascade")
    # WHEN the source tests run THEN they read the whole lake
    done = dbt_test(dbt, fresh, SOURCE_TESTS)
    assert done.success and len(done.results) == 9
    assert files_read(dbt, fresh, NOT_NULL_REPORTER) is None
