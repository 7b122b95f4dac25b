"""The dbt project built on the Spark target, once per test session, over a copy of the session's sample
home (tests/published.py), and the comparison of its marts with the DuckDB build of the same lake.

dbt runs in this process (dbtRunner, tests/dbt/runner.py), so dbt-spark's local session (`method:
session`) starts one JVM for the whole test session: a Spark session costs tens of seconds to start here. The session's
settings (warehouse folder, metastore) are fixed when it starts: every Spark build of the session
works in the one home this module makes.
"""

from __future__ import annotations

import math
import time
from collections import Counter
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest

from ingest.config import Paths
from orchestration.dbt_target import dbt_target_args, publish_spark_warehouse, relations_of
from orchestration.defs.warehouse import MART_TABLES
from orchestration.spark_incremental import SparkFctPlan, plan_fct_build
from tests.dbt.runner import invoke_dbt, node_results
from tests.published import Build, copy_home

MONEY_TOLERANCE = 0.005  # "equal to the cent"
RATIO_TOLERANCE = 1e-9  # relative, for every other floating-point column


@dataclass(frozen=True)
class SparkBuild:
    """A home whose warehouse the Spark target built and published, dbt's results, and the comparison
    of every published mart with the DuckDB build of the same lake, made right after the build (later
    tests change this home's lake: tests/dbt/test_spark_incremental.py)."""

    store: Paths
    results: list[tuple[str, str, str]]  # (unique_id, status, message) of every dbt node
    duck_marts: dict[str, list[tuple[str, str]]]  # mart → [(column, type)] of the DuckDB build
    spark_marts: dict[str, list[tuple[str, str]]]  # the same for the Spark build
    problems: list[str]  # what differs (empty: every mart equal)
    seconds: float  # wall time of the Spark `dbt build`


def run_dbt(
    store: Paths, *args: str, target_path: Path, plan: SparkFctPlan | None = None
) -> list[tuple[str, str, str]]:
    """`dbt <args>` on the Spark target in this process, with the vars semitrade passes (``plan``: the
    fact partitions to re-derive, default: compared with the recorded state); every node's result.
    A dbt that cannot start fails the test with its exception."""
    env = {
        "SEMITRADE_HOME": str(store.home),
        "SEMITRADE_WAREHOUSE_PATH": None,
        "SEMITRADE_SPARK_SHUFFLE_PARTITIONS": "2",  # the sample is small: fewer, larger tasks
    }
    res = invoke_dbt([*args, *dbt_target_args("spark", store, plan)], env=env, target_path=target_path)
    if res.exception is not None:
        pytest.fail(f"dbt {' '.join(args)} on Spark could not run: {res.exception}")
    return [(r.unique_id, r.status, r.message) for r in node_results(res)]


def failed(results: list[tuple[str, str, str]]) -> list[tuple[str, str, str]]:
    return [r for r in results if r[1] not in ("success", "pass")]


def build_on_spark(source: Paths, dst: Path) -> SparkBuild:
    """Copy the home ``source`` to ``dst``, `dbt build` it on Spark, publish the Spark marts and compare
    them with the DuckDB build published in ``source``."""
    store = copy_home(source, dst)
    plan = plan_fct_build(store)
    assert plan.full, "a home without a Spark build must get a full one"
    started = time.monotonic()
    results = run_dbt(store, "build", target_path=dst.parent / "dbt-target-spark", plan=plan)
    seconds = time.monotonic() - started
    if failed(results):
        pytest.fail(f"{len(failed(results))} dbt node(s) failed on Spark: {failed(results)[:5]}")
    plan.record(store)
    publish_spark_warehouse(store, MART_TABLES)
    duck = relations_of(source.serving_db)
    spark = relations_of(store.serving_db)
    problems = (
        [] if sorted(spark) == sorted(duck) else [f"marts: DuckDB {sorted(duck)} vs Spark {sorted(spark)}"]
    )
    for table, columns in sorted(duck.items()):
        if table not in spark:
            continue
        if [c for c, _ in spark[table]] != [c for c, _ in columns]:
            problems.append(f"{table}: columns {[c for c, _ in columns]} vs {[c for c, _ in spark[table]]}")
            continue
        problems += compare_mart(source.serving_db, store.serving_db, table, columns)
    return SparkBuild(store, results, duck, spark, problems, seconds)


