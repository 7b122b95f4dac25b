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

Gaps (issue #13): a code of an older version that its table leaves without any successor (neither
listed as an older code nor present, unlisted, in the newer list) would end ``unmapped``. A
one-to-one conversion table loses every older code merged into a newer code it converts to another
older code (HS1996 854214/854219 → HS2002 854221), and UNSD's HS2022→HS2017 table has no row for
HS2017 300219. ``resolve_gaps`` resolves each gap, in this order, and writes one row per gap to
``hs_deleted_codes.csv``:

1. ``derived``: a longer-range conversion table of the same package (e.g. hs4_hs1 = HS2012→HS1996)
   converts newer codes to the gap code; those codes are walked back through the adjacent links to
   the next version, and the gap code is linked to what they reach there.
2. ``subheading``: else, for a two-dash code (last digit not 0), the codes of the next version in
   the same one-dash subheading (first five digits), two-dash codes only: 300219 → 300212…300215.
3. ``heading``: else, the codes of the next version in the same heading (first four digits).
4. else the code is deleted without successor (relationship ``deleted`` in dbt).

Comtrade's national "LEGACY NON-WCO CODE" codes are never targets of rules 2–3. Rules 2–3 are
structural inferences, not table rows: the links carry table_kind ``subheading``/``heading`` so a
user can tell them apart, and the split among several targets is trade-weighted in dbt as usual.
"""

from __future__ import annotations

import csv
import os
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path

import openpyxl
import xlrd

from ingest.reference import dbt_project_dir, read_seed, seed_path


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
VERSIONS = ("H0", "H1", "H2", "H3", "H4", "H5", "H6")
HS_YEARS = {"H0": "1992", "H1": "1996", "H2": "2002", "H3": "2007", "H4": "2012", "H5": "2017", "H6": "2022"}
LEGACY_MARK = "LEGACY NON-WCO CODE"  # Comtrade's national codes kept in H0-H2 lists
TABLE_KINDS = ("correlation", "conversion")  # rows of an official table; the others resolve gaps
GAP_KINDS = ("derived", "subheading", "heading")
GAP_COLUMNS = ("hs_version", "hs6", "next_version", "resolution", "n_successors", "successors", "source")

Link = dict[str, str]
Adjacency = dict[tuple[str, str], set[str]]


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


def conversion_links(
    shared: Path, tables: Iterable[tuple[str, str, str, str]] = CONVERSION_TABLES
) -> Iterator[Link]:
    """Links of one-to-one conversion tables (insongkim/concordance), by default those for HS1992/HS1996."""
    for table, newer, older, rel in tables:
        path = shared / "hs_reference" / rel
        with open(path, encoding="utf-8", newline="") as fh:
            for i, row in enumerate(csv.reader(fh)):
                if i == 0 or not any(row):  # header; the R export's trailing all-NA row (hs3_hs0.csv)
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


def _dedupe(rows: Iterable[Link]) -> list[Link]:
    seen: dict[tuple[str, str, str, str], Link] = {}
    for row in rows:
        key = (row["newer_version"], row["newer_hs6"], row["older_version"], row["older_hs6"])
        seen.setdefault(key, row)
    return [seen[k] for k in sorted(seen)]


def hs_codes() -> dict[str, dict[str, str]]:
    """HS version -> {HS6 code: Comtrade description}, from the hs6_codes seed (the official H0…H6 lists)."""
    out: dict[str, dict[str, str]] = {v: {} for v in VERSIONS}
    for row in read_seed("hs6_codes"):
        out[row["hs_version"]][row["hs6"]] = row["description"]
    return out


def adjacency(rows: Iterable[Link], codes: dict[str, dict[str, str]]) -> tuple[Adjacency, Adjacency]:
    """Forward ((older version, code) -> newer codes) and backward ((newer version, code) -> older codes)
    links between adjacent versions: the rows plus, as int_hs__concordance_steps does, a code present
    in both lists that the official table (TABLE_KINDS rows) does not mention, neither as newer nor as
    older code."""
    forward: Adjacency = {}
    backward: Adjacency = {}
    listed: dict[str, set[str]] = {v: set() for v in VERSIONS}
    for r in rows:
        forward.setdefault((r["older_version"], r["older_hs6"]), set()).add(r["newer_hs6"])
        backward.setdefault((r["newer_version"], r["newer_hs6"]), set()).add(r["older_hs6"])
        if r["table_kind"] in TABLE_KINDS:  # a gap link must not cancel its target's own unchanged link
            listed[r["newer_version"]].update((r["newer_hs6"], r["older_hs6"]))
    for older, newer in zip(VERSIONS, VERSIONS[1:], strict=False):
        for code in codes[newer].keys() & codes[older].keys() - listed[newer]:
            forward.setdefault((older, code), set()).add(code)
            backward.setdefault((newer, code), set()).add(code)
    return forward, backward


def _adjacent_table(newer: str) -> str:
    """The file (under hs_reference/) of the table linking ``newer`` to the version before it."""
    for _, table_newer, _, rel, sheet, _ in UNSD_TABLES:
        if table_newer == newer:
            return f"{rel} sheet {sheet}"
    return next(rel for _, table_newer, _, rel in CONVERSION_TABLES if table_newer == newer)


def _long_range(shared: Path, older: str, newer: str) -> tuple[str, dict[str, list[str]]]:
    """A conversion table newer→older two or more versions apart (insongkim/concordance hsN_hsK.csv):
    its file name and {older code: [newer codes converted to it]}."""
    rel = f"concordance_pkg_csv/hs{newer[1]}_hs{older[1]}.csv"
    path = shared / "hs_reference" / rel
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing: the gap resolution needs every hsN_hsK conversion table")
    out: dict[str, list[str]] = {}
    for link in conversion_links(
        shared, ((f"concordance_hs{HS_YEARS[newer]}_hs{HS_YEARS[older]}", newer, older, rel),)
    ):
        out.setdefault(link["older_hs6"], []).append(link["newer_hs6"])
    return rel, out


def _walk_back(backward: Adjacency, version: str, start: Iterable[str], until: str) -> set[str]:
    """Codes of version ``until`` reached from codes ``start`` of ``version`` through backward links."""
    current = set(start)
    for step in range(VERSIONS.index(version), VERSIONS.index(until), -1):
        current = set().union(*(backward.get((VERSIONS[step], c), set()) for c in current))
    return current


def _structural(code: str, newer_codes: dict[str, str]) -> tuple[str, list[str]]:
    """Rules 2–3: same one-dash subheading (two-dash codes only), else same heading; never a legacy code."""
    wco = [c for c, text in newer_codes.items() if LEGACY_MARK not in text]
    if code[5] != "0":
        same = sorted(c for c in wco if c[:5] == code[:5] and c[5] != "0")
        if same:
            return "subheading", same
    same = sorted(c for c in wco if c[:4] == code[:4])
    return ("heading", same) if same else ("none", [])


def resolve_gaps(
    shared: Path, rows: list[Link], codes: dict[str, dict[str, str]]
) -> tuple[list[Link], list[dict[str, str]]]:
    """Links for every code its adjacent table leaves without successor, and one gap row per such code
    (see the module docstring for the rules). Grain of the gap rows: HS version × HS6 code."""
    forward, backward = adjacency(rows, codes)
    links: list[Link] = []
    gaps: list[dict[str, str]] = []
    for older, newer in zip(VERSIONS, VERSIONS[1:], strict=False):
        missing = f"{_adjacent_table(newer)} gives no HS{HS_YEARS[newer]} successor"
        long_tables = [_long_range(shared, older, v) for v in VERSIONS[VERSIONS.index(newer) + 1 :]]
        for code in sorted(c for c in codes[older] if not forward.get((older, c))):
            resolution, targets, source = "none", [], missing
            for (rel, table), far in zip(long_tables, VERSIONS[VERSIONS.index(newer) + 1 :], strict=True):
                if code in table and (
                    found := _walk_back(backward, far, table[code], newer) & codes[newer].keys()
                ):
                    resolution, targets = "derived", sorted(found)
                    source = (
                        f"{missing}; {rel} converts HS{HS_YEARS[far]} {' '.join(sorted(table[code]))} to it"
                    )
                    kind_table = f"concordance_hs{HS_YEARS[far]}_hs{HS_YEARS[older]}"
                    break
            else:
                resolution, targets = _structural(code, codes[newer])
                kind_table = "hs6_codes"
                if targets:
                    source = f"{missing}; {resolution} {code[:5] if resolution == 'subheading' else code[:4]} of HS{HS_YEARS[newer]} (hs6_codes)"
            gaps.append(
                {
                    "hs_version": older,
                    "hs6": code,
                    "next_version": newer,
                    "resolution": resolution,
                    "n_successors": str(len(targets)),
                    "successors": " ".join(targets),
                    "source": source,
                }
            )
            links.extend(
                {
                    "newer_version": newer,
                    "newer_hs6": target,
                    "older_version": older,
                    "older_hs6": code,
                    "is_ex": "false",
                    "unsd_relationship": "",
                    "table_kind": resolution,
                    "source_table": kind_table,
                }
                for target in targets
            )
    return links, gaps


def build(shared: Path) -> tuple[list[Link], list[dict[str, str]]]:
    """The hs_concordance rows (table links plus gap links, deduplicated and sorted by version pair and
    codes) and the hs_deleted_codes rows (one per gap, sorted by version and code)."""
    table_rows = _dedupe((*conversion_links(shared), *unsd_links(shared)))
    links, gaps = resolve_gaps(shared, table_rows, hs_codes())
    return _dedupe((*table_rows, *links)), gaps


def concordance_rows(shared: Path) -> list[Link]:
    """All links of the hs_concordance seed (see ``build``)."""
    return build(shared)[0]


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
    """Regenerate hs_concordance.csv, hs_deleted_codes.csv and hs_headings.csv from the shared reference directory."""
    args = sys.argv[1:] if argv is None else argv
    shared = Path(args[0]) if args else DEFAULT_SHARED
    if not (shared / "hs_reference").is_dir():
        raise FileNotFoundError(f"no hs_reference/ under {shared}: pass the shared reference directory")
    rows, gaps = build(shared)
    print(f"{_write('hs_concordance', CONCORDANCE_COLUMNS, rows)}: {len(rows)} links")
    deleted = sum(g["resolution"] == "none" for g in gaps)
    print(f"{_write('hs_deleted_codes', GAP_COLUMNS, gaps)}: {len(gaps)} gaps, {deleted} without successor")
    headings = heading_rows(shared)
    print(f"{_write('hs_headings', ('hs_level', 'code', 'description'), headings)}: {len(headings)} rows")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
