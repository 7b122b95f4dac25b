"""The session's built homes: the main job runs once per scope and test session, and every test reads
the result or works on a copy of it. Registered in tests/conftest.py:

- `published_build` / `published_home`: the SHARED sample slice (Korea, Japan, China; monthly
  2018–2020; annual 2006, 2007 and 2018–2020: the Korea–Japan corridor, the July 2019 shock, both
  sides of the HS2007 break and all three years the indicators compare). Read by the serving tests,
  the pipeline, indicator and BI-serving tests.
- `small_build` / `small_home`: Korea and Japan, monthly and annual 2019 (the scope of the national
  statistics tests; the incremental-build tests work on a copy of it).

Both are read-only: a test that changes a home works on `copy_home(...)` of it. A copied home is a
complete home, but the incremental fact's lake-file inventory holds absolute paths, so the first
build in a copy re-derives every partition (correct, only slower than a no-op build).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from ingest.config import Paths

if TYPE_CHECKING:
    import dagster as dg

SHARED_SCOPE = {
    "mode": "sample",
    "reporters": [410, 392, 156],
    "monthly_years": [2018, 2019, 2020],
    "annual_years": [2006, 2007, 2018, 2019, 2020],
}
SMALL_SCOPE = {"mode": "sample", "reporters": [410, 392], "monthly_years": [2019], "annual_years": [2019]}


@dataclass(frozen=True)
class Build:
    """A home the main job ran in, and the result of that run (events, materialization metadata)."""

    store: Paths
    result: dg.ExecuteInProcessResult


def run_main_job(scope: dict[str, object]) -> dg.ExecuteInProcessResult:
    """Materialize the `main` job in this process for the SEMITRADE_HOME currently in the environment."""
    import dagster as dg  # noqa: PLC0415 - Dagster is slow to import; only pipeline tests need it

    from orchestration.definitions import defs  # noqa: PLC0415

    return defs.resolve_job_def("main").execute_in_process(
        run_config={"ops": {"comtrade__landed_responses": {"config": scope}}},
        instance=dg.DagsterInstance.ephemeral(),
        raise_on_error=False,
    )


def run_main_job_in(home: Path, scope: dict[str, object]) -> dg.ExecuteInProcessResult:
    """Run the `main` job with SEMITRADE_HOME=home (the sample's ECB rates: no ECB_BASE_URL)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SEMITRADE_HOME", str(home))
        mp.delenv("ECB_BASE_URL", raising=False)
        return run_main_job(scope)


def failures(result: dg.ExecuteInProcessResult) -> list[str]:
    """The messages of the failure events of a run (for assertion messages)."""
    return [str(e.message) for e in result.all_events if e.is_failure]


def build_home(home: Path, scope: dict[str, object], what: str) -> Build:
    """Run the main job on ``scope`` in ``home``; fail the requesting test if the run failed."""
    result = run_main_job_in(home, scope)
    if not result.success:
        pytest.fail(f"the main job failed on the {what}: {failures(result)[:3]}")
    store = Paths(home.resolve())
    assert store.build_db.exists() and store.serving_db.exists()
    return Build(store, result)


def copy_home(src: Paths, dst: Path) -> Paths:
    """A complete copy of the home ``src`` at ``dst`` (landing, lake, quality, warehouse and publication).

    Use it before changing a session home. ``dst`` must not exist yet."""
    if dst.exists():
        raise FileExistsError(f"copy_home: {dst} already exists; give each copy a fresh directory")
    shutil.copytree(src.home, dst, symlinks=True)
    return Paths(dst.resolve())


@pytest.fixture(scope="session")
def published_build(tmp_path_factory: pytest.TempPathFactory) -> Build:
    """The main job landed, parsed, built and published the SHARED sample slice (read-only)."""
    return build_home(tmp_path_factory.mktemp("published") / "data", SHARED_SCOPE, "shared sample slice")


@pytest.fixture(scope="session")
def published_home(published_build: Build) -> Iterator[Paths]:
    """The SEMITRADE_HOME of `published_build` (read-only; copy it with `copy_home` to change it)."""
    yield published_build.store


@pytest.fixture(scope="session")
def small_build(tmp_path_factory: pytest.TempPathFactory) -> Build:
    """The main job on SMALL_SCOPE (Korea and Japan, 2019), with every national source (read-only)."""
    return build_home(tmp_path_factory.mktemp("small") / "data", SMALL_SCOPE, "small sample slice")


@pytest.fixture(scope="session")
def small_home(small_build: Build) -> Paths:
    """The SEMITRADE_HOME of `small_build` (read-only; copy it with `copy_home` to change it)."""
    return small_build.store
