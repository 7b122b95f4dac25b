"""The Comtrade CSV formats ``semitrade import`` reads: detect the format from the header, and
convert every row to a record with the 47 API field names (landing and the lake: ``imports``).

Formats (detected from the header line):
- ``comtrade_legacy_csv``: the 35-column download of the pre-2023 comtrade.un.org site and API
  (``Classification,Year,Period,...,Flag``): legacy flow codes 1-4, legacy quantity unit codes,
  ``Flag`` 0/2/4/6, commodity codes that may have lost their leading zeros.
- ``comtrade_legacy_json_csv``: the legacy JSON API's records saved as CSV (``pfCode,yr,period,...,
  estCode``; R ``write.csv`` adds a nameless row-index column and writes ``NA``); same fields as above.
- ``comtrade_csv``: a current Comtrade CSV download, the 47 API field names (``typeCode ... isAggregate``).

A row that cannot be converted (wrong number of cells, a non-numeric value, an unknown legacy code)
is returned as a failure with the reason; the caller quarantines it. See docs/import.md.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Any

from ingest import reference
from ingest.comtrade.schema import API_FIELDS, RECORD_FIELDS

LEGACY = "comtrade_legacy_csv"
LEGACY_JSON = "comtrade_legacy_json_csv"
CURRENT = "comtrade_csv"
FORMATS: tuple[str, ...] = (LEGACY, LEGACY_JSON, CURRENT)

LEGACY_HEADER: tuple[str, ...] = (
    "Classification", "Year", "Period", "Period Desc.", "Aggregate Level", "Is Leaf Code", "Trade Flow Code",
    "Trade Flow", "Reporter Code", "Reporter", "Reporter ISO", "Partner Code", "Partner", "Partner ISO",
    "2nd Partner Code", "2nd Partner", "2nd Partner ISO", "Customs Proc. Code", "Customs",
    "Mode of Transport Code", "Mode of Transport", "Commodity Code", "Commodity", "Qty Unit Code", "Qty Unit",
    "Qty", "Alt Qty Unit Code", "Alt Qty Unit", "Alt Qty", "Netweight (kg)", "Gross weight (kg)",
    "Trade Value (US$)", "CIF Trade Value (US$)", "FOB Trade Value (US$)", "Flag",
)  # fmt: skip
# The legacy JSON API's names of the same 35 fields (its column order differs: matched by name).
LEGACY_JSON_NAMES: dict[str, str] = dict(
    zip(
        (
            "pfCode", "yr", "period", "periodDesc", "aggrLevel", "IsLeaf", "rgCode", "rgDesc", "rtCode", "rtTitle",
            "rt3ISO", "ptCode", "ptTitle", "pt3ISO", "ptCode2", "ptTitle2", "pt3ISO2", "cstCode", "cstDesc",
            "motCode", "motDesc", "cmdCode", "cmdDescE", "qtCode", "qtDesc", "TradeQuantity", "qtAltCode",
            "qtAltDesc", "AltQuantity", "NetWeight", "GrossWeight", "TradeValue", "CIFValue", "FOBValue", "estCode",
        ),
        LEGACY_HEADER,
        strict=True,
    )
)  # fmt: skip
LEGACY_FLOWS = {"1": "M", "2": "X", "3": "RX", "4": "RM"}  # Trade Flow Code -> flowCode
LEGACY_FLAGS = {"0": (False, False), "2": (True, False), "4": (False, True), "6": (True, True)}
_PERIOD_DATE = re.compile(r"^(\d{4})-(\d{2})-\d{2}$")  # a period R turned into a date (2017-01-01)
_LINE_BREAK = re.compile(r"\r\n|\r|\n")


class ImportFormatError(ValueError):
    """A file is not one of the Comtrade CSV formats ``semitrade import`` reads (or not readable)."""


class _RowError(ValueError):
    """One row cannot be converted to a record; the message says which cell and why."""


@dataclass(frozen=True)
class ConvertedFile:
    """A file's rows as records (position, record) and the rows that failed conversion."""

    fmt: str
    rows_in: int
    records: list[tuple[int, dict[str, Any]]]
    failures: list[tuple[int, str]]
    lines: dict[int, int]  # position -> first line number of the row in the file (1 = header)
    raw: dict[int, str]  # position -> the row as written in the file


def decode(content: bytes, name: str) -> str:
    """The file's text: UTF-8 (with or without BOM), else Latin-1 (what R and Excel often write)."""
    if b"\x00" in content[:4096]:
        raise ImportFormatError(f"{name}: binary file (NUL bytes), not a CSV text file")
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError:
        return content.decode("latin-1")


