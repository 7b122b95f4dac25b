"""Parse landed Japan MOF CSVs (wide: year + 12 months per row) into long typed lake rows.

One landed file becomes one lake file (lake/japan/trade/<year>/<direction>/vintage=<sha>.parquet)
and, when some rows break the contract, one quarantine file with the reason and the raw line.
Rows in (CSV data rows) = rows kept + rows quarantined, checked per file. Each kept row yields one
long row per month whose cells hold figures: a month reported as 0 is a row with value 0 (MOF
reports it), a month whose three cells are empty is absent (no row). Months after the last month
holding any non-zero figure in the whole file are not yet published (a year's table released
mid-year carries 0 in the months it has not reached): they are counted, not written as zeros. Each
row is checked against its own control: the year value must equal the sum of the months. Grain of a lake row: month × HS9 × country
(× port, in the port table); values in thousand yen (rounded down by MOF), exports FOB, imports CIF.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import Any

import polars as pl

from ingest import lake, reference
from ingest.config import Paths
from ingest.japan.client import (
    COUNTRY_CODE,
    DATASET,
    DIRECTION_CODE,
    HS9_CODE,
    MONTHS,
    SOURCE,
    JapanFormatError,
    decode_csv,
)
from ingest.landing import LandedFile

LAKE_SCHEMA = pl.Schema(
    {
        "period": pl.String(),  # YYYYMM
        "ref_year": pl.Int32(),
        "ref_month": pl.Int32(),
        "direction": pl.String(),  # export / import
        "flow_code": pl.String(),  # X / M
        "custom": pl.String(),  # customs office (port table only), else null
        "hs9": pl.String(),  # Japan's 9-digit statistical code
        "hs6": pl.String(),  # first six digits
        "country_code": pl.String(),  # 3-digit Japan customs country code
        "unit1": pl.String(),
        "unit2": pl.String(),
        "quantity1": pl.Float64(),
        "quantity2": pl.Float64(),
        "value_thousand_jpy": pl.Int64(),
        "release": pl.String(),  # preliminary / confirmed / as_published
    }
    # source_row: 1-based data row of the CSV (e-Stat: position of the value cell in its page)
    | lake.LINEAGE_SCHEMA
)


class JapanResponseError(ValueError):
    """A landed file is not a usable MOF CSV as a whole (encoding, header)."""


@dataclass(frozen=True)
class ParseResult(lake.ParseResult):
    """Counts for one landed file (rows = CSV data rows); ``long_rows`` = lake rows written (one per
    month with a figure), ``months_unpublished`` = month cells after the last month with any
    non-zero figure, left out as not yet published."""

    long_rows: int = 0
    encoding: str | None = None
    months_unpublished: int = 0


def known_countries() -> frozenset[str]:
    """3-digit Japan customs country codes of the japan_customs_country_codes seed."""
    return reference.seed_codes("japan_customs_country_codes", "japan_code")


def _int(raw: str) -> int | None:
    """A cell as a whole number: 0 for an empty cell (absence counts as nothing in sums), None when
    the cell is not a non-negative whole number. Use ``_figure`` to tell 0 from empty."""
    raw = raw.strip().replace(",", "")
    if raw == "":
        return 0
    return int(raw) if raw.isdigit() else None


def _figure(raw: str) -> int | None:
    """A cell that holds a figure (0 included), or None for an empty cell (absence)."""
    raw = raw.strip().replace(",", "")
    return int(raw) if raw else None


def _month_cells(row: dict[str, str], name: str) -> tuple[int | None, int | None, int | None]:
    """(Quantity1, Quantity2, Value) of one month of a valid row; None = empty cell."""
    return tuple(_figure(row[f"{k}-{name}"]) for k in ("Quantity1", "Quantity2", "Value"))  # type: ignore[return-value]


def published_through(good: list[tuple[int, dict[str, str]]]) -> int:
    """The last month (1-12) holding any non-zero figure in the file's valid rows; 0 when none."""
    return max(
        (m for _, row in good for m, name in enumerate(MONTHS, start=1) if any(_month_cells(row, name))),
        default=0,
    )


