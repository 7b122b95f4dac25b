"""`semitrade fetch japan`: download a Japan MOF country × HS9 table into landing/ and the lake.

Example: ``semitrade fetch japan --year 2019 --direction import``. The file is read as UTF-8 or
Shift_JIS (detected); anything else is refused and nothing is landed. ``--stat-inf-id`` fetches the
e-Stat file-download URL of the table instead of the mirror layout (see ingest/japan/client.py).
"""

from __future__ import annotations

import argparse
import sys

from ingest import config
from ingest.japan import parse as japan_parse
from ingest.japan.client import JapanClient, JapanError
from ingest.landing import LandingError, land
from orchestration.cli import CommandError


def register_fetch(fetch_sub: argparse._SubParsersAction) -> None:
    """Add the ``japan`` sub-command under ``semitrade fetch``."""
    p = fetch_sub.add_parser(
        "japan",
        help="download Japan MOF trade statistics (country × HS9 CSV, thousand yen)",
        description="Download one year × direction table of Japan's trade statistics into landing/ and the lake.",
    )
    p.add_argument("--year", required=True, type=int, help="calendar year, e.g. 2019")
    p.add_argument(
        "--direction", required=True, choices=("export", "import", "both"), help="export, import or both"
    )
    p.add_argument(
        "--stat-inf-id", help="e-Stat statInfId of the table (uses the e-Stat file-download address)"
    )
    p.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    p.set_defaults(func=run_fetch_japan)


def run_fetch_japan(args: argparse.Namespace) -> int:
    """Run the download; raise CommandError with one clear line on failure."""
    directions = ("export", "import") if args.direction == "both" else (args.direction,)
    if args.stat_inf_id and len(directions) > 1:
        raise CommandError("--stat-inf-id names one table: give --direction export or import with it")
    paths = config.paths()
    kept = quarantined = long_rows = 0
    try:
        with JapanClient.from_env() as client:
            for n, direction in enumerate(directions, start=1):
                resp = client.download(args.year, direction, stat_inf_id=args.stat_inf_id)
                entry, _ = land(
                    paths,
                    source=japan_parse.SOURCE,
                    dataset=japan_parse.DATASET,
                    partition=resp.partition,
                    stem=resp.stem,
                    content=resp.content,
                    params=resp.params,
                    suffix=".csv",
                )
                result = japan_parse.parse_landed(paths, entry)
                kept += result.rows_kept
                quarantined += result.rows_quarantined
                long_rows += result.long_rows
                if not args.quiet:
                    print(
                        f"[{n}/{len(directions)}] {args.year} {direction}: {len(resp.content)} bytes ({resp.encoding}), "
                        f"{result.rows_kept} rows kept, {result.rows_quarantined} quarantined",
                        file=sys.stderr,
                        flush=True,
                    )
    except (JapanError, LandingError) as exc:
        raise CommandError(str(exc)) from None
    print(f"japan fetch into {paths.home}")
    print(f"  CSV rows kept: {kept} ({long_rows} monthly lake rows), quarantined: {quarantined}")
    if quarantined:
        raise CommandError(f"{quarantined} rows were quarantined: see {paths.quarantine / 'japan'}")
    return 0