_FORMAT_NAMES: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    (LEGACY, "a legacy Comtrade CSV (35 columns Classification,Year,Period,...,Flag)", LEGACY_HEADER),
    (
        LEGACY_JSON,
        "the legacy Comtrade JSON API's records (pfCode,yr,period,...,estCode)",
        tuple(LEGACY_JSON_NAMES),
    ),
    (CURRENT, "a current Comtrade CSV (the 47 API fields typeCode,...,isAggregate)", API_FIELDS),
)


def detect_format(header: list[str], name: str) -> str:
    """Which import format ``header`` (the first line's cells) belongs to; ImportFormatError if none.
    Columns are matched by name (any order), each exactly once."""
    cells = [h.strip() for h in header]
    if cells and cells[0] == "":  # a nameless row-index column (R write.csv, pandas to_csv)
        cells = cells[1:]
    for fmt, _desc, names in _FORMAT_NAMES:
        if len(cells) == len(names) and set(cells) == set(names):
            return fmt
    _fmt, desc, names = max(_FORMAT_NAMES, key=lambda f: len(set(cells) & set(f[2])))
    if not set(cells) & set(names):
        shown = ",".join(cells[:6]) + (",..." if len(cells) > 6 else "")
        raise ImportFormatError(
            f"{name}: line 1: unsupported format: the header {shown!r} is not that of "
            + "; nor ".join(d for _f, d, _n in _FORMAT_NAMES)
        )
    missing = [n for n in names if n not in cells]
    extra = sorted({c for c in cells if c not in names})
    repeated = sorted({c for c in cells if cells.count(c) > 1})
    problems = [
        f"missing {', '.join(missing)}" if missing else "",
        f"unexpected {', '.join(extra)}" if extra else "",
        f"repeated {', '.join(repeated)}" if repeated else "",
    ]
    raise ImportFormatError(
        f"{name}: line 1: the header looks like {desc} but {'; '.join(p for p in problems if p)}"
    )


def read_csv(content: bytes, name: str) -> tuple[str, list[str], list[tuple[int, list[str], str]]]:
    """Format, header and data rows ``(first line number, cells, raw text)`` of a CSV file; blank lines skipped."""
    text = decode(content, name)
    if not text.strip():
        raise ImportFormatError(f"{name}: empty file (no header line)")
    lines = _LINE_BREAK.split(text)
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(reader)
        fmt = detect_format(header, name)
        rows: list[tuple[int, list[str], str]] = []
        start = reader.line_num + 1
        for cells in reader:
            end = reader.line_num
            if any(c.strip() for c in cells):
                rows.append((start, cells, "\n".join(lines[start - 1 : end])))
            start = end + 1
    except csv.Error as exc:
        raise ImportFormatError(f"{name}: line {reader.line_num}: not readable as CSV ({exc})") from None
    return fmt, header, rows


def convert(content: bytes, name: str) -> ConvertedFile:
    """Every data row of an import file converted to a record with the API field names (or a failure)."""
    fmt, header, rows = read_csv(content, name)
    names = [h.strip() for h in header]
    offset = 1 if names[0] == "" else 0
    if fmt == LEGACY_JSON:  # same fields as the legacy CSV, under their JSON names
        names = [LEGACY_JSON_NAMES.get(n, n) for n in names]
    to_record: Callable[[dict[str, str]], dict[str, Any]] = (
        _current_record if fmt == CURRENT else _legacy_record
    )
    records: list[tuple[int, dict[str, Any]]] = []
    failures: list[tuple[int, str]] = []
    for pos, (_line, cells, _raw) in enumerate(rows):
        if len(cells) != len(names):
            kind = "truncated row?" if len(cells) < len(names) else "an unquoted comma?"
            failures.append((pos, f"{len(cells)} cells, {len(names)} expected ({kind})"))
            continue
        row = {n: c.strip() for n, c in zip(names[offset:], cells[offset:], strict=True)}
        if fmt == LEGACY_JSON:
            row = {k: "" if v == "NA" else v for k, v in row.items()}
        try:
            records.append((pos, to_record(row)))
        except _RowError as exc:
            failures.append((pos, str(exc)))
    lines = {pos: line for pos, (line, _c, _r) in enumerate(rows)}
    raw = {pos: text for pos, (_l, _c, text) in enumerate(rows)}
    return ConvertedFile(fmt, len(rows), records, failures, lines, raw)


