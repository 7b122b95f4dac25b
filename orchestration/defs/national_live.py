"""Live pulls of the national sources for the scope file: Korea Customs (data.go.kr) and Japan MOF
(e-Stat API, or the CSV file download). A source with no key or URL configured is skipped with a
clear line and never replaced by its sample. Nothing here imports a sample module."""

from __future__ import annotations

import logging
import os
from typing import Any

import dagster as dg

from ingest.config import Paths, check_home, paths
from ingest.japan import parse as japan_parse
from ingest.japan.client import JapanClient, JapanError
from ingest.japan.estat import EstatClient, EstatError
from ingest.japan.estat_fetch import fetch_estat
from ingest.kcs.client import KcsClient, KcsError, KcsQuery
from ingest.kcs.fetch import fetch_kcs
from ingest.landing import land
from ingest.scope import JAPAN, KOREA, Scope, load_scope


def land_kcs_live(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    """Korea Customs for the scope: one call per year × taxonomy HS6 code × partner (every partner in
    one call when the scope lists none). Skipped without DATA_GO_KR_KEY or when Korea is not a reporter."""
    store = paths()
    check_home(store, "real")
    scope = load_scope(store)
    if KOREA not in scope.reporters:
        context.log.info(f"Korea Customs skipped: Korea ({KOREA}) is not a reporter in {scope.path}")
        return dg.MaterializeResult(
            metadata={"mode": "live", "skipped": "Korea is not a reporter in the scope"}
        )
    client = KcsClient.from_env()
    if not client.has_key:
        context.log.warning(
            "Korea Customs skipped: DATA_GO_KR_KEY is not set (no sample is used in its place)"
        )
        return dg.MaterializeResult(metadata={"mode": "live", "skipped": "DATA_GO_KR_KEY is not set"})
    queries = [
        KcsQuery(f"{year}01", f"{year}12", hs=hs, country=country)
        for year in scope.years
        for hs in scope.hs6_codes(year)
        for country in scope.kcs_countries()
    ]
    context.log.info(
        f"Korea Customs: {len(queries)} calls for {scope.first_year}–{scope.last_year} ({scope.path})"
    )
    done = [0]

    def progress(query: KcsQuery, items: int, kept: int, quarantined: int, control_ok: bool) -> None:
        done[0] += 1
        if done[0] % 25 == 0 or done[0] == len(queries) or not control_ok:
            context.log.info(
                f"[{done[0]}/{len(queries)}] {query.stem} hs={query.hs}: {kept} kept, {quarantined} quarantined"
            )

    try:
        with client:
            summary = fetch_kcs(store, queries, client, progress)
    except KcsError as exc:
        raise dg.Failure(
            f"Korea Customs pull failed: {exc}; what was landed stays, a rerun resumes"
        ) from None
    return dg.MaterializeResult(
        metadata={
            "mode": "live",
            "origin": "live",
            "calls": summary.calls,
            "new_files": summary.new_files,
            "rows_kept": summary.rows_kept,
            "rows_quarantined": summary.rows_quarantined,
            "files_failing_control_total": len(summary.control_failures),
        }
    )


def japan_route() -> str | None:
    """How Japan is pulled: 'estat' with ESTAT_APP_ID, 'file' with JAPAN_CUSTOMS_BASE_URL, else None."""
    if os.environ.get("ESTAT_APP_ID", "").strip():
        return "estat"
    if os.environ.get("JAPAN_CUSTOMS_BASE_URL", "").strip():
        return "file"
    return None


def pull_japan_year(store: Paths, year: int, scope: Scope, log: logging.Logger | Any) -> dict[str, Any]:
    """Land and parse Japan's export and import tables of ``year`` (e-Stat or file download)."""
    route = japan_route()
    totals: dict[str, Any] = {"route": route or "none", "files": 0, "rows_kept": 0, "rows_quarantined": 0}
    if route == "estat":
        client = EstatClient.from_env()
        assert client is not None  # japan_route() saw ESTAT_APP_ID
        with client:
            for direction in ("export", "import"):
                # one fetch covers the whole scope of a year × direction: a later, smaller fetch would
                # replace it in staging (latest vintage per year × direction)
                summary = fetch_estat(
                    store,
                    year,
                    direction,
                    scope.hs6_codes(year),
                    list(scope.japan_countries()) or None,
                    client,
                )
                totals["files"] += len(summary.files)
                totals["rows_kept"] += summary.parsed.lines_kept
                totals["rows_quarantined"] += summary.parsed.lines_quarantined
    elif route == "file":
        with JapanClient.from_env() as client:
            for direction in ("export", "import"):
                resp = client.download(year, direction)
                entry, _ = land(
                    store,
                    source=japan_parse.SOURCE,
                    dataset=japan_parse.DATASET,
                    partition=resp.partition,
                    stem=resp.stem,
                    content=resp.content,
                    params=resp.params,
                    suffix=".csv",
                )
                result = japan_parse.parse_landed(store, entry)
                totals["files"] += 1
                totals["rows_kept"] += result.rows_kept
                totals["rows_quarantined"] += result.rows_quarantined
    log.info(f"Japan MOF {year} ({route}): {totals}")
    return totals


def land_japan_live(context: dg.AssetExecutionContext) -> dg.MaterializeResult:
    """Japan MOF for the scope's years. Skipped when neither ESTAT_APP_ID nor JAPAN_CUSTOMS_BASE_URL is
    set, or when Japan is not a reporter in the scope."""
    store = paths()
    check_home(store, "real")
    scope = load_scope(store)
    if JAPAN not in scope.reporters:
        context.log.info(f"Japan MOF skipped: Japan ({JAPAN}) is not a reporter in {scope.path}")
        return dg.MaterializeResult(
            metadata={"mode": "live", "skipped": "Japan is not a reporter in the scope"}
        )
    if japan_route() is None:
        context.log.warning(
            "Japan MOF skipped: neither ESTAT_APP_ID (e-Stat API) nor JAPAN_CUSTOMS_BASE_URL (file download) "
            "is set (no sample is used in its place)"
        )
        return dg.MaterializeResult(
            metadata={"mode": "live", "skipped": "ESTAT_APP_ID / JAPAN_CUSTOMS_BASE_URL not set"}
        )
    totals = {"files": 0, "rows_kept": 0, "rows_quarantined": 0}
    try:
        for year in scope.years:
            got = pull_japan_year(store, year, scope, context.log)
            for name in totals:
                totals[name] += got[name]
    except (JapanError, EstatError) as exc:
        raise dg.Failure(f"Japan MOF pull failed: {exc}; what was landed stays, a rerun resumes") from None
    return dg.MaterializeResult(metadata={"mode": "live", "origin": "live", "route": japan_route(), **totals})
