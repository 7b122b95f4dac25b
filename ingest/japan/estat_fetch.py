"""One e-Stat fetch: query and land every page (``land_estat``: what the Dagster assets run; the lake
asset ``japan/lake_trade`` parses the landed fetches), or land and parse the pages into the lake
(``fetch_estat``: `semitrade fetch japan --via estat`, with the lake asset's own parse step). See
``ingest.japan.estat`` for the API and ``ingest.japan.estat_parse`` for rows."""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ingest.config import Paths
from ingest.japan.client import check_direction
from ingest.japan.estat import EstatClient, plan_queries, stats_data_id_for
from ingest.japan.estat_parse import EstatParseResult, parse_fetch
from ingest.landing import LandedFile, LandingError, land, read_manifest

ESTAT_DATASET = "estat"  # landing/japan/estat/: the raw pages (the lake rows go to lake/japan/trade)


@dataclass(frozen=True)
class EstatLanding:
    """What one fetch landed: its pages (new or already there) and the scope it asked for."""

    year: int
    direction: str
    stats_data_id: str
    queries: int
    no_data_queries: int  # queries e-Stat answered with STATUS 1 (nothing matches the filter)
    files: tuple[str, ...]  # landed pages, relative to landing/
    files_new: int
    entries: tuple[LandedFile, ...]
    hs_scope: tuple[str, ...]
    partners: tuple[str, ...]


@dataclass(frozen=True)
class EstatFetchSummary(EstatLanding):
    """What one fetch landed, and the parse counts of its lake file."""

    parsed: EstatParseResult

    @property
    def rows_kept(self) -> int:
        return self.parsed.lines_kept

    @property
    def rows_quarantined(self) -> int:
        return self.parsed.lines_quarantined

    @property
    def lake_file(self) -> Path | None:
        return self.parsed.lake_file


def land_estat(
    store: Paths,
    year: int,
    direction: str,
    hs_codes: Sequence[str],
    partners: Sequence[str] | None,
    client: EstatClient,
    *,
    stats_data_id: str | None = None,
) -> EstatLanding:
    """Fetch ``year`` × ``direction`` of the 品別国別表 for ``hs_codes`` (9-digit codes or prefixes,
    e.g. HS6) and ``partners`` (MOF 3-digit codes; None/empty = every partner) and land each page under
    landing/japan/estat/year=/direction=/ (origin 'live'). Nothing is written to the lake.

    The fetch must cover the whole scope of that year × direction at once: staging keeps only the
    latest vintage per year × direction. Raises the ``EstatError`` family (auth, STATUS, format,
    retries exhausted) before anything is landed.
    """
    d = check_direction(direction)
    table = stats_data_id or stats_data_id_for(year, d)
    queries = plan_queries(table, year, hs_codes, partners)
    hs_scope, partner_scope = tuple(sorted(set(hs_codes))), tuple(sorted(set(partners or ())))
    # every page first, then landed together: each landed page names all pages of its fetch, so the
    # fetch can be re-parsed from landing/ even when some pages were identical to earlier ones
    pages = [
        (qn, pn, page)
        for qn, query in enumerate(queries, start=1)
        for pn, page in enumerate(client.pages(query), start=1)
    ]
    fetch_pages = ",".join(sorted({hashlib.sha256(page.content).hexdigest()[:16] for _, _, page in pages}))
    entries: list[LandedFile] = []
    new = no_data = 0
    for qn, pn, page in pages:
        no_data += page.status == 1
        entry, written = land(
            store,
            source="japan",
            dataset=ESTAT_DATASET,
            partition=f"year={year}/direction={d}",
            stem=f"getStatsData_{table}_q{qn:03d}_p{pn:04d}",
            content=page.content,
            params={
                **page.params,
                "year": str(year),
                "direction": d,
                "estat_status": str(page.status),
                "scope_hs": ",".join(hs_scope),
                "scope_partners": ",".join(partner_scope),
                "fetch_pages": fetch_pages,
            },
            origin="live",
            suffix=".json",
        )
        entries.append(entry)
        new += written
    return EstatLanding(
        year,
        d,
        table,
        len(queries),
        no_data,
        tuple(e.path for e in entries),
        new,
        tuple(entries),
        hs_scope,
        partner_scope,
    )


def fetch_estat(store: Paths, *query: Any, **options: Any) -> EstatFetchSummary:
    """``land_estat(store, *query, **options)`` (year, direction, HS codes, partners, client), then the
    landed pages parsed into one lake file of lake/japan/trade by the lake asset's own step
    (``parse_fetch``: bad lines quarantined with their reason, the partition lock)."""
    landing = land_estat(store, *query, **options)
    parsed = parse_fetch(
        store,
        list(landing.entries),
        year=landing.year,
        direction=landing.direction,
        hs_scope=landing.hs_scope,
        partners=landing.partners,
    )
    return EstatFetchSummary(
        **{f.name: getattr(landing, f.name) for f in dataclasses.fields(landing)}, parsed=parsed
    )


def parse_landed_fetches(store: Paths, *, force: bool = False) -> list[EstatParseResult]:
    """Re-parse every landed e-Stat fetch from landing/ alone (no network): each distinct
    ``fetch_pages`` list in the manifest of landing/japan/estat is one fetch, one lake file
    (idempotent per vintage). Raises LandingError when a page of a fetch is no longer landed."""
    manifest = list(read_manifest(store, source="japan", dataset=ESTAT_DATASET))
    by_sha = {e.sha256[:16]: e for e in manifest}
    fetches: dict[str, LandedFile] = {}
    for entry in manifest:
        fetches.setdefault(str(entry.params.get("fetch_pages", "")), entry)
    results = []
    for key, first in fetches.items():
        missing = [sha for sha in key.split(",") if sha not in by_sha]
        if not key or missing:
            raise LandingError(
                f"e-Stat fetch of {first.path}: pages {missing or '?'} are not in landing/ (deleted?)"
            )
        p = first.params
        results.append(
            parse_fetch(
                store,
                [by_sha[sha] for sha in key.split(",")],
                year=int(p["year"]),
                direction=str(p["direction"]),
                hs_scope=tuple(c for c in str(p.get("scope_hs", "")).split(",") if c),
                partners=tuple(c for c in str(p.get("scope_partners", "")).split(",") if c),
                force=force,
            )
        )
    return results
