"""The semitrade code location (workspace.yaml points here)."""

import dagster as dg

from orchestration.defs import comtrade, jobs, warehouse

defs = dg.Definitions.merge(comtrade.defs, warehouse.defs, jobs.defs)
