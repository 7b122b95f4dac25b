"""BI serving: readers of the published warehouse never fail, never block a run, never see a partial build.

Two reader processes query `warehouse/semitrade.duckdb` through SQLAlchemy + duckdb-engine (what
Superset and notebooks use) while the real `main` job lands one more year, rebuilds the warehouse
(`dbt build`, quality gates included) and republishes it: one reader reconnects for every query
(NullPool), one keeps a pooled connection open for the whole run, as a BI server does. Also: dbt descriptions are
persisted as table/column comments, and `dbt docs generate` works.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from ingest.config import Paths
from ingest.reference import dbt_project_dir
from tests.published import SHARED_SCOPE, copy_home, failures, run_main_job_in

CORE_MARTS = ("fct_trade_flows", "dim_country", "dim_product", "dim_period", "dim_flow")

# The reader runs in its own interpreter: a BI tool is another process, and DuckDB's in-process
# database cache must not hide what a fresh connection would see.
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


def _snapshot(db: Path) -> tuple[int, float, int, str]:
    with duckdb.connect(str(db), read_only=True) as con:
        n, total = con.execute("select count(*), sum(value_usd) from main.fct_trade_flows").fetchone()
        countries = con.execute("select count(*) from main.dim_country").fetchone()[0]
        tables = con.execute(
            "select string_agg(table_name, ',' order by table_name) from duckdb_tables() where schema_name = 'main'"
        ).fetchone()[0]
    return n, total, countries, tables


def _records(log: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in log.read_text().splitlines() if line.strip()]


def _wait_for(predicate: object, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():  # type: ignore[operator]
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.1)


def _dbt(args: list[str], home: Path, work: Path) -> subprocess.CompletedProcess[str]:
    """Run dbt on the project for SEMITRADE_HOME=home, with target and logs in ``work``."""
    project = dbt_project_dir()
    env = {**os.environ, "SEMITRADE_HOME": str(home), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    env.pop("SEMITRADE_WAREHOUSE_PATH", None)
    command = [str(Path(sys.executable).parent / "dbt"), *args, "--project-dir", str(project)]
    command += [
        "--profiles-dir",
        str(project),
        "--target-path",
        str(work / "target"),
        "--log-path",
        str(work / "logs"),
    ]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=900, check=False)


def test_readers_see_no_error_and_no_partial_build_while_the_main_job_republishes(
    published_home: Paths, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a copy of a published warehouse (with its landing and lake) and two SQLAlchemy readers on it
    home = copy_home(published_home, tmp_path / "data").home
    serving = home / "warehouse" / "semitrade.duckdb"
    before = _snapshot(serving)
    stop = tmp_path / "stop"
    logs = {mode: tmp_path / f"{mode}.jsonl" for mode in ("reconnect", "pooled")}
    readers = [
        subprocess.Popen([sys.executable, "-c", READER, str(serving), mode, str(log), str(stop)])
        for mode, log in logs.items()
    ]
    try:
        _wait_for(
            lambda: all(log.exists() and _records(log) for log in logs.values()), 60, "both readers to start"
        )

        # WHEN the main job lands one more year, rebuilds the warehouse with `dbt build` and republishes it
        monkeypatch.setenv("SEMITRADE_HOME", str(home))
        more_years = sorted({2017, *SHARED_SCOPE["annual_years"]})  # type: ignore[misc]
        started = time.time()
        result = run_main_job_in(home, {**SHARED_SCOPE, "annual_years": more_years})
        published = time.time()
        assert result.success, failures(result)[:3]
        after = _snapshot(serving)
        _wait_for(
            lambda: _records(logs["reconnect"])[-1].get("n") == after[0],
            30,
            "a fresh connection to see the new build",
        )
    finally:
        stop.touch()
        for proc in readers:
            proc.wait(timeout=30)

    # THEN the rebuild really changed the published tables
    assert after[0] > before[0]
    assert after[2] == before[2]
    fresh, pooled = _records(logs["reconnect"]), _records(logs["pooled"])
    # AND no reader ever got an error, during the run or the publication
    assert [r for r in fresh + pooled if "error" in r] == []
    # AND every observation is exactly one complete build (row count, value sum and table list together)
    for rec in fresh + pooled:
        snap = before if rec["n"] == before[0] else after
        assert rec["n"] in (before[0], after[0])
        assert rec["sum"] == pytest.approx(snap[1], rel=1e-9)
        assert (rec["countries"], rec["tables"]) == (snap[2], snap[3])
    # AND the reconnecting reader read the old build during the run and the new one after it, never back again
    during = [r for r in fresh if started <= r["t"] <= published]
    assert len(during) >= 20, "the reader must have queried continuously while the job ran"
    switched = [i for i, r in enumerate(fresh) if r["n"] == after[0]]
    assert switched and all(r["n"] == after[0] for r in fresh[switched[0] :])
    assert any(r["n"] == before[0] for r in during)
    # AND the pooled connection, open for the whole run, neither blocked the job nor broke: it keeps its snapshot
    assert len([r for r in pooled if started <= r["t"] <= published]) >= 20
    assert {r["n"] for r in pooled} == {before[0]}
    # AND nothing half-written is left next to the serving file
    assert sorted(p.name for p in (home / "warehouse").iterdir() if p.name.endswith(".tmp")) == []


def test_dbt_descriptions_are_persisted_as_comments_in_the_serving_file(published_home: Paths) -> None:
    # GIVEN the published warehouse
    with duckdb.connect(str(published_home.serving_db), read_only=True) as con:
        # WHEN a BI tool reads the catalog
        tables = dict(
            con.execute(
                "select table_name, comment from duckdb_tables() "
                "where database_name = current_database() and schema_name = 'main' and not internal"
            ).fetchall()
        )
        columns = con.execute(
            "select table_name, column_name, comment from duckdb_columns() "
            "where database_name = current_database() and schema_name = 'main' and not internal"
        ).fetchall()
    # THEN every published mart and every one of its columns carries its dbt description
    assert set(CORE_MARTS) <= set(tables)
    assert [t for t, c in tables.items() if not (c or "").strip()] == []
    assert [(t, c) for t, c, comment in columns if not (comment or "").strip()] == []
    by_column = {(t, c): comment for t, c, comment in columns}
    assert by_column[("fct_trade_flows", "value_usd")].startswith("Trade value in US dollars")
    assert "SYNTHETIC" in tables["fct_trade_flows"]


def test_dbt_docs_generate_writes_a_catalog_with_the_marts(published_home: Paths, tmp_path: Path) -> None:
    # GIVEN a built warehouse (the pipeline's build file, not the read-only serving copy)
    # WHEN `dbt docs generate` runs, into a target folder of its own
    proc = _dbt(["docs", "generate"], published_home.home, tmp_path)
    # THEN it succeeds and the catalog lists the marts with their columns and persisted comments
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    target = tmp_path / "target"
    assert (target / "index.html").stat().st_size > 10_000
    catalog = json.loads((target / "catalog.json").read_text())
    node = catalog["nodes"]["model.semitrade.fct_trade_flows"]
    assert node["metadata"]["comment"].startswith("Bilateral trade in goods")
    assert node["columns"]["value_usd"]["type"].upper() == "DOUBLE"
    assert node["columns"]["value_usd"]["comment"].startswith("Trade value in US dollars")
    manifest = json.loads((target / "manifest.json").read_text())
    assert manifest["nodes"]["model.semitrade.fct_trade_flows"]["description"].startswith("Bilateral trade")
