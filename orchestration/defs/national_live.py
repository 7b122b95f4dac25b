"""Live pulls of the national sources for the scope file: Korea Customs (data.go.kr) and Japan MOF
(e-Stat API, or the CSV file download). They land raw files only; the lake assets `kcs/lake_trade` and
`japan/lake_trade` parse them. A source with no key or URL configured is skipped with a clear line and
never replaced by its sample. Nothing here imports a sample module."""

from __future__ import annotations

import logging
import os
from typing import Any

import dagster as dg

from ingest.config import Paths
from ingest.japan.client import JapanClient, JapanError
from ingest.japan.estat import EstatError
from ingest.japan.estat_fetch import land_estat
from ingest.kcs.client import KcsError, KcsQuery
from ingest.kcs.fetch import KcsFetchSummary, KcsLanded, land_kcs
from ingest.landing import land_at
from ingest.scope import JAPAN, KOREA, Scope, load_scope
from orchestration.resources import EstatApi, KcsApi


def land_kcs_queries(
    context: dg.AssetExecutionContext, store: Paths, kcs_api: KcsApi, queries: list[KcsQuery]
) -> KcsFetchSummary:
    """Land the XML of ``queries`` (progress every 25 calls); dg.Failure without a key or on an API error."""
    if not kcs_api.has_key():
        raise dg.Failure("DATA_GO_KR_KEY is not set: the Korea Customs pull needs a data.go.kr service key")

    done = [0]

    def progress(landed: KcsLanded) -> None:
        done[0] += 1
        if done[0] % 25 == 0 or done[0] == len(queries):
            context.log.info(
                f"[{done[0]}/{len(queries)}] {landed.query.stem} hs={landed.query.hs}: {landed.items} lines landed"
            )

    try:
        with kcs_api.client() as client:
            return land_kcs(store, queries, client, progress)
    except KcsError as exc:
        raise dg.Failure(
            f"Korea Customs pull failed: {exc}; what was landed stays, a rerun resumes"
        ) from None


def land_kcs_live(context: dg.AssetExecutionContext, store: Paths, kcs_api: KcsApi) -> dg.MaterializeResult:
    """Korea Customs for the scope: one call per year × taxonomy HS6 code × partner (every partner in
    one call when the scope lists none). Skipped without DATA_GO_KR_KEY or when Korea is not a reporter."""
    scope = load_scope(store)
    if KOREA not in scope.reporters:
        context.log.info(f"Korea Customs skipped: Korea ({KOREA}) is not a reporter in {scope.path}")
        return dg.MaterializeResult(
            metadata={"mode": "live", "skipped": "Korea is not a reporter in the scope"}
        )
    if not kcs_api.has_key():
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
    summary = land_kcs_queries(context, store, kcs_api, queries)
    return dg.MaterializeResult(
        metadata={
            "mode": "live",
            "origin": "live",
            "calls": summary.calls,
            "new_files": summary.new_files,
            "lines_landed": summary.items,
        }
    )


def japan_route(estat_api: EstatApi) -> str | None:
    """How Japan is pulled: 'estat' with an e-Stat application ID, 'file' with JAPAN_CUSTOMS_BASE_URL,
    else None."""
    if estat_api.has_key():
        return "estat"
    if os.environ.get("JAPAN_CUSTOMS_BASE_URL", "").strip():
        return "file"
    return None


def pull_japan_year(
    store: Paths, year: int, scope: Scope, estat_api: EstatApi, log: logging.Logger | Any
) -> dict[str, Any]:
    """Land Japan's export and import tables of ``year`` (e-Stat pages or the CSV download)."""
    route = japan_route(estat_api)
    totals: dict[str, Any] = {"route": route or "none", "files": 0, "new_files": 0}
    if route == "estat":
        client = estat_api.client()
        assert client is not None  # japan_route() saw the application ID
        with client:
            for direction in ("export", "import"):
                # one fetch covers the whole scope of a year × direction: a later, smaller fetch would
                # replace it in staging (latest vintage per year × direction)
                landing = land_estat(
                    store,
                    year,
                    direction,
                    scope.hs6_codes(year),
                    list(scope.japan_countries()) or None,
                    client,
                )
                totals["files"] += len(landing.files)
                totals["new_files"] += landing.files_new
    elif route == "file":
        with JapanClient.from_env() as client:
            for direction in ("export", "import"):
                resp = client.download(year, direction)
                _, written = land_at(store, resp.place(), resp.content)
                totals["files"] += 1
                totals["new_files"] += int(written)
    log.info(f"Japan MOF {year} ({route}): {totals}")
    return totals


def land_japan_live(
    context: dg.AssetExecutionContext, store: Paths, estat_api: EstatApi
) -> dg.MaterializeResult:
    """Japan MOF for the scope's years. Skipped when neither ESTAT_APP_ID nor JAPAN_CUSTOMS_BASE_URL is
    set, or when Japan is not a reporter in the scope."""
    scope = load_scope(store)
    if JAPAN not in scope.reporters:
        context.log.info(f"Japan MOF skipped: Japan ({JAPAN}) is not a reporter in {scope.path}")
        return dg.MaterializeResult(
            metadata={"mode": "live", "skipped": "Japan is not a reporter in the scope"}
        )
    route = japan_route(estat_api)
    if route is None:
        context.log.warning(
            "Japan MOF skipped: neither ESTAT_APP_ID (e-Stat API) nor JAPAN_CUSTOMS_BASE_URL (file download) "
            "is set (no sample is used in its place)"
        )
        return dg.MaterializeResult(
            metadata={"mode": "live", "skipped": "ESTAT_APP_ID / JAPAN_CUSTOMS_BASE_URL not set"}
        )
    totals = {"files": 0, "new_files": 0}
    try:
        for year in scope.years:
            got = pull_japan_year(store, year, scope, estat_api, context.log)
            for name in totals:
                totals[name] += got[name]
    except (JapanError, EstatError) as exc:
        raise dg.Failure(f"Japan MOF pull failed: {exc}; what was landed stays, a rerun resumes") from None
    return dg.MaterializeResult(metadata={"mode": "live", "origin": "live", "route": route, **totals})
