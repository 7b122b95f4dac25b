"""`semitrade import FILE [FILE ...]`: land Comtrade CSV downloads a user already has, and parse
them into the lake of the real-data home (origin 'imported'); see docs/import.md.

Formats: the legacy comtrade.un.org CSV (35 columns), the legacy JSON API's records as CSV, and a
current Comtrade CSV (the 47 API fields). A file in none of them is refused, naming the file and
its header, and nothing of it is landed; the other files are still imported.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import polars as pl

from ingest import config
from ingest.comtrade.imports import ImportFormatError, import_file
from ingest.landing import LandingError
from orchestration.cli import CommandError

SHOW_REASONS = 5  # quarantine reasons printed per file (all of them are in the quarantine file)
SHOW_PARTITIONS = 10  # lake partitions listed per file


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``semitrade import``."""
    parser = sub.add_parser(
        "import",
        help="land Comtrade CSV files you already have (legacy or current downloads) into the real-data home",
        description="Land Comtrade CSV downloads (legacy comtrade.un.org 35-column CSV, the legacy JSON API's "
        "records as CSV, or a current Comtrade CSV with the 47 API fields) unchanged in landing/, and parse "
        "them into the lake with origin 'imported': the same record contract, quarantine and lineage as "
        "`semitrade fetch comtrade`. Then run `semitrade build`.",
    )
    parser.add_argument("files", nargs="+", type=Path, metavar="FILE", help="CSV file(s) to import")
    parser.set_defaults(func=import_command)


def import_command(args: argparse.Namespace) -> int:
    """Import every file; report each; fail (exit 1) if any file was refused, after trying them all."""
    paths = config.paths("real")
    try:
        config.check_home(paths, "real")
    except config.HomeMixError as exc:
        raise CommandError(str(exc)) from None
    print(f"importing into {paths.home}")
    refused: list[str] = []
    for file in args.files:
        try:
            entry, new, result = import_file(paths, file)
        except ImportFormatError as exc:
            print(f"REFUSED {exc}")
            refused.append(str(exc))
            continue
        except (LandingError, config.HomeMixError) as exc:
            raise CommandError(str(exc)) from None
        state = "landed" if new else "already imported (identical bytes), nothing new landed"
        print(f"{file}: {entry.params['format']}, {state} as landing/{entry.path}")
        print(
            f"  rows: {result.rows_in} in = {result.rows_kept} kept + {result.rows_quarantined} quarantined; "
            f"{len(result.lake_files)} lake partition(s)"
            + ("" if not result.skipped else " (already in the lake)")
        )
        for lake_file in result.lake_files[:SHOW_PARTITIONS]:
            print(f"    {lake_file.parent.relative_to(paths.lake)}")
        if len(result.lake_files) > SHOW_PARTITIONS:
            print(f"    … {len(result.lake_files) - SHOW_PARTITIONS} more")
        if result.quarantine_file is not None:
            reasons = pl.read_parquet(result.quarantine_file, columns=["reason"])["reason"].to_list()
            for reason in reasons[:SHOW_REASONS]:
                print(f"  quarantined: {reason}")
            if len(reasons) > SHOW_REASONS:
                print(f"  … {len(reasons) - SHOW_REASONS} more")
            print(f"  quarantine file: {result.quarantine_file}")
    if len(refused) < len(args.files):
        print("next: `semitrade build` rebuilds and publishes the warehouse from the lake")
    if refused:
        raise CommandError(
            f"{len(refused)} of {len(args.files)} file(s) refused, nothing of them landed: "
            + " | ".join(refused)
        )
    return 0
