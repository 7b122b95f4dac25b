"""Small helpers for materialization metadata (row counts, previews)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import dagster as dg
import polars as pl

from ingest.config import Paths
from ingest.lake import ParseResult


def preview_markdown(df: pl.DataFrame, rows: int = 5, columns: list[str] | None = None) -> str:
    """A Markdown table of the first ``rows`` rows (for the Dagster UI)."""
    head = df.select(columns) if columns else df
    head = head.head(rows)
    if head.is_empty():
        return "_no rows_"
    lines = ["| " + " | ".join(head.columns) + " |", "|" + "---|" * len(head.columns)]
    for row in head.iter_rows():
        lines.append("| " + " | ".join("" if v is None else str(v) for v in row) + " |")
    return "\n".join(lines)


def lake_metadata(
    store: Paths, source: str, dataset: str, results: Sequence[ParseResult], columns: list[str]
) -> dict[str, Any]:
    """What a lake asset's parse did (files parsed or already in the lake; rows in = kept + quarantined
    of the files parsed now), the dataset's total rows and a preview of ``columns``."""
    if not results:
        return {"files_parsed": 0, "rows_kept": 0, "lake_rows_total": 0}
    parsed = [r for r in results if not r.skipped]
    lake_glob = str(store.lake / source / dataset / "**" / "*.parquet")
    preview = pl.scan_parquet(lake_glob).head(5).collect()
    return {
        "files_parsed": len(parsed),
        "files_already_in_lake": len(results) - len(parsed),
        "rows_in": sum(r.rows_in for r in parsed),
        "rows_kept": sum(r.rows_kept for r in parsed),
        "rows_quarantined": sum(r.rows_quarantined for r in parsed),
        "lake_rows_total": pl.scan_parquet(lake_glob).select(pl.len()).collect().item(),
        "lake_dir": dg.MetadataValue.path(str(store.lake / source / dataset)),
        "preview": dg.MetadataValue.md(preview_markdown(preview, columns=columns)),
    }
