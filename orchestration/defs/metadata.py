"""Small helpers for materialization metadata (row counts, previews)."""

from __future__ import annotations

import polars as pl


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
