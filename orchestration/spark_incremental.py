"""Incremental builds of fct_trade_flows on Spark: which Comtrade lake partitions changed since the last
successful Spark build.

On DuckDB the dbt project keeps this bookkeeping itself (dbt_project/macros/replace_partitions.sql: it
lists the lake with DuckDB's glob()). Spark SQL cannot list folders, so on Spark semitrade compares the
lake's Comtrade files, partition by partition (frequency × year × reporter), and the quality gate's
blocklist with what the last successful build saw, and passes the partitions to re-derive to dbt as
the var ``spark_fct`` ({"partitions": [[freq, year, reporter], …]}, or ``full``). fct_trade_flows is a
Parquet table partitioned by source × frequency × year × reporter; dbt-spark's ``insert_overwrite``
(dynamic partition overwrite) replaces the partitions the build re-derived, after a pre-hook dropped
them (a partition whose files all left the lake must end up empty). The state is a JSON file under
spark-warehouse/_semitrade_state/, outside every table BI users see, written only after a build
succeeded: a failed build leaves it, and the next build re-derives the same partitions again.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ingest.atomic import write_bytes_atomic
from ingest.config import Paths
from ingest.lake import dataset_dir
from ingest.quality.verdict import read_blocklist

Partition = tuple[str, int, int]  # (freq_code, ref_year, reporter_code)


def state_path(store: Paths) -> Path:
    """The bookkeeping of the last successful Spark build of fct_trade_flows."""
    return store.home / "spark-warehouse" / "_semitrade_state" / "fct_trade_flows.json"


def partition_of(relative: str) -> Partition | None:
    """The lake partition of a file path relative to the dataset (freq=A/year=2019/reporter=410/…)."""
    parts = dict(p.split("=", 1) for p in relative.split("/")[:-1] if "=" in p)
    try:
        return (parts["freq"], int(parts["year"]), int(parts["reporter"]))
    except (KeyError, ValueError):
        return None


def lake_inventory(store: Paths) -> dict[str, list[str]]:
    """Every Comtrade lake file (hidden files aside), by partition key 'F|YYYY|reporter'."""
    root = dataset_dir(store, "comtrade", "records")
    inventory: dict[str, list[str]] = {}
    if not root.exists():
        return inventory
    for path in sorted(root.rglob("*.parquet")):
        if path.name.startswith("."):
            continue
        relative = path.relative_to(root).as_posix()
        partition = partition_of(relative)
        if partition is not None:
            inventory.setdefault("|".join(map(str, partition)), []).append(relative)
    return inventory


def partitions_of_source_files(store: Paths, source_files: set[str]) -> set[Partition]:
    """The partitions holding rows of the given landed files (one column scan of the lake)."""
    import duckdb  # noqa: PLC0415

    root = dataset_dir(store, "comtrade", "records")
    files = [str(root / f) for fs in lake_inventory(store).values() for f in fs]
    if not files or not source_files:
        return set()
    with duckdb.connect() as con:
        rows = con.execute(
            "select distinct filename from read_parquet(?, filename = true, union_by_name = true) "
            "where source_file in (select unnest(?))",
            [files, sorted(source_files)],
        ).fetchall()
    found = {partition_of(Path(r[0]).relative_to(root).as_posix()) for r in rows}
    return {p for p in found if p is not None}


@dataclass
class SparkFctPlan:
    """What the next Spark build of fct_trade_flows re-derives, and the state to record after it."""

    full: bool
    partitions: list[Partition]
    inventory: dict[str, list[str]] = field(default_factory=dict)
    blocked: list[str] = field(default_factory=list)

    def var(self) -> dict[str, Any]:
        """The dbt var ``spark_fct``."""
        return {"full": self.full, "partitions": [list(p) for p in self.partitions]}

    def record(self, store: Paths) -> Path:
        """After a successful build: the lake and blocklist it saw become the recorded state."""
        body = {"inventory": self.inventory, "blocked": self.blocked}
        text = json.dumps(body, indent=1, sort_keys=True) + "\n"
        return write_bytes_atomic(state_path(store), text.encode("utf-8"))


def plan_fct_build(store: Paths, *, full_refresh: bool = False) -> SparkFctPlan:
    """Compare the lake and the gate's blocklist with the recorded state (none: a full build)."""
    inventory = lake_inventory(store)
    blocked = sorted(read_blocklist(store, "comtrade", "records").get("blocked_source_files", []))
    path = state_path(store)
    if full_refresh or not path.exists():
        return SparkFctPlan(True, [], inventory, blocked)
    state = json.loads(path.read_text(encoding="utf-8"))
    before: dict[str, list[str]] = state.get("inventory", {})
    changed: set[Partition] = set()
    for key in before.keys() | inventory.keys():
        if before.get(key) != inventory.get(key):
            freq, year, reporter = key.split("|")
            changed.add((freq, int(year), int(reporter)))
    moved = set(blocked) ^ set(state.get("blocked", []))
    changed |= partitions_of_source_files(store, moved)
    return SparkFctPlan(False, sorted(changed), inventory, blocked)
