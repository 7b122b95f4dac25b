"""Economist exports: one published mart, filtered, written as Parquet, CSV, Stata or Excel, with a codebook.

Grain: whatever the mart's grain is (one row of the mart is one row of the export). Source: the
published, read-only serving warehouse (`warehouse/semitrade.duckdb`). Units: as in the mart; money
columns end in `_usd` (US dollars) and weights in `_kg` (kilograms), and every column carries its dbt
description as a label (Stata variable labels, Parquet field metadata, the codebook).

The table and its columns come from `serving.catalog`; the `--where key=value` filters from
`serving.filters` (bound parameters only). This module writes the file and its codebook.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from ingest.atomic import write_atomic
from ingest.config import paths
from serving.catalog import TableInfo, describe_table, published_tables
from serving.errors import ExportError
from serving.filters import build_query, parse_filters

FORMATS: tuple[str, ...] = ("parquet", "csv", "dta", "xlsx")
SUFFIXES: dict[str, str] = {"parquet": ".parquet", "csv": ".csv", "dta": ".dta", "xlsx": ".xlsx"}
STATA_NAME_MAX = 32
STATA_LABEL_MAX = 80
EXCEL_MAX_ROWS = 1_048_575  # one row is the header
SYNTHETIC_WARNING = (
    "SYNTHETIC SAMPLE: rows with origin = 'sample' come from the offline sample generator "
    "(ingest/comtrade/sample.py). They are NOT published statistics and must not be cited as such."
)


@dataclass
class ExportResult:
    """What an export wrote: the data file, its codebook, the row count and the exact query."""

    path: Path
    codebook: Path
    rows: int
    sql: str
    params: list[object]
    origins: list[str] = field(default_factory=list)
    renamed: dict[str, str] = field(default_factory=dict)


# ---------------------------------------------------------------------------------------------
# writers


def _label(text: str, limit: int = STATA_LABEL_MAX) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def stata_names(columns: Sequence[str]) -> dict[str, str]:
    """Column → a unique valid Stata name (letters, digits, _; ≤ 32 characters)."""
    out: dict[str, str] = {}
    used: set[str] = set()
    for col in columns:
        name = re.sub(r"\W", "_", col)
        if not re.match(r"[A-Za-z_]", name):
            name = "_" + name
        name = name[:STATA_NAME_MAX]
        n = 1
        while name in used:
            n += 1
            name = f"{name[: STATA_NAME_MAX - len(str(n)) - 1]}_{n}"
        used.add(name)
        out[col] = name
    return out


def _write_parquet(table: pa.Table, info: TableInfo, tmp: Path, provenance: dict[str, str]) -> None:
    fields = []
    for f in table.schema:
        col = info.column(f.name)
        meta = {"description": col.description, "unit": col.unit} if col else {}
        fields.append(f.with_metadata({k: v for k, v in meta.items() if v}))
    schema = pa.schema(fields, metadata={"description": info.description, **provenance})
    pq.write_table(table.cast(schema), tmp, compression="zstd")


def _write_csv(table: pa.Table, tmp: Path) -> None:
    pl.from_arrow(table).write_csv(tmp)


def _to_pandas(table: pa.Table) -> pd.DataFrame:
    return table.to_pandas()


def _stata_frame(table: pa.Table) -> pd.DataFrame:
    """A frame Stata can store: dates as datetimes, booleans with nulls as 0/1/missing, decimals as
    doubles, all-null columns as missing numbers, nested values and odd types as text."""
    columns = []
    for f, col in zip(table.schema, table.columns, strict=True):
        t = f.type
        if pa.types.is_null(t) or (col.null_count == len(col) and not pa.types.is_string(t)):
            col = pa.nulls(len(col), pa.float64()) if not pa.types.is_null(t) else col.cast(pa.float64())
        elif pa.types.is_boolean(t) and col.null_count:
            col = col.cast(pa.int8())
        elif pa.types.is_decimal(t):
            col = col.cast(pa.float64())
        elif pa.types.is_timestamp(t) and t.tz is not None:
            col = col.cast(pa.timestamp(t.unit))
        elif pa.types.is_nested(t) or pa.types.is_binary(t) or pa.types.is_time(t) or pa.types.is_duration(t):
            col = pa.array([None if v is None else str(v) for v in col.to_pylist()], pa.string())
        columns.append(col)
    frame = pa.table(columns, names=table.column_names).to_pandas(date_as_object=False)
    for name in frame.columns:
        # a text column with no value at all is "prohibited" for Stata: store it as missing numbers
        if frame[name].isna().all() and not pd.api.types.is_numeric_dtype(frame[name]):
            frame[name] = pd.Series(float("nan"), index=frame.index)
    return frame


def _write_dta(table: pa.Table, info: TableInfo, tmp: Path, renamed: dict[str, str], title: str) -> None:
    frame = _stata_frame(table).rename(columns=renamed)
    labels = {
        renamed[c.name]: _label(
            c.description + (f" [{c.unit}]" if c.unit and c.unit not in c.description else "")
        )
        for c in info.columns
    }
    dates = {}
    for c in frame.columns:
        if pd.api.types.is_datetime64_any_dtype(frame[c]):
            values = frame[c].dropna()
            dates[c] = "td" if (values == values.dt.normalize()).all() else "tc"  # date or date-time
    texts = [c for c in frame.columns if pd.api.types.is_string_dtype(frame[c]) or frame[c].dtype == object]
    strl = [c for c in texts if (frame[c].astype("string").str.len().max(skipna=True) or 0) > 2045]
    frame.to_stata(
        tmp,
        write_index=False,
        version=118,
        variable_labels=labels,
        data_label=_label(title),
        convert_dates=dates,
        convert_strl=strl,
    )


def _write_xlsx(table: pa.Table, tmp: Path, codebook: pd.DataFrame, notes: list[str]) -> None:
    frame = _to_pandas(table)
    with pd.ExcelWriter(tmp, engine="openpyxl") as xl:
        frame.to_excel(xl, sheet_name="data", index=False)
        book_start = len(notes) + 1
        pd.DataFrame({"notes": notes}).to_excel(xl, sheet_name="codebook", index=False)
        codebook.to_excel(xl, sheet_name="codebook", index=False, startrow=book_start + 1)


# ---------------------------------------------------------------------------------------------
# codebook


def _codebook_frame(info: TableInfo, table: pa.Table, renamed: dict[str, str]) -> pd.DataFrame:
    rows = []
    for col in info.columns:
        arr = table.column(col.name)
        rows.append(
            {
                "name": col.name,
                **({"stata_name": renamed[col.name]} if renamed else {}),
                "label": col.description,
                "type": col.data_type,
                "unit": col.unit,
                "n_non_null": len(arr) - arr.null_count,
            }
        )
    return pd.DataFrame(rows)


def _md_cell(value: object) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ")


def codebook_markdown(
    info: TableInfo, book: pd.DataFrame, result: ExportResult, provenance: dict[str, str]
) -> str:
    """The codebook written next to an export: description, provenance, one line per column."""
    lines = [f"# Codebook: {info.name}", ""]
    if "sample" in result.origins:
        lines += [f"> **WARNING — {SYNTHETIC_WARNING}**", ""]
    lines += [info.description or "(no description)", "", "## Provenance", ""]
    lines += [f"- **{k}**: {_md_cell(v)}" for k, v in provenance.items()]
    lines += [
        f"- **query**: `{result.sql}`",
        f"- **parameters**: `{json.dumps(result.params, default=str)}`",
        "",
    ]
    lines += ["## Columns", ""]
    header = list(book.columns)
    lines.append("| " + " | ".join(header) + " |")
    lines.append("|" + "---|" * len(header))
    for row in book.itertuples(index=False):
        lines.append("| " + " | ".join(_md_cell(v) for v in row) + " |")
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------------------------
# entry point


def resolve_format(fmt: str | None, out: Path) -> str:
    """The output format: --format, else the file suffix; they must agree when both are given."""
    by_suffix = {s: f for f, s in SUFFIXES.items()}
    guessed = by_suffix.get(out.suffix.lower())
    if fmt is None:
        if guessed is None:
            raise ExportError(
                f"cannot tell the format of {out}: pass --format {'|'.join(FORMATS)} or use a known suffix"
            )
        return guessed
    if fmt not in FORMATS:
        raise ExportError(f"unknown format {fmt!r}: use one of {', '.join(FORMATS)}")
    if guessed is not None and guessed != fmt:
        raise ExportError(
            f"--format {fmt} does not match the file name {out.name}: use {out.stem}{SUFFIXES[fmt]}"
        )
    return fmt


def _origins(con: duckdb.DuckDBPyConnection, info: TableInfo, data: pa.Table) -> tuple[list[str], str]:
    """Origins of the exported rows ('live', 'sample'), and a note on where they were read from.

    Marts without an `origin` column that derive from the facts (`fct_*`) inherit the origins of the
    warehouse's fct_trade_flows, so an indicator computed from the SYNTHETIC sample is flagged too;
    dimensions (reference data from seeds) have none.
    """
    if "origin" in data.column_names:
        return sorted({o for o in data.column("origin").unique().to_pylist() if o is not None}), ""
    if info.name.startswith("fct_") and "fct_trade_flows" in published_tables(con):
        rows = con.execute(
            "select distinct origin from main.fct_trade_flows where origin is not null"
        ).fetchall()
        return sorted(
            r[0] for r in rows
        ), " (of the warehouse's fct_trade_flows, which this mart is derived from)"
    return [], ""


def _shareable(write: Callable[[Path], None]) -> Callable[[Path], None]:
    """Exports are for sharing: give the file the usual umask permissions, not mkstemp's 0600."""

    def wrapped(tmp: Path) -> None:
        write(tmp)
        mask = os.umask(0)
        os.umask(mask)
        os.chmod(tmp, 0o666 & ~mask)

    return wrapped


