"""fct_trade_flows built incrementally on Spark (insert_overwrite by lake partition, the changed partitions
found by orchestration/spark_incremental.py) equals a full rebuild of the same lake: after a new
partition, a revision and a removed lake file. It works in the session's Spark home
(tests/dbt/spark_build.py: one Spark session per test session), after the build was compared with DuckDB.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pytest

from ingest.config import Paths
from ingest.reference import dbt_project_dir
from orchestration.dbt_target import spark_mart_dir
from orchestration.refresh import RefreshPlan, plan_refresh, promote_pending
from orchestration.spark_incremental import partition_of, plan_fct_build
from tests.dbt.incremental import (
    CHINA_PARTITION,
    DROPPED,
    V1_FETCHED,
    V2_FETCHED,
    china_bodies,
    double_kcs_imports_from_japan,
    keyed,
    lake_files,
    land_china,
    latest_of,
)
from tests.dbt.spark_build import SparkBuild, failed, run_dbt

CHINA = ("A", 2010, 156)
KOREA_M_2019 = ("M", 2019, 410)


def refresh_plan(store: Paths, *, all_nodes: bool = False) -> RefreshPlan:
    """What a Spark build of ``store`` runs, planned as the warehouse asset plans it."""
    project = dbt_project_dir()
    return plan_refresh(
        store, project, project / "target" / "manifest.json", all_nodes=all_nodes, target="spark"
    )


def fact_rows(store: Paths) -> list[tuple[Any, ...]]:
    """Every row of the Spark fct_trade_flows (its Parquet folder), sorted, as text."""
    glob = str(spark_mart_dir(store, "fct_trade_flows") / "**" / "*.parquet")
    with duckdb.connect() as con:
        rows = con.execute(
            "select * exclude (source, freq_code, ref_year, reporter_code), source, freq_code, "
            "cast(ref_year as integer), cast(reporter_code as integer) "
            "from read_parquet(?, hive_partitioning = true)",
            [glob],
        ).fetchall()
    return sorted(tuple(str(v) for v in r) for r in rows)


def values(store: Paths, part: tuple[str, int, int]) -> dict[tuple[int, str], float]:
    glob = str(spark_mart_dir(store, "fct_trade_flows") / "**" / "*.parquet")
    with duckdb.connect() as con:
        rows = con.execute(
            "select partner_code, flow_code, value_usd from read_parquet(?, hive_partitioning = true) "
            "where source = 'comtrade' and freq_code = ? and ref_year = ? and reporter_code = ?",
            [glob, *part],
        ).fetchall()
    return {(p, f): v for p, f, v in rows}


def partition_files(store: Paths) -> dict[Path, int]:
    """Every data file of the Spark fact with its modification time (ns)."""
    root = spark_mart_dir(store, "fct_trade_flows")
    return {p: p.stat().st_mtime_ns for p in root.rglob("*.parquet") if not p.name.startswith(".")}


def fact_partition_of(path: Path, store: Paths) -> tuple[str, ...]:
    rel = path.relative_to(spark_mart_dir(store, "fct_trade_flows")).parts[:-1]
    return tuple(p.split("=", 1)[1] for p in rel)


@dataclass
class Step:
    planned: list[tuple[str, int, int]]
    rewritten: set[tuple[str, ...]]  # fact partitions whose files changed
    china: dict[tuple[int, str], float]
    korea_rows: int


def incremental_step(store: Paths, work: Path) -> Step:
    """One incremental `dbt run` of the fact on Spark, recorded like semitrade records it."""
    before = partition_files(store)
    plan = plan_fct_build(store)
    assert not plan.full
    results = run_dbt(store, "run", "--select", "fct_trade_flows", target_path=work, plan=plan)
    assert not failed(results), failed(results)
    plan.record(store)
    after = partition_files(store)
    changed = {p for p in before.keys() | after.keys() if before.get(p) != after.get(p)}
    return Step(
        plan.partitions,
        {fact_partition_of(p, store) for p in changed},
        values(store, CHINA),
        len(values(store, KOREA_M_2019)),
    )


@pytest.fixture(scope="module")
def scenario(spark_build: SparkBuild, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """New partition (China 2010), its revision, then the Korea M/2019 file removed; each followed by an
    incremental build; then a full rebuild of the same lake."""
    store = spark_build.store
    work = tmp_path_factory.mktemp("spark-incremental")
    v1, v2 = china_bodies()
    out: dict[str, Any] = {"v1": v1, "v2": v2, "korea_before": len(values(store, KOREA_M_2019))}
    land_china(store, v1, V1_FETCHED)
    out["new"] = incremental_step(store, work / "t1")
    land_china(store, v2, V2_FETCHED)
    out["revision"] = incremental_step(store, work / "t2")
    (korea_file,) = lake_files(store, "freq=M/year=2019/reporter=410")
    shutil.move(korea_file, work / korea_file.name)
    out["removed"] = incremental_step(store, work / "t3")
    out["incremental_rows"] = fact_rows(store)
    results = run_dbt(store, "run", "--select", "fct_trade_flows", "--full-refresh", target_path=work / "t4")
    assert not failed(results), failed(results)
    out["full_rows"] = fact_rows(store)
    return out


def test_a_new_partition_is_the_only_one_derived(scenario: dict[str, Any]) -> None:
    step = scenario["new"]
    assert step.planned == [CHINA]
    assert step.china == pytest.approx(keyed(scenario["v1"]), rel=1e-12)
    # only China's fact partition and the national ones (re-derived whole on every build) were written
    assert {p for p in step.rewritten if p[0] == "comtrade"} == {("comtrade", "A", "2010", "156")}
    assert any(p[0] != "comtrade" for p in step.rewritten)


def test_a_revision_rederives_its_partition_only(scenario: dict[str, Any]) -> None:
    step = scenario["revision"]
    assert step.planned == [CHINA]
    assert step.china == pytest.approx(latest_of(scenario["v1"], scenario["v2"]), rel=1e-12)
    assert step.china[DROPPED] == keyed(scenario["v1"])[DROPPED]  # the latest vintage per record
    assert {p for p in step.rewritten if p[0] == "comtrade"} == {("comtrade", "A", "2010", "156")}


def test_a_removed_file_empties_its_partition(scenario: dict[str, Any]) -> None:
    step = scenario["removed"]
    assert scenario["korea_before"] > 0
    assert step.planned == [KOREA_M_2019]
    assert step.korea_rows == 0
    assert {p for p in step.rewritten if p[0] == "comtrade"} == {("comtrade", "M", "2019", "410")}


def test_incremental_equals_a_full_rebuild(scenario: dict[str, Any]) -> None:
    assert len(scenario["incremental_rows"]) > 1000
    assert scenario["incremental_rows"] == scenario["full_rows"]


def test_partition_paths_parse() -> None:
    assert partition_of("freq=M/year=2019/reporter=410/vintage=ab.parquet") == ("M", 2019, 410)
    assert partition_of("vintage=ab.parquet") is None
    assert partition_of(f"{CHINA_PARTITION}/x.parquet") == CHINA


def kcs_japan_imports(store: Paths, source_file: str) -> float:
    """Korea's imports from Japan of one KCS file in the Spark fct_trade_flows (its Parquet folder)."""
    glob = str(spark_mart_dir(store, "fct_trade_flows") / "**" / "*.parquet")
    with duckdb.connect() as con:
        (value,) = con.execute(
            "select sum(value_usd) from read_parquet(?, hive_partitioning = true) where source = 'kcs' "
            "and flow_code = 'M' and partner_code = 392 and source_file = ?",
            [glob, source_file],
        ).fetchone()
    return value


