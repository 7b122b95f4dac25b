"""The catalog of the published warehouse: which marts an export may read, their dbt descriptions and units.

Descriptions come from the comments dbt persists in the warehouse, with dbt's manifest.json as fallback; the
unit of a column comes from its name (`value_usd` → US dollars, `net_weight_kg` → kilograms).
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import duckdb

from ingest.reference import dbt_project_dir
from serving.errors import ExportError

MART_SCHEMA = "main"

# Column-name suffixes and names that tell the unit; descriptions state the rest.
_UNIT_SUFFIXES: tuple[tuple[str, str], ...] = (
    ("_usd", "US dollars"),
    ("_kg", "kilograms"),
    ("_pct", "percent"),
    ("_share", "share (0–1)"),
    ("_ratio", "ratio"),
    ("_rate", "rate (fraction)"),
    ("_hhi", "index (scale in the label)"),
    ("_index", "index"),
)
_UNIT_NAMES: dict[str, str] = {
    "quantity": "see quantity_unit",
    "ref_year": "year",
    "year": "year",
    "ref_month": "month (1–12)",
    "month": "month (1–12)",
    "quarter": "quarter (1–4)",
    "hhi": "index (scale in the label)",
    "rca": "index",
}


@dataclass(frozen=True)
class ColumnInfo:
    """One column of a published mart: name, DuckDB type, dbt description and unit."""

    name: str
    data_type: str
    description: str
    unit: str


@dataclass(frozen=True)
class TableInfo:
    """A published mart with its dbt description and columns (in table order)."""

    name: str
    description: str
    columns: tuple[ColumnInfo, ...]

    def column(self, name: str) -> ColumnInfo | None:
        """The column called ``name``, or None."""
        return next((c for c in self.columns if c.name == name), None)


def quote_ident(name: str) -> str:
    """A DuckDB identifier, quoted (names come from the catalog, never from user text)."""
    return '"' + name.replace('"', '""') + '"'


def unit_for(column: str) -> str:
    """The unit of a column from its name (``value_usd`` → US dollars); empty when it has none."""
    if column in _UNIT_NAMES:
        return _UNIT_NAMES[column]
    for suffix, unit in _UNIT_SUFFIXES:
        if column.endswith(suffix):
            return unit
    return ""


def _manifest_descriptions() -> dict[str, tuple[str, dict[str, str]]]:
    """Model descriptions from dbt's manifest.json (fallback when the warehouse has no comment)."""
    manifest = dbt_project_dir() / "target" / "manifest.json"
    if not manifest.exists():
        return {}
    nodes = json.loads(manifest.read_text(encoding="utf-8")).get("nodes", {})
    out: dict[str, tuple[str, dict[str, str]]] = {}
    for node in nodes.values():
        if node.get("resource_type") == "model":
            cols = {name: c.get("description", "") for name, c in node.get("columns", {}).items()}
            out[node["name"]] = (node.get("description", ""), cols)
    return out


def published_tables(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """The marts an export may read: tables and views (fct_trade_flows_hs2022) in the warehouse's
    main schema → description."""
    rows = con.execute(
        "select table_name, coalesce(comment, '') from duckdb_tables() "
        "where database_name = current_database() and schema_name = ? and not internal and not temporary "
        "union all "
        "select view_name, coalesce(comment, '') from duckdb_views() "
        "where database_name = current_database() and schema_name = ? and not internal and not temporary "
        "order by 1",
        [MART_SCHEMA, MART_SCHEMA],
    ).fetchall()
    return {name: (comment or "").strip() for name, comment in rows}


def describe_table(con: duckdb.DuckDBPyConnection, table: str) -> TableInfo:
    """Description and columns of a published mart, from the persisted dbt docs (manifest as fallback)."""
    tables = published_tables(con)
    if table not in tables:
        listing = ", ".join(tables) or "none (run `semitrade run` first)"
        raise ExportError(f"unknown table {table!r}: only published marts can be exported: {listing}")
    rows = con.execute(
        "select column_name, data_type, coalesce(comment, '') from duckdb_columns() "
        "where database_name = current_database() and schema_name = ? and table_name = ? order by column_index",
        [MART_SCHEMA, table],
    ).fetchall()
    description = tables[table]
    fallback: tuple[str, dict[str, str]] | None = None
    if not description or any(not c for _, _, c in rows):
        fallback = _manifest_descriptions().get(table)
    if fallback and not description:
        description = fallback[0].strip()
    columns = tuple(
        ColumnInfo(
            name=name,
            data_type=dtype,
            description=(comment or (fallback[1].get(name, "") if fallback else "")).strip(),
            unit=unit_for(name),
        )
        for name, dtype, comment in rows
    )
    return TableInfo(table, description, columns)
