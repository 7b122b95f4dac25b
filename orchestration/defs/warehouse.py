"""The dbt-duckdb warehouse (staging views over the lake, marts as tables) and its publication."""

import json
import logging
import os
import shutil
import stat
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from graphlib import TopologicalSorter
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, dbt_assets
from pydantic import Field

from ingest.atomic import write_atomic
from orchestration.dbt_target import (
    check_spark_requirements,
    chosen_target,
    dbt_target_args,
    publish_spark_warehouse,
)
from orchestration.refresh import NATIONAL_ENV, RefreshPlan, plan_refresh, promote_pending
from orchestration.resources import STORE, SemitradeStore, dbt_project, dbt_resource, prepare_if_dev
from orchestration.spark_incremental import plan_fct_build

prepare_if_dev()  # `dagster dev` only: re-parse the dbt project if it changed since the last parse
PROJECT = dbt_project()


class FolderGroupTranslator(DagsterDbtTranslator):
    """Groups dbt assets by folder (staging, intermediate, marts) and seeds as `reference`."""

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        if dbt_resource_props["resource_type"] == "seed":
            return "reference"
        fqn = dbt_resource_props.get("fqn", [])
        return fqn[1] if len(fqn) > 2 else "marts"


class WarehouseTargetConfig(dg.Config):
    """Which dbt target builds (and publishes) the warehouse."""

    target: str = Field(
        default="",
        description=(
            "dbt target: duckdb (embedded, the default) or spark (dbt-spark; profiles.yml). "
            "Empty: $SEMITRADE_DBT_TARGET, else duckdb."
        ),
    )


class DbtBuildConfig(WarehouseTargetConfig):
    """Run configuration of the dbt build."""

    full_refresh: bool = Field(
        default=False,
        description=(
            "Rebuild the incremental models (fct_trade_flows) from the whole lake instead of re-deriving "
            "only the partitions with new lake files: after a parser change rewrote lake files in place."
        ),
    )
    all_nodes: bool = Field(
        default=False,
        description=(
            "Run every seed, model, data test and unit test, instead of only the nodes downstream of the "
            "lake inputs that changed since the target's last published build (orchestration/refresh.py)."
        ),
    )


def incremental_schema_drift(build_db: Path, manifest_path: Path) -> dict[str, list[str]]:
    """Incremental models whose table in ``build_db`` lacks columns the project now defines
    (model name → missing columns): an incremental build cannot add them, a full refresh must."""
    if not build_db.exists():
        return {}
    manifest = json.loads(Path(manifest_path).read_text())
    models = {
        (node.get("schema") or "main", node["alias"]): set(node.get("columns", {}))
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model" and node["config"].get("materialized") == "incremental"
    }
    drift: dict[str, list[str]] = {}
    with duckdb.connect(str(build_db), read_only=True) as con:
        for (schema, name), documented in models.items():
            have = {
                r[0]
                for r in con.execute(
                    "select column_name from duckdb_columns() where schema_name = ? and table_name = ?",
                    [schema, name],
                ).fetchall()
            }
            if have and documented - have:
                drift[name] = sorted(documented - have)
    return drift


