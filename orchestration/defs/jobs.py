"""Jobs: `main` runs everything from landing to the published warehouse (what `make run` runs)."""

import dagster as dg

main_job = dg.define_asset_job(
    "main",
    selection=dg.AssetSelection.all(),
    description="Land → lake → dbt build (staging, marts, tests) → publish the read-only serving warehouse.",
)

defs = dg.Definitions(jobs=[main_job])
