"""The benchmark's Spark part without running Spark: why it is skipped (never silently), the ratios it
reports, where dbt's time went, and the dbt folders and settings each target's build uses.

The timings themselves live in bench/results, not here."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench import spark as bench_spark
from bench.measure import Measure
from bench.steps import dbt_dirs, slowest_nodes, spark_settings
from orchestration.dbt_target import DbtTargetError


def _missing_java() -> None:
    raise DbtTargetError("the spark target needs Java 17 or newer (pyspark 4) and none was found")


def _ready() -> None:
    return None


@pytest.mark.parametrize(
    ("skip_spark", "dbt", "check", "expected"),
    [
        pytest.param(True, True, _ready, "--skip-spark", id="flag"),
        pytest.param(True, False, _missing_java, "--skip-spark", id="flag-wins"),
        pytest.param(
            False, False, _ready, "--skip-dbt (no warehouse is built, on either target)", id="no-dbt"
        ),
        pytest.param(
            False,
            True,
            _missing_java,
            "the spark target needs Java 17 or newer (pyspark 4) and none was found",
            id="requirement-missing",
        ),
        pytest.param(False, True, _ready, None, id="runs"),
    ],
)
def test_skip_reason(skip_spark: bool, dbt: bool, check: object, expected: str | None) -> None:
    assert bench_spark.skip_reason(skip_spark=skip_spark, dbt=dbt, check=check) == expected


def test_skip_reason_names_java_when_none_is_found(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # GIVEN no java on PATH and no JAVA_HOME (pyspark and dbt-spark are installed: make install)
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("JAVA_HOME", raising=False)
    # WHEN the benchmark asks the Spark target's own requirement check
    reason = bench_spark.skip_reason(skip_spark=False, dbt=True)
    # THEN the reason says what is missing and how to install it
    assert reason is not None
    assert "Java 17" in reason and "openjdk-17-jre-headless" in reason


def _m(name: str, seconds: float, rss: float, ok: bool = True, **detail: object) -> Measure:
    return Measure(name, seconds, 1, rss, ok=ok, detail=dict(detail))


def test_ratios_compare_spark_with_duckdb_in_the_same_run() -> None:
    # GIVEN a DuckDB build of 50 s (1,000 MB) and refresh (dbt 40 s), Spark builds of 300 s on
    # local[1] and 200 s on local[2] (3,000 MB), and a Spark refresh of 210 s (dbt 200 s)
    duck, duck_ref = _m("duck", 50, 1000), _m("duck ref", 41, 900, dbt_seconds=40.0)
    builds = {"local[1]": _m("l1", 300, 2500), "local[2]": _m("l2", 200, 3000)}
    spark_ref = _m("spark ref", 210, 3100, dbt_seconds=200.0)
    # THEN each ratio is the hand-computed one
    assert bench_spark.ratios(duck, duck_ref, builds, spark_ref) == {
        "spark_vs_duckdb_build_time": 4.0,
        "spark_vs_duckdb_build_peak_rss": 3.0,
        "spark_build_local1_vs_local2_time": 1.5,
        "spark_refresh_vs_build_time": 1.05,
        "spark_vs_duckdb_refresh_dbt_time": 5.0,
    }


def test_ratios_leave_out_what_failed() -> None:
    # GIVEN a failed local[2] build and a refresh without a dbt build
    duck, duck_ref = _m("duck", 50, 1000), _m("duck ref", 41, 900, dbt_seconds=40.0)
    builds = {"local[1]": _m("l1", 300, 2500), "local[2]": _m("l2", 20, 3000, ok=False)}
    # THEN no ratio is made up from them
    assert bench_spark.ratios(duck, duck_ref, builds, _m("ref", 1, 1, dbt_seconds=None)) == {}


def test_slowest_nodes_says_where_the_time_went(tmp_path: Path) -> None:
    # GIVEN dbt's run_results.json of a build of two models, three tests and a seed
    times = {
        "model.semitrade.fct_trade_flows": 9.0,
        "model.semitrade.dim_flow": 1.0,
        "test.semitrade.not_null_a": 0.5,
        "test.semitrade.unique_a": 0.7,
        "test.semitrade.unique_b": 0.2,
        "seed.semitrade.hs6_codes": 2.0,
    }
    doc = {
        "elapsed_time": 11.04,
        "results": [{"unique_id": k, "execution_time": v} for k, v in times.items()],
    }
    (tmp_path / "run_results.json").write_text(json.dumps(doc))
    # WHEN summarised
    out = slowest_nodes(str(tmp_path), n=2)
    # THEN counts, sums and medians per kind, and the slowest nodes first
    assert out == {
        "dbt_nodes": 6,
        "dbt_elapsed_s": 11.0,
        "node_seconds_by_kind": {
            "model": {"nodes": 2, "sum_s": 10.0, "median_s": 5.0},
            "seed": {"nodes": 1, "sum_s": 2.0, "median_s": 2.0},
            "test": {"nodes": 3, "sum_s": 1.4, "median_s": 0.5},
        },
        "slowest_nodes": [[9.0, "fct_trade_flows"], [2.0, "hs6_codes"]],
    }
    assert slowest_nodes(str(tmp_path / "none")) == {}


def test_each_target_has_its_own_dbt_folders_and_spark_its_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    # THEN DuckDB keeps the folders it always used; Spark's partial parse state lives apart
    assert dbt_dirs("/h") == ("/h/dbt_target", "/h/dbt_logs")
    assert dbt_dirs("/h", "spark") == ("/h/dbt_target_spark", "/h/dbt_logs_spark")
    # AND the Spark settings in effect are recorded: profiles.yml's defaults (dbt_project/profiles.yml), or
    # the environment's
    for name in ("MASTER", "THREADS", "SHUFFLE_PARTITIONS", "DRIVER_MEMORY"):
        monkeypatch.delenv(f"SEMITRADE_SPARK_{name}", raising=False)
    assert spark_settings("duckdb") == {}
    assert spark_settings("spark") == {
        "spark": {"master": "local[2]", "threads": "4", "shuffle_partitions": "4", "driver_memory": "4g"}
    }
    monkeypatch.setenv("SEMITRADE_SPARK_MASTER", "local[1]")
    assert spark_settings("spark")["spark"]["master"] == "local[1]"