@dbt_assets(manifest=PROJECT.manifest_path, dagster_dbt_translator=FolderGroupTranslator())
def semitrade_dbt_assets(
    context: dg.AssetExecutionContext, dbt: DbtCliResource, store: SemitradeStore, config: DbtBuildConfig
) -> Iterator[Any]:
    """`dbt build` of seeds, staging views and mart tables into the build warehouse (tests included).

    fct_trade_flows builds incrementally (the Comtrade partitions with new lake files), and so do the
    mirror reports and the reconciled flows (the slices those partitions change); a full
    refresh when asked, or when its table predates columns the project now defines. Only the nodes
    downstream of the lake inputs that changed since the target's last published build run
    (orchestration/refresh.py); the others are reported unchanged (metadata semitrade/rebuilt false)."""
    home = store.paths()
    home.warehouse_dir.mkdir(parents=True, exist_ok=True)
    # dbt finds the lake and the warehouse through SEMITRADE_HOME (profiles.yml, the sources): the dbt
    # process inherits this run's environment, so the home is set here, when the asset runs.
    os.environ["SEMITRADE_HOME"] = str(home.home)
    target = chosen_target(config.target)
    plan = None
    if target == "spark":
        check_spark_requirements()
        plan = plan_fct_build(home, full_refresh=config.full_refresh)
        context.log.info(
            "Spark: fct_trade_flows "
            + ("full build" if plan.full else f"re-derives {len(plan.partitions)} Comtrade partition(s)")
        )
    args = ["build", *dbt_target_args(target, home, plan)]
    drift = incremental_schema_drift(home.build_db, PROJECT.manifest_path) if target == "duckdb" else {}
    if drift:
        context.log.warning(
            f"full refresh: the warehouse's incremental tables lack columns this version defines: {drift}"
        )
    full_refresh = bool(config.full_refresh or drift or (plan is not None and plan.full))
    if full_refresh:
        args.append("--full-refresh")
    refresh = None
    if not context.is_subset:  # a subset selected in the UI runs as selected
        refresh = plan_refresh(
            home,
            PROJECT.project_dir,
            PROJECT.manifest_path,
            all_nodes=full_refresh or config.all_nodes,
            target=target,
        )
        context.log.info(f"dbt build: {refresh.why}")
        args += refresh.dbt_args()
    events: Iterator[Any] = iter(())
    if refresh is None or not refresh.up_to_date:
        # dbt.cli starts the dbt process with a copy of this environment: the refresh's word goes to that
        # process only, not to whatever runs dbt next in this (long-lived) one
        with environment(refresh.dbt_env() if refresh is not None else {NATIONAL_ENV: "rederive"}):
            events = dbt.cli(args, context=context).stream()
    if refresh is not None and refresh.changed is not None:
        events = with_unchanged(context, refresh, events)
    yield from events  # raises when the build failed
    if plan is not None:
        plan.record(home)  # the lake this build saw: the next Spark build compares with it
    if refresh is not None:
        refresh.write_pending(home)  # recorded once published: the next build compares with it


@contextmanager
def environment(values: Mapping[str, str]) -> Iterator[None]:
    """``values`` set in os.environ for the block, then each variable as it was (unset if it was)."""
    before = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in before.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


class UnchangedChecks(logging.Filter):
    """Drops Dagster's warning that a blocking check emitted no result, for the checks of the assets a
    refresh reported unchanged (the run's log says how many once); every other warning passes."""

    LOGGER = "dagster._core.execution.plan.active"

    def __init__(self, assets: set[str]) -> None:
        super().__init__()
        self.prefixes = tuple(f"Blocking asset check '{asset}:" for asset in assets)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        return not (message.startswith(self.prefixes) and "emitted no result" in message)

    @classmethod
    def install(cls, assets: set[str]) -> None:
        """Replace the filter of an earlier refresh in this process with one for ``assets``."""
        logger = logging.getLogger(cls.LOGGER)
        for old in [f for f in logger.filters if isinstance(f, cls)]:
            logger.removeFilter(old)
        logger.addFilter(cls(assets))