def codebook_path(out: Path) -> Path:
    """Where the codebook of an export goes: `<name>.codebook.md` beside it."""
    return out.with_name(out.name + ".codebook.md")


def _check_writable(out: Path) -> None:
    if out.exists() and out.is_dir():
        raise ExportError(
            f"cannot write {out}: it is a directory; give a file name such as {out / 'flows.parquet'}"
        )
    for parent in out.parents:
        if parent.exists():
            if not parent.is_dir():
                raise ExportError(f"cannot write {out}: {parent} is a file, not a directory")
            break


def export_table(
    table: str,
    out: Path,
    fmt: str | None = None,
    where: Sequence[str] = (),
    warehouse: Path | None = None,
) -> ExportResult:
    """Export one published mart (optionally filtered) to ``out`` and write its codebook beside it.

    Grain and units are the mart's; labels are the dbt column descriptions. Raises ExportError for an
    unknown table, a bad filter, an unwritable path or a format the rows do not fit in.
    """
    out = Path(out).expanduser().absolute()
    fmt = resolve_format(fmt, out)
    _check_writable(out)
    db = Path(warehouse) if warehouse else paths().serving_db
    if not db.exists():
        raise ExportError(f"no published warehouse at {db}: run `semitrade run` first")
    filters = parse_filters(where)
    with duckdb.connect(str(db), read_only=True) as con:
        info = describe_table(con, table)
        sql, params = build_query(con, info, filters)
        data = con.sql(sql, params=params).to_arrow_table()
        origins, origin_note = _origins(con, info, data)
    if fmt == "xlsx" and data.num_rows > EXCEL_MAX_ROWS:
        raise ExportError(
            f"{data.num_rows:,} rows do not fit in one Excel sheet ({EXCEL_MAX_ROWS:,} max): "
            "add --where filters or use --format parquet/csv/dta"
        )
    renamed = stata_names([c.name for c in info.columns]) if fmt == "dta" else {}
    result = ExportResult(out, codebook_path(out), data.num_rows, sql, list(params), origins, renamed)
    provenance = {
        "warehouse": str(db),
        "warehouse_published_at": dt.datetime.fromtimestamp(db.stat().st_mtime, dt.UTC).isoformat(
            timespec="seconds"
        ),
        "exported_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "filters": "; ".join(f"{f.key}={f.value}" for f in filters) or "none",
        "rows": str(data.num_rows),
        "format": fmt,
        "origin": (", ".join(origins) or "n/a") + origin_note,
    }
    book = _codebook_frame(info, data, renamed)
    notes = [f"{info.name}: {info.description}"] + [f"{k}: {v}" for k, v in provenance.items()]
    if "sample" in origins:
        notes.insert(0, SYNTHETIC_WARNING)
    writers: dict[str, Callable[[Path], None]] = {
        "parquet": lambda tmp: _write_parquet(data, info, tmp, provenance),
        "csv": lambda tmp: _write_csv(data, tmp),
        "dta": lambda tmp: _write_dta(data, info, tmp, renamed, f"semitrade {info.name}"),
        "xlsx": lambda tmp: _write_xlsx(data, tmp, book, notes),
    }
    text = codebook_markdown(info, book, result, provenance)
    try:
        write_atomic(out, _shareable(writers[fmt]))
        write_atomic(result.codebook, _shareable(lambda tmp: tmp.write_text(text, encoding="utf-8")))
    except OSError as exc:
        raise ExportError(
            f"cannot write {out}: {exc.strerror or exc}; choose a writable path with --out"
        ) from exc
    return result