def may_be_unpublished(year: int, month: int, fetched_at: str) -> bool:
    """Whether month ``month`` of ``year`` may not have been released when the file was fetched: MOF
    publishes a month's preliminary figures late in the following month, so a month is surely out
    once the month after next has begun. Only such months, when they hold nothing but zeros after the
    last month with any non-zero figure, are read as not yet published (a year's table fills them
    with 0); in every other case a 0 is a reported zero."""
    release_by = (year + (month + 1) // 12, (month + 1) % 12 + 1)  # first month after the next one
    try:
        fetched = (int(fetched_at[:4]), int(fetched_at[5:7]))
    except (TypeError, ValueError):
        return True
    return fetched < release_by


def validate_row(row: dict[str, str], params: dict[str, Any]) -> str | None:
    """Why a CSV row breaks the contract, or None (the HS code is expected already unquoted)."""
    flow = row["Exp or Imp"].strip()
    if flow not in ("1", "2"):
        return f"Exp or Imp {flow!r} is not 1 or 2"
    want = DIRECTION_CODE.get(params.get("direction", ""))
    if want and flow != want:
        return f"Exp or Imp {flow} does not match the file's direction {params['direction']}"
    if params.get("year") and row["Year"].strip() != params["year"]:
        return f"Year {row['Year']!r} is not the file's year {params['year']}"
    if not HS9_CODE.match(row["HS"]):
        return f"HS {row['HS']!r} is not a 9-digit statistical code"
    if not COUNTRY_CODE.match(row["Country"].strip()):
        return f"Country {row['Country']!r} is not a 3-digit customs code"
    if row["Country"].strip() not in known_countries():
        return f"Country {row['Country']} is not in the japan_customs_country_codes seed"
    for suffix in ("Year", *MONTHS):
        for kind in ("Quantity1", "Quantity2", "Value"):
            if _int(row[f"{kind}-{suffix}"]) is None:
                return f"{kind}-{suffix} {row[f'{kind}-{suffix}']!r} is not a non-negative whole number"
    for name in MONTHS:
        if row[f"Value-{name}"].strip() == "" and any(
            row[f"{k}-{name}"].strip() for k in ("Quantity1", "Quantity2")
        ):
            return f"Value-{name} is empty but a quantity of {name} is reported"
    months = sum(_int(row[f"Value-{m}"]) or 0 for m in MONTHS)
    year_value = _int(row["Value-Year"]) or 0
    if months != year_value:
        return f"Value-Year {year_value} is not the sum of the months ({months})"
    return None


def read_rows(content: bytes, source_file: str) -> tuple[list[dict[str, str]], str]:
    """Data rows as dicts (HS unquoted) and the encoding; raise JapanResponseError for a bad file."""
    try:
        text, encoding = decode_csv(content)
    except JapanFormatError as exc:
        raise JapanResponseError(f"{source_file}: {exc}") from None
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    try:
        return _rows_from(reader), encoding
    except csv.Error as exc:
        raise JapanResponseError(
            f"{source_file}: not a readable CSV at line {reader.line_num}: {exc}"
        ) from None


def _rows_from(reader: Any) -> list[dict[str, str]]:
    """Data rows of a csv.reader whose first row is the header (HS unquoted); malformed rows as errors."""
    header = [h.strip() for h in next(reader)]
    rows = []
    for values in reader:
        if not any(v.strip() for v in values):
            continue
        if len(values) != len(header):
            rows.append(
                {
                    "__error__": f"{len(values)} fields, the header has {len(header)}",
                    "__raw__": ",".join(values),
                }
            )
            continue
        row = dict(zip(header, values, strict=True))
        row["HS"] = row["HS"].strip().strip("'\"")
        rows.append(row)
    return rows


def _long(good: list[tuple[int, dict[str, str]]], entry: LandedFile) -> tuple[pl.DataFrame, int]:
    """Long rows of the valid rows, and the number of month cells left out as not yet published."""
    release = entry.params.get("release", "as_published")
    through = published_through(good)
    out: list[dict[str, Any]] = []
    unpublished = 0
    for pos, row in good:
        year = int(row["Year"])
        flow = row["Exp or Imp"].strip()
        for m, name in enumerate(MONTHS, start=1):
            q1, q2, v = _month_cells(row, name)
            if v is None:  # empty cells: absence (a quantity without a value is quarantined before)
                continue
            if m > through and may_be_unpublished(year, m, entry.fetched_at):
                unpublished += 1
                continue
            out.append(
                {
                    "period": f"{year}{m:02d}",
                    "ref_year": year,
                    "ref_month": m,
                    "direction": "export" if flow == "1" else "import",
                    "flow_code": "X" if flow == "1" else "M",
                    "custom": row.get("Custom", "").strip() or None,
                    "hs9": row["HS"],
                    "hs6": row["HS"][:6],
                    "country_code": row["Country"].strip(),
                    "unit1": row["Unit1"].strip() or None,
                    "unit2": row["Unit2"].strip() or None,
                    "quantity1": None if q1 is None else float(q1),
                    "quantity2": None if q2 is None else float(q2),
                    "value_thousand_jpy": v,
                    "release": release,
                    "origin": entry.origin,
                    "source_file": entry.path,
                    "source_row": pos,
                    "vintage": entry.sha256,
                    "fetched_at": entry.fetched_at,
                }
            )
    return pl.DataFrame(out, schema=LAKE_SCHEMA), unpublished


def split_rows(rows: list[dict[str, str]], params: dict[str, Any]) -> tuple[list[Any], list[Any]]:
    """Valid rows with their 1-based position, and rejected ones (position, reason, raw): the row
    contract, then the duplicate rule (Custom × HS × Country)."""
    return lake.split_valid(
        enumerate(rows, start=1),
        lambda row: row.get("__error__") or validate_row(row, params),
        lambda row: (row.get("Custom", ""), row["HS"], row["Country"].strip()),
        lambda first, key: f"duplicate of row {first} (HS {key[1]}, Country {key[2]})",
        raw=lambda row: row.get("__raw__", row),
    )


@lake.locks_partition(SOURCE, DATASET)
def parse_landed(paths: Paths, entry: LandedFile, *, force: bool = False) -> ParseResult:
    """Parse one landed CSV into the lake (idempotent per vintage); see the module docstring."""
    files = lake.vintage_files(paths, SOURCE, DATASET, entry.partition, entry.sha256)
    # a CSV row is up to 12 lake rows: the rows kept are the distinct source rows
    done = lake.already_in_lake(files, force=force, kept=pl.col("source_row").n_unique())
    if done is not None:
        qfile = files.quarantine_file if files.quarantine_file.exists() else None
        return ParseResult(entry.path, sum(done), *done, files.lake_file, qfile, True)
    content = entry.absolute(paths).read_bytes()
    encoding = None
    good: list[tuple[int, dict[str, str]]] = []
    bad: list[tuple[int, str, Any]] = []
    try:
        rows, encoding = read_rows(content, entry.path)
        rows_in = len(rows)
        good, bad = split_rows(rows, entry.params)
    except JapanResponseError as exc:
        rows_in, bad = 1, [(-1, str(exc), content[:2000].decode("utf-8", "replace"))]
    kept, unpublished = _long(good, entry)
    quarantined = lake.quarantine_frame(bad, entry, sort_keys=False)  # raw: the CSV row in column order
    qfile = lake.write_vintage(
        files, kept, quarantined, rows_in=rows_in, rows_kept=len(good), label=entry.path
    )
    return ParseResult(
        entry.path,
        rows_in,
        len(good),
        len(bad),
        files.lake_file,
        qfile,
        long_rows=kept.height,
        encoding=encoding,
        months_unpublished=unpublished,
    )
