"""Live UN Comtrade ingestion: partitioned by year × reporter, refreshed only where a release changed.

- `comtrade/live_records` pulls one reporter-year (12 monthly periods, or the annual period) from
  the Comtrade API into landing/ (the lake asset `comtrade/lake_records` parses it). Backfills work from the UI (select partitions) and
  the CLI (`dagster asset materialize --select comtrade/live_records --partition 2019|410`).
- `comtrade_availability_sensor` reads the availability endpoint (getDa) and launches runs only for
  reporter-years whose datasetChecksum / lastReleased changed since it last looked.
- After a successful pull, `refresh_warehouse_after_live_pull` (orchestration/defs/live_refresh.py)
  parses what landed into the lake and rebuilds the warehouse.
- Every op that calls the API runs in the `comtrade_api` concurrency pool (limit 1 in the instance's
  dagster.yaml written by orchestration/instance.py), so parallel runs cannot exceed the API's rate
  on top of the client's own throttle.
"""

import json
from datetime import date

import dagster as dg

from ingest.comtrade.client import ComtradeAuthError, ComtradeClient, ComtradeError
from ingest.comtrade.fetch import land_records, snapshot
from ingest.comtrade.planner import PlanError, Query
from ingest.config import paths
from ingest.reference import semiconductor_hs6
from ingest.scope import ScopeError, load_scope
from orchestration.defs.jobs import PARTITIONED_TAG
from orchestration.defs.layers import landing_asset
from orchestration.resources import ComtradeApi, SemitradeStore

API_POOL = "comtrade_api"
FIRST_YEAR = 2005

years_partitions = dg.StaticPartitionsDefinition([str(y) for y in range(FIRST_YEAR, date.today().year + 1)])


def _scope_reporters() -> list[str]:
    """Reporters of the live partitions: those of the scope file (scope.toml; see ingest/scope.py). Read
    when the definitions load (partitions are fixed then, before any resource exists)."""
    try:
        return [str(r) for r in load_scope(paths()).reporters]
    except ScopeError as exc:
        raise dg.DagsterInvalidDefinitionError(
            f"the live partitions need a valid scope file: {exc}"
        ) from None


reporter_partitions = dg.StaticPartitionsDefinition(_scope_reporters())
live_partitions = dg.MultiPartitionsDefinition({"year": years_partitions, "reporter": reporter_partitions})


def semiconductor_cmd_codes() -> list[str]:
    """Every HS6 code of the semiconductor taxonomy seed, across HS versions (sorted, distinct): a
    reporter may still use an older HS version, and a code it does not use just returns nothing."""
    return list(semiconductor_hs6())


class ComtradeLiveConfig(dg.Config):
    """What one partition pulls. Defaults: monthly data, the semiconductor codes of the taxonomy,
    all partners, imports and exports, the free plan's record cap."""

    freq: str = "M"
    cmd_codes: list[str] = []  # empty = the taxonomy's codes
    partners: list[int] = []  # empty = all partners
    flows: list[str] = ["M", "X"]
    plan: str = "free"


def query_for(year: int, reporter: int, config: ComtradeLiveConfig) -> Query:
    """The Comtrade query of one partition (one reporter, the periods of one year)."""
    if config.freq not in ("A", "M"):
        raise dg.Failure(f"freq must be 'A' or 'M', got {config.freq!r}")
    periods = (str(year),) if config.freq == "A" else tuple(f"{year}{m:02d}" for m in range(1, 13))
    return Query(
        reporters=(reporter,),
        periods=periods,
        partners=tuple(config.partners) or None,
        cmd_codes=tuple(config.cmd_codes or semiconductor_cmd_codes()),
        flows=tuple(config.flows) or None,
        freq=config.freq,
    )


