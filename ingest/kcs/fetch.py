"""Pull Korea Customs queries into landing/ (``land_kcs``: what the Dagster assets run; the lake asset
``kcs/lake_trade`` parses what landed) or into landing/ and the lake (``fetch_kcs``: `semitrade fetch kcs`,
which parses each response right after it lands with the lake asset's own step)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from ingest.config import Paths
from ingest.kcs import parse as kcs_parse
from ingest.kcs.client import KcsClient, KcsQuery
from ingest.landing import LandedFile, land_at


@dataclass(frozen=True)
class KcsLanded:
    """One answered query: its manifest entry, whether the file is new, and the lines it held (the
    총계 total row aside)."""

    query: KcsQuery
    entry: LandedFile
    new: bool
    items: int


@dataclass
class KcsFetchSummary:
    """What a pull did: calls, new landed files, lines landed; once parsed, lake rows kept and
    quarantined and the files failing their control total."""

    calls: int = 0
    new_files: int = 0
    items: int = 0
    rows_kept: int = 0
    rows_quarantined: int = 0
    control_failures: list[str] = field(default_factory=list)

    def add(self, landed: KcsLanded) -> None:
        """Count one landed response."""
        self.calls += 1
        self.new_files += int(landed.new)
        self.items += landed.items


def _land_each(store: Paths, queries: Iterable[KcsQuery], client: KcsClient) -> Iterator[KcsLanded]:
    """Call the API for each query and land the XML (origin live), one at a time. Raises the client's
    KcsError (or LandingError) on the first failure; what was landed before stays landed."""
    for query in queries:
        resp = client.trade(query)
        entry, written = land_at(store, query.place(), resp.content)
        yield KcsLanded(query, entry, written, resp.items - 1 if resp.items else 0)


def land_kcs(
    store: Paths,
    queries: Iterable[KcsQuery],
    client: KcsClient,
    progress: Callable[[KcsLanded], None] | None = None,
) -> KcsFetchSummary:
    """Land the XML of each query under landing/kcs/trade (grain of a line: month × partner × HSK10;
    USD and kg); ``progress(landed)`` after each. Nothing is written to the lake."""
    summary = KcsFetchSummary()
    for landed in _land_each(store, queries, client):
        summary.add(landed)
        if progress:
            progress(landed)
    return summary


def fetch_kcs(
    store: Paths,
    queries: Iterable[KcsQuery],
    client: KcsClient,
    progress: Callable[[KcsQuery, int, int, int, bool], None] | None = None,
) -> KcsFetchSummary:
    """Land each query's XML and parse it into lake/kcs/trade right after it lands, with the lake
    asset's step (``kcs_parse.parse_landed``: the 총계 control total, bad lines quarantined with their
    reason, the partition lock).

    ``progress(query, items, rows_kept, rows_quarantined, control_ok)`` is called after each query.
    Raises the client's KcsError (or LandingError) on the first failure; what was landed before stays."""
    summary = KcsFetchSummary()
    for landed in _land_each(store, queries, client):
        summary.add(landed)
        result = kcs_parse.parse_landed(store, landed.entry)
        summary.rows_kept += result.rows_kept
        summary.rows_quarantined += result.rows_quarantined
        if not result.control_ok:
            summary.control_failures.append(landed.entry.path)
        if progress:
            progress(landed.query, landed.items, result.rows_kept, result.rows_quarantined, result.control_ok)
    return summary
