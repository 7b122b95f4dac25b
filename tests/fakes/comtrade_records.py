"""Comtrade API records for tests: made-up records for the fake service to hold (``make_record``,
``make_dataset``) and the comparable rows of what the service holds against what reached the lake
(``server_rows``, ``lake_rows``)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any


def make_record(
    reporter: int,
    partner: int,
    period: str,
    cmd: str,
    flow: str,
    value: float,
    *,
    partner2: int = 0,
    mot: int = 0,
    customs: str = "C00",
) -> dict[str, Any]:
    """One Comtrade record with all 47 fields in the real order and JSON types."""
    annual = len(period) == 4
    year, month = int(period[:4]), (52 if annual else int(period[4:]))
    return {
        "typeCode": "C",
        "freqCode": "A" if annual else "M",
        "refPeriodId": int(f"{year}0101") if annual else int(f"{period}01"),
        "refYear": year,
        "refMonth": month,
        "period": period,
        "reporterCode": reporter,
        "reporterISO": f"R{reporter}",
        "reporterDesc": f"Reporter {reporter}",
        "flowCode": flow,
        "flowDesc": {"M": "Import", "X": "Export"}.get(flow, flow),
        "partnerCode": partner,
        "partnerISO": "W00" if partner == 0 else f"P{partner}",
        "partnerDesc": "World" if partner == 0 else f"Partner {partner}",
        "partner2Code": partner2,
        "partner2ISO": "W00" if partner2 == 0 else f"P{partner2}",
        "partner2Desc": "World" if partner2 == 0 else f"Partner {partner2}",
        "classificationCode": "H5",
        "classificationSearchCode": "HS",
        "isOriginalClassification": True,
        "cmdCode": cmd,
        "cmdDesc": f"HS {cmd}",
        "aggrLevel": 6,
        "isLeaf": True,
        "customsCode": customs,
        "customsDesc": "TOTAL CPC" if customs == "C00" else customs,
        "mosCode": "0",
        "motCode": mot,
        "motDesc": "TOTAL MOT" if mot == 0 else f"MOT {mot}",
        "qtyUnitCode": 8,
        "qtyUnitAbbr": "kg",
        "qty": round(value / 10, 2),
        "isQtyEstimated": False,
        "altQtyUnitCode": 8,
        "altQtyUnitAbbr": "kg",
        "altQty": round(value / 10, 2),
        "isAltQtyEstimated": False,
        "netWgt": round(value / 10, 2),
        "isNetWgtEstimated": False,
        "grossWgt": None,
        "isGrossWgtEstimated": False,
        "cifvalue": value if flow == "M" else None,
        "fobvalue": value if flow == "X" else None,
        "primaryValue": value,
        "legacyEstimationFlag": 0,
        "isReported": True,
        "isAggregate": partner == 0,
    }


def make_dataset(
    reporters: Iterable[int],
    partners: Iterable[int],
    periods: Iterable[str],
    cmds: Iterable[str],
    flows: Iterable[str] = ("M", "X"),
    *,
    breakdowns: bool = True,
) -> list[dict[str, Any]]:
    """Records for every combination, plus (``breakdowns``) the partner2 / mode of transport /
    customs breakdown rows that double count when a client forgets the totals."""
    out = []
    for r in reporters:
        for p in partners:
            for per in periods:
                for c in cmds:
                    for f in flows:
                        seed = hashlib.sha256(f"{r}{p}{per}{c}{f}".encode()).digest()
                        value = float(1000 + int.from_bytes(seed[:3], "big"))
                        out.append(make_record(r, p, per, c, f, value))
                        if breakdowns:
                            out.append(make_record(r, p, per, c, f, value / 2, mot=2100))
                            out.append(make_record(r, p, per, c, f, value / 3, customs="C01"))
                            out.append(make_record(r, p, per, c, f, value / 4, partner2=156))
    return out


ROW_FIELDS = (
    "reporterCode",
    "partnerCode",
    "partner2Code",
    "period",
    "cmdCode",
    "flowCode",
    "customsCode",
    "motCode",
    "primaryValue",
)


def server_rows(records: Iterable[dict[str, Any]]) -> list[tuple[Any, ...]]:
    """Sorted comparable tuples of records as the server holds them."""
    return sorted(tuple(r[f] for f in ROW_FIELDS) for r in records)


def lake_rows(lake: Path, *, latest_only: bool = False) -> list[tuple[Any, ...]]:
    """Sorted comparable tuples of every row in lake/comtrade/records (``latest_only``: per key, the
    row from the most recently fetched vintage, as staging exposes it)."""
    import polars as pl

    from ingest.comtrade.schema import RENAME

    root = lake / "comtrade" / "records"
    if not any(root.rglob("*.parquet")):
        return []
    cols = [RENAME[f] for f in ROW_FIELDS]
    df = pl.scan_parquet(root / "**" / "*.parquet").collect()
    if latest_only:
        # fetched_at has one-second resolution, so landing order (the manifest) breaks ties.
        manifest = lake.parent / "landing" / "_manifest.jsonl"
        order = {json.loads(line)["path"]: n for n, line in enumerate(manifest.read_text().splitlines())}
        df = df.with_columns(pl.col("source_file").replace_strict(order, default=-1).alias("__order"))
        keys = [c for c in cols if c != "primary_value"]
        df = df.sort(["fetched_at", "__order"]).group_by(keys, maintain_order=True).last()
    return sorted(df.select(cols).iter_rows())
