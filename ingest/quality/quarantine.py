"""Counts over lake/_quarantine (rows rejected by the parsers, kept with source file, position,
reason and raw content)."""

from __future__ import annotations

import polars as pl

from ingest.config import Paths


def quarantine_files(paths: Paths) -> list[str]:
    """Every finished quarantine Parquet file, all sources."""
    root = paths.quarantine
    if not root.exists():
        return []
    return sorted(str(p) for p in root.rglob("*.parquet") if not p.name.startswith("."))


def quarantine_rows(paths: Paths) -> int:
    """Rows held in lake/_quarantine across all sources (0 when there is none)."""
    files = quarantine_files(paths)
    if not files:
        return 0
    return int(pl.scan_parquet(files).select(pl.len()).collect().item())


def quarantine_by_reason(paths: Paths, limit: int = 10) -> list[tuple[str, str, int]]:
    """(source, reason, rows) for the most frequent quarantine reasons."""
    files = quarantine_files(paths)
    if not files:
        return []
    df = (
        pl.scan_parquet(files)
        .group_by("source", "reason")
        .agg(pl.len().alias("rows"))
        .sort(["rows", "source", "reason"], descending=[True, False, False])
        .head(limit)
        .collect()
    )
    return [(s, r, int(n)) for s, r, n in df.iter_rows()]
