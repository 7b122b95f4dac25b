"""The Spark target (issue 14): the offline sample built on Spark equals the DuckDB build, mart by mart,
and the Spark marts are Parquet folders that DuckDB reads (the published serving file)."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from ingest.config import Paths
from orchestration.dbt_target import (
    DbtTargetError,
    chosen_target,
    dbt_target_args,
    spark_lake_state,
    spark_mart_dir,
)
from orchestration.resources import manifest_path
from tests.dbt.spark_build import SparkBuild, values_differ
from tests.published import Build


def test_every_seed_model_and_test_ran_on_spark(spark_build: SparkBuild) -> None:
    """The Spark build ran every seed, model, data test and unit test of the project, all successful."""
    manifest = json.loads(manifest_path().read_text())
    project = {
        uid
        for uid, node in manifest["nodes"].items()
        if node["resource_type"] in ("seed", "model", "test") and node["package_name"] == "semitrade"
    } | {uid for uid, node in manifest["unit_tests"].items() if node["package_name"] == "semitrade"}
    ran = {uid for uid, _, _ in spark_build.results}
    assert ran == project, (
        f"not run on Spark: {sorted(project - ran)[:5]}; unexpected: {sorted(ran - project)[:5]}"
    )
    statuses = Counter(status for _, status, _ in spark_build.results)
    assert set(statuses) <= {"success", "pass"}, statuses
    kinds = Counter(uid.split(".")[0] for uid in ran)
    assert (
        kinds["seed"] >= 17 and kinds["model"] >= 39 and kinds["test"] >= 250 and kinds["unit_test"] >= 20
    ), kinds


def test_every_mart_equals_the_duckdb_build(spark_build: SparkBuild) -> None:
    """Same marts, columns, row counts and key sets; integers and text equal, money to the cent, other
    floats within 1e-9 relative (compared right after the build: tests/dbt/spark_build.py)."""
    assert sorted(spark_build.spark_marts) == sorted(spark_build.duck_marts)
    assert not spark_build.problems, "\n".join(spark_build.problems[:20])
    # the comparison covered the core marts and the views of the DuckDB build
    covered = set(spark_build.duck_marts)
    assert {
        "fct_trade_flows",
        "dim_product",
        "fct_reconciled_flows",
        "fct_export_control_2019_monthly",
    } <= covered
    assert len(covered) >= 20, sorted(covered)


def test_the_spark_marts_are_parquet_folders_duckdb_reads(spark_build: SparkBuild) -> None:
    import duckdb  # noqa: PLC0415

    folder = spark_mart_dir(spark_build.store, "fct_trade_flows")
    files = sorted(folder.rglob("*.parquet"))
    assert files, f"no Parquet file under {folder}"
    with duckdb.connect() as con:
        direct = con.execute(
            "select count(*), count(distinct reporter_code) from read_parquet(?)", [[str(f) for f in files]]
        ).fetchone()
    with duckdb.connect(str(spark_build.store.serving_db), read_only=True) as con:
        served = con.execute(
            "select count(*), count(distinct reporter_code) from main.fct_trade_flows"
        ).fetchone()
    assert direct == served and direct[0] > 1000 and direct[1] >= 3


def test_the_comparison_catches_a_difference() -> None:
    assert values_differ("value_usd", 100.0, 100.01)
    assert not values_differ("value_usd", 100.0, 100.004)
    assert values_differ("hhi", 0.5, 0.5 + 1e-6)
    assert not values_differ("hhi", 0.5, 0.5 + 1e-12)
    assert values_differ("reporter_code", 410, 392)
    assert values_differ("origin", None, "sample")


def test_target_choice(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("SEMITRADE_DBT_TARGET", raising=False)
    assert chosen_target() == "duckdb"
    monkeypatch.setenv("SEMITRADE_DBT_TARGET", "Spark")
    assert chosen_target() == "spark"
    assert chosen_target("duckdb") == "duckdb"
    with pytest.raises(DbtTargetError, match="unknown dbt target 'trino'.*duckdb, spark"):
        chosen_target("trino")
    store = Paths(tmp_path / "home")
    assert dbt_target_args("duckdb", store) == ["--target", "duckdb"]
    args = dbt_target_args("spark", store)
    assert args[:3] == ["--target", "spark", "--vars"]
    # an empty home: no dataset with files, no gate verdict, and no earlier Spark build (a full one)
    assert json.loads(args[3]) == {
        "spark_lake": {"with_files": [], "gate_files": []},
        "spark_fct": {"full": True, "partitions": []},
    }


def test_lake_state_names_the_datasets_with_files(published_build: Build) -> None:
    state = spark_lake_state(published_build.store)
    # the bad inputs' quarantined rows: the quarantine folder has files too
    assert state["with_files"] == [
        "comtrade/records",
        "kcs/trade",
        "japan/trade",
        "fx/monthly_rates",
        "_quarantine",
    ]
    assert state["gate_files"] == ["comtrade/records", "kcs/trade", "japan/trade"]


def test_build_on_spark_without_java_is_a_clear_error(tmp_path: Path) -> None:
    # no java on PATH and no JAVA_HOME: the command stops before it reads the lake or starts dbt
    env = {
        "PATH": str(Path(sys.executable).parent),
        "SEMITRADE_HOME": str(tmp_path / "data"),
        "HOME": str(tmp_path),
    }
    proc = subprocess.run(
        [sys.executable, "-m", "orchestration.cli", "build", "--target", "spark"],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode != 0
    assert "the spark target needs Java 17 or newer" in proc.stderr, proc.stderr
    assert "openjdk-17-jre-headless" in proc.stderr