# -- cells -------------------------------------------------------------------------------------------
def _int(row: dict[str, str], col: str) -> int | None:
    cell = row[col]
    if cell == "":
        return None
    try:
        return int(cell)
    except ValueError:
        try:
            value = float(cell)
        except ValueError:
            raise _RowError(f"{col} {cell!r} is not a whole number") from None
        if not value.is_integer():
            raise _RowError(f"{col} {cell!r} is not a whole number") from None
        return int(value)


def _num(row: dict[str, str], col: str) -> float | None:
    cell = row[col]
    if cell == "":
        return None
    try:
        value = float(cell)
    except ValueError:
        raise _RowError(f"{col} {cell!r} is not a number") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise _RowError(f"{col} {cell!r} is not a finite number")
    return value


def _bool(row: dict[str, str], col: str) -> bool | None:
    cell = row[col].lower()
    if cell == "":
        return None
    if cell in ("true", "1"):
        return True
    if cell in ("false", "0"):
        return False
    raise _RowError(f"{col} {row[col]!r} is not true/false")


def _str(row: dict[str, str], col: str) -> str | None:
    return row[col] or None


# -- current format ------------------------------------------------------------------------------
_CURRENT_CELL = {"int": _int, "num": _num, "bool": _bool, "str": _str}


def _current_record(row: dict[str, str]) -> dict[str, Any]:
    """A current Comtrade CSV row: the 47 API fields, typed as the JSON API types them."""
    return {api: _CURRENT_CELL[kind](row, api) for api, _col, _dtype, kind, _null in RECORD_FIELDS}


# -- legacy format -------------------------------------------------------------------------------
@cache
def legacy_qty_units() -> dict[int, int]:
    """Legacy Comtrade quantity unit code -> current qtyUnitCode (seed comtrade_legacy_qty_units)."""
    return {
        int(r["legacy_qty_unit_code"]): int(r["qty_unit_code"])
        for r in reference.read_seed("comtrade_legacy_qty_units")
    }


@cache
def _qty_abbr() -> dict[int, str]:
    return {int(r["qty_unit_code"]): r["qty_unit_abbr"] for r in reference.read_seed("comtrade_qty_units")}


@cache
def _flow_desc() -> dict[str, str]:
    return {r["flow_code"]: r["flow_desc"] for r in reference.read_seed("comtrade_flows")}


def _unit(row: dict[str, str], col: str) -> tuple[int | None, str | None]:
    legacy = _int(row, col)
    if legacy is None:
        return None, None
    current = legacy_qty_units().get(legacy)
    if current is None:
        known = ", ".join(str(c) for c in sorted(legacy_qty_units()))
        raise _RowError(f"{col} {row[col]!r} is not a legacy quantity unit code ({known})")
    return current, _qty_abbr().get(current)


def _period(row: dict[str, str]) -> tuple[str, str, int, int]:
    """(freqCode, period, refYear, refMonth) of a legacy row; refMonth 52 for annual data."""
    period, year_cell = row["Period"], row["Year"]
    dated = _PERIOD_DATE.match(period)
    if dated:  # R wrote the period as a date: annual when Period Desc. is the bare year
        y, m = dated.groups()
        period = y if row["Period Desc."] == y else f"{y}{m}"
    if re.fullmatch(r"\d{4}", period):
        freq, year, month = "A", int(period), 52
    elif re.fullmatch(r"\d{6}", period) and 1 <= int(period[4:]) <= 12:
        freq, year, month = "M", int(period[:4]), int(period[4:])
    else:
        raise _RowError(f"Period {row['Period']!r} is neither YYYY (annual) nor YYYYMM (monthly)")
    if year_cell and year_cell != str(year):
        raise _RowError(f"Year {year_cell!r} does not match Period {row['Period']!r}")
    return freq, period, year, month


def _cmd_code(row: dict[str, str], level: int | None) -> str:
    """The commodity code with the leading zeros the legacy files dropped ("10121" at level 6 = "010121")."""
    code = row["Commodity Code"]
    if code.isdigit() and level in (2, 4, 6) and len(code) < level:
        return code.zfill(level)
    return code


@cache
def _current_areas() -> tuple[frozenset[int], dict[str, int]]:
    """Comtrade's current area codes, and ISO3 → code for the ISO3 codes exactly one area carries."""
    rows = reference.read_seed("comtrade_countries")
    by_iso: dict[str, list[int]] = {}
    for r in rows:
        if r["iso3"] and r["is_group"] != "true":
            by_iso.setdefault(r["iso3"], []).append(int(r["m49_code"]))
    return frozenset(int(r["m49_code"]) for r in rows), {k: v[0] for k, v in by_iso.items() if len(v) == 1}


