"""Jobs: `main` runs everything unpartitioned from landing to the published warehouse (what
`make run` runs). Partitioned live-ingestion assets carry the tag `semitrade/partitioned` and run
through their own jobs, schedules and backfills, never inside `main`."""

import dagster as dg

PARTITIONED_TAG = "semitrade/partitioned"

main_job = dg.define_asset_job(
    "main",
    selection=dg.AssetSelection.all() - dg.AssetSelection.tag(PARTITIONED_TAG, "true"),
    description="Land → lake → dbt build (staging, marts, tests) → publish the read-only serving warehouse.",
)

defs = dg.Definitions(jobs=[main_job])
