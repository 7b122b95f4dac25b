"""Validate every lake file of a dataset with Great Expectations, block the files that fail, keep docs.

Two validations per dataset, each ONE Great Expectations run over all files (GE is slow per call):

1. ``<source>_<dataset>__schema``: one row per lake file, its Parquet schema (column dtypes) and
   whether it could be read at all. A failure here is *blocking*: a file with a wrong schema would
   change the types of the whole staging view, so the pipeline must stop before dbt.
2. ``<source>_<dataset>__rows``: every row of the files with a good schema, with a ``lake_file``
   column so each failing row is traced to its file: non-null keys, codes in the reference seeds,
   non-negative values, periods in range, and (a warning only) unit values far from their median.

Files with a failing row expectation are written to the blocklist
``lake/_gate/<source>/<dataset>.json`` (lake file -> failed expectations, plus the landed
``source_file`` names staging excludes); they are not deleted and not published. Warnings are
recorded there too but do not block. Data docs (HTML) go to ``$SEMITRADE_HOME/quality/data_docs/``.

This module runs Great Expectations; what it validates is built in ``ingest.quality.expectations`` and
what it decided is written through ``ingest.quality.verdict``.
"""

from __future__ import annotations

import fcntl
import logging
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import polars as pl

from ingest.config import Paths
from ingest.quality.expectations import (
    FILE_COLUMN,
    row_expectations,
    rows_frame,
    schema_expectations,
    schema_frame,
)
from ingest.quality.specs import DatasetSpec
from ingest.quality.verdict import ERROR, WARNING, Failure, GateResult, data_docs_dir, write_blocklist

log = logging.getLogger(__name__)

EXAMPLES = 5
KEEP_RESULTS = 10  # stored validation results per suite (shown in the data docs)


class GateError(RuntimeError):
    """The gate itself could not run (not a data failure: those are reported in the result)."""


def lake_files(paths: Paths, spec: DatasetSpec) -> list[Path]:
    """Every finished Parquet file of the dataset (temporary ``.tmp`` files are never matched)."""
    root = paths.lake / spec.source / spec.dataset
    return sorted(p for p in root.rglob("*.parquet") if not p.name.startswith("."))


# -- Great Expectations plumbing ----------------------------------------------------------------


def _context(paths: Paths) -> Any:
    """A file data context under $SEMITRADE_HOME/quality/gx whose data docs site is quality/data_docs."""
    import great_expectations as gx  # noqa: PLC0415
    from great_expectations.data_context.types.base import ProgressBarsConfig  # noqa: PLC0415

    root = paths.home / "quality"
    root.mkdir(parents=True, exist_ok=True)
    context = gx.get_context(mode="file", project_root_dir=str(root))
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    docs = str(data_docs_dir(paths))
    site = {
        "class_name": "SiteBuilder",
        "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
        "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": docs},
    }
    sites = context.variables.data_docs_sites or {}
    if sites.get("local_site") != site or len(sites) != 1:
        context.variables.data_docs_sites = {"local_site": site}
        context.variables.save()
    return context


def _validate(context: Any, name: str, df: pl.DataFrame, expectations: list[Any]) -> Any:
    """Run ``expectations`` over ``df`` as one batch; the result is stored for the data docs."""
    import great_expectations as gx  # noqa: PLC0415

    source = context.data_sources.add_or_update_pandas("semitrade_lake")
    asset = (
        source.add_dataframe_asset(name) if name not in source.get_asset_names() else source.get_asset(name)
    )
    try:
        batch_def = asset.get_batch_definition("all_files")
    except KeyError:
        batch_def = asset.add_batch_definition_whole_dataframe("all_files")
    except Exception:  # noqa: BLE001 - GE raises its own lookup errors across versions
        batch_def = asset.add_batch_definition_whole_dataframe("all_files")
    suite = gx.ExpectationSuite(name=name, expectations=expectations)
    suite = context.suites.add_or_update(suite)
    vd = context.validation_definitions.add_or_update(
        gx.ValidationDefinition(name=name, data=batch_def, suite=suite)
    )
    return vd.run(
        batch_parameters={"dataframe": df.to_pandas()},
        result_format={"result_format": "COMPLETE", "unexpected_index_column_names": [FILE_COLUMN]},
    )