def with_unchanged(
    context: dg.AssetExecutionContext, refresh: RefreshPlan, events: Iterator[Any]
) -> Iterator[Any]:
    """dbt's events, and the dbt assets the refresh leaves alone reported as current (their table in the
    build warehouse is the one the last published build made from the same inputs, metadata
    semitrade/rebuilt false), so that the publication follows. Dagster wants a multi-asset's results in
    dependency order: each unchanged asset comes just before the first rebuilt one that needs it (dbt has
    finished its rebuilt parents by then), the rest at the end."""
    manifest = json.loads(PROJECT.manifest_path.read_text(encoding="utf-8"))
    translator = FolderGroupTranslator()
    rebuilt = {
        translator.get_asset_key(manifest["nodes"][uid])
        for uid in refresh.rebuilt
        if uid in manifest["nodes"]
    }
    selected = context.selected_asset_keys
    unchanged = selected - rebuilt
    checks = [spec.key for spec in context.assets_def.check_specs if spec.asset_key in unchanged]
    context.log.info(
        f"dbt build: {len(unchanged)} asset(s) unchanged, their {len(checks)} data test(s) not re-run "
        "(the published build ran them on the same inputs)"
    )
    UnchangedChecks.install({key.asset_key.to_user_string() for key in checks})
    deps = {key: context.assets_def.asset_deps.get(key, set()) & selected for key in selected}
    pending = [key for key in TopologicalSorter(deps).static_order() if key in unchanged]

    def upstream(key: dg.AssetKey) -> set[dg.AssetKey]:
        seen, todo = set(), [key]
        while todo:
            for parent in deps.get(todo.pop(), set()) - seen:
                seen.add(parent)
                todo.append(parent)
        return seen

    def report(only: set[dg.AssetKey] | None) -> Iterator[dg.MaterializeResult]:
        for key in [k for k in pending if only is None or k in only]:
            pending.remove(key)
            yield dg.MaterializeResult(
                asset_key=key, metadata={"semitrade/rebuilt": False, "semitrade/refresh": refresh.why}
            )

    for event in events:
        if isinstance(event, dg.Output):
            yield from report(upstream(context.assets_def.keys_by_output_name[event.output_name]))
        yield event
    yield from report(None)


MART_TABLES = ("fct_trade_flows", "dim_country", "dim_product", "dim_period", "dim_flow")
STATE_SCHEMA = "semitrade_state"  # dbt macro fct_state_schema (dbt_project/macros/replace_partitions.sql)


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
        tables = {
            r[0]
            for r in con.execute(
                "select table_name from duckdb_tables() where schema_name = 'main'"
            ).fetchall()
        }
    missing = sorted(set(required) - tables)
    if missing:
        raise IncompleteBuildError(
            f"the build at {build_db} lacks the core marts {missing}; not publishing it"
        )

    def copy(tmp: Path) -> None:
        shutil.copyfile(build_db, tmp)
        # the incremental builds' bookkeeping stays in the build file: BI users see the marts only
        with duckdb.connect(str(tmp)) as con:
            con.execute(f"drop schema if exists {STATE_SCHEMA} cascade")
            con.execute("checkpoint")
        os.chmod(tmp, stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)

    return write_atomic(serving_db, copy)


@dg.asset(
    key=["warehouse", "published"],
    deps=[semitrade_dbt_assets],
    group_name="serving",
    kinds={"duckdb"},
    description=(
        "The read-only DuckDB file BI tools open (warehouse/semitrade.duckdb): a copy of the finished "
        "dbt build, published with one atomic rename so readers never block the pipeline or see a partial build. "
        "On the spark target: views over the Parquet marts under spark-warehouse/."
    ),
)
def published_warehouse(
    context: dg.AssetExecutionContext, store: SemitradeStore, config: WarehouseTargetConfig
) -> dg.MaterializeResult:
    """Publish the build warehouse; metadata lists every mart table with its row count."""
    home = store.paths()
    target = chosen_target(config.target)
    if target == "spark":
        serving = publish_spark_warehouse(home, MART_TABLES)
    else:
        serving = publish_warehouse(home.build_db, home.serving_db)
    promote_pending(home, target)  # the next build runs only what changed since this publication
    with duckdb.connect(str(serving), read_only=True) as con:
        tables = [
            r[0]
            for r in con.execute(
                "select table_name from duckdb_tables() where schema_name = 'main' union all "
                "select view_name from duckdb_views() where schema_name = 'main' and not internal order by 1"
            ).fetchall()
        ]
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
    resources={"dbt": dbt_resource(PROJECT), "store": STORE},
)
