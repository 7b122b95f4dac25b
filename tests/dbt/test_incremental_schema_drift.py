"""incremental_schema_drift (orchestration/defs/warehouse.py): the columns the dbt project documents
for an incremental model that its table in the build warehouse lacks (the job then rebuilds it whole)."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb

from orchestration.defs.warehouse import incremental_schema_drift


def _manifest(path: Path, columns: list[str]) -> Path:
    nodes = {
        "model.semitrade.fct_trade_flows": {
            "resource_type": "model",
            "alias": "fct_trade_flows",
            "config": {"materialized": "incremental"},
            "columns": {c: {"name": c, "description": c} for c in columns},
        },
        # a table model and a test are never reported, whatever their columns
        "model.semitrade.dim_country": {
            "resource_type": "model",
            "alias": "dim_country",
            "config": {"materialized": "table"},
            "columns": {"nowhere": {"name": "nowhere"}},
        },
        "test.semitrade.some_test": {
            "resource_type": "test",
            "alias": "some_test",
            "config": {},
            "columns": {},
        },
    }
    path.write_text(json.dumps({"nodes": nodes}))
    return path


def test_incremental_schema_drift_lists_the_missing_columns(tmp_path: Path) -> None:
    # GIVEN a build warehouse whose fct_trade_flows lacks column `hs6_2022`, and a dim_country table
    db = tmp_path / "build.duckdb"
    with duckdb.connect(str(db)) as con:
        con.execute("create table main.fct_trade_flows (trade_flow_key varchar, value_usd double)")
        con.execute("create table main.dim_country (m49_code integer)")
    drifted = _manifest(tmp_path / "drift.json", ["trade_flow_key", "value_usd", "hs6_2022"])
    same = _manifest(tmp_path / "same.json", ["trade_flow_key", "value_usd"])

    # WHEN / THEN the project defines a column the table lacks: it is reported (only for the incremental model)
    assert incremental_schema_drift(db, drifted) == {"fct_trade_flows": ["hs6_2022"]}
    # a table with every documented column: no drift
    assert incremental_schema_drift(db, same) == {}
    # no warehouse yet: no drift, and none is created
    missing = tmp_path / "nothing" / "build.duckdb"
    assert incremental_schema_drift(missing, drifted) == {}
    assert not missing.exists()


def test_incremental_schema_drift_ignores_a_warehouse_without_the_table(tmp_path: Path) -> None:
    # GIVEN a warehouse in which fct_trade_flows was never built
    db = tmp_path / "build.duckdb"
    with duckdb.connect(str(db)) as con:
        con.execute("create table main.other (a integer)")
    # WHEN / THEN nothing to refresh: the first build creates the table whole
    assert incremental_schema_drift(db, _manifest(tmp_path / "m.json", ["a", "b"])) == {}
