"""`semitrade fetch japan`: Japan MOF country × HS9 trade into landing/ and the lake, two ways.

``--via estat`` (the default when $ESTAT_APP_ID is set) queries the e-Stat API 3.0 for the codes and
partners in scope (``--hs`` / ``--partner``, else the scope file and the taxonomy seed), lands each
JSON page and writes one lake file per year × direction (ingest/japan/estat*.py). ``--via file`` (the
default without a key) downloads the whole CSV table: read as UTF-8 or Shift_JIS (detected), anything
else refused; ``--stat-inf-id`` uses e-Stat's file-download address (ingest/japan/client.py).
Example: ``semitrade fetch japan --year 2019 --direction import --via estat --hs 281111``.
"""

from __future__ import annotations

import argparse
import os
import sys

from ingest import config
from ingest.japan import parse as japan_parse
from ingest.japan.client import JapanClient, JapanError
from ingest.japan.estat import EstatClient, EstatError
from ingest.japan.estat_fetch import fetch_estat
from ingest.landing import LandingError, land_at
from ingest.scope import ScopeError, load_scope
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
    p.add_argument(
        "--via",
        choices=("estat", "file"),
        help="estat: the e-Stat API (needs ESTAT_APP_ID); file: the CSV download (default: estat when "
        "ESTAT_APP_ID is set, else file)",
    )
    p.add_argument(
        "--hs", help="estat: comma-separated HS9 codes or prefixes (default: the taxonomy's HS6 codes)"
    )
    p.add_argument(
        "--partner", help="estat: comma-separated MOF 3-digit country codes (default: the scope's)"
    )
    p.add_argument(
        "--stats-data-id", help="estat: the 品別国別表 statsDataId (default: by year and direction)"
    )
    p.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    p.set_defaults(func=run_fetch_japan)


def run_fetch_japan(args: argparse.Namespace) -> int:
    """Run the fetch; raise CommandError with one clear line on failure."""
    directions = ("export", "import") if args.direction == "both" else (args.direction,)
    via = args.via or ("estat" if os.environ.get("ESTAT_APP_ID", "").strip() else "file")
    if via == "estat":
        if args.stat_inf_id:
            raise CommandError("--stat-inf-id is for --via file (the CSV download)")
        return _run_estat(args, directions)
    if args.hs or args.partner or args.stats_data_id:
        raise CommandError("--hs, --partner and --stats-data-id are for --via estat")
    if args.stat_inf_id and len(directions) > 1:
        raise CommandError("--stat-inf-id names one table: give --direction export or import with it")
    paths = config.paths()
    kept = quarantined = long_rows = 0
    try:
        with JapanClient.from_env() as client:
            for n, direction in enumerate(directions, start=1):
                resp = client.download(args.year, direction, stat_inf_id=args.stat_inf_id)
                entry, _ = land_at(paths, resp.place(), resp.content)
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


def _codes(text: str | None) -> list[str]:
    return [c.strip() for c in (text or "").split(",") if c.strip()]


def _run_estat(args: argparse.Namespace, directions: tuple[str, ...]) -> int:
    """``--via estat``: one fetch per direction for the scope's (or the given) codes and partners."""
    paths = config.paths()
    hs, partners = _codes(args.hs), _codes(args.partner)
    try:
        if not hs or not args.partner:
            scope = load_scope(paths)
            hs = hs or list(scope.hs6_codes(args.year))
            partners = partners if args.partner else list(scope.japan_countries())
    except ScopeError as exc:
        raise CommandError(str(exc)) from None
    client = EstatClient.from_env()
    if client is None:
        raise CommandError(
            "--via estat needs an e-Stat application ID in ESTAT_APP_ID (free: https://www.e-stat.go.jp/api/); "
            "or use --via file"
        )
    kept = quarantined = long_rows = 0
    try:
        with client:
            for n, direction in enumerate(directions, start=1):
                s = fetch_estat(
                    paths, args.year, direction, hs, partners, client, stats_data_id=args.stats_data_id
                )
                kept += s.rows_kept
                quarantined += s.rows_quarantined
                long_rows += s.parsed.long_rows
                if not args.quiet:
                    print(
                        f"[{n}/{len(directions)}] {args.year} {direction}: e-Stat {s.stats_data_id}, {s.queries} queries, "
                        f"{len(s.files)} pages ({s.files_new} new), {s.rows_kept} lines kept, "
                        f"{s.rows_quarantined} quarantined, months through {s.parsed.published_through}",
                        file=sys.stderr,
                        flush=True,
                    )
    except (EstatError, JapanError, LandingError) as exc:
        raise CommandError(str(exc)) from None
    print(f"japan fetch (e-Stat API) into {paths.home}")
    print(f"  HS9 × partner lines kept: {kept} ({long_rows} monthly lake rows), quarantined: {quarantined}")
    if quarantined:
        raise CommandError(f"{quarantined} lines were quarantined: see {paths.quarantine / 'japan'}")
    return 0
