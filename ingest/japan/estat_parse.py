"""Parse the landed e-Stat getStatsData pages of ONE fetch into ONE lake file of lake/japan/trade.

Same lake schema and grain as the CSV path (``ingest.japan.parse.LAKE_SCHEMA``): month × HS9 ×
country, values in thousand yen, both quantities with their units. All pages of a fetch (year ×
direction × scope) share one vintage (a digest of the pages' sha256), because staging keeps the
latest vintage per year × direction as a whole. Each lake row names the landed page of its value
cell (``source_file``) and the cell's 1-based position in that page's VALUE list (``source_row``).

A *line* is the cells of one HS9 × area, like one CSV row: lines in = lines kept + lines quarantined.
A line breaks the contract when a code is malformed, unknown or not requested, a cell repeats, a
number is not a non-negative number, or the year total (cat02 140) differs from the sum of the months.
A reported 0 is a row with value 0; a special character (the page's DATA_INF.NOTE marks, and "-", "…",
"***", "x") or a missing cell is absence (no row); months after the last month holding any non-zero
figure in the whole fetch are counted as not yet published (e-Stat fills them with 0), not as zero.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
from dataclasses import dataclass
from typing import Any

import polars as pl

from ingest import lake
from ingest.config import Paths
from ingest.japan.client import HS9_CODE
from ingest.japan.estat import AREA_PREFIX, EstatFormatError, read_result, time_code, values_of
from ingest.japan.parse import DATASET, LAKE_SCHEMA, SOURCE, known_countries, may_be_unpublished
from ingest.landing import LandedFile

UNIT_CODES = {"100": "unit1", "110": "unit2"}
YEAR_CODES = {"120": "quantity1", "130": "quantity2", "140": "value"}
MONTH_CODES: dict[str, tuple[int, str]] = {
    str(base + 30 * (m - 1)): (m, kind)
    for m in range(1, 13)
    for base, kind in ((150, "quantity1"), (160, "quantity2"), (170, "value"))
}
ABSENT = frozenset({"", "-", "－", "…", "...", "x", "X", "***", "*"})
_WHOLE = re.compile(r"^\d+$")
_NUMBER = re.compile(r"^\d+(?:\.\d+)?$")
_AREA = re.compile(rf"^{AREA_PREFIX}\d{{3}}$")


@dataclass(frozen=True)
class EstatParseResult(lake.ParseResult):
    """Counts for one fetch (``source_file`` = its first page). A row is a *line* (HS9 × area, the
    analogue of a CSV row): ``rows_in`` = ``lines_in`` etc."""

    vintage: str = ""
    pages: int = 0
    cells_in: int = 0
    long_rows: int = 0
    months_absent: int = 0  # months of kept lines with no figure at all (special characters / no cell)
    months_unpublished: int = 0  # months after the last month with any non-zero figure in the fetch
    published_through: int = 0  # that last month (0 = none)

    @property
    def lines_in(self) -> int:
        """Lines (HS9 × area) read from the pages."""
        return self.rows_in

    @property
    def lines_kept(self) -> int:
        """Lines kept (each gives up to 12 lake rows)."""
        return self.rows_kept

    @property
    def lines_quarantined(self) -> int:
        """Lines quarantined (one quarantine row each)."""
        return self.rows_quarantined


@dataclass
class _Line:
    hs9: str
    area: str
    cells: dict[str, tuple[str, LandedFile, int]]  # cat02 -> (raw "$", page, 1-based position)
    problem: str | None = None


def fetch_vintage(entries: list[LandedFile]) -> str:
    """One vintage for the pages of a fetch: sha256 of their sorted sha256s."""
    return hashlib.sha256("\n".join(sorted(e.sha256 for e in entries)).encode()).hexdigest()


def vintage_files(paths: Paths, year: int, direction: str, vintage: str) -> lake.VintageFiles:
    """lake/japan/trade/year=/direction=/vintage=<sha16>.parquet (the CSV path's partition) and its
    quarantine file."""
    return lake.vintage_files(paths, SOURCE, DATASET, _partition(year, direction), vintage)


def _partition(year: int, direction: str) -> str:
    return f"year={year}/direction={direction}"


def _requested(hs9: str, scope: tuple[str, ...]) -> bool:
    return not scope or any(hs9.startswith(code) for code in scope)


def _note_marks(body: dict[str, Any]) -> frozenset[str]:
    """The page's own special characters (DATA_INF.NOTE ``@char``: e-Stat's marks for no figure)."""
    data = body["GET_STATS_DATA"].get("STATISTICAL_DATA", {}).get("DATA_INF", {})
    notes = data.get("NOTE", []) if isinstance(data, dict) else []
    notes = [notes] if isinstance(notes, dict) else notes
    return frozenset(str(n["@char"]).strip() for n in notes if isinstance(n, dict) and "@char" in n)


def _lines(paths: Paths, entries: list[LandedFile], year: int) -> tuple[dict[tuple[str, str], _Line], int]:
    """Every line of the pages and the number of cells read; EstatFormatError for a page that is not
    a getStatsData document at all (a page landed here was already checked by the client)."""
    lines: dict[tuple[str, str], _Line] = {}
    cells_in = 0
    for entry in entries:
        try:
            body = json.loads(entry.absolute(paths).read_bytes())
            status, _ = read_result(body)
        except (ValueError, OSError) as exc:
            raise EstatFormatError(f"{entry.path}: not a readable getStatsData page: {exc}") from None
        if status != 0:
            continue
        marks = _note_marks(body)
        for pos, cell in enumerate(values_of(body), start=1):
            cells_in += 1
            key = (str(cell.get("@cat01", "")), str(cell.get("@area", "")))
            line = lines.setdefault(key, _Line(*key, cells={}))
            cat02, raw = str(cell.get("@cat02", "")), cell.get("$", "")
            if line.problem:
                continue
            if str(cell.get("@time", "")) != time_code(year):
                line.problem = f"@time {cell.get('@time')!r} is not the requested year {time_code(year)}"
            elif not isinstance(raw, str | int | float):
                line.problem = f"cat02 {cat02}: value {raw!r} is not a string or number"
            elif cat02 in line.cells:
                line.problem = f"cat02 {cat02} appears twice (positions {line.cells[cat02][2]} and {pos})"
            else:
                text = str(raw).strip()
                line.cells[cat02] = ("-" if text in marks and not _NUMBER.match(text) else text, entry, pos)
    return lines, cells_in


def _check(line: _Line, scope: tuple[str, ...], partners: tuple[str, ...]) -> str | None:
    """Why a line breaks the contract, or None."""
    if line.problem:
        return line.problem
    if not HS9_CODE.match(line.hs9):
        return "@cat01 is not a 9-digit statistical code"
    if not _requested(line.hs9, scope):
        return f"@cat01 was not requested (scope {','.join(scope)})"
    if not _AREA.match(line.area):
        return f"@area is not '{AREA_PREFIX}' + a 3-digit MOF country code"
    country = line.area[len(AREA_PREFIX) :]
    if country not in known_countries():
        return f"country {country} is not in the japan_customs_country_codes seed"
    if partners and country not in partners:
        return "@area was not requested"
    for cat02, (raw, _, _) in line.cells.items():
        if cat02 in UNIT_CODES:
            continue
        if cat02 not in YEAR_CODES and cat02 not in MONTH_CODES:
            return f"@cat02 {cat02!r} is not in the known 品別国別表 layout (units, year, 12 months)"
        kind = YEAR_CODES.get(cat02) or MONTH_CODES[cat02][1]
        if raw not in ABSENT and not (_WHOLE if kind == "value" else _NUMBER).match(raw):
            what = "whole number" if kind == "value" else "number"
            return f"@cat02 {cat02} ({kind}) {raw!r} is not a non-negative {what}"
    for m in range(1, 13):
        month = _month(line, m)
        if month["value"] is None and (month["quantity1"] or month["quantity2"]):
            return f"month {m}: quantity reported without a value"
    for cat02, kind in YEAR_CODES.items():
        total = _number(line, cat02)
        if total is not None:
            months = sum(_month(line, m)[kind] or 0 for m in range(1, 13))
            if abs(months - total) > 1e-6:
                return f"year {kind} (cat02 {cat02}) {total:g} is not the sum of the months ({months:g})"
    return None


def _number(line: _Line, cat02: str) -> float | None:
    cell = line.cells.get(cat02)
    return None if cell is None or cell[0] in ABSENT else float(cell[0])


def _month(line: _Line, m: int) -> dict[str, float | None]:
    base = 150 + 30 * (m - 1)
    return {
        "quantity1": _number(line, str(base)),
        "quantity2": _number(line, str(base + 10)),
        "value": _number(line, str(base + 20)),
    }


def _unit(line: _Line, cat02: str) -> str | None:
    cell = line.cells.get(cat02)
    return None if cell is None or cell[0] in ABSENT else cell[0]


def parse_fetch(
    paths: Paths,
    entries: list[LandedFile],
    *,
    year: int,
    direction: str,
    hs_scope: tuple[str, ...] = (),
    partners: tuple[str, ...] = (),
    force: bool = False,
) -> EstatParseResult:
    """The landed pages of one fetch → one lake file (+ a quarantine file when lines break the
    contract); idempotent per vintage. ``hs_scope``/``partners`` are what was requested (HS codes or
    prefixes, MOF 3-digit codes); a line outside them is quarantined, never kept."""
    vintage = fetch_vintage(entries)
    with lake.partition_lock(paths, SOURCE, DATASET, _partition(year, direction)):
        return _parse_fetch(paths, entries, vintage, year, direction, hs_scope, partners, force)


def _parse_fetch(
    paths: Paths,
    entries: list[LandedFile],
    vintage: str,
    year: int,
    direction: str,
    hs_scope: tuple[str, ...],
    partners: tuple[str, ...],
    force: bool,
) -> EstatParseResult:
    """``parse_fetch`` under the partition's write lock."""
    files = vintage_files(paths, year, direction, vintage)
    first = entries[0].path if entries else ""
    # already in the lake: counts read back (lines = distinct HS9 × country of the rows kept)
    done = lake.already_in_lake(files, force=force, kept=pl.struct("hs9", "country_code").n_unique())
    if done is not None:
        long_rows = pl.scan_parquet(files.lake_file).select(pl.len()).collect().item()
        qfile = files.quarantine_file if files.quarantine_file.exists() else None
        return EstatParseResult(
            first,
            sum(done),
            *done,
            files.lake_file,
            qfile,
            True,
            vintage=vintage,
            pages=len(entries),
            long_rows=long_rows,
        )
    lines, cells_in = _lines(paths, entries, year)
    good: list[_Line] = []
    bad: list[tuple[_Line, str]] = []
    for line in lines.values():
        reason = _check(line, hs_scope, partners)
        good.append(line) if reason is None else bad.append((line, reason))
    through = max(
        (m for line in good for m in range(1, 13) if any(v for v in _month(line, m).values())),
        default=0,
    )
    fetched_at = max((e.fetched_at for e in entries), default="")
    flow = "X" if direction == "export" else "M"
    rows: list[dict[str, Any]] = []
    absent = unpublished = 0
    for line in sorted(good, key=lambda x: (x.hs9, x.area)):
        for m in range(1, 13):
            month = _month(line, m)
            if month["value"] is None:
                absent += 1
                continue
            if m > through and may_be_unpublished(year, m, fetched_at):
                unpublished += 1
                continue
            _, page, pos = line.cells[str(170 + 30 * (m - 1))]
            rows.append(
                {
                    "period": f"{year}{m:02d}",
                    "ref_year": year,
                    "ref_month": m,
                    "direction": direction,
                    "flow_code": flow,
                    "custom": None,
                    "hs9": line.hs9,
                    "hs6": line.hs9[:6],
                    "country_code": line.area[len(AREA_PREFIX) :],
                    "unit1": _unit(line, "100"),
                    "unit2": _unit(line, "110"),
                    "quantity1": month["quantity1"],
                    "quantity2": month["quantity2"],
                    "value_thousand_jpy": int(month["value"]),
                    "release": "as_published",
                    "origin": page.origin,
                    "source_file": page.path,
                    "source_row": pos,
                    "vintage": vintage,
                    "fetched_at": fetched_at,
                }
            )
    kept = pl.DataFrame(rows, schema=LAKE_SCHEMA)
    bad_rows = [
        (
            min((c[2] for c in line.cells.values()), default=-1),
            f"@cat01 {line.hs9} @area {line.area}: {reason}",
            json.dumps({k: v[0] for k, v in sorted(line.cells.items())}, ensure_ascii=False),
            min(line.cells.values(), key=lambda c: c[2])[1].path if line.cells else entries[0].path,
        )
        for line, reason in bad
    ]
    # lineage of the fetch: its vintage, and the origin of its first page
    fetch = (
        dataclasses.replace(entries[0], source=SOURCE, dataset=DATASET, sha256=vintage) if entries else None
    )
    quarantined = (
        lake.quarantine_frame(bad_rows, fetch) if fetch else pl.DataFrame(schema=lake.QUARANTINE_SCHEMA)
    )
    qfile = lake.write_vintage(
        files, kept, quarantined, rows_in=len(lines), rows_kept=len(good), label=f"e-Stat {year} {direction}"
    )
    return EstatParseResult(
        first,
        len(lines),
        len(good),
        len(bad),
        files.lake_file,
        qfile,
        vintage=vintage,
        pages=len(entries),
        cells_in=cells_in,
        long_rows=kept.height,
        months_absent=absent,
        months_unpublished=unpublished,
        published_through=through,
    )
