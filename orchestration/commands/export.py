"""`semitrade export <table>`: one published mart → Parquet, CSV, Stata or Excel, with a codebook beside it."""

from __future__ import annotations

import argparse
from pathlib import Path

from orchestration.commands.homes import add_home_option, published_warehouse


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "export",
        help="export a published mart to parquet, csv, dta (Stata) or xlsx, with a codebook",
        description="Export one published mart of the read-only warehouse, optionally filtered, as a tidy "
        "table with units in the column names and the dbt descriptions as labels; a markdown codebook "
        "<out>.codebook.md is written next to it.",
        epilog="examples: semitrade export fct_trade_flows --format dta --out flows.dta "
        "--where reporter=KOR --where partner=JPN --where segment=materials --where year=2018..2020",
    )
    parser.add_argument("table", help="a published mart, e.g. fct_trade_flows, dim_product")
    parser.add_argument(
        "--format", choices=("parquet", "csv", "dta", "xlsx"), help="default: from the --out suffix"
    )
    parser.add_argument("--out", required=True, type=Path, help="output file (the codebook goes beside it)")
    parser.add_argument(
        "--where",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="filter; keys: reporter, partner, exporter, importer, supplier (ISO3 or M49), segment, flow (M/X, "
        "import/export), year and period (2018, 2018,2019 or 2018..2020), hs6, freq (A/M) or any column; "
        "repeated keys are ORed, different keys ANDed",
    )
    parser.add_argument(
        "--warehouse", type=Path, help="DuckDB file to read (default: the published warehouse)"
    )
    add_home_option(parser)
    parser.set_defaults(func=export_command)


def export_command(args: argparse.Namespace) -> int:
    from serving.exports import SYNTHETIC_WARNING, export_table  # noqa: PLC0415 - keep `semitrade --help` fast

    result = export_table(
        args.table, args.out, fmt=args.format, where=args.where, warehouse=published_warehouse(args)
    )
    print(f"wrote {result.rows:,} rows of {args.table} to {result.path}")
    print(f"codebook: {result.codebook}")
    if result.renamed and any(k != v for k, v in result.renamed.items()):
        changed = ", ".join(f"{k} → {v}" for k, v in result.renamed.items() if k != v)
        print(f"Stata names shortened: {changed}")
    if "sample" in result.origins:
        print(f"WARNING: {SYNTHETIC_WARNING}")
    return 0
