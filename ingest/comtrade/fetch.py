"""Run Comtrade pulls: plan → call → land raw bytes (→ parse to the lake), resumable and revision-aware.

Records path: each planned call lands its response under landing/comtrade/records/<freq=/year=/reporter=>/.
``land_records`` stops there (the Dagster assets: the lake asset ``comtrade/lake_records`` parses what
landed); ``fetch_records`` (`semitrade fetch comtrade`) also parses each response into the lake
partition of the same name right after it lands (``parse.parse_landed``, the lake asset's step).
A response that reaches the record cap is never landed: the decision is taken from the response's
record count, the call is split and its halves are fetched instead. A small JSON state file (landing/comtrade/_state/records.json), keyed
by each call's canonical parameter hash, remembers finished calls and the availability snapshot
(datasetChecksum, lastReleased) of each of their periods, so that a rerun after a quota stop skips
what is done, and a revision re-fetches only the reporter-periods whose release changed.

The bulk files are fetched by ``ingest.comtrade.bulk`` and parsed by ``ingest.comtrade.bulk_parse``
(the same lake partitions, the same record contract); their state files share ``FetchState``.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from ingest import lake
from ingest.atomic import write_bytes_atomic
from ingest.comtrade import parse
from ingest.comtrade.client import ComtradeClient, QuotaExhaustedError
from ingest.comtrade.planner import PLAN_CAPS, Call, PlanError, Query, cap_for, plan_calls, split_call
from ingest.config import Paths
from ingest.landing import LandedFile, land

log = logging.getLogger(__name__)

SOURCE = "comtrade"
DATASET = "records"


@dataclass(frozen=True)
class FetchProgress:
    """One step of a pull, for progress display: ``done`` of ``total`` calls so far."""

    done: int
    total: int
    label: str
    status: str  # fetched | skipped | split | stopped
    rows: int = 0


ProgressCallback = Callable[[FetchProgress], None]
# The parse step run on each landed response by ``fetch_records`` (``parse.parse_landed``).
ParseStep = Callable[[Paths, LandedFile], lake.ParseResult]


@dataclass
class FetchSummary:
    """What a pull did. Rows landed = records in the responses landed; once parsed (``parsed``),
    rows landed = rows kept + rows quarantined."""

    calls_planned: int = 0
    calls_made: int = 0  # data calls answered (retries not counted)
    calls_skipped: int = 0  # already fetched, release unchanged
    splits: int = 0  # responses at the cap that were split instead of accepted
    files_landed: int = 0  # new raw files
    files_already_landed: int = 0  # identical bytes were already in landing/
    rows_landed: int = 0
    rows_kept: int = 0
    rows_quarantined: int = 0
    preview: bool = False
    parsed: bool = False  # each landed response was parsed into the lake (``fetch_records``)
    stopped: str | None = None  # why the run stopped early (quota), None when complete
    replenish_in: timedelta | None = None
    lake_files: list[Path] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        """Whether every planned call is done."""
        return self.stopped is None

    def lines(self) -> list[str]:
        """A short human-readable summary."""
        out = [
            f"calls: {self.calls_planned} planned, {self.calls_made} made, {self.calls_skipped} skipped "
            f"(already fetched), {self.splits} split at the record cap",
            f"files: {self.files_landed} landed, {self.files_already_landed} already landed",
            f"rows: {self.rows_landed} landed = {self.rows_kept} kept + {self.rows_quarantined} quarantined"
            if self.parsed
            else f"rows: {self.rows_landed} landed (not parsed yet: the lake asset comtrade/lake_records parses them)",
        ]
        if self.stopped:
            out.append(f"stopped early: {self.stopped}")
        return out


class FetchState:
    """The JSON state file of one dataset: finished calls (or bulk files) by key, written atomically."""

    def __init__(self, paths: Paths, name: str) -> None:
        self.path = paths.landing / SOURCE / "_state" / f"{name}.json"
        self.entries: dict[str, dict[str, Any]] = {}
        if self.path.exists():
            try:
                self.entries = json.loads(self.path.read_text(encoding="utf-8")).get("entries", {})
            except (json.JSONDecodeError, AttributeError):
                log.warning(
                    "%s is unreadable; starting from an empty state (landing is content-addressed)", self.path
                )

    def get(self, key: str) -> dict[str, Any] | None:
        """The entry for ``key`` or None."""
        return self.entries.get(key)

    def put(self, key: str, entry: dict[str, Any]) -> None:
        """Record ``entry`` under ``key`` and write the file."""
        self.entries[key] = entry
        body = json.dumps({"version": 1, "entries": self.entries}, sort_keys=True, indent=1)
        write_bytes_atomic(self.path, body.encode("utf-8"))


Availability = Mapping[tuple[int, str], Mapping[str, Any]]


def snapshot(row: Mapping[str, Any] | None) -> str | None:
    """The release identity of one availability row: datasetChecksum and lastReleased."""
    if row is None:
        return None
    return f"{row.get('datasetChecksum')}|{row.get('lastReleased')}"


def fetch_availability(client: ComtradeClient, query: Query) -> dict[tuple[int, str], dict[str, Any]]:
    """Availability rows for the query's reporters and periods, by (reporter, period).

    One call per year (all reporters), the public endpoint without a key.
    """
    by_year: dict[str, list[str]] = {}
    for p in query.periods:
        by_year.setdefault(p[:4], []).append(p)
    out: dict[tuple[int, str], dict[str, Any]] = {}
    wanted = set(query.reporters)
    for periods in by_year.values():
        params = {"reporterCode": ",".join(str(r) for r in query.reporters), "period": ",".join(periods)}
        for row in client.availability(query.type_code, query.freq, query.cl_code, params):
            try:
                key = (int(row["reporterCode"]), str(row["period"]))
            except (KeyError, TypeError, ValueError):
                continue
            if key[0] in wanted:
                out[key] = row
    return out


class _Run:
    """State of one ``fetch_records`` run."""

    def __init__(
        self,
        paths: Paths,
        client: ComtradeClient,
        state: FetchState,
        avail: Availability | None,
        summary: FetchSummary,
        progress: ProgressCallback | None,
        parse: ParseStep | None,
    ) -> None:
        self.paths = paths
        self.client = client
        self.state = state
        self.avail = avail
        self.summary = summary
        self.progress = progress
        self.parse = parse
        self.done = 0

    def _tick(self, call: Call, status: str, rows: int = 0) -> None:
        if status != "split":
            self.done += 1
        if self.progress:
            self.progress(FetchProgress(self.done, self.summary.calls_planned, call.describe(), status, rows))

    def _current(self, call: Call, period: str) -> str | None:
        if self.avail is None:
            return None
        return snapshot(self.avail.get((call.reporter, period)))

    def _stale(self, call: Call, entry: Mapping[str, Any]) -> list[str]:
        """Periods of a finished call whose release changed since it was fetched."""
        seen = entry.get("periods", {})
        stale = []
        for p in call.periods:
            current = self._current(call, p)
            if p not in seen or (current is not None and seen[p] != current):
                stale.append(p)
        return stale

    def _finish(self, call: Call, **extra: Any) -> None:
        self.state.put(
            call.key(),
            {
                "partition": call.partition,
                "params": call.params(),
                "periods": {p: self._current(call, p) for p in call.periods},
                "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
                **extra,
            },
        )

    def run(self, call: Call) -> None:
        """Fetch ``call`` unless done and unchanged; split it when its response reaches the cap."""
        entry = self.state.get(call.key())
        if entry is not None:
            stale = self._stale(call, entry)
            if not stale:
                self.summary.calls_skipped += 1
                self._tick(call, "skipped")
                return
            if len(stale) < len(call.periods):
                self.run(replace(call, periods=tuple(stale)))
                refreshed = dict(entry.get("periods", {}))
                refreshed |= {p: self._current(call, p) for p in stale}
                self.state.put(call.key(), {**entry, "periods": refreshed})
                return
        resp = self.client.records(call.type_code, call.freq, call.cl_code, call.params())
        self.summary.calls_made += 1
        if _at_cap(resp.count, len(resp.data), call.max_records):
            # At the cap the service silently truncates: never accept, divide and fetch the parts.
            children = split_call(call)
            self.summary.splits += 1
            self.summary.calls_planned += len(children) - 1
            self._tick(call, "split", len(resp.data))
            for child in children:
                self.run(child)
            self._finish(call, split_into=[c.key() for c in children])
            return
        landed, new = land(
            self.paths,
            source=SOURCE,
            dataset=DATASET,
            partition=call.partition,
            stem=f"get_{call.key()[:12]}",
            content=resp.content,
            params={"endpoint": resp.endpoint, **call.params()},
            status=resp.status,
            origin="live",
        )
        rows = len(resp.data)
        self.summary.files_landed += int(new)
        self.summary.files_already_landed += int(not new)
        if self.parse is None:
            self.summary.rows_landed += rows if new else 0
        else:
            self._parsed(landed, new)
        self._finish(call, files=[landed.path], rows=rows)
        self._tick(call, "fetched", rows)

    def _parsed(self, landed: LandedFile, new: bool) -> None:
        """Parse one landed response into the lake and count what it gave (a response landed and
        parsed by an earlier run counts nothing)."""
        assert self.parse is not None
        result = self.parse(self.paths, landed)
        if new or not result.skipped:
            self.summary.rows_landed += result.rows_in
            self.summary.rows_kept += result.rows_kept
            self.summary.rows_quarantined += result.rows_quarantined
        if result.lake_file is not None:
            self.summary.lake_files.append(result.lake_file)


def _at_cap(count: int, rows: int, cap: int) -> bool:
    """Whether a response may be truncated: it reached this call's cap, or exactly the cap of some
    plan (a key on a smaller plan than configured is capped by the service, not by us)."""
    n = max(count, rows)
    return n >= cap or (n > 0 and n in PLAN_CAPS.values())


def land_records(
    paths: Paths,
    query: Query,
    client: ComtradeClient,
    *,
    plan: str | None = None,
    cap: int | None = None,
    check_availability: bool = True,
    progress: ProgressCallback | None = None,
    parse_step: ParseStep | None = None,
) -> FetchSummary:
    """Pull ``query`` into landing/ (raw responses and their manifest lines, origin live); the lake
    asset ``comtrade/lake_records`` parses them. Grain of a response record: one Comtrade record
    (reporter × partner × flow × HS code × period, totals of partner2/mode/customs), values in USD.

    Without a key the preview endpoint is used (cap 500). With ``check_availability`` the
    availability rows bound the plan and decide which finished reporter-periods are stale.
    A spent quota stops the run cleanly: the summary says so (``stopped``) and a rerun resumes.
    ``parse_step`` runs on each response right after it lands (``fetch_records`` passes the lake's).
    """
    preview = not client.has_key
    if cap is None:
        cap = cap_for("preview" if preview else (plan or "free"))
    elif preview:
        cap = min(cap, cap_for("preview"))
    summary = FetchSummary(preview=preview, parsed=parse_step is not None)
    state = FetchState(paths, DATASET)
    try:
        avail = fetch_availability(client, query) if check_availability else None
        totals = {
            k: int(v["totalRecords"])
            for k, v in (avail or {}).items()
            if isinstance(v.get("totalRecords"), int)
        }
        calls = plan_calls(query, cap=cap, totals=totals or None, base_url=client.base_url)
        summary.calls_planned = len(calls)
        run = _Run(paths, client, state, avail, summary, progress, parse_step)
        for call in calls:
            run.run(call)
    except QuotaExhaustedError as exc:
        summary.stopped = str(exc)
        summary.replenish_in = exc.replenish_in
    return summary


def fetch_records(paths: Paths, query: Query, client: ComtradeClient, **options: Any) -> FetchSummary:
    """``land_records`` (same ``options``), each response parsed into the lake right after it lands by
    the lake asset's own step (``parse.parse_landed``: the record contract, bad rows quarantined with
    their reason, the partition lock): what `semitrade fetch comtrade` runs. Rows landed = rows kept +
    rows quarantined."""
    return land_records(paths, query, client, parse_step=parse.parse_landed, **options)


__all__ = [
    "FetchProgress",
    "FetchState",
    "FetchSummary",
    "PlanError",
    "ProgressCallback",
    "fetch_availability",
    "fetch_records",
    "land_records",
    "snapshot",
]