@pytest.fixture(scope="session")
def spark_build(published_build: Build, tmp_path_factory: pytest.TempPathFactory) -> SparkBuild:
    """The SHARED sample slice built on Spark (seeds, models, data tests, unit tests) and published."""
    return build_on_spark(published_build.store, tmp_path_factory.mktemp("spark") / "data")


# -- comparing the marts of two serving files --------------------------------------------------------


def is_float(dtype: str) -> bool:
    return dtype in ("DOUBLE", "FLOAT", "REAL") or dtype.startswith("DECIMAL")


def is_money(column: str) -> bool:
    return column.endswith("_usd") or column in ("value_usd", "value_national")


def _number(value: Any) -> Any:
    return float(value) if isinstance(value, Decimal) else value


def table_rows(db: Path, table: str, columns: list[str]) -> list[tuple[Any, ...]]:
    quoted = ", ".join('"' + c.replace('"', '""') + '"' for c in columns)
    with duckdb.connect(str(db), read_only=True) as con:
        rows = con.execute(f'select {quoted} from main."{table}"').fetchall()  # noqa: S608 - catalog names
    return [tuple(_number(v) for v in row) for row in rows]


def _sort_key(row: tuple[Any, ...], floats: set[int]) -> tuple[Any, ...]:
    """Rows in a stable order on both sides: keys as text, floats rounded to 9 significant digits."""
    key = []
    for i, v in enumerate(row):
        if v is None:
            key.append((0, ""))
        elif i in floats:
            key.append((1, f"{float(v):.9g}"))
        else:
            key.append((1, str(v)))
    return tuple(key)


def values_differ(column: str, a: Any, b: Any) -> bool:
    """Integers and text equal; money to the cent; other floats within 1e-9 relative."""
    if a is None or b is None:
        return (a is None) != (b is None)
    if isinstance(a, float) or isinstance(b, float):
        a, b = float(a), float(b)
        if math.isnan(a) or math.isnan(b):
            return math.isnan(a) != math.isnan(b)
        if is_money(column):
            return abs(a - b) > MONEY_TOLERANCE
        return abs(a - b) > RATIO_TOLERANCE * max(abs(a), abs(b), 1e-300) and abs(a - b) > 1e-12
    return a != b


def compare_mart(duck_db: Path, spark_db: Path, table: str, columns: list[tuple[str, str]]) -> list[str]:
    """What differs between one mart of the two serving files (empty: equal)."""
    names = [c for c, _ in columns]
    floats = {i for i, (_, t) in enumerate(columns) if is_float(t)}
    duck = table_rows(duck_db, table, names)
    spark = table_rows(spark_db, table, names)
    problems: list[str] = []
    if len(duck) != len(spark):
        problems.append(f"{table}: {len(duck)} rows on DuckDB, {len(spark)} on Spark")
    keys = [i for i in range(len(names)) if i not in floats]

    def key_set(rows: list[tuple[Any, ...]]) -> Counter:
        return Counter(tuple(str(r[i]) for i in keys) for r in rows)

    only_duck = key_set(duck) - key_set(spark)
    only_spark = key_set(spark) - key_set(duck)
    if only_duck or only_spark:
        problems.append(
            f"{table}: keys only on DuckDB {list(only_duck)[:3]} ({sum(only_duck.values())}), "
            f"only on Spark {list(only_spark)[:3]} ({sum(only_spark.values())})"
        )
        return problems
    for d, s in zip(
        sorted(duck, key=lambda r: _sort_key(r, floats)),
        sorted(spark, key=lambda r: _sort_key(r, floats)),
        strict=True,
    ):
        for i, name in enumerate(names):
            if values_differ(name, d[i], s[i]):
                problems.append(f"{table}.{name}: DuckDB {d[i]!r} vs Spark {s[i]!r} (row key {d[:4]})")
                break
        if len(problems) > 5:
            break
    return problems
