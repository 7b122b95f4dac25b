"""Convert the official HS correlation tables into the reference seeds shared with dbt.

Run ``python -m ingest.reference_build [SHARED_REFERENCE_DIR]`` (default: $SEMITRADE_SHARED_REFERENCE,
else ``../shared/reference`` next to the checkout) to regenerate
``dbt_project/seeds/reference/hs_concordance.csv`` and ``hs_headings.csv`` from the files in
``../shared/reference`` (the output is committed; this script documents exactly how it was made).

Grain of ``hs_concordance``: one row per link between an HS6 code of a newer HS version and an HS6
code of the version just before it (H1→H0, H2→H1, H3→H2, H4→H3, H5→H4, H6→H5), as the source table
lists it. Sources:

- HS2007→HS2002, HS2012→HS2007, HS2017→HS2012, HS2022→HS2017: UNSD "Correlation and conversion
  tables" (correlation sheets, with UNSD's relationship 1:1, n:1, 1:n, n:n stated newer:older and
  the ``ex`` mark for a newer code that takes only part of the older one), carried by
  insongkim/concordance data-raw/ @ 201c812e51f213d967d8701b6ed6398c79df4a04 (MIT).
- HS1996→HS1992 and HS2002→HS1996: the one-to-one *conversion* tables of insongkim/concordance
  (data/hs1_hs0.RData, hs2_hs1.RData, converted to CSV): each newer code points to one older code,
  so splits of an older code are recovered only in aggregate (no ``ex`` mark, no UNSD relationship).
"""

from __future__ import annotations

import csv
import os
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path

import openpyxl
import xlrd

from ingest.reference import dbt_project_dir, seed_path


def _default_shared() -> Path:
    """$SEMITRADE_SHARED_REFERENCE, else ../shared/reference next to the checkout."""
    env = os.environ.get("SEMITRADE_SHARED_REFERENCE")
    return Path(env) if env else dbt_project_dir().parent.parent / "shared" / "reference"


DEFAULT_SHARED = _default_shared()

# (source_table, newer_version, older_version, file under hs_reference/, sheet index, columns newer/ex/older/relationship)
UNSD_TABLES: tuple[tuple[str, str, str, str, int, tuple[int, int | None, int, int]], ...] = (
    (
        "unsd_hs2007_hs2002",
        "H3",
        "H2",
        "unsd_correlation/HS_2007_to_HS_2002_Correlation_and_conversion_tables.xls",
        0,
        (0, 1, 2, 3),
    ),
    (
        "unsd_hs2012_hs2007",
        "H4",
        "H3",
        "unsd_correlation/HS_2012_to_HS_2007_Correlation_and_conversion_tables.xls",
        0,
        (0, 1, 2, 3),
    ),
    (
        "unsd_hs2017_hs2012",
        "H5",
        "H4",
        "unsd_correlation/HS2017toHS2012ConversionAndCorrelationTables.xlsx",
        1,
        (0, 1, 2, 3),
    ),
    (
        "unsd_hs2022_hs2017",
        "H6",
        "H5",
        "unsd_correlation/HS2022toHS2017ConversionAndCorrelationTables.xlsx",
        1,
        (0, None, 1, 2),
    ),
)
CONVERSION_TABLES: tuple[tuple[str, str, str, str], ...] = (
    ("concordance_hs1996_hs1992", "H1", "H0", "concordance_pkg_csv/hs1_hs0.csv"),
    ("concordance_hs2002_hs1996", "H2", "H1", "concordance_pkg_csv/hs2_hs1.csv"),
)
CONCORDANCE_COLUMNS = (
    "newer_version",
    "newer_hs6",
    "older_version",
    "older_hs6",
    "is_ex",
    "unsd_relationship",
    "table_kind",
    "source_table",
)
RELATIONSHIPS = {"1:1", "1:n", "n:1", "n:n"}


class ReferenceFormatError(ValueError):
    """A reference table does not have the layout the converter expects."""


def _sheet_rows(path: Path, sheet: int) -> Iterator[list[str]]:
    if path.suffix == ".xls":
        book = xlrd.open_workbook(str(path))
        sh = book.sheet_by_index(sheet)
        for i in range(sh.nrows):
            yield [str(v).strip() for v in sh.row_values(i)]
    else:
        book = openpyxl.load_workbook(path, read_only=True)
        for row in book.worksheets[sheet].iter_rows(values_only=True):
            yield ["" if v is None else str(v).strip() for v in row]


