"""The semitrade code location (workspace.yaml points here)."""

import dagster as dg

from orchestration.defs import comtrade, comtrade_live, jobs, live_refresh, national, quality, warehouse
from orchestration.resources import ingest_resources


def build_defs() -> dg.Definitions:
    """The definitions, with the store and the API key resources (keys as ``dg.EnvVar``) of the current
    environment: the commands that run a job in-process build them afresh (``commands/run.py``)."""
    return dg.Definitions.merge(
        comtrade.defs,
        comtrade_live.defs,
        warehouse.defs,
        quality.defs,
        national.defs,
        live_refresh.defs,
        jobs.defs,
        dg.Definitions(resources=ingest_resources()),
    )


defs = build_defs()
