"""The session's built homes: two full runs of the main job (with the live end-to-end test's, three in
the whole suite), and every test reads their result or works on a copy. Registered in tests/conftest.py:

- `published_build` / `published_home`: before the run, three bad Comtrade files (`land_bad_inputs`: one
  the gate blocks, one with a quarantined row, one quarantined whole) and the Korea and Japan annual
  series 2005–2024 (`LONG_SERIES`: five HS versions) are landed; then the main job runs on the SHARED
  slice (Korea, Japan, China; monthly 2018–2020; annual 2006, 2007 and 2018–2020: the Korea–Japan
  corridor, the July 2019 shock, both sides of the HS2007 break and all three years the indicators
  compare) with every national source (Korea Customs and Japan MOF for the monthly years, the ECB
  rates). China's annual 2010 stays out: the incremental-build tests (DuckDB and Spark) land it as a new
  partition (tests/dbt/incremental.py). Read by the serving, pipeline, indicator, national, reference,
  quality-gate, incremental-build, BI-serving and Spark tests.
- `rebuilt_build`: a copy of the published home whose Comtrade lake and publication are removed; the
  main job runs on it with a disk failure injected on the 4th lake file (it fails), then again while two
  reader processes query a previous publication at its serving path (`earlier_publication`: the
  published file without China's reports, made with DuckDB, no run). Read by the idempotency and
  crash tests (its marts must equal `published_build`'s) and the BI-serving test.

Session homes are read-only: a test that changes a home works on `copy_home(...)` of it. A copied home
is a complete home; its staging views still read the original's lake by path until a build makes them
again (`semitrade build` does it for a moved home: orchestration/refresh.py).
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import pytest

from ingest import atomic
from ingest.comtrade.sample import SampleScope, land_sample
from ingest.config import Paths
from ingest.landing import land

if TYPE_CHECKING:
    import dagster as dg

SHARED_SCOPE = {
    "mode": "sample",
    "reporters": [410, 392, 156],
    "monthly_years": [2018, 2019, 2020],
    "annual_years": [2006, 2007, 2018, 2019, 2020],
}
# Landed before the published build's run: Korea's and Japan's annual reports 2005–2024, in the five HS
# versions of those years (China's annual 2010 stays out of the build: tests/dbt/incremental.py)
LONG_SERIES = SampleScope(reporters=(410, 392), monthly_years=(), annual_years=tuple(range(2005, 2025)))


# (freq, year, reporter) of every Comtrade sample file the published build landed (one file each)
SAMPLE_PARTITIONS = frozenset(
    (freq, year, reporter)
    for reporters, monthly, annual in (
        (SHARED_SCOPE["reporters"], SHARED_SCOPE["monthly_years"], SHARED_SCOPE["annual_years"]),
        (LONG_SERIES.reporters, LONG_SERIES.monthly_years, LONG_SERIES.annual_years),
    )
    for reporter in reporters
    for freq, years in (("M", monthly), ("A", annual))
    for year in years
)
BAD_INPUTS = Path(__file__).parent / "fixtures" / "bad_inputs" / "comtrade"
UNKNOWN_REPORTER = 999
BAD_REPORTERS = {"blocked": UNKNOWN_REPORTER, "quarantined_row": 842, "quarantined_file": 843}  # monthly 2019
CHINA = 156  # its reports are left out of the earlier publication the readers start on
CRASH_ON_LAKE_FILE = 4


@dataclass(frozen=True)
class Build:
    """A home the main job ran in, the result of that run (events, materialization metadata), and the
    landing paths of the bad files landed before it, by role (`land_bad_inputs`; empty: none)."""

    store: Paths
    result: dg.ExecuteInProcessResult
    bad_inputs: dict[str, str] = field(default_factory=dict)


Snapshot = tuple[int, float, int, str]  # fct_trade_flows rows and value sum, dim_country rows, main tables


@dataclass(frozen=True)
class Rebuild:
    """`rebuilt_build`: the crashed run and what it left, the rerun, and what the readers saw meanwhile."""

    store: Paths
    previous: Path  # the earlier publication copied to the serving path before the rerun
    crashed: dg.ExecuteInProcessResult
    crash_lake_writes: int  # Comtrade lake files the crashed run tried to rename into place
    crash_left_serving: bool  # a serving file existed after the crashed run
    crash_left_tmp: list[str]  # temporary files anywhere in the home after the crashed run
    result: dg.ExecuteInProcessResult
    before: Snapshot  # the previous publication the readers started on
    after: Snapshot | None  # the publication of the rerun (None: the rerun failed)
    started: float
    published: float
    reads: dict[str, list[dict[str, Any]]]  # reader mode -> observations, in time order


def run_main_job(scope: dict[str, object]) -> dg.ExecuteInProcessResult:
    """Materialize the `main` job in this process for the SEMITRADE_HOME currently in the environment."""
    import dagster as dg  # noqa: PLC0415 - Dagster is slow to import; only pipeline tests need it

    from orchestration.definitions import defs  # noqa: PLC0415

    return defs.resolve_job_def("main").execute_in_process(
        run_config={"ops": {"comtrade__landed_responses": {"config": scope}}},
        instance=dg.DagsterInstance.ephemeral(),
        raise_on_error=False,
    )


def run_main_job_in(home: Path, scope: dict[str, object]) -> dg.ExecuteInProcessResult:
    """Run the `main` job with SEMITRADE_HOME=home (the sample's ECB rates: no ECB_BASE_URL)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SEMITRADE_HOME", str(home))
        mp.delenv("ECB_BASE_URL", raising=False)
        return run_main_job(scope)


def failures(result: dg.ExecuteInProcessResult) -> list[str]:
    """The failure events of a run: each message, with the error and its causes when there is one."""
    out = []
    for event in result.all_events:
        if event.is_failure:
            error = getattr(event.event_specific_data, "error", None)
            out.append(f"{event.message} {error.to_string() if error else ''}".strip())
    return out


def build_home(home: Path, scope: dict[str, object], what: str) -> Build:
    """Run the main job on ``scope`` in ``home``; fail the requesting test if the run failed."""
    result = run_main_job_in(home, scope)
    if not result.success:
        pytest.fail(f"the main job failed on the {what}: {failures(result)[:3]}")
    store = Paths(home.resolve())
    assert store.build_db.exists() and store.serving_db.exists()
    return Build(store, result)


def copy_home(src: Paths, dst: Path) -> Paths:
    """A complete copy of the home ``src`` at ``dst`` (landing, lake, quality, warehouse and publication).

    Use it before changing a session home. ``dst`` must not exist yet."""
    if dst.exists():
        raise FileExistsError(f"copy_home: {dst} already exists; give each copy a fresh directory")
    shutil.copytree(src.home, dst, symlinks=True)
    return Paths(dst.resolve())


def _as_reporter(name: str, reporter: int) -> bytes:
    body = json.loads((BAD_INPUTS / name).read_text(encoding="utf-8"))
    for rec in body["data"]:
        rec["reporterCode"] = reporter
    return json.dumps(body).encode()


def land_bad_inputs(store: Paths) -> dict[str, str]:
    """Land three bad Comtrade files (monthly 2019): "blocked" (an unknown reporter, 999, which the gate
    blocks), "quarantined_row" (reporter 842, one good row and one negative value the parser quarantines)
    and "quarantined_file" (reporter 843, empty, quarantined whole). Returns their landing paths by role."""
    inputs = {
        "blocked": _as_reporter("unknown_reporter.json", BAD_REPORTERS["blocked"]),
        "quarantined_row": _as_reporter("negative_values.json", BAD_REPORTERS["quarantined_row"]),
        "quarantined_file": (BAD_INPUTS / "empty.json").read_bytes(),
    }
    out = {}
    for role, content in inputs.items():
        entry, _ = land(
            store,
            source="comtrade",
            dataset="records",
            partition=f"freq=M/year=2019/reporter={BAD_REPORTERS[role]}",
            stem=f"bad_{role}",
            content=content,
            params={"test": role},
            origin="sample",
        )
        out[role] = entry.path
    return out


# -- BI readers: other processes querying the serving file through SQLAlchemy + duckdb-engine ------------
# A reader runs in its own interpreter: a BI tool is another process, and DuckDB's in-process database
# cache must not hide what a fresh connection would see. "reconnect" opens a connection for every query
# (NullPool); "pooled" keeps one connection open for the whole run, as a BI server does.
READER = r"""
import json, sys, time
from pathlib import Path
import sqlalchemy as sa
from sqlalchemy.pool import NullPool

db, mode, log, stop = sys.argv[1], sys.argv[2], Path(sys.argv[3]), Path(sys.argv[4])
if mode == "reconnect":
    engine = sa.create_engine(f"duckdb:///{db}", connect_args={"read_only": True}, poolclass=NullPool)
else:
    engine = sa.create_engine(f"duckdb:///{db}?access_mode=read_only", pool_size=1)
probe = sa.text(
    "select (select count(*) from main.fct_trade_flows), (select sum(value_usd) from main.fct_trade_flows), "
    "(select count(*) from main.dim_country), "
    "(select string_agg(table_name, ',' order by table_name) from duckdb_tables() where schema_name = 'main')"
)
held = engine.connect() if mode == "pooled" else None
with log.open("a") as out:
    while not stop.exists():
        t = time.time()
        try:
            if held is not None:
                row = held.execute(probe).one()
                held.rollback()
            else:
                with engine.connect() as conn:
                    row = conn.execute(probe).one()
            rec = {"t": t, "n": row[0], "sum": row[1], "countries": row[2], "tables": row[3]}
        except Exception as exc:  # record every failure: the test asserts there are none
            rec = {"t": t, "error": f"{type(exc).__name__}: {exc}"}
        out.write(json.dumps(rec) + "\n")
        out.flush()
        time.sleep(0.1)
"""
READER_MODES = ("reconnect", "pooled")


def snapshot(db: Path) -> Snapshot:
    """What a reader's probe returns for the warehouse file ``db``."""
    with duckdb.connect(str(db), read_only=True) as con:
        n, total = con.execute("select count(*), sum(value_usd) from main.fct_trade_flows").fetchone()
        countries = con.execute("select count(*) from main.dim_country").fetchone()[0]
        tables = con.execute(
            "select string_agg(table_name, ',' order by table_name) from duckdb_tables() where schema_name = 'main'"
        ).fetchone()[0]
    return n, total, countries, tables


def reader_records(log: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in log.read_text().splitlines() if line.strip()] if log.exists() else []


def wait_for(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.1)


def _crash_on_lake_file(n: int) -> tuple[Callable[[Any, Any], None], list[Any]]:
    """An `os.replace` whose n-th rename of a Comtrade lake file fails with ENOSPC (a full disk)."""
    real, calls = os.replace, []

    def flaky_replace(src: Any, dst: Any) -> None:
        if str(dst).endswith(".parquet") and "/lake/comtrade/" in str(dst):
            calls.append(dst)
            if len(calls) == n:
                raise OSError(28, "No space left on device", str(dst))
        real(src, dst)

    return flaky_replace, calls


def earlier_publication(source: Paths, dst: Path) -> Path:
    """A smaller publication than ``source``'s at ``dst``: a copy of its serving file without China's
    reports in fct_trade_flows (made with DuckDB, no run of the job), for `rebuilt_build`'s readers."""
    shutil.copyfile(source.serving_db, dst)
    with duckdb.connect(str(dst)) as con:
        con.execute("delete from main.fct_trade_flows where reporter_code = ?", [CHINA])
        con.execute("checkpoint")
    return dst


def rebuild_with_readers(source: Paths, previous: Path, dst: Path, scope: dict[str, object]) -> Rebuild:
    """Copy ``source`` to ``dst`` without its Comtrade lake and publication, run the main job with a disk
    failure on the CRASH_ON_LAKE_FILE-th lake file, publish the serving file ``previous`` in its place,
    then run the job again while two readers query it."""
    store = copy_home(source, dst)
    shutil.rmtree(store.lake / "comtrade" / "records")
    store.serving_db.unlink()
    flaky_replace, calls = _crash_on_lake_file(CRASH_ON_LAKE_FILE)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(atomic.os, "replace", flaky_replace)
        crashed = run_main_job_in(store.home, scope)
    crash_left_serving = store.serving_db.exists()
    crash_left_tmp = sorted(str(p) for p in store.home.rglob("*") if p.name.endswith(".tmp"))

    # an earlier, smaller publication at the serving path, read-only as the job publishes it
    shutil.copyfile(previous, store.serving_db)
    os.chmod(store.serving_db, stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)
    before = snapshot(store.serving_db)
    work = dst.parent / "readers"
    work.mkdir()
    stop = work / "stop"
    logs = {mode: work / f"{mode}.jsonl" for mode in READER_MODES}
    readers = [
        subprocess.Popen([sys.executable, "-c", READER, str(store.serving_db), mode, str(log), str(stop)])
        for mode, log in logs.items()
    ]
    after = None
    try:
        wait_for(lambda: all(reader_records(log) for log in logs.values()), 60, "both readers to start")
        started = time.time()
        result = run_main_job_in(store.home, scope)
        published = time.time()
        if result.success:
            after = snapshot(store.serving_db)
            wait_for(
                lambda: reader_records(logs["reconnect"])[-1].get("n") == after[0],
                30,
                "a fresh connection to see the new build",
            )
    finally:
        stop.touch()
        for proc in readers:
            proc.wait(timeout=30)
    return Rebuild(
        store=store,
        previous=previous,
        crashed=crashed,
        crash_lake_writes=len(calls),
        crash_left_serving=crash_left_serving,
        crash_left_tmp=crash_left_tmp,
        result=result,
        before=before,
        after=after,
        started=started,
        published=published,
        reads={mode: reader_records(log) for mode, log in logs.items()},
    )


@pytest.fixture(scope="session")
def published_build(tmp_path_factory: pytest.TempPathFactory) -> Build:
    """The three bad Comtrade files and the Korea–Japan annual series landed, then the main job on the
    SHARED sample slice with every national source (read-only; see the module docstring)."""
    home = tmp_path_factory.mktemp("published") / "data"
    bad = land_bad_inputs(Paths(home))
    land_sample(Paths(home), LONG_SERIES)
    return replace(build_home(home, SHARED_SCOPE, "published sample slice"), bad_inputs=bad)


@pytest.fixture(scope="session")
def published_home(published_build: Build) -> Iterator[Paths]:
    """The SEMITRADE_HOME of `published_build` (read-only; copy it with `copy_home` to change it)."""
    yield published_build.store


@pytest.fixture(scope="session")
def rebuilt_build(published_build: Build, tmp_path_factory: pytest.TempPathFactory) -> Rebuild:
    """The published home rebuilt after a crash, watched by two readers (see the module docstring)."""
    previous = earlier_publication(
        published_build.store, tmp_path_factory.mktemp("previous") / "semitrade.duckdb"
    )
    dst = tmp_path_factory.mktemp("rebuilt") / "data"
    return rebuild_with_readers(published_build.store, previous, dst, SHARED_SCOPE)
