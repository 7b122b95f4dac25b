"""BI serving: readers of the published warehouse never fail, never block a run, never see a partial build.

Two reader processes query `warehouse/semitrade.duckdb` through SQLAlchemy + duckdb-engine (what
Superset and notebooks use) while the real `main` job rebuilds the warehouse (`dbt build`, quality
gates included) and republishes it over an earlier, smaller publication: one reader reconnects for every
query (NullPool), one keeps a pooled connection open for the whole run, as a BI server does. The run and
the readers are the session's `rebuilt_build` (tests/published.py: the published home rebuilt, with the
published file without China's reports as the previous publication); this module asserts what the
readers saw. Also: dbt descriptions are persisted as table/column comments, and `dbt docs generate` works.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from ingest.config import Paths
from ingest.reference import dbt_project_dir
from tests.published import CHINA, Build, Rebuild, Snapshot, failures, snapshot

CORE_MARTS = ("fct_trade_flows", "dim_country", "dim_product", "dim_period", "dim_flow")


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


def _same_build(a: Snapshot, b: Snapshot) -> bool:
    """Same row count, country count and table list, and the same value sum up to summation order."""
    return (a[0], a[2], a[3]) == (b[0], b[2], b[3]) and a[1] == pytest.approx(b[1], rel=1e-12)


def test_readers_see_no_error_and_no_partial_build_while_the_main_job_republishes(
    rebuilt_build: Rebuild, published_build: Build
) -> None:
    # GIVEN a home with a published warehouse (an earlier, smaller build) and two SQLAlchemy readers on it
    rebuilt = rebuilt_build
    before, after = rebuilt.before, rebuilt.after
    assert _same_build(before, snapshot(rebuilt.previous))
    # WHEN the main job rebuilds the warehouse with `dbt build` and republishes it
    assert rebuilt.result.success, failures(rebuilt.result)[:3]
    assert after is not None and _same_build(after, snapshot(published_build.store.serving_db))
    fresh, pooled = rebuilt.reads["reconnect"], rebuilt.reads["pooled"]
    started, published = rebuilt.started, rebuilt.published

    # THEN the rebuild really changed the published tables: the earlier build had no China reports
    with duckdb.connect(str(published_build.store.serving_db), read_only=True) as con:
        china = con.execute(
            "select count(*) from fct_trade_flows where reporter_code = ?", [CHINA]
        ).fetchone()[0]
    assert after[0] - before[0] == china > 0
    assert after[2] == before[2]
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
    warehouse = rebuilt.store.serving_db.parent
    assert sorted(p.name for p in warehouse.iterdir() if p.name.endswith(".tmp")) == []


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
