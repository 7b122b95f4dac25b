"""`semitrade fetch kcs`: a pull from the live Korea Customs API into landing/ and the lake.

Example: ``semitrade fetch kcs --hs 281111 --country JP --period 201901-201912``. A period longer than
the API allows (12 months within one calendar year) is split into calendar-year chunks. Progress goes
to stderr, a summary to stdout; a failure exits non-zero with one line. Needs DATA_GO_KR_KEY.
"""

from __future__ import annotations

import argparse
import sys

from ingest import config
from ingest.kcs.client import KcsClient, KcsError, KcsQuery, plan_periods
from ingest.kcs.fetch import fetch_kcs
from ingest.landing import LandingError
from orchestration.cli import CommandError


def register_fetch(fetch_sub: argparse._SubParsersAction) -> None:
    """Add the ``kcs`` sub-command under ``semitrade fetch``."""
    p = fetch_sub.add_parser(
        "kcs",
        help="pull Korea Customs trade by HS item and country (data.go.kr; needs DATA_GO_KR_KEY)",
        description="Pull Korea Customs getNitemtradeList XML into landing/ and the lake (HSK10 × country × month, USD).",
    )
    p.add_argument("--hs", help="HS code: 2, 4, 6 or 10 digits, e.g. 281111")
    p.add_argument("--country", help="partner ISO2 code, e.g. JP")
    p.add_argument("--period", required=True, help="YYYYMM-YYYYMM (or one YYYYMM), e.g. 201901-201912")
    p.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    p.set_defaults(func=run_fetch_kcs)


def run_fetch_kcs(args: argparse.Namespace) -> int:
    """Run the pull; raise CommandError with one clear line on failure."""
    start, _, end = args.period.partition("-")
    try:
        chunks = plan_periods(start.strip(), (end or start).strip())
        queries = [
            KcsQuery(s, e, hs=args.hs, country=args.country.upper() if args.country else None)
            for s, e in chunks
        ]
    except KcsError as exc:
        raise CommandError(str(exc)) from None
    client = KcsClient.from_env()
    if not client.has_key:
        raise CommandError(
            "DATA_GO_KR_KEY is not set: request a key for the Korea Customs 'nitemtrade' service at data.go.kr"
        )
    paths = config.paths("real")
    total = len(queries)

    def report(query: KcsQuery, items: int, kept: int, quarantined: int, control_ok: bool) -> None:
        if not args.quiet:
            print(
                f"[{queries.index(query) + 1}/{total}] {query.start}-{query.end}: {items} items, "
                f"{kept} kept, {quarantined} quarantined" + ("" if control_ok else " (CONTROL TOTAL FAILED)"),
                file=sys.stderr,
                flush=True,
            )

    try:
        with client:
            summary = fetch_kcs(paths, queries, client, report)
    except (KcsError, LandingError) as exc:
        raise CommandError(str(exc)) from None
    kept, quarantined, new = summary.rows_kept, summary.rows_quarantined, summary.new_files
    print(f"kcs fetch into {paths.home}")
    print(f"  calls: {len(queries)} ({client.http.calls} HTTP requests incl. retries), new files: {new}")
    print(f"  rows kept: {kept}, quarantined: {quarantined}")
    if quarantined:
        raise CommandError(f"{quarantined} rows were quarantined: see {paths.quarantine / 'kcs'}")
    print("next: `semitrade build` rebuilds and publishes the warehouse from the lake")
    return 0
