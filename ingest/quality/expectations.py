"""What the quality gate looks at: the frames it validates (one row per lake file for the schema, every
row of the files with a good schema) and the Great Expectations expectations of a dataset spec."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import polars as pl

from ingest.quality.specs import DatasetSpec, max_year
from ingest.quality.verdict import ERROR, SCHEMA, WARNING

FILE_COLUMN = "lake_file"


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
