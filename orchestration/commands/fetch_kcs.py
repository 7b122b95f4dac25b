"""`semitrade fetch kcs`: a pull from the live Korea Customs API into landing/ and the lake.

Example: ``semitrade fetch kcs --hs 281111 --country JP --period 201901-201912``. A period longer than
the API allows (12 months within one calendar year) is split into calendar-year chunks. Progress goes
to stderr, a summary to stdout; a failure exits non-zero with one line. Needs DATA_GO_KR_KEY.
"""

from __future__ import annotations

import argparse
import sys

from ingest import config
from ingest.kcs import parse as kcs_parse
from ingest.kcs.client import KcsClient, KcsError, KcsQuery, plan_periods
from ingest.landing import LandingError, land
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
    paths = config.paths()
    kept = quarantined = new = 0
    try:
        with client:
            for n, query in enumerate(queries, start=1):
                resp = client.trade(query)
                entry, written = land(
                    paths,
                    source=kcs_parse.SOURCE,
                    dataset=kcs_parse.DATASET,
                    partition=query.partition,
                    stem=query.stem,
                    content=resp.content,
                    params=query.params(),
                    suffix=".xml",
                )
                result = kcs_parse.parse_landed(paths, entry)
                new += written
                kept += result.rows_kept
                quarantined += result.rows_quarantined
                if not args.quiet:
                    print(
                        f"[{n}/{len(queries)}] {query.start}-{query.end}: {resp.items - 1 if resp.items else 0} items, "
                        f"{result.rows_kept} kept, {result.rows_quarantined} quarantined"
                        + ("" if result.control_ok else " (CONTROL TOTAL FAILED)"),
                        file=sys.stderr,
                        flush=True,
                    )
    except (KcsError, LandingError) as exc:
        raise CommandError(str(exc)) from None
    print(f"kcs fetch into {paths.home}")
    print(f"  calls: {len(queries)} ({client.http.calls} HTTP requests incl. retries), new files: {new}")
    print(f"  rows kept: {kept}, quarantined: {quarantined}")
    if quarantined:
        raise CommandError(f"{quarantined} rows were quarantined: see {paths.quarantine / 'kcs'}")
    return 0
