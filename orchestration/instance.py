"""The Dagster instance (DAGSTER_HOME) used by `semitrade run` and `make dev`.

DAGSTER_HOME defaults to $SEMITRADE_HOME/dagster. Its dagster.yaml (written once, never overwritten,
so operators can edit it) limits the API pools: one Comtrade call-making op at a time across all
runs, and one live Comtrade run at a time, on top of the client's own throttle.

`python -m orchestration.instance` (what `make dev` runs before `dagster dev`) prepares both: it creates
DAGSTER_HOME, refreshes the dbt manifest the definitions read when the dbt project changed, and prints
DAGSTER_HOME (the only thing it writes on stdout).
"""

from __future__ import annotations

import os
from pathlib import Path

from ingest.config import paths

DAGSTER_YAML = """\
# Written by semitrade (orchestration/instance.py); edit freely, it is not overwritten.
concurrency:
  pools:
    # Ops in a pool (e.g. comtrade_api) run one at a time across all runs: APIs rate-limit per key.
    default_limit: 1
  runs:
    max_concurrent_runs: 4
    tag_concurrency_limits:
      - key: "semitrade/api"
        value: "comtrade"
        limit: 1
telemetry:
  enabled: false
"""


def ensure_dagster_home() -> Path:
    """Create DAGSTER_HOME (default $SEMITRADE_HOME/dagster) with its dagster.yaml; set the env var.

    Called by the commands that run Dagster in this process (not on import): Dagster reads the variable."""
    home = Path(os.environ.get("DAGSTER_HOME") or paths().home / "dagster").resolve()
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not config.exists():
        config.write_text(DAGSTER_YAML, encoding="utf-8")
    os.environ["DAGSTER_HOME"] = str(home)
    return home


if __name__ == "__main__":
    import sys  # noqa: PLC0415

    from orchestration.resources import DbtParseError, prepare_dbt_project  # noqa: PLC0415 - only `make dev`

    dagster_home = ensure_dagster_home()
    try:
        prepare_dbt_project()
    except DbtParseError as exc:
        sys.exit(f"make dev: {exc}")
    print(dagster_home)