@landing_asset(
    ["comtrade", "live_records"], partitions_def=live_partitions, kinds={"python", "parquet"}, pool=API_POOL
)
def comtrade_live_records(
    context: dg.AssetExecutionContext,
    config: ComtradeLiveConfig,
    store: SemitradeStore,
    comtrade_api: ComtradeApi,
) -> dg.MaterializeResult:
    """UN Comtrade records pulled live for one year × reporter partition: raw responses landed in
    landing/comtrade/records (manifest, no key); comtrade/lake_records parses them into lake/comtrade/records
    as a new vintage. A response at the record cap is split, never landed. Grain: one Comtrade record; values
    USD. Needs network; without COMTRADE_API_KEY the preview endpoint (500 records a call) is used."""
    keys = context.partition_key.keys_by_dimension
    year, reporter = int(keys["year"]), int(keys["reporter"])
    query = query_for(year, reporter, config)
    home = store.live_paths()
    if not comtrade_api.has_key():
        context.log.warning(
            "COMTRADE_API_KEY is not set: using the public preview endpoint (500 records a call)"
        )
    try:
        with comtrade_api.client() as client:
            summary = land_records(
                home,
                query,
                client,
                plan=config.plan,
                progress=lambda p: context.log.info(
                    f"[{p.done}/{p.total}] {p.label}: {p.status} ({p.rows} rows)"
                ),
            )
    except ComtradeAuthError as exc:
        raise dg.Failure(f"Comtrade rejected the key: {exc}", allow_retries=False) from exc
    except (ComtradeError, PlanError) as exc:
        raise dg.Failure(f"Comtrade pull of reporter {reporter}, {year} failed: {exc}") from exc
    if summary.stopped:
        raise dg.Failure(
            f"stopped early ({summary.stopped}); everything fetched so far is landed and a rerun resumes",
            metadata={"rows_landed": summary.rows_landed},
        )
    return dg.MaterializeResult(
        metadata={
            "calls_made": summary.calls_made,
            "calls_skipped": summary.calls_skipped,
            "splits_at_cap": summary.splits,
            "files_landed": summary.files_landed,
            "rows_landed": summary.rows_landed,
            "preview_endpoint": summary.preview,
        }
    )


comtrade_live_job = dg.define_asset_job(
    "comtrade_live",
    selection=[comtrade_live_records],
    tags={"semitrade/api": "comtrade"},
    description="Pull live Comtrade partitions (year × reporter); launched by the availability sensor or a backfill.",
)

warehouse_refresh_job = dg.define_asset_job(
    "warehouse_refresh",
    selection=dg.AssetSelection.all()
    - dg.AssetSelection.tag(PARTITIONED_TAG, "true")
    - dg.AssetSelection.groups("landing"),
    description=(
        "What `semitrade build` runs: parse anything newly landed into the lake, run the quality gates, rebuild the "
        "dbt warehouse and publish it. Lands nothing (no fetch, no sample)."
    ),
)


@dg.sensor(
    job=comtrade_live_job,
    minimum_interval_seconds=6 * 3600,
    default_status=dg.DefaultSensorStatus.STOPPED,
    description=(
        "Reads Comtrade availability (getDa) for the configured reporters and years and requests a run "
        "only for reporter-years whose datasetChecksum or lastReleased changed since the last check."
    ),
)
def comtrade_availability_sensor(
    context: dg.SensorEvaluationContext, comtrade_api: ComtradeApi
) -> dg.SensorResult | dg.SkipReason:
    """Launch live pulls for changed releases; the cursor remembers each reporter-year's release."""
    seen: dict[str, str] = json.loads(context.cursor) if context.cursor else {}
    years = [int(y) for y in years_partitions.get_partition_keys()]
    reporters = [int(r) for r in reporter_partitions.get_partition_keys()]
    try:
        with comtrade_api.client() as client:
            changed = changed_partitions(client, reporters, years, seen)
    except ComtradeError as exc:
        return dg.SkipReason(f"availability check failed: {exc}")
    if not changed:
        return dg.SkipReason("no Comtrade release changed since the last check")
    requests = [
        dg.RunRequest(
            run_key=f"{key}:{release}",
            partition_key=dg.MultiPartitionKey({"year": key.split("|")[0], "reporter": key.split("|")[1]}),
        )
        for key, release in changed.items()
    ]
    seen.update(changed)
    return dg.SensorResult(run_requests=requests, cursor=json.dumps(seen, sort_keys=True))


def changed_partitions(
    client: ComtradeClient, reporters: list[int], years: list[int], seen: dict[str, str]
) -> dict[str, str]:
    """``{"<year>|<reporter>": release}`` for reporter-years whose monthly release differs from ``seen``.

    The release of a reporter-year is the sorted list of its months' checksum|lastReleased.
    """
    releases: dict[str, list[str]] = {}
    for year in years:
        params = {
            "reporterCode": ",".join(str(r) for r in reporters),
            "period": ",".join(f"{year}{m:02d}" for m in range(1, 13)),
        }
        for row in client.availability("C", "M", "HS", params):
            try:
                reporter, period = int(row["reporterCode"]), str(row["period"])
            except (KeyError, TypeError, ValueError):
                continue
            if reporter in reporters:
                releases.setdefault(f"{period[:4]}|{reporter}", []).append(f"{period}:{snapshot(row)}")
    current = {key: ";".join(sorted(parts)) for key, parts in releases.items()}
    return {key: release for key, release in current.items() if seen.get(key) != release}


defs = dg.Definitions(
    assets=[comtrade_live_records],
    jobs=[comtrade_live_job, warehouse_refresh_job],
    sensors=[comtrade_availability_sensor],
)
