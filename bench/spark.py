"""The Spark target in the benchmark (issue 14): the same dbt project built on a local Spark session over
the same lake as the DuckDB build, in the same home (Spark writes spark-warehouse/, DuckDB warehouse/).

- full ``dbt build --target spark`` from an empty spark-warehouse, once with SEMITRADE_SPARK_MASTER =
  local[1] and once with local[2] (the default; its warehouse is the one the refresh updates): what
  scales with cores;
- the refresh of one reporter-period on Spark (the revised file the DuckDB refresh landed): incremental as
  far as the project makes it on Spark (``orchestration/spark_incremental.py``: the fact's changed lake
  partitions, insert_overwrite), the rest rebuilt;
- peak RSS of the step's process tree, the JVM included (``bench.measure``).

Spark is skipped with a printed reason, never silently: ``--skip-spark``, no dbt build, or the Spark
target's requirements missing (pyspark / dbt-spark, Java 17+; ``check_spark_requirements``).
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.measure import Measure, measure
from ingest.config import Paths
from orchestration.dbt_target import DbtTargetError, check_spark_requirements, spark_warehouse_dir

# local[2] last: its warehouse is the one the refresh builds on
MASTERS: tuple[str, ...] = ("local[1]", "local[2]")
DEFAULT_MASTER = "local[2]"


def skip_reason(
    *, skip_spark: bool, dbt: bool, check: Callable[[], None] = check_spark_requirements
) -> str | None:
    """Why the Spark contenders do not run (None: they run): the flag, no dbt build, or what ``check``
    (the Spark target's requirements) says is missing."""
    if skip_spark:
        return "--skip-spark"
    if not dbt:
        return "--skip-dbt (no warehouse is built, on either target)"
    try:
        check()
    except DbtTargetError as exc:
        return str(exc)
    return None


def build_name(master: str) -> str:
    """The result's name of a full Spark build on ``master``."""
    return f"spark: dbt build, {master}"


def full_builds(
    home: Path, max_gb: float, add: Callable[[Measure], Measure], masters: tuple[str, ...] = MASTERS
) -> dict[str, Measure]:
    """A full ``dbt build --target spark`` of ``home`` on each of ``masters``, each from an empty
    spark-warehouse (not timed: the removal); the measures by master."""
    builds: dict[str, Measure] = {}
    for master in masters:
        shutil.rmtree(spark_warehouse_dir(Paths(home)), ignore_errors=True)
        builds[master] = add(
            measure(
                build_name(master),
                "dbt_build",
                max_gb,
                env={"SEMITRADE_SPARK_MASTER": master},
                home=str(home),
                target="spark",
            )
        )
    return builds


def refresh(home: Path, revised: Path, max_gb: float, add: Callable[[Measure], Measure]) -> Measure:
    """The refresh of one reporter-period on Spark (default master): the revised file is landed again
    (a no-op: the DuckDB refresh landed it in the same lake), then ``dbt build --target spark`` with the
    plan of the fact's partitions changed since the last Spark build (``bench.steps.dbt_build``)."""
    return add(
        measure(
            "spark: refresh one reporter-period",
            "refresh",
            max_gb,
            env={"SEMITRADE_SPARK_MASTER": DEFAULT_MASTER},
            file=str(revised),
            home=str(home),
            target="spark",
        )
    )


def ratios(
    duck_build: Measure, duck_refresh: Measure, builds: dict[str, Measure], ref: Measure
) -> dict[str, Any]:
    """Spark against DuckDB in the same run (time and peak RSS; < 1: Spark better), the refresh
    against the full build, and local[1] over local[2] (> 1: the build used the second core)."""
    out: dict[str, Any] = {}
    build = builds.get(DEFAULT_MASTER)
    if build is not None and build.ok and duck_build.ok:
        out["spark_vs_duckdb_build_time"] = round(build.seconds / duck_build.seconds, 3)
        out["spark_vs_duckdb_build_peak_rss"] = round(build.peak_rss_mb / duck_build.peak_rss_mb, 3)
    one = builds.get("local[1]")
    if build is not None and one is not None and build.ok and one.ok:
        out["spark_build_local1_vs_local2_time"] = round(one.seconds / build.seconds, 3)
    if ref.ok and ref.detail.get("dbt_seconds"):
        if build is not None and build.ok:
            out["spark_refresh_vs_build_time"] = round(ref.seconds / build.seconds, 3)
        if duck_refresh.ok and duck_refresh.detail.get("dbt_seconds"):
            out["spark_vs_duckdb_refresh_dbt_time"] = round(
                ref.detail["dbt_seconds"] / duck_refresh.detail["dbt_seconds"], 3
            )
    return out


def node_summary(m: Measure) -> str:
    """One line: where a build's time went (per kind of node: count, summed and median seconds)."""
    kinds = m.detail.get("node_seconds_by_kind", {})
    parts = [f"{k} {v['nodes']} × median {v['median_s']} s (sum {v['sum_s']} s)" for k, v in kinds.items()]
    return f"{m.name}: dbt elapsed {m.detail.get('dbt_elapsed_s')} s; " + "; ".join(parts)
