"""Parse landed Korea Customs XML responses into typed lake Parquet, with a quarantine for bad rows.

One landed file becomes one lake file (lake/kcs/trade/<partition>/vintage=<sha>.parquet). The first
item (``year`` = "총계") is the total of the response: it is removed from the data and used as a
control — the sum of the items must equal it for every value and weight, else the whole file is
quarantined. Rows in (items without the total) = rows kept + rows quarantined, checked per file.
Grain of a lake row: month × partner (ISO2) × HSK10 code, exports and imports side by side; values
in US dollars (exports FOB, imports CIF), weights in kg.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from typing import Any

import polars as pl

from ingest import lake, reference
from ingest.config import Paths
from ingest.kcs.client import DATASET, SOURCE, TOTAL_LABEL
from ingest.landing import LandedFile

VALUE_FIELDS = ("expWgt", "expDlr", "impWgt", "impDlr", "balPayments")
TEXT_FIELDS = ("year", "statCd", "statCdCntnKor1", "statKor", "hsCd")

LAKE_SCHEMA = pl.Schema(
    {
        "period": pl.String(),  # YYYYMM
        "ref_year": pl.Int32(),
        "ref_month": pl.Int32(),
        "stat_cd": pl.String(),  # partner ISO2 as sent (statCd)
        "partner_name_kor": pl.String(),  # statCdCntnKor1
        "hsk10": pl.String(),  # Korea's 10-digit HSK code (hsCd)
        "hs6": pl.String(),  # first six digits of hsk10
        "item_name_kor": pl.String(),  # statKor
        "exp_wgt_kg": pl.Float64(),
        "exp_usd": pl.Float64(),  # FOB
        "imp_wgt_kg": pl.Float64(),
        "imp_usd": pl.Float64(),  # CIF
        "bal_payments_usd": pl.Float64(),
        "query_start": pl.String(),
        "query_end": pl.String(),
        "query_hs": pl.String(),
        "query_country": pl.String(),
    }
    # source_row: position of the item in the response (0 = the total row)
    | lake.LINEAGE_SCHEMA
)


class KcsResponseError(ValueError):
    """A landed file is not a usable Korea Customs response (not XML, error code, no total row)."""


@dataclass(frozen=True)
class ParseResult(lake.ParseResult):
    """Counts for one landed file; ``control_ok`` is false when the items did not add up to the
    total row (or the file was unusable) and every item was quarantined."""

    control_ok: bool = True


def load_items(content: bytes, source_file: str) -> tuple[dict[str, str], list[dict[str, str]]]:
    """The total row and the other items of a response, after checking the envelope."""
    try:
        root = ET.fromstring(content)
    except ET.ParseError as exc:
        head = content[:80].decode("utf-8", "replace")
        raise KcsResponseError(f"{source_file}: not XML ({exc}); starts with {head!r}") from None
    code = (root.findtext("header/resultCode") or "").strip()
    if root.tag != "response" or code not in ("00", "0", "000", "03"):
        raise KcsResponseError(
            f"{source_file}: not a successful Korea Customs response (root <{root.tag}>, resultCode {code!r})"
        )
    items = [
        {child.tag: (child.text or "").strip() for child in item} for item in root.findall("body/items/item")
    ]
    if not items:
        return {}, []
    if items[0].get("year") != TOTAL_LABEL:
        raise KcsResponseError(
            f"{source_file}: the first item is not the {TOTAL_LABEL} total row; cannot check the control total"
        )
    return items[0], items[1:]


def _number(raw: str | None) -> float | None:
    if raw is None or raw == "":
        return None
    try:
        value = float(raw.replace(",", ""))
    except ValueError:
        return None
    return value if value == value else None


_PERIOD = re.compile(r"^(\d{4})\.(0[1-9]|1[0-2])$")
_HSK10 = re.compile(r"^\d{10}$")


def validate_item(item: dict[str, str], query: dict[str, Any]) -> str | None:
    """Why ``item`` breaks the contract, or None."""
    missing = [f for f in (*TEXT_FIELDS, *VALUE_FIELDS) if f not in item]
    if missing:
        return f"missing field(s): {', '.join(missing)}"
    m = _PERIOD.match(item["year"])
    if not m:
        return f"year {item['year']!r} is not YYYY.MM"
    period = m.group(1) + m.group(2)
    start, end = query.get("strtYymm"), query.get("endYymm")
    if start and end and not start <= period <= end:
        return f"period {period} is outside the requested {start}-{end}"
    if item["statCd"] not in reference.seed_codes("kcs_country_codes", "iso2"):
        return f"statCd {item['statCd']!r} is not in the kcs_country_codes seed"
    if not _HSK10.match(item["hsCd"]):
        return f"hsCd {item['hsCd']!r} is not a 10-digit HSK code"
    hs = query.get("hsSgn")
    if hs and not item["hsCd"].startswith(hs):
        return f"hsCd {item['hsCd']} does not belong to the requested hsSgn {hs}"
    for f in VALUE_FIELDS:
        value = _number(item[f])
        if value is None:
            return f"{f} {item[f]!r} is not a number"
        if value < 0 and f != "balPayments":
            return f"{f} is negative: {item[f]!r}"
    return None


def control_mismatch(total: dict[str, str], items: list[dict[str, str]]) -> str | None:
    """Compare the sum of the items with the total row for every value and weight field."""
    for f in ("expWgt", "expDlr", "impWgt", "impDlr"):
        want = _number(total.get(f))
        values = [_number(i.get(f)) for i in items]
        if want is None or any(v is None for v in values):
            return f"control total for {f} cannot be checked (non-numeric total or item)"
        got = sum(v for v in values if v is not None)
        if abs(got - want) > 0.5:
            return f"control total mismatch: sum of items {f} = {got:,.0f} but the {TOTAL_LABEL} row says {want:,.0f}"
    return None


def _frame(good: list[tuple[int, dict[str, str]]], entry: LandedFile) -> pl.DataFrame:
    q = entry.params
    rows = []
    for pos, item in good:
        year, month = item["year"].split(".")
        rows.append(
            {
                "period": year + month,
                "ref_year": int(year),
                "ref_month": int(month),
                "stat_cd": item["statCd"],
                "partner_name_kor": item["statCdCntnKor1"],
                "hsk10": item["hsCd"],
                "hs6": item["hsCd"][:6],
                "item_name_kor": item["statKor"],
                "exp_wgt_kg": _number(item["expWgt"]),
                "exp_usd": _number(item["expDlr"]),
                "imp_wgt_kg": _number(item["impWgt"]),
                "imp_usd": _number(item["impDlr"]),
                "bal_payments_usd": _number(item["balPayments"]),
                "query_start": q.get("strtYymm"),
                "query_end": q.get("endYymm"),
                "query_hs": q.get("hsSgn"),
                "query_country": q.get("cntyCd"),
                "origin": entry.origin,
                "source_file": entry.path,
                "source_row": pos,
                "vintage": entry.sha256,
                "fetched_at": entry.fetched_at,
            }
        )
    return pl.DataFrame(rows, schema=LAKE_SCHEMA)


def split_items(items: list[dict[str, str]], params: dict[str, Any]) -> tuple[list[Any], list[Any]]:
    """Valid items with their position (1-based: 0 is the total row), and rejected ones (position,
    reason, item): the item contract, then the duplicate rule (year × statCd × hsCd)."""
    return lake.split_valid(
        enumerate(items, start=1),
        lambda item: validate_item(item, params),
        lambda item: (item["year"], item["statCd"], item["hsCd"]),
        lambda first, key: f"duplicate of item {first} (year={key[0]}, statCd={key[1]}, hsCd={key[2]})",
    )


@lake.locks_partition(SOURCE, DATASET)
def parse_landed(paths: Paths, entry: LandedFile, *, force: bool = False) -> ParseResult:
    """Parse one landed response into the lake (idempotent per vintage); see the module docstring."""
    files = lake.vintage_files(paths, SOURCE, DATASET, entry.partition, entry.sha256)
    done = lake.already_in_lake(files, force=force)
    if done is not None:
        qfile = files.quarantine_file if files.quarantine_file.exists() else None
        return ParseResult(entry.path, sum(done), *done, files.lake_file, qfile, True)
    content = entry.absolute(paths).read_bytes()
    control_ok = True
    try:
        total, items = load_items(content, entry.path)
        rows_in = len(items)
        mismatch = control_mismatch(total, items) if items else None
        if mismatch:
            control_ok = False
            good, bad = [], [(pos, mismatch, item) for pos, item in enumerate(items, start=1)]
        else:
            good, bad = split_items(items, entry.params)
    except KcsResponseError as exc:
        control_ok = False
        good, bad, rows_in = [], [(-1, str(exc), content.decode("utf-8", "replace"))], 1
    kept = _frame(good, entry)
    qfile = lake.write_vintage(
        files, kept, lake.quarantine_frame(bad, entry), rows_in=rows_in, label=entry.path
    )
    return ParseResult(
        entry.path, rows_in, kept.height, rows_in - kept.height, files.lake_file, qfile, control_ok=control_ok
    )
