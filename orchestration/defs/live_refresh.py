"""After a live pull: the live assets only land raw files, so a successful live run (UN Comtrade, Korea
Customs, Japan MOF) is followed by the `warehouse_refresh` job, which parses what landed into the lake
(the lake assets), runs the quality gates, rebuilds the dbt warehouse and republishes it."""

import dagster as dg

from orchestration.defs.comtrade_live import comtrade_live_job, warehouse_refresh_job
from orchestration.defs.national import japan_live_job, kcs_live_job


@dg.run_status_sensor(
    run_status=dg.DagsterRunStatus.SUCCESS,
    monitored_jobs=[comtrade_live_job, kcs_live_job, japan_live_job],
    request_job=warehouse_refresh_job,
    default_status=dg.DefaultSensorStatus.STOPPED,
    description=(
        "After a successful live pull (Comtrade, Korea Customs or Japan MOF), parse what landed into the lake, "
        "rebuild and republish the warehouse."
    ),
)
def refresh_warehouse_after_live_pull(context: dg.RunStatusSensorContext) -> dg.RunRequest:
    """One warehouse refresh per successful live run."""
    return dg.RunRequest(run_key=f"after-{context.dagster_run.run_id}")


defs = dg.Definitions(sensors=[refresh_warehouse_after_live_pull])