def test_a_spark_refresh_runs_only_what_a_kcs_revision_feeds(
    scenario: dict[str, Any], spark_build: SparkBuild, tmp_path: Path
) -> None:
    """On Spark as on DuckDB, a build runs only the nodes downstream of the lake inputs that changed since
    the last published build (orchestration/refresh.py, state under spark-warehouse/_semitrade_state/).
    After the scenario above the Spark home is taken as built and published, then one KCS file is revised."""
    store = spark_build.store
    refresh_plan(store, all_nodes=True).write_pending(store)
    assert promote_pending(store, "spark")
    assert refresh_plan(store).up_to_date
    dims = {p: p.stat().st_mtime_ns for p in spark_mart_dir(store, "dim_country").rglob("*.parquet")}
    assert dims
    source_file = double_kcs_imports_from_japan(store)
    before = kcs_japan_imports(store, source_file)
    assert before > 0
    plan = refresh_plan(store)
    assert plan.changed == ["source:kcs.trade+"]
    fct_plan = plan_fct_build(store)
    assert not fct_plan.full and fct_plan.partitions == []  # no Comtrade partition changed
    results = run_dbt(
        store, "build", "--select", "fqn:*", *plan.dbt_args(), target_path=tmp_path / "t", plan=fct_plan
    )
    assert not failed(results), failed(results)
    kinds = ("model", "test")
    ran = {uid for uid, _, _ in results if uid.split(".")[0] in kinds}
    assert ran == {uid for uid in plan.rebuilt if uid.split(".")[0] in kinds}
    assert "model.semitrade.fct_trade_flows" in ran and "model.semitrade.stg_kcs__trade" in ran
    assert not [uid for uid, _, _ in results if uid.split(".")[0] in ("seed", "unit_test")]
    assert "model.semitrade.dim_country" not in ran and "model.semitrade.stg_comtrade__records" not in ran
    assert len(ran) < len(spark_build.results) * 2 / 3
    assert {p: p.stat().st_mtime_ns for p in spark_mart_dir(store, "dim_country").rglob("*.parquet")} == dims
    assert kcs_japan_imports(store, source_file) == pytest.approx(2 * before, rel=1e-12)
