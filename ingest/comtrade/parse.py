"""Parse landed UN Comtrade `get` responses into typed lake Parquet, with a quarantine for bad rows.

One landed file becomes one lake file (lake/comtrade/records/<partition>/vintage=<sha>.parquet) and,
when some rows break the record contract, one quarantine file with the reason and the raw row.
Rows in = rows kept + rows quarantined, checked for every file.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

import polars as pl

from ingest import lake
from ingest.comtrade.schema import (
    KEY_FIELDS,
    LAKE_SCHEMA,
    RECORD_FIELDS,
    VALUE_RULES,
    Rule,
    duplicate_detail,
)
from ingest.config import Paths
from ingest.lake import ParseResult, quarantine_frame, write_parquet
from ingest.landing import LandedFile

SOURCE = "comtrade"
DATASET = "records"
__all__ = [
    "DATASET",
    "KEY_FIELDS",
    "SOURCE",
    "ComtradeResponseError",
    "ParseResult",
    "load_envelope",
    "parse_landed",
    "quarantine_frame",
    "records_frame",
    "split_positioned",
    "split_records",
    "validate_record",
    "vintage_files",
    "write_parquet",
]


class ComtradeResponseError(ValueError):
    """A landed file is not a usable Comtrade response (not JSON, API error, truncated)."""


def _type_ok(value: Any, kind: str) -> bool:
    if kind == "int":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "num":
        return isinstance(value, int | float) and not isinstance(value, bool) and value == value
    if kind == "str":
        return isinstance(value, str)
    return isinstance(value, bool)


def rule_fails(rule: Rule, rec: dict[str, Any]) -> bool:
    """Whether ``rec`` (every field present, of its kind) breaks one value rule of the contract."""
    value = rec[rule.field]
    if rule.test == "non_negative":
        return value is not None and value < 0
    if rule.test == "one_of":
        assert rule.values is not None
        return value not in rule.values()
    if rule.test == "pattern":
        assert rule.pattern is not None
        return rule.pattern.fullmatch(value) is None
    year, month = rec["refYear"], rec["refMonth"]
    if rule.test == "annual":
        return rec["freqCode"] == "A" and (value != str(year) or month != 52)
    if rule.test == "monthly":
        return rec["freqCode"] == "M" and (
            len(value) != 6 or value != f"{year}{month:02d}" or not 1 <= month <= 12
        )
    raise ValueError(f"unknown contract rule test {rule.test!r} (schema.VALUE_RULES)")


def validate_record(rec: Any) -> str | None:
    """Why ``rec`` breaks the Comtrade record contract (``schema``: fields, kinds, ``VALUE_RULES``),
    or None when it is valid. The duplicate-key rule spans records: ``split_positioned``."""
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
    for rule in VALUE_RULES:
        if rule_fails(rule, rec):
            return rule.detail.format(**rec, v=rec[rule.field])
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
    return lake.split_valid(
        items, validate_record, lambda rec: tuple(rec[k] for k in KEY_FIELDS), duplicate_detail
    )


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


def vintage_files(paths: Paths, partition: str, sha256: str) -> lake.VintageFiles:
    """lake/comtrade/records/<partition>/vintage=<sha16>.parquet and its quarantine file."""
    return lake.vintage_files(paths, SOURCE, DATASET, partition, sha256)


@lake.locks_partition(SOURCE, DATASET)
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
    files = vintage_files(paths, entry.partition, entry.sha256)
    out = files.lake_file
    done = lake.already_in_lake(files, force=force)
    if done is not None:
        qfile = files.quarantine_file if files.quarantine_file.exists() else None
        return ParseResult(entry.path, sum(done), *done, out, qfile, True, (out,))
    content = entry.absolute(paths).read_bytes()
    try:
        data = load_envelope(content, entry.path)
        good, bad = split_records(data)
        rows_in = len(data)
    except ComtradeResponseError as exc:
        good, bad = [], [(-1, str(exc), content.decode("utf-8", "replace"))]
        rows_in = 1
    kept = records_frame(good, entry)
    qfile = lake.write_vintage(files, kept, quarantine_frame(bad, entry), rows_in=rows_in, label=entry.path)
    return ParseResult(entry.path, rows_in, kept.height, rows_in - kept.height, out, qfile, lake_files=(out,))
