"""Which dbt target builds the warehouse (DuckDB by default, or Spark) and what dbt needs to know of the lake.

The target comes from ``--target`` on `semitrade build`/`run`, else ``$SEMITRADE_DBT_TARGET``, else
``duckdb`` (dbt_project/profiles.yml defines both outputs). On Spark the lake is registered as tables at
the start of each dbt run (dbt_project/macros/spark/lake.sql); Spark ignores files whose names start with
a dot and cannot list folders from SQL, so ``dbt_vars`` tells it which datasets hold files and which gate
verdicts exist. Nothing here imports Spark: a DuckDB user needs neither pyspark nor Java.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import Any

from ingest.config import Paths
from ingest.lake import WAREHOUSE_DATASETS, has_lake_files
from ingest.quality.verdict import blocklist_path
from orchestration.spark_incremental import SparkFctPlan, plan_fct_build

TARGETS: tuple[str, ...] = ("duckdb", "spark")
DEFAULT_TARGET = "duckdb"
# The Spark database of the marts (profiles.yml `schema`), under spark.sql.warehouse.dir.
SPARK_SCHEMA = "semitrade"


class DbtTargetError(ValueError):
    """An unknown dbt target, or the Spark target without its requirements."""


def chosen_target(target: str | None = None) -> str:
    """``target``, else $SEMITRADE_DBT_TARGET, else duckdb; a DbtTargetError names the choices."""
    name = (target or os.environ.get("SEMITRADE_DBT_TARGET") or DEFAULT_TARGET).strip().lower()
    if name not in TARGETS:
        raise DbtTargetError(
            f"unknown dbt target {name!r} (from --target or SEMITRADE_DBT_TARGET): choose one of {', '.join(TARGETS)}"
        )
    return name


def check_spark_requirements() -> None:
    """A clear error when the Spark target cannot run here: pyspark/dbt-spark missing or no Java."""
    try:
        import dbt.adapters.spark  # noqa: F401, PLC0415
        import pyspark  # noqa: F401, PLC0415
    except ImportError as exc:
        raise DbtTargetError(
            f"the spark target needs pyspark and dbt-spark ({exc.name} is missing): "
            'pip install -e ".[spark]" (make install does it)'
        ) from exc
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        raise DbtTargetError(
            "the spark target needs Java 17 or newer (pyspark 4) and none was found: install it "
            "(Debian: apt-get install openjdk-17-jre-headless) or set JAVA_HOME"
        )


def spark_warehouse_dir(store: Paths) -> Path:
    """Where the Spark target writes its tables (spark.sql.warehouse.dir in profiles.yml)."""
    return store.home / "spark-warehouse"


def spark_mart_dir(store: Paths, table: str) -> Path:
    """The Parquet folder of one mart built on Spark."""
    return spark_warehouse_dir(store) / f"{SPARK_SCHEMA}.db" / table


def spark_lake_state(store: Paths) -> dict[str, list[str]]:
    """Which lake datasets hold data files and which gate verdicts exist (the dbt var ``spark_lake``)."""
    with_files = [f"{s}/{d}" for s, d in WAREHOUSE_DATASETS if has_lake_files(store, s, d)]
    if store.quarantine.exists() and any(store.quarantine.rglob("[!.]*.parquet")):
        with_files.append("_quarantine")
    gate_files = [f"{s}/{d}" for s, d in WAREHOUSE_DATASETS if blocklist_path(store, s, d).exists()]
    return {"with_files": with_files, "gate_files": gate_files}


def dbt_vars(target: str, store: Paths, plan: SparkFctPlan | None = None) -> dict[str, Any]:
    """The --vars a dbt command needs on ``target`` (none on DuckDB): on Spark, the lake's state and
    the fact partitions to re-derive (``plan``, default: compared with the last recorded build)."""
    if target != "spark":
        return {}
    return {"spark_lake": spark_lake_state(store), "spark_fct": (plan or plan_fct_build(store)).var()}


def dbt_target_args(target: str, store: Paths, plan: SparkFctPlan | None = None) -> list[str]:
    """``--target`` and ``--vars`` for a dbt command run against ``store`` on ``target``."""
    args = ["--target", target]
    extra = dbt_vars(target, store, plan)
    if extra:
        args += ["--vars", json.dumps(extra, sort_keys=True)]
    return args


def spark_schema_in_serving(spark_schema: str) -> str:
    """The serving file's schema for a Spark database: the marts in ``main``, the rest as on DuckDB."""
    if spark_schema == SPARK_SCHEMA:
        return "main"
    return "main_" + spark_schema.removeprefix(SPARK_SCHEMA + "_")


