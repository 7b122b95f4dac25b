"""The two kinds of ingest asset every source has, declared once: landing assets (the sample, and live
pulls partitioned outside `main`) and a lake asset (the only writer of the source's lake dataset, parsing
every file that landed).

Each decorator takes the asset's description from its docstring, one line as the Dagster UI shows it,
so an asset has one text for both its readers.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from typing import TypeVar

import dagster as dg
import polars as pl

from ingest.config import Paths
from ingest.lake import ParseResult, ensure_dataset
from ingest.landing import LandedFile, read_manifest
from orchestration.defs.jobs import PARTITIONED_TAG

AssetFn = Callable[..., dg.MaterializeResult]
Result = TypeVar("Result", bound=ParseResult)


def _description(fn: AssetFn) -> str:
    """The docstring of ``fn`` on one line (its white space folded)."""
    if not fn.__doc__:
        raise dg.DagsterInvalidDefinitionError(f"{fn.__name__}: an asset's docstring is its description")
    return " ".join(inspect.cleandoc(fn.__doc__).split())


def landing_asset(
    key: Sequence[str],
    *,
    kinds: set[str],
    deps: Sequence[dg.AssetsDefinition | dg.AssetKey] = (),
    partitions_def: dg.PartitionsDefinition | None = None,
    pool: str | None = None,
) -> Callable[[AssetFn], dg.AssetsDefinition]:
    """An asset landing raw files in landing/ (the landing group). A partitioned one, a live pull of one
    partition, is tagged `semitrade/partitioned`: it runs in its own job, schedule or backfill, never in
    `main`."""

    def decorate(fn: AssetFn) -> dg.AssetsDefinition:
        return dg.asset(
            key=list(key),
            deps=list(deps),
            partitions_def=partitions_def,
            pool=pool,
            tags={PARTITIONED_TAG: "true"} if partitions_def else None,
            group_name="landing",
            kinds=kinds,
            description=_description(fn),
        )(fn)

    return decorate


def lake_asset(
    source: str, dataset: str, *, landed_by: Sequence[dg.AssetsDefinition | dg.AssetKey]
) -> Callable[[AssetFn], dg.AssetsDefinition]:
    """The asset `<source>/lake_<dataset>` writing lake/<source>/<dataset>/ (polars, parquet; the lake
    group), downstream of every asset that lands its files (sample and live)."""

    def decorate(fn: AssetFn) -> dg.AssetsDefinition:
        return dg.asset(
            key=[source, f"lake_{dataset}"],
            deps=list(landed_by),
            group_name="lake",
            kinds={"polars", "parquet"},
            description=_description(fn),
        )(fn)

    return decorate


def parse_landed_files(
    home: Paths,
    source: str,
    dataset: str,
    schema: pl.Schema,
    parse: Callable[[Paths, LandedFile], Result],
) -> list[Result]:
    """Parse every file of ``source``/``dataset`` in the landing manifest of ``home`` (``parse`` skips a
    vintage already in the lake), after writing the dataset's empty schema file, so that dbt finds the
    dataset even when nothing is landed. One result per landed file, in landing order."""
    ensure_dataset(home, source, dataset, schema)
    return [parse(home, entry) for entry in read_manifest(home, source=source, dataset=dataset)]
