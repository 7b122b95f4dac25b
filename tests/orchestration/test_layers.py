"""The ingest asset decorators (orchestration/defs/layers.py): the conventions they set and the one-line
description they take from the docstring."""

from pathlib import Path

import dagster as dg
import polars as pl
import pytest

from ingest.config import Paths
from ingest.lake import EMPTY_FILE
from orchestration.defs.layers import lake_asset, landing_asset, parse_landed_files


def _pull(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    """First line of the text,
        second line indented.

    Third, after a blank line."""
    return dg.MaterializeResult()


def test_a_partitioned_landing_asset_is_tagged_outside_main_and_described_by_its_docstring() -> None:
    # WHEN a live pull and a sample landing asset are declared
    live = landing_asset(
        ["src", "live"], kinds={"python"}, partitions_def=dg.StaticPartitionsDefinition(["a"])
    )(_pull)
    sample = landing_asset(["src", "landed"], kinds={"python"})(_pull)
    # THEN both are in the landing group, only the partitioned one carries the tag `main` excludes
    spec = next(iter(live.specs))
    assert spec.group_name == "landing" and spec.tags["semitrade/partitioned"] == "true"
    assert next(iter(sample.specs)).tags == {"dagster/kind/python": ""}
    # AND the description is the docstring on one line
    assert spec.description == "First line of the text, second line indented. Third, after a blank line."


def test_a_lake_asset_is_keyed_by_its_dataset_and_downstream_of_its_landing_assets() -> None:
    lake = lake_asset(
        "src", "trade", landed_by=[dg.AssetKey(["src", "landed"]), dg.AssetKey(["src", "live"])]
    )(_pull)
    spec = next(iter(lake.specs))
    assert spec.key == dg.AssetKey(["src", "lake_trade"]) and spec.group_name == "lake"
    assert sorted(d.asset_key.to_user_string() for d in spec.deps) == ["src/landed", "src/live"]
    assert set(spec.kinds) == {"polars", "parquet"}


def test_an_asset_without_a_docstring_is_refused_with_its_name() -> None:
    def undocumented(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
        return dg.MaterializeResult()

    with pytest.raises(dg.DagsterInvalidDefinitionError, match="undocumented: an asset's docstring"):
        lake_asset("src", "trade", landed_by=[])(undocumented)


def test_nothing_landed_still_writes_the_empty_dataset(tmp_path: Path) -> None:
    # GIVEN a home with no landing manifest
    home = Paths(tmp_path)
    schema = pl.Schema({"period": pl.String(), "value": pl.Int64()})
    # WHEN its landed files are parsed
    results = parse_landed_files(home, "src", "trade", schema, lambda _h, _e: pytest.fail("nothing to parse"))
    # THEN there is no result, and the dataset's zero-row schema file exists for dbt
    assert results == []
    empty = pl.read_parquet(tmp_path / "lake" / "src" / "trade" / EMPTY_FILE)
    assert empty.height == 0 and empty.schema == schema
