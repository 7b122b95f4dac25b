"""`semitrade fetch comtrade`: an ad-hoc pull from the live UN Comtrade API into landing/ and the lake.

Example: ``semitrade fetch comtrade --reporter 410 --partner 392 --period 201901-201912
--cmd 281111,370790 --flow M,X``. Progress goes to stderr, a summary to stdout. Without
COMTRADE_API_KEY the keyless preview endpoint is used (500 records a call).
"""

from __future__ import annotations

import argparse
import sys

from ingest import config
from ingest.comtrade.client import ComtradeClient, ComtradeError
from ingest.comtrade.fetch import FetchProgress, fetch_records
from ingest.comtrade.planner import PlanError, Query, parse_periods
from ingest.landing import LandingError
from orchestration.cli import CommandError


def _codes(text: str | None, name: str, *, numeric: bool) -> tuple | None:
    if text is None:
        return None
    items = tuple(s.strip() for s in text.split(",") if s.strip())
    if not items:
        raise CommandError(f"--{name} is empty: omit it to ask for all, or give a comma list")
    if numeric:
        bad = [s for s in items if not s.isdigit()]
        if bad:
            raise CommandError(
                f"--{name}: {', '.join(bad)} is not a numeric M49 code (e.g. 410 Korea, 392 Japan)"
            )
        return tuple(int(s) for s in items)
    return tuple(s.upper() for s in items)


def register_fetch(fetch_sub: argparse._SubParsersAction) -> None:
    """Add the ``comtrade`` sub-command under ``semitrade fetch``."""
    p = fetch_sub.add_parser(
        "comtrade",
        help="pull UN Comtrade records (live API; preview without a key)",
        description="Pull UN Comtrade records into landing/ and the lake. Partner2, mode of transport and "
        "customs procedure are fixed to their totals (0, 0, C00) so nothing is double counted.",
    )
    p.add_argument("--reporter", required=True, help="reporter M49 code(s), comma separated, e.g. 410")
    p.add_argument("--partner", help="partner M49 code(s), comma separated (0 = World); default all")
    p.add_argument(
        "--period", required=True, help="YYYYMM-YYYYMM, YYYY-YYYY or comma lists, e.g. 201901-201912"
    )
    p.add_argument("--cmd", help="HS code(s), comma separated, e.g. 281111,370790; default all")
    p.add_argument("--flow", help="flow code(s), comma separated, e.g. M,X; default all")
    p.add_argument("--freq", default="M", choices=("A", "M"), help="A annual or M monthly (default M)")
    p.add_argument("--cl", default="HS", help="classification: HS (as reported) or H0…H6 (default HS)")
    p.add_argument(
        "--plan",
        default="free",
        choices=("free", "premium"),
        help="subscription plan, sets the record cap per call (free 100,000; premium 250,000)",
    )
    p.add_argument(
        "--no-availability", action="store_true", help="do not ask for availability first (no revision check)"
    )
    p.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    p.set_defaults(func=run_fetch_comtrade)


def _progress(event: FetchProgress) -> None:
    print(
        f"[{event.done}/{event.total}] {event.status:8} {event.label}"
        + (f": {event.rows} rows" if event.rows else ""),
        file=sys.stderr,
        flush=True,
    )


def run_fetch_comtrade(args: argparse.Namespace) -> int:
    """Run the pull described by ``args``; raise CommandError with one clear line on failure."""
    try:
        query = Query(
            reporters=_codes(args.reporter, "reporter", numeric=True) or (),
            periods=parse_periods(args.period, args.freq),
            partners=_codes(args.partner, "partner", numeric=True),
            cmd_codes=_codes(args.cmd, "cmd", numeric=False),
            flows=_codes(args.flow, "flow", numeric=False),
            freq=args.freq,
            cl_code=args.cl,
        )
    except PlanError as exc:
        raise CommandError(str(exc)) from None
    client = ComtradeClient.from_env()
    if not client.has_key:
        print(
            "semitrade fetch comtrade: COMTRADE_API_KEY is not set: using the keyless preview endpoint "
            "(at most 500 records a call; it may refuse at times)",
            file=sys.stderr,
        )
    paths = config.paths("real")
    config.check_home(paths, "real")
    try:
        with client:
            summary = fetch_records(
                paths,
                query,
                client,
                plan=args.plan,
                check_availability=not args.no_availability,
                progress=None if args.quiet else _progress,
            )
    except (ComtradeError, PlanError, LandingError) as exc:
        raise CommandError(str(exc)) from None
    mode = "preview (no key)" if summary.preview else f"data API, {args.plan} plan"
    print(f"comtrade fetch ({mode}) into {paths.home}")
    for line in summary.lines():
        print(f"  {line}")
    if summary.stopped:
        raise CommandError(summary.stopped)
    print("next: `semitrade build` rebuilds and publishes the warehouse from the lake")
    return 0
