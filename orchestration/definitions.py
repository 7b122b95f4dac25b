"""The semitrade code location (workspace.yaml points here)."""

import dagster as dg

from orchestration.defs import comtrade, comtrade_live, jobs, national, quality, warehouse

defs = dg.Definitions.merge(
    comtrade.defs, comtrade_live.defs, warehouse.defs, quality.defs, national.defs, jobs.defs
)
