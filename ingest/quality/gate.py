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
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import shutil
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from ingest.atomic import write_bytes_atomic
from ingest.config import Paths
from ingest.quality.specs import DatasetSpec, max_year

log = logging.getLogger(__name__)

ERROR = "error"
WARNING = "warning"
SCHEMA = "schema"
FILE_COLUMN = "lake_file"
EXAMPLES = 5
KEEP_RESULTS = 10  # stored validation results per suite (shown in the data docs)


class GateError(RuntimeError):
    """The gate itself could not run (not a data failure: those are reported in the result)."""


@dataclass(frozen=True)
class Failure:
    """One failed expectation on one lake file."""

    expectation: str
    column: str | None
    check: str
    severity: str  # schema | error | warning
    unexpected_count: int
    examples: list[Any]

    def line(self) -> str:
        col = f" on {self.column}" if self.column else ""
        return f"{self.expectation}{col} ({self.check}): {self.unexpected_count} row(s), e.g. {self.examples}"


@dataclass
class GateResult:
    """What the gate decided for one dataset."""

    source: str
    dataset: str
    files: int
    rows: int
    blocked: dict[str, list[Failure]] = field(default_factory=dict)  # lake file -> failures
    warnings: dict[str, list[Failure]] = field(default_factory=dict)
    source_files: dict[str, str | None] = field(default_factory=dict)  # lake file -> (first) landed file
    # lake file -> every landed file its rows came from (an e-Stat lake file holds several pages)
    all_source_files: dict[str, tuple[str, ...]] = field(default_factory=dict)
    blocklist: Path | None = None
    data_docs: Path | None = None

    @property
    def schema_failures(self) -> dict[str, list[Failure]]:
        """Blocked files whose schema is wrong (these stop the pipeline)."""
        out = {f: [x for x in fs if x.severity == SCHEMA] for f, fs in self.blocked.items()}
        return {f: fs for f, fs in out.items() if fs}

    @property
    def passed(self) -> bool:
        return not self.blocked

    def lines(self, limit: int = 20) -> list[str]:
        """'<file>: <expectation> …' lines, blocked files first."""
        out = [f"BLOCKED {f}: {x.line()}" for f, fs in sorted(self.blocked.items()) for x in fs]
        out += [f"warning {f}: {x.line()}" for f, fs in sorted(self.warnings.items()) for x in fs]
        return out[:limit] + ([f"… {len(out) - limit} more"] if len(out) > limit else [])


def blocklist_path(paths: Paths, source: str, dataset: str) -> Path:
    """lake/_gate/<source>/<dataset>.json (read by staging to exclude blocked files)."""
    return paths.lake / "_gate" / source / f"{dataset}.json"


def data_docs_dir(paths: Paths) -> Path:
    """$SEMITRADE_HOME/quality/data_docs (Great Expectations HTML site; open index.html)."""
    return paths.home / "quality" / "data_docs"


def lake_files(paths: Paths, spec: DatasetSpec) -> list[Path]:
    """Every finished Parquet file of the dataset (temporary ``.tmp`` files are never matched)."""
    root = paths.lake / spec.source / spec.dataset
    return sorted(p for p in root.rglob("*.parquet") if not p.name.startswith("."))


# -- frames -----------------------------------------------------------------------------------


def schema_frame(files: Iterable[Path], spec: DatasetSpec, lake_root: Path) -> pl.DataFrame:
    """One row per lake file: ``read_error`` (null when the file reads as Parquet) and ``schema_diff``
    (null when every column of the spec's schema is there with its dtype; else what differs)."""
    rows = []
    for path in files:
        read_error = diff = None
        try:
            found = pl.read_parquet_schema(path)
        except Exception as exc:  # noqa: BLE001 - any unreadable file is a schema failure, with its reason
            read_error = f"{type(exc).__name__}: {exc}"[:300]
        else:
            missing = [c for c in spec.schema if c not in found]
            wrong = [
                f"{c} is {found[c]}, expected {t}"
                for c, t in spec.schema.items()
                if c in found and found[c] != t
            ]
            parts = ([f"missing {', '.join(missing)}"] if missing else []) + wrong
            diff = "; ".join(parts) or None
        rows.append(
            {
                FILE_COLUMN: path.relative_to(lake_root).as_posix(),
                "read_error": read_error,
                "schema_diff": diff,
            }
        )
    return pl.DataFrame(
        rows, schema={FILE_COLUMN: pl.String(), "read_error": pl.String(), "schema_diff": pl.String()}
    )


def _needed_columns(spec: DatasetSpec) -> list[str]:
    cols = [*spec.keys, *(c.column for c in spec.codes), *spec.non_negative, *spec.extra_columns]
    cols += [c for c in (spec.period_column, spec.year_column, spec.lineage_column) if c]
    if spec.unit_value:
        cols += [spec.unit_value[0], spec.unit_value[1], *spec.unit_value[2]]
    seen: dict[str, None] = {}
    for c in cols:
        if c in spec.schema:
            seen[c] = None
    # columns introduced by derive (hs_key …) are not read from the files
    return list(seen)


def rows_frame(files: Iterable[Path], spec: DatasetSpec, lake_root: Path) -> pl.DataFrame:
    """The rows the row expectations look at, from every file, with ``lake_file`` and the derived
    columns (``unit_value_log10_dev``: log10 of the unit value minus the median of its group)."""
    cols = _needed_columns(spec)
    frames = [
        pl.scan_parquet(p)
        .select(cols)
        .with_columns(pl.lit(p.relative_to(lake_root).as_posix()).alias(FILE_COLUMN))
        for p in files
    ]
    if not frames:
        return pl.DataFrame(schema={c: spec.schema[c] for c in cols} | {FILE_COLUMN: pl.String()})
    lf = pl.concat(frames, how="vertical")
    if spec.derive:
        lf = spec.derive(lf)
    if spec.unit_value:
        value, qty, group = spec.unit_value
        luv = pl.when((pl.col(value) > 0) & (pl.col(qty) > 0)).then((pl.col(value) / pl.col(qty)).log10())
        lf = (
            lf.with_columns(luv.alias("_luv"))
            .with_columns(
                (pl.col("_luv") - pl.col("_luv").median().over(list(group))).alias("unit_value_log10_dev")
            )
            .drop("_luv")
        )
    return lf.collect()


