"""One published warehouse per test session, shared by the serving tests (exports, report) and the
orchestration tests (BI serving): the fixture `published_home`, registered in tests/conftest.py.

The main job runs once on a slice of the SYNTHETIC sample (Korea, Japan, China; monthly 2018–2020;
annual 2018–2019): enough for the Korea–Japan corridor and the July 2019 shock, small enough for the
2-core CI machine. Tests must treat the result as read-only (copy it before rebuilding).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import pytest

from ingest.config import Paths, paths

if TYPE_CHECKING:
    import dagster as dg

SHARED_SCOPE = {
    "mode": "sample",
    "reporters": [410, 392, 156],
    "monthly_years": [2018, 2019, 2020],
    "annual_years": [2018, 2019],
}


def run_main_job(scope: dict[str, object]) -> dg.ExecuteInProcessResult:
    """Materialize the `main` job in this process for the SEMITRADE_HOME currently in the environment."""
    import dagster as dg  # noqa: PLC0415 - Dagster is slow to import; only pipeline tests need it

    from orchestration.definitions import defs  # noqa: PLC0415

    return defs.resolve_job_def("main").execute_in_process(
        run_config={"ops": {"comtrade__landed_responses": {"config": scope}}},
        instance=dg.DagsterInstance.ephemeral(),
        raise_on_error=False,
    )


@pytest.fixture(scope="session")
def published_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Paths]:
    """A SEMITRADE_HOME where the main job has landed, parsed, built and published the sample slice."""
    home = tmp_path_factory.mktemp("published") / "data"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SEMITRADE_HOME", str(home))
        result = run_main_job(SHARED_SCOPE)
        store = paths()
    if not result.success:
        failed = [e.message for e in result.all_events if e.is_failure]
        pytest.fail(f"the main job failed on the shared sample slice: {failed[:3]}")
    assert store.serving_db.exists()
    yield store
