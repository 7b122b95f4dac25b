"""The quality gate on schema problems: a lake file with a wrong column type or that is not Parquet at
all is blocked as a *schema* failure, which the Dagster check reports with ERROR severity (stopping
the run before dbt), while the good files are validated row by row in the same single GE run."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import dagster as dg
import polars as pl
import pytest

from ingest.comtrade.parse import parse_landed
from ingest.config import Paths
from ingest.landing import land
from ingest.quality.gate import run_gate
from ingest.quality.specs import SPECS, spec_for
from ingest.quality.verdict import read_blocklist

GOOD = Path(__file__).parents[1] / "fixtures" / "bad_inputs" / "comtrade" / "huge_line.json"


@pytest.fixture(scope="module")
def gated(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """GIVEN a lake with one good file, one file whose reporter_code is text, one file that is not Parquet."""
    store = Paths(tmp_path_factory.mktemp("gate") / "data")
    entry, _ = land(
        store,
        source="comtrade",
        dataset="records",
        partition="freq=M/year=2019/reporter=410",
        stem="get",
        content=GOOD.read_bytes(),
        params={},
        origin="sample",
    )
    good = parse_landed(store, entry).lake_file
    assert good is not None
    wrong_type = (
        store.lake / "comtrade/records/freq=M/year=2019/reporter=392/vintage=0000000000000001.parquet"
    )
    wrong_type.parent.mkdir(parents=True)
    df = pl.read_parquet(good).with_columns(
        pl.col("reporter_code").cast(pl.String),
        pl.lit("comtrade/records/x/get__wrongtype.json").alias("source_file"),
    )
    df.write_parquet(wrong_type)
    garbage = store.lake / "comtrade/records/freq=M/year=2019/reporter=156/vintage=0000000000000002.parquet"
    garbage.parent.mkdir(parents=True)
    garbage.write_bytes(b"PAR1 this is not parquet")
    # WHEN the gate runs (with data docs)
    result = run_gate(store, spec_for("comtrade", "records"))
    return {"store": store, "result": result, "good": good, "wrong": wrong_type, "garbage": garbage}


def _rel(store: Paths, path: Path) -> str:
    return path.relative_to(store.lake).as_posix()


def test_schema_failures_are_blocked_with_what_differs(gated: dict[str, Any]) -> None:
    store, result = gated["store"], gated["result"]
    failures = result.schema_failures
    assert sorted(failures) == sorted([_rel(store, gated["wrong"]), _rel(store, gated["garbage"])])
    (wrong,) = failures[_rel(store, gated["wrong"])]
    assert wrong.column == "schema_diff" and wrong.examples == ["reporter_code is String, expected Int32"]
    (garbage,) = failures[_rel(store, gated["garbage"])]
    assert garbage.column == "read_error" and garbage.severity == "schema"
    # THEN the good file was validated (its one row) and is not blocked
    assert result.rows == 1 and _rel(store, gated["good"]) not in result.blocked
    # and the readable bad file's landed file is excluded from staging
    assert read_blocklist(store, "comtrade", "records")["blocked_source_files"] == [
        "comtrade/records/x/get__wrongtype.json"
    ]


def test_data_docs_are_html_on_disk(gated: dict[str, Any]) -> None:
    index = gated["result"].data_docs
    assert index == gated["store"].home / "quality" / "data_docs" / "index.html"
    html = index.read_text(encoding="utf-8")
    assert "comtrade_records__schema" in html and "comtrade_records__rows" in html


def test_the_dagster_check_stops_the_run_on_a_schema_failure(
    gated: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from orchestration.defs.quality import evaluate

    monkeypatch.setenv("SEMITRADE_HOME", str(gated["store"].home))
    check = evaluate(spec_for("comtrade", "records"))
    assert not check.passed and check.severity == dg.AssetCheckSeverity.ERROR
    assert check.metadata["files_with_schema_errors"].value == 2
    assert "schema_diff" in check.metadata["failures"].value


def test_every_registered_dataset_has_a_blocking_check_on_an_existing_asset() -> None:
    from orchestration.definitions import defs

    graph = defs.resolve_asset_graph()
    keys = {k.to_user_string() for k in graph.get_all_asset_keys()}
    for source, dataset in SPECS:
        spec = spec_for(source, dataset)
        assert "/".join(spec.asset_key) in keys
    gate_checks = [c for c in defs.asset_checks or [] if any(k.name == "quality_gate" for k in c.check_keys)]
    assert len(gate_checks) == len(SPECS)
    assert all(spec.blocking for c in gate_checks for spec in c.check_specs)