def _failures(result: Any) -> tuple[dict[str, list[Failure]], dict[str, list[Failure]]]:
    """(errors by file, warnings by file) from a GE validation result."""
    errors: dict[str, list[Failure]] = {}
    warnings: dict[str, list[Failure]] = {}
    for r in result.results:
        if r.success:
            continue
        cfg = r.expectation_config
        meta = cfg.meta or {}
        exc = (
            (r.exception_info or {}).get("exception_message") if isinstance(r.exception_info, dict) else None
        )
        if exc or "unexpected_index_list" not in r.result:
            raise GateError(
                f"expectation {cfg.type} on {cfg.kwargs.get('column')} could not run: {exc or r.result}"
            )
        by_file: dict[str, list[Any]] = {}
        for item in r.result["unexpected_index_list"]:
            by_file.setdefault(item[FILE_COLUMN], []).append(item.get(cfg.kwargs.get("column")))
        severity = meta.get("severity", ERROR)
        target = warnings if severity == WARNING else errors
        for lake_file, values in by_file.items():
            examples = list(dict.fromkeys(_plain(v) for v in values))[:EXAMPLES]
            target.setdefault(lake_file, []).append(
                Failure(
                    cfg.type,
                    cfg.kwargs.get("column"),
                    meta.get("check", cfg.type),
                    severity,
                    len(values),
                    examples,
                )
            )
    return errors, warnings


def _plain(value: Any) -> Any:
    """JSON-friendly example value (numpy scalars, NaN → None)."""
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and value != value:
        return None
    return value if isinstance(value, str | int | float | bool) or value is None else str(value)


# -- the gate -----------------------------------------------------------------------------------


def _validate_files(
    paths: Paths, spec: DatasetSpec, files: list[Path], result: GateResult, *, build_docs: bool
) -> None:
    context = _context(paths)
    schemas = schema_frame(files, spec, paths.lake)
    schema_res = _validate(context, f"{spec.name}__schema", schemas, schema_expectations(spec))
    bad_schema, _ = _failures(schema_res)
    good = [f for f in files if f.relative_to(paths.lake).as_posix() not in bad_schema]
    rows = rows_frame(good, spec, paths.lake)
    result.rows = rows.height
    row_res = _validate(context, f"{spec.name}__rows", rows, row_expectations(spec, rows))
    errors, result.warnings = _failures(row_res)
    result.blocked = {
        f: bad_schema.get(f, []) + errors.get(f, []) for f in sorted(set(bad_schema) | set(errors))
    }
    lineage = rows.select(FILE_COLUMN, spec.lineage_column).unique(FILE_COLUMN, keep="first")
    result.source_files = dict(lineage.iter_rows())
    blocked_rows = rows.filter(pl.col(FILE_COLUMN).is_in(list(result.blocked)))
    for lake_file, sources in (
        blocked_rows.group_by(FILE_COLUMN).agg(pl.col(spec.lineage_column).unique().sort()).iter_rows()
    ):
        result.all_source_files[lake_file] = tuple(s for s in sources if s is not None)
    for lake_file in bad_schema:
        result.source_files[lake_file] = _source_file_of(paths.lake / lake_file, spec.lineage_column)
    if build_docs:
        _prune_history(paths)
        context.build_data_docs()
        result.data_docs = data_docs_dir(paths) / "index.html"


@contextmanager
def _ge_lock(paths: Paths) -> Iterator[None]:
    """One gate at a time per data directory: GE's file context and data docs are not safe to share
    between concurrent writers (Dagster may run the checks of several datasets in parallel)."""
    lock = paths.home / "quality" / ".gate.lock"
    lock.parent.mkdir(parents=True, exist_ok=True)
    with open(lock, "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _prune_history(paths: Paths, keep: int = KEEP_RESULTS) -> None:
    """Keep the last ``keep`` stored validation results per suite (data docs render every stored
    result, so an unbounded history would make each run slower), and drop their old HTML pages."""
    store = paths.home / "quality" / "gx" / "uncommitted" / "validations"
    for suite in store.iterdir() if store.exists() else []:
        if not suite.is_dir():
            continue
        runs = sorted(p for p in suite.glob("*/*") if p.is_dir())  # <run name>/<UTC run time>
        for old in runs[:-keep]:
            shutil.rmtree(old, ignore_errors=True)
    shutil.rmtree(data_docs_dir(paths) / "validations", ignore_errors=True)


def run_gate(paths: Paths, spec: DatasetSpec, *, build_docs: bool = True) -> GateResult:
    """Validate every lake file of ``spec``'s dataset; write the blocklist (always, possibly empty)
    and the data docs. Grain of the verdict: one lake file (= one landed file, one partition vintage)."""
    # GE would otherwise try to send usage statistics (no network here): set before GE is first
    # imported, when a gate runs (never when this module is imported)
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    files = lake_files(paths, spec)
    result = GateResult(spec.source, spec.dataset, files=len(files), rows=0)
    if files:
        with _ge_lock(paths):
            _validate_files(paths, spec, files, result, build_docs=build_docs)
    result.blocklist = write_blocklist(paths, result)
    if result.blocked:
        log.warning(
            "%s/%s: %d lake file(s) blocked by the quality gate",
            spec.source,
            spec.dataset,
            len(result.blocked),
        )
    return result


def _source_file_of(path: Path, column: str) -> str | None:
    try:
        values = pl.scan_parquet(path).select(pl.col(column)).unique().collect()[column].to_list()
    except Exception:  # noqa: BLE001 - unreadable or no lineage column: the lake file name is all we have
        return None
    return values[0] if len(values) == 1 else None
