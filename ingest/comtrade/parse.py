"""Parse landed UN Comtrade `get` responses into typed lake Parquet, with a quarantine for bad rows.

One landed file becomes one lake file (lake/comtrade/records/<partition>/vintage=<sha>.parquet) and,
when some rows break the record contract, one quarantine file with the reason and the raw row.
Rows in = rows kept + rows quarantined, checked for every file.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import polars as pl

from ingest import reference
from ingest.atomic import write_atomic
from ingest.comtrade.schema import (
    CMD_CODE,
    HS_VERSIONS,
    LAKE_SCHEMA,
    NON_NEGATIVE,
    QUARANTINE_SCHEMA,
    RECORD_FIELDS,
)
from ingest.config import Paths
from ingest.landing import LandedFile
from ingest.locks import locks_partition

SOURCE = "comtrade"
DATASET = "records"
KEY_FIELDS = (
    "freqCode",
    "period",
    "reporterCode",
    "partnerCode",
    "partner2Code",
    "flowCode",
    "classificationCode",
    "cmdCode",
    "customsCode",
    "motCode",
)


class ComtradeResponseError(ValueError):
    """A landed file is not a usable Comtrade response (not JSON, API error, truncated)."""


@dataclass(frozen=True)
class ParseResult:
    """Counts for one landed file."""

    source_file: str
    rows_in: int
    rows_kept: int
    rows_quarantined: int
    lake_file: Path | None
    quarantine_file: Path | None
    skipped: bool = False  # this vintage was already in the lake
    # Every lake file the landed file feeds: ``(lake_file,)`` for an API response; one per
    # freq/year/reporter partition for an imported file (which spans several).
    lake_files: tuple[Path, ...] = ()


@cache
def _flow_codes() -> frozenset[str]:
    return frozenset(r["flow_code"] for r in reference.read_seed("comtrade_flows"))


def _type_ok(value: Any, kind: str) -> bool:
    if kind == "int":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "num":
        return isinstance(value, int | float) and not isinstance(value, bool) and value == value
    if kind == "str":
        return isinstance(value, str)
    return isinstance(value, bool)


def validate_record(rec: Any) -> str | None:
    """Why ``rec`` breaks the Comtrade record contract, or None when it is valid."""
    if not isinstance(rec, dict):
        return f"record is a {type(rec).__name__}, not an object"
    missing = [f[0] for f in RECORD_FIELDS if f[0] not in rec]
    if missing:
        return f"missing field(s): {', '.join(missing)}"
    for api, _col, _dtype, kind, nullable in RECORD_FIELDS:
        value = rec[api]
        if value is None:
            if not nullable:
                return f"{api} is null"
            continue
        if not _type_ok(value, kind):
            return f"{api} has type {type(value).__name__}, expected {kind}: {value!r}"
    for api in NON_NEGATIVE:
        if rec[api] is not None and rec[api] < 0:
            return f"{api} is negative: {rec[api]!r}"
    freq, period, year = rec["freqCode"], rec["period"], rec["refYear"]
    if freq not in ("A", "M"):
        return f"freqCode {freq!r} is not A or M"
    if freq == "A" and (period != str(year) or rec["refMonth"] != 52):
        return f"annual period {period!r} does not match refYear {year} / refMonth {rec['refMonth']} (52 expected)"
    if freq == "M" and (
        len(period) != 6 or period != f"{year}{rec['refMonth']:02d}" or not 1 <= rec["refMonth"] <= 12
    ):
        return f"monthly period {period!r} does not match refYear {year} and refMonth {rec['refMonth']}"
    if rec["flowCode"] not in _flow_codes():
        return f"flowCode {rec['flowCode']!r} is not a Comtrade flow code"
    if rec["classificationCode"] not in HS_VERSIONS:
        return f"classificationCode {rec['classificationCode']!r} is not one of {', '.join(HS_VERSIONS)}"
    if not CMD_CODE.match(rec["cmdCode"]):
        return f"cmdCode {rec['cmdCode']!r} is not TOTAL or a 2/4/6-digit HS code"
    return None


def load_envelope(content: bytes, source_file: str) -> list[Any]:
    """The ``data`` array of a Comtrade response, after checking the envelope."""
    try:
        body = json.loads(content)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        head = content[:80].decode("utf-8", "replace")
        raise ComtradeResponseError(f"{source_file}: not JSON ({exc}); starts with {head!r}") from exc
    if not isinstance(body, dict) or "data" not in body:
        raise ComtradeResponseError(f"{source_file}: JSON without the Comtrade envelope (no 'data' field)")
    if body.get("error"):
        raise ComtradeResponseError(f"{source_file}: the API reported an error: {body['error']!r}")
    data = body["data"]
    if not isinstance(data, list):
        raise ComtradeResponseError(f"{source_file}: 'data' is a {type(data).__name__}, not a list")
    count = body.get("count")
    if isinstance(count, int) and count != len(data):
        raise ComtradeResponseError(
            f"{source_file}: envelope says count={count} but data holds {len(data)} rows (truncated?)"
        )
    return data


def split_records(data: list[Any]) -> tuple[list[tuple[int, dict[str, Any]]], list[tuple[int, str, Any]]]:
    """Valid records (with their position) and rejected ones (position, reason, raw)."""
    return split_positioned(enumerate(data))


def split_positioned(
    items: Iterable[tuple[int, Any]],
) -> tuple[list[tuple[int, dict[str, Any]]], list[tuple[int, str, Any]]]:
    """``split_records`` for records that carry their own position (e.g. the rows of an imported file
    that survived conversion): the record contract, then the duplicate-key rule across all of them."""
    good: list[tuple[int, dict[str, Any]]] = []
    bad: list[tuple[int, str, Any]] = []
    seen: dict[tuple[Any, ...], int] = {}
    for pos, rec in items:
        reason = validate_record(rec)
        if reason is None:
            key = tuple(rec[k] for k in KEY_FIELDS)
            if key in seen:
                reason = f"duplicate key of row {seen[key]} ({', '.join(f'{k}={v}' for k, v in zip(KEY_FIELDS, key, strict=True))})"
            else:
                seen[key] = pos
        if reason is None:
            good.append((pos, rec))
        else:
            bad.append((pos, reason, rec))
    return good, bad


def records_frame(good: list[tuple[int, dict[str, Any]]], entry: LandedFile) -> pl.DataFrame:
    """Typed lake rows for valid records, with lineage columns."""
    columns: dict[str, list[Any]] = {col: [rec[api] for _, rec in good] for api, col, *_ in RECORD_FIELDS}
    n = len(good)
    columns |= {
        "origin": [entry.origin] * n,
        "source_file": [entry.path] * n,
        "source_row": [pos for pos, _ in good],
        "vintage": [entry.sha256] * n,
        "fetched_at": [entry.fetched_at] * n,
    }
    return pl.DataFrame(columns, schema=LAKE_SCHEMA)


def quarantine_frame(bad: Iterable[tuple[int, str, Any]], entry: LandedFile) -> pl.DataFrame:
    """Rejected rows with source file, position, reason and raw content."""
    rows = [
        {
            "source": entry.source,
            "dataset": entry.dataset,
            "source_file": entry.path,
            "source_row": pos,
            "reason": reason,
            "raw": raw if isinstance(raw, str) else json.dumps(raw, ensure_ascii=False, sort_keys=True),
            "origin": entry.origin,
            "vintage": entry.sha256,
        }
        for pos, reason, raw in bad
    ]
    return pl.DataFrame(rows, schema=QUARANTINE_SCHEMA)


def lake_file_path(paths: Paths, partition: str, sha256: str) -> Path:
    """lake/comtrade/records/<partition>/vintage=<sha16>.parquet: one file per partition and vintage."""
    return paths.lake / SOURCE / DATASET / partition / f"vintage={sha256[:16]}.parquet"


def quarantine_file_path(paths: Paths, partition: str, sha256: str) -> Path:
    """lake/_quarantine/comtrade/records/<partition>/vintage=<sha16>.parquet."""
    return paths.quarantine / SOURCE / DATASET / partition / f"vintage={sha256[:16]}.parquet"


def lake_path(paths: Paths, entry: LandedFile) -> Path:
    return lake_file_path(paths, entry.partition, entry.sha256)


def quarantine_path(paths: Paths, entry: LandedFile) -> Path:
    return quarantine_file_path(paths, entry.partition, entry.sha256)


def write_parquet(df: pl.DataFrame, path: Path) -> Path:
    """Write ``df`` to ``path`` atomically (zstd, with statistics)."""
    return write_atomic(path, lambda tmp: df.write_parquet(tmp, compression="zstd", statistics=True))


@locks_partition(SOURCE, DATASET)
def parse_landed(paths: Paths, entry: LandedFile, *, force: bool = False) -> ParseResult:
    """Parse one landed response into the lake. Idempotent: a vintage already in the lake is skipped.

    A file that is not a usable response at all (not JSON, API error, truncated) is quarantined
    whole as one row with position -1, and an empty lake file marks it as processed. A file landed
    by ``semitrade import`` (origin 'imported'; ``params["format"]`` says which CSV format) is parsed
    by ``ingest.comtrade.imports.parse_import`` into the lake partitions its rows belong to.
    """
    if entry.origin == "imported":
        from ingest.comtrade import imports  # noqa: PLC0415 - imports builds on this module

        return imports.parse_import(paths, entry, force=force)
    out = lake_path(paths, entry)
    qpath = quarantine_path(paths, entry)
    if out.exists() and not force:
        kept = pl.scan_parquet(out).select(pl.len()).collect().item()
        quarantined = pl.scan_parquet(qpath).select(pl.len()).collect().item() if qpath.exists() else 0
        return ParseResult(
            entry.path,
            kept + quarantined,
            kept,
            quarantined,
            out,
            qpath if qpath.exists() else None,
            True,
            (out,),
        )
    content = entry.absolute(paths).read_bytes()
    try:
        data = load_envelope(content, entry.path)
        good, bad = split_records(data)
        rows_in = len(data)
    except ComtradeResponseError as exc:
        good, bad = [], [(-1, str(exc), content.decode("utf-8", "replace"))]
        rows_in = 1
    kept = records_frame(good, entry)
    quarantined = quarantine_frame(bad, entry)
    if kept.height + quarantined.height != rows_in:
        raise AssertionError(
            f"{entry.path}: rows in {rows_in} != kept {kept.height} + quarantined {quarantined.height}"
        )
    if quarantined.height:
        write_parquet(quarantined, qpath)
    elif qpath.exists():
        qpath.unlink()
    write_parquet(kept, out)
    return ParseResult(
        entry.path,
        rows_in,
        kept.height,
        quarantined.height,
        out,
        qpath if quarantined.height else None,
        lake_files=(out,),
    )