def _area(row: dict[str, str], code_col: str, iso_col: str) -> int | None:
    """An area code of a legacy file in today's Comtrade list: legacy downloads use some retired codes
    (Italy 381, today 380); a code the current list lacks is mapped through the row's ISO3 code when
    exactly one current area carries it, else kept as it is (the quality gate then names it)."""
    code = _int(row, code_col)
    known, by_iso = _current_areas()
    if code is None or code in known:
        return code
    return by_iso.get(row.get(iso_col, "").strip(), code)


def _legacy_record(row: dict[str, str]) -> dict[str, Any]:
    """A legacy row (35 legacy columns) as a record with the 47 API fields (docs/import.md: the mapping)."""
    freq, period, year, month = _period(row)
    flow = LEGACY_FLOWS.get(row["Trade Flow Code"])
    if flow is None:
        raise _RowError(
            f"Trade Flow Code {row['Trade Flow Code']!r} is not a legacy flow code "
            "(1 import, 2 export, 3 re-export, 4 re-import)"
        )
    flag = row["Flag"]
    if flag and flag not in LEGACY_FLAGS:
        raise _RowError(f"Flag {flag!r} is not a legacy estimation flag (0, 2, 4 or 6)")
    qty_estimated, wgt_estimated = LEGACY_FLAGS[flag] if flag else (None, None)
    level = _int(row, "Aggregate Level")
    qty_unit, qty_abbr = _unit(row, "Qty Unit Code")
    alt_unit, alt_abbr = _unit(row, "Alt Qty Unit Code")
    partner = _area(row, "Partner Code", "Partner ISO")
    partner2 = _area(row, "2nd Partner Code", "2nd Partner ISO")
    return {
        "typeCode": "C",
        "freqCode": freq,
        "refPeriodId": int(f"{year}{1 if month == 52 else month:02d}01"),
        "refYear": year,
        "refMonth": month,
        "period": period,
        "reporterCode": _area(row, "Reporter Code", "Reporter ISO"),
        "reporterISO": _str(row, "Reporter ISO"),
        "reporterDesc": _str(row, "Reporter"),
        "flowCode": flow,
        "flowDesc": _flow_desc().get(flow),
        "partnerCode": partner,
        "partnerISO": _str(row, "Partner ISO"),
        "partnerDesc": _str(row, "Partner"),
        "partner2Code": 0 if partner2 is None else partner2,  # blank: no second partner = the API's 0 (World)
        "partner2ISO": _str(row, "2nd Partner ISO"),
        "partner2Desc": _str(row, "2nd Partner"),
        "classificationCode": row["Classification"],
        "classificationSearchCode": None,
        "isOriginalClassification": None,
        "cmdCode": _cmd_code(row, level),
        "cmdDesc": _str(row, "Commodity"),
        "aggrLevel": level,
        "isLeaf": _bool(row, "Is Leaf Code"),
        "customsCode": row["Customs Proc. Code"] or "C00",  # blank: all procedures, the API's C00
        "customsDesc": _str(row, "Customs"),
        "mosCode": "0",
        "motCode": _int(row, "Mode of Transport Code") or 0,  # blank: all modes, the API's 0
        "motDesc": _str(row, "Mode of Transport"),
        "qtyUnitCode": qty_unit,
        "qtyUnitAbbr": qty_abbr,
        "qty": _num(row, "Qty"),
        "isQtyEstimated": qty_estimated,
        "altQtyUnitCode": alt_unit,
        "altQtyUnitAbbr": alt_abbr,
        "altQty": _num(row, "Alt Qty"),
        "isAltQtyEstimated": None,
        "netWgt": _num(row, "Netweight (kg)"),
        "isNetWgtEstimated": wgt_estimated,
        "grossWgt": _num(row, "Gross weight (kg)"),
        "isGrossWgtEstimated": None,
        "cifvalue": _num(row, "CIF Trade Value (US$)"),
        "fobvalue": _num(row, "FOB Trade Value (US$)"),
        "primaryValue": _num(row, "Trade Value (US$)"),
        "legacyEstimationFlag": int(flag) if flag else None,
        "isReported": None,
        "isAggregate": partner == 0,  # partner World, as the API and the sample flag it
    }
