"""`semitrade report --out DIR`: the static, offline HTML report of Korea–Japan semiconductor trade."""

from __future__ import annotations

import argparse
from pathlib import Path

from orchestration.commands.homes import add_home_option, published_warehouse


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "report",
        help="write the offline HTML report (plotly charts) of the published warehouse",
        description="Write DIR/index.html: Korea–Japan trade by segment, Korea's dependence on Japan for the "
        "controlled materials, the July 2019 shock and substitution, and mirror discrepancies. plotly.js is "
        "inlined, so the page opens offline.",
    )
    parser.add_argument("--out", required=True, type=Path, help="folder for index.html (created if missing)")
    parser.add_argument(
        "--warehouse", type=Path, help="DuckDB file to read (default: the published warehouse)"
    )
    add_home_option(parser)
    parser.set_defaults(func=report_command)


def report_command(args: argparse.Namespace) -> int:
    from serving.report import build_report  # noqa: PLC0415 - plotly is slow to import

    report = build_report(args.out, warehouse=published_warehouse(args))
    print(
        f"wrote {report.path} ({report.path.stat().st_size / 1e6:.1f} MB, {len(report.figures)} charts, works offline)"
    )
    if report.synthetic:
        print(
            "WARNING: the report shows the SYNTHETIC offline sample (origin = 'sample'), not published statistics"
        )
    return 0
