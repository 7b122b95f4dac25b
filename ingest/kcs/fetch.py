"""Pull Korea Customs queries into landing/ and the lake: one function for the command line and Dagster."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from ingest.config import Paths
from ingest.kcs import parse as kcs_parse
from ingest.kcs.client import KcsClient, KcsQuery
from ingest.landing import land


@dataclass
class KcsFetchSummary:
    """What a pull did: calls, new landed files, lake rows kept and quarantined, failed control totals."""

    calls: int = 0
    new_files: int = 0
    rows_kept: int = 0
    rows_quarantined: int = 0
    control_failures: list[str] = field(default_factory=list)


def fetch_kcs(
    store: Paths,
    queries: Iterable[KcsQuery],
    client: KcsClient,
    progress: Callable[[KcsQuery, int, int, int, bool], None] | None = None,
) -> KcsFetchSummary:
    """Call the API for each query, land the XML (origin live) and parse it into lake/kcs/trade.

    ``progress(query, items, rows_kept, rows_quarantined, control_ok)`` is called after each query
    (``items``: the lines the response held, its 총계 total row aside). Raises the
    client's KcsError (or LandingError) on the first failure; what was landed before stays landed."""
    summary = KcsFetchSummary()
    for query in queries:
        resp = client.trade(query)
        entry, written = land(
            store,
            source=kcs_parse.SOURCE,
            dataset=kcs_parse.DATASET,
            partition=query.partition,
            stem=query.stem,
            content=resp.content,
            params=query.params(),
            suffix=".xml",
        )
        result = kcs_parse.parse_landed(store, entry)
        summary.calls += 1
        summary.new_files += int(written)
        summary.rows_kept += result.rows_kept
        summary.rows_quarantined += result.rows_quarantined
        if not result.control_ok:
            summary.control_failures.append(entry.path)
        if progress:
            items = resp.items - 1 if resp.items else 0
            progress(query, items, result.rows_kept, result.rows_quarantined, result.control_ok)
    return summary