def _hs6(value: str, where: str) -> str:
    code = value.split(".")[0].zfill(6) if value else ""
    if len(code) != 6 or not code.isdigit():
        raise ReferenceFormatError(f"{where}: {value!r} is not an HS6 code; check the sheet layout")
    return code


def unsd_links(shared: Path) -> Iterator[dict[str, str]]:
    """Links of the UNSD correlation sheets (header rows and trailing blank rows skipped)."""
    for table, newer, older, rel, sheet, (c_new, c_ex, c_old, c_rel) in UNSD_TABLES:
        path = shared / "hs_reference" / rel
        for i, row in enumerate(_sheet_rows(path, sheet)):
            if not any(row) or not row[c_new][:1].isdigit():
                continue
            where = f"{path.name} sheet {sheet} row {i + 1}"
            relationship = row[c_rel]
            if relationship not in RELATIONSHIPS:
                raise ReferenceFormatError(
                    f"{where}: relationship {relationship!r} not in {sorted(RELATIONSHIPS)}"
                )
            yield {
                "newer_version": newer,
                "newer_hs6": _hs6(row[c_new], where),
                "older_version": older,
                "older_hs6": _hs6(row[c_old], where),
                "is_ex": "true" if c_ex is not None and row[c_ex].lower().startswith("ex") else "false",
                "unsd_relationship": relationship,
                "table_kind": "correlation",
                "source_table": table,
            }


def conversion_links(shared: Path) -> Iterator[dict[str, str]]:
    """Links of the one-to-one conversion tables for HS1992/HS1996 (insongkim/concordance)."""
    for table, newer, older, rel in CONVERSION_TABLES:
        path = shared / "hs_reference" / rel
        with open(path, encoding="utf-8", newline="") as fh:
            for i, row in enumerate(csv.reader(fh)):
                if i == 0:
                    continue
                where = f"{path.name} row {i + 1}"
                yield {
                    "newer_version": newer,
                    "newer_hs6": _hs6(row[0], where),
                    "older_version": older,
                    "older_hs6": _hs6(row[3], where),
                    "is_ex": "false",
                    "unsd_relationship": "",
                    "table_kind": "conversion",
                    "source_table": table,
                }


def concordance_rows(shared: Path) -> list[dict[str, str]]:
    """All links, deduplicated, sorted by version pair and codes."""
    seen: dict[tuple[str, str, str, str], dict[str, str]] = {}
    for row in (*conversion_links(shared), *unsd_links(shared)):
        key = (row["newer_version"], row["newer_hs6"], row["older_version"], row["older_hs6"])
        seen.setdefault(key, row)
    return [seen[k] for k in sorted(seen)]


def heading_rows(shared: Path) -> list[dict[str, str]]:
    """HS2022 chapters (HS2) and headings (HS4) with Comtrade's texts (cmd_h6.csv, aggrlevel 2 and 4)."""
    out = []
    with open(shared / "comtrade" / "comtradr_extdata" / "cmd_h6.csv", encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            if row["aggrlevel"] in ("2", "4"):
                text = row["text"].split(" - ", 1)[-1]
                out.append({"hs_level": f"HS{row['aggrlevel']}", "code": row["id"], "description": text})
    return sorted(out, key=lambda r: (r["hs_level"], r["code"]))


def _write(name: str, columns: Iterable[str], rows: list[dict[str, str]]) -> Path:
    path = seed_path(name)
    with open(path, "w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(columns), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return path


def main(argv: list[str] | None = None) -> int:
    """Regenerate hs_concordance.csv and hs_headings.csv from the shared reference directory."""
    args = sys.argv[1:] if argv is None else argv
    shared = Path(args[0]) if args else DEFAULT_SHARED
    if not (shared / "hs_reference").is_dir():
        raise FileNotFoundError(f"no hs_reference/ under {shared}: pass the shared reference directory")
    rows = concordance_rows(shared)
    print(f"{_write('hs_concordance', CONCORDANCE_COLUMNS, rows)}: {len(rows)} links")
    headings = heading_rows(shared)
    print(f"{_write('hs_headings', ('hs_level', 'code', 'description'), headings)}: {len(headings)} rows")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