# -- expectations -----------------------------------------------------------------------------


def _meta(check: str, severity: str) -> dict[str, str]:
    return {"check": check, "severity": severity}


def schema_expectations(spec: DatasetSpec) -> list[Any]:
    """File-level expectations: the file reads as Parquet and has the lake schema (names and dtypes)."""
    import great_expectations.expectations as gxe  # noqa: PLC0415 - GE is slow to import

    return [
        gxe.ExpectColumnValuesToBeNull(column="read_error", meta=_meta("file is readable Parquet", SCHEMA)),
        gxe.ExpectColumnValuesToBeNull(
            column="schema_diff", meta=_meta(f"columns and types of the {spec.name} lake schema", SCHEMA)
        ),
    ]


def row_expectations(spec: DatasetSpec, rows: pl.DataFrame | None = None) -> list[Any]:
    """Row-level expectations of a spec (errors block the file, warnings only flag).

    With ``rows``, each code list is narrowed to the codes that occur in ``rows`` (same verdict: a
    code outside the reference list is outside the narrowed list too), because GE checks a value set
    of 36,000 HS codes many times slower than one of a few hundred.
    """
    import great_expectations.expectations as gxe  # noqa: PLC0415

    out: list[Any] = [
        gxe.ExpectColumnValuesToNotBeNull(column=k, meta=_meta(f"key {k} is not null", ERROR))
        for k in spec.keys
    ]
    for code in spec.codes:
        allowed = code.values()
        if rows is not None and code.column in rows.columns:
            present = set(rows[code.column].drop_nulls().unique().to_list())
            allowed = [v for v in allowed if v in present] or allowed[:1]
        out.append(
            gxe.ExpectColumnValuesToBeInSet(
                column=code.column, value_set=allowed, meta=_meta(code.describe, ERROR)
            )
        )
    out += [
        gxe.ExpectColumnValuesToBeBetween(column=c, min_value=0, meta=_meta(f"{c} is not negative", ERROR))
        for c in spec.non_negative
    ]
    if spec.period_column and spec.period_regex:
        out.append(
            gxe.ExpectColumnValuesToMatchRegex(
                column=spec.period_column,
                regex=spec.period_regex,
                meta=_meta("period is YYYY or YYYYMM", ERROR),
            )
        )
    if spec.year_column:
        out.append(
            gxe.ExpectColumnValuesToBeBetween(
                column=spec.year_column,
                min_value=spec.min_year,
                max_value=max_year(),
                meta=_meta(f"year between {spec.min_year} and the current year", ERROR),
            )
        )
    if spec.unit_value:
        n = spec.outlier_orders
        out.append(
            gxe.ExpectColumnValuesToBeBetween(
                column="unit_value_log10_dev",
                min_value=-n,
                max_value=n,
                meta=_meta(
                    f"unit value within 10^{n:g} of the median of its {'/'.join(spec.unit_value[2])}", WARNING
                ),
            )
        )
    return out


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


def write_blocklist(paths: Paths, result: GateResult) -> Path:
    """lake/_gate/<source>/<dataset>.json, deterministic (sorted, no timestamps) and atomic."""
    blocked_sources = sorted(
        {s for f in result.blocked if (s := result.source_files.get(f))}
        | {s for f in result.blocked for s in result.all_source_files.get(f, ())}
    )
    body = {
        "source": result.source,
        "dataset": result.dataset,
        "files_validated": result.files,
        "rows_validated": result.rows,
        "blocked_source_files": blocked_sources,
        "blocked": {
            f: {"source_file": result.source_files.get(f), "failed": [asdict(x) for x in fs]}
            for f, fs in sorted(result.blocked.items())
        },
        "warnings": {
            f: {"source_file": result.source_files.get(f), "flagged": [asdict(x) for x in fs]}
            for f, fs in sorted(result.warnings.items())
        },
    }
    path = blocklist_path(paths, result.source, result.dataset)
    text = json.dumps(body, indent=2, sort_keys=True, ensure_ascii=False, default=str) + "\n"
    return write_bytes_atomic(path, text.encode("utf-8"))


def read_blocklist(paths: Paths, source: str, dataset: str) -> dict[str, Any]:
    """The last gate verdict of a dataset ({} when the gate never ran)."""
    path = blocklist_path(paths, source, dataset)
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


def gate_summary(paths: Paths) -> str:
    """One line for the CLI: blocked and flagged files over every dataset's last gate verdict."""
    verdicts = sorted((paths.lake / "_gate").glob("*/*.json")) if (paths.lake / "_gate").exists() else []
    if not verdicts:
        return "not run yet"
    blocked = flagged = files = 0
    for path in verdicts:
        body = json.loads(path.read_text(encoding="utf-8"))
        blocked += len(body.get("blocked", {}))
        flagged += len(body.get("warnings", {}))
        files += int(body.get("files_validated", 0))
    docs = data_docs_dir(paths) / "index.html"
    where = f"; data docs {docs}" if docs.exists() else ""
    return (
        f"{files:,} lake files checked, {blocked:,} blocked (not published), {flagged:,} with flagged rows "
        f"(lake/_gate/{where})"
    )