def spark_tables(store: Paths) -> dict[tuple[str, str], Path]:
    """Every Parquet table the Spark target wrote: (serving schema, table) → its folder. The state
    and lake registrations (semitrade_state, semitrade_lake) are bookkeeping, not published."""
    root = spark_warehouse_dir(store)
    found: dict[tuple[str, str], Path] = {}
    for db_dir in sorted(root.glob(f"{SPARK_SCHEMA}*.db")):
        schema = db_dir.name.removesuffix(".db")
        if schema in (f"{SPARK_SCHEMA}_state", f"{SPARK_SCHEMA}_lake"):
            continue
        for table_dir in sorted(p for p in db_dir.iterdir() if p.is_dir()):
            if any(table_dir.rglob("[!._]*.parquet")):
                found[(spark_schema_in_serving(schema), table_dir.name)] = table_dir
    return found


def relations_of(db: Path) -> dict[str, list[tuple[str, str]]]:
    """Every table and view of schema main of a DuckDB file: name → [(column, type)] in column order."""
    import duckdb  # noqa: PLC0415

    with duckdb.connect(str(db), read_only=True) as con:
        rows = con.execute(
            "select table_name, column_name, data_type from duckdb_columns() "
            "where schema_name = 'main' and not internal order by table_name, column_index"
        ).fetchall()
    out: dict[str, list[tuple[str, str]]] = {}
    for table, column, dtype in rows:
        out.setdefault(table, []).append((column, dtype))
    return out


def documented_columns() -> dict[str, list[str]]:
    """Each model's documented columns in order (dbt's manifest), by relation name."""
    from orchestration.resources import manifest_path  # noqa: PLC0415

    path = manifest_path()
    if not path.exists():
        return {}
    nodes = json.loads(path.read_text(encoding="utf-8"))["nodes"].values()
    return {n["alias"]: list(n.get("columns", {})) for n in nodes if n["resource_type"] in ("model", "seed")}


def publish_spark_warehouse(store: Paths, required: tuple[str, ...]) -> Path:
    """The serving file BI tools, `semitrade export` and `report` open, for a Spark build: a DuckDB file
    of views over the Parquet tables under spark-warehouse/ (absolute paths), written in one atomic
    rename and made read-only like the DuckDB build's. Spark, Trino or Databricks read the same folders.
    A DbtTargetError when a core mart is missing."""
    import duckdb  # noqa: PLC0415 - the serving file is DuckDB on both targets

    from ingest.atomic import write_atomic  # noqa: PLC0415

    tables = spark_tables(store)
    missing = sorted(set(required) - {name for schema, name in tables if schema == "main"})
    if missing:
        raise DbtTargetError(
            f"the Spark build under {spark_warehouse_dir(store)} lacks the core marts {missing}; not publishing it"
        )

    documented = documented_columns()

    def write(tmp: Path) -> None:
        tmp.unlink()  # the empty placeholder write_atomic reserved: DuckDB creates the file itself
        with duckdb.connect(str(tmp)) as con:
            for (schema, name), folder in sorted(tables.items()):
                glob = str(folder / "**" / "*.parquet").replace("'", "''")
                scan = f"read_parquet('{glob}', hive_partitioning = true, union_by_name = true)"
                have = [r[0] for r in con.execute(f"describe select * from {scan}").fetchall()]  # noqa: S608
                # a partitioned table (fct_trade_flows) has its partition columns last in the files:
                # there, the documented order of the model, when it documents every column
                order = documented.get(name, [])
                partitioned = any("=" in p.name for p in folder.iterdir() if p.is_dir())
                columns = order if partitioned and sorted(order) == sorted(have) else have
                listed = ", ".join('"' + c.replace('"', '""') + '"' for c in columns)
                con.execute(f'create schema if not exists "{schema}"')
                con.execute(f'create view "{schema}"."{name}" as select {listed} from {scan}')  # noqa: S608
        os.chmod(tmp, 0o444)

    return write_atomic(store.serving_db, write)
