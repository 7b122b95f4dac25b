"""The dbt-duckdb warehouse (staging views over the lake, marts as tables) and its publication."""

import os
import shutil
import stat
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, dbt_assets

from ingest.atomic import write_atomic
from ingest.config import paths
from orchestration.resources import dbt_project, dbt_resource

PROJECT = dbt_project()


class FolderGroupTranslator(DagsterDbtTranslator):
    """Groups dbt assets by folder (staging, intermediate, marts) and seeds as `reference`."""

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        if dbt_resource_props["resource_type"] == "seed":
            return "reference"
        fqn = dbt_resource_props.get("fqn", [])
        return fqn[1] if len(fqn) > 2 else "marts"


@dbt_assets(manifest=PROJECT.manifest_path, dagster_dbt_translator=FolderGroupTranslator())
def semitrade_dbt_assets(context: dg.AssetExecutionContext, dbt: DbtCliResource) -> Iterator[Any]:
    """`dbt build` of seeds, staging views and mart tables into the build warehouse (tests included)."""
    store = paths()
    store.warehouse_dir.mkdir(parents=True, exist_ok=True)
    os.environ["SEMITRADE_HOME"] = str(store.home)
    yield from dbt.cli(["build"], context=context).stream()


MART_TABLES = ("fct_trade_flows", "dim_country", "dim_product", "dim_period", "dim_flow")


class IncompleteBuildError(RuntimeError):
    """The dbt build lacks a core mart: publishing it would serve a broken warehouse."""


def publish_warehouse(build_db: Path, serving_db: Path, required: Iterable[str] = MART_TABLES) -> Path:
    """Copy the finished build to the serving file in one atomic rename and make it read-only.

    BI tools keep the old file open (same inode) until they reconnect; they never see a half-built state.
    """
    if not build_db.exists():
        raise FileNotFoundError(f"no warehouse build at {build_db}: run the dbt assets first")
    with duckdb.connect(str(build_db)) as con:
        con.execute("checkpoint")
        tables = {r[0] for r in con.execute("select table_name from duckdb_tables() where schema_name = 'main'").fetchall()}
    missing = sorted(set(required) - tables)
    if missing:
        raise IncompleteBuildError(f"the build at {build_db} lacks the core marts {missing}; not publishing it")

    def copy(tmp: Path) -> None:
        shutil.copyfile(build_db, tmp)
        os.chmod(tmp, stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)

    return write_atomic(serving_db, copy)


@dg.asset(
    key=["warehouse", "published"],
    deps=[semitrade_dbt_assets],
    group_name="serving",
    kinds={"duckdb"},
    description=(
        "The read-only DuckDB file BI tools open (warehouse/semitrade.duckdb): a copy of the finished "
        "dbt build, published with one atomic rename so readers never block the pipeline or see a partial build."
    ),
)
def published_warehouse(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    """Publish the build warehouse; metadata lists every mart table with its row count."""
    store = paths()
    serving = publish_warehouse(store.build_db, store.serving_db)
    with duckdb.connect(str(serving), read_only=True) as con:
        tables = [r[0] for r in con.execute(
            "select table_name from duckdb_tables() where schema_name = 'main' order by 1").fetchall()]
        counts = {}
        for table in tables:
            quoted = '"' + table.replace('"', '""') + '"'
            counts[table] = con.execute(f"select count(*) from main.{quoted}").fetchone()[0]  # noqa: S608 - catalog names
        origins = [
            r[0]
            for r in con.execute("select distinct origin from main.fct_trade_flows order by 1").fetchall()
        ]
    if "sample" in origins:
        context.log.warning("the published warehouse holds the SYNTHETIC offline sample (origin = 'sample')")
    return dg.MaterializeResult(
        metadata={
            "serving_path": dg.MetadataValue.path(str(serving)),
            "origins": ", ".join(origins),
            **{f"rows_{t}": n for t, n in counts.items()},
        }
    )


defs = dg.Definitions(
    assets=[semitrade_dbt_assets, published_warehouse],
    resources={"dbt": dbt_resource(PROJECT)},
)
