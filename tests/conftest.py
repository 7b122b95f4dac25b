"""Shared fixtures: an isolated SEMITRADE_HOME per test, and the paths of the real reference fixtures."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from ingest.config import Paths, paths
from tests.published import (  # noqa: F401 - the session's built homes (fixtures)
    published_build,
    published_home,
    rebuilt_build,
)

FIXTURES = Path(__file__).parent / "fixtures"

# A pytest-xdist worker runs under execnet, whose __main__ module has neither __spec__ nor __file__.
# pyspark.sql.connect (imported by great_expectations whenever pyspark is installed) takes such a
# __main__ for a doctest run and calls sys.exit(0) at import: every quality-gate step would die. The
# worker's __main__ gets the file of xdist's worker module (multiprocessing's fork, the only start
# method the project uses, does not read it).
if os.environ.get("PYTEST_XDIST_WORKER"):
    _main = sys.modules["__main__"]
    if getattr(_main, "__spec__", None) is None and not hasattr(_main, "__file__"):
        import xdist.remote  # noqa: PLC0415 - only in a worker

        _main.__file__ = xdist.remote.__file__


def pytest_sessionstart(session: pytest.Session) -> None:
    """Parse the dbt project when it changed, before collection imports the Dagster definitions (which
    read dbt's manifest and, by design, never parse on import)."""
    from orchestration.resources import prepare_dbt_project  # noqa: PLC0415

    prepare_dbt_project()


# -- two worker processes (`make test`: pytest -n 2 --dist loadgroup) --------------------------------
# Session and module fixtures exist once per worker. So that each is made once, every test goes to a
# worker with its whole module; the tests that read a session build (tests/published.py) all go to the
# worker of group "builds"; the Spark tests (one JVM, one Spark session: tests/dbt/spark_build.py) to
# the worker of group "spark". Without -n the marks change nothing.
SESSION_BUILDS = frozenset({"published_build", "published_home", "rebuilt_build"})


def xdist_group_of(item: pytest.Item) -> str:
    """The worker group a test must share: "spark", "builds", or its module's path."""
    if item.path.name.startswith("test_spark"):
        return "spark"
    if SESSION_BUILDS & set(getattr(item, "fixturenames", ())):
        return "builds"
    return item.path.relative_to(Path(__file__).parent).as_posix()


@pytest.hookimpl(tryfirst=True)  # before xdist reads the marks (its own hook of the same name)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        item.add_marker(pytest.mark.xdist_group(xdist_group_of(item)))


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Paths:
    """A fresh, empty data directory for one test."""
    monkeypatch.setenv("SEMITRADE_HOME", str(tmp_path / "data"))
    return paths()


@pytest.fixture
def fixtures_dir() -> Path:
    return FIXTURES


# -- secrets canary (tests/quality/test_secrets.py) ---------------------------------------------
# Distinctive fake keys set for the whole session: whatever the suite writes (data directories,
# logs, reports, exception texts) must never contain them. Tests that need "no key" delenv it.
CANARY_KEYS = {
    "COMTRADE_API_KEY": "canary-COMTRADE-5e1f0c9a77d4b2e8",
    "DATA_GO_KR_KEY": "canary-DATAGOKR-3b8d62e0f1a9c4d7",
    "ESTAT_APP_ID": "canary-ESTAT-9c2e71b0d4a5f836",
}
CANARY_TEXTS: list[str] = []  # captured logs, output and failure texts of every test (see the hook below)


@pytest.fixture(scope="session", autouse=True)
def canary_keys() -> Iterator[dict[str, str]]:
    """Set the canary keys in the environment for the whole session; collect every log record."""
    handler = _CanaryLogHandler()
    logging.getLogger().addHandler(handler)
    with pytest.MonkeyPatch.context() as mp:
        for name, value in CANARY_KEYS.items():
            mp.setenv(name, value)
        yield CANARY_KEYS
    logging.getLogger().removeHandler(handler)


class _CanaryLogHandler(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        try:
            CANARY_TEXTS.append(self.format(record))
        except Exception:  # noqa: BLE001 - a record that cannot be formatted is still kept raw
            CANARY_TEXTS.append(repr(record.__dict__))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    """Keep every test's failure text, captured stdout/stderr and captured log for the canary test."""
    report = yield
    CANARY_TEXTS.append(report.longreprtext)
    CANARY_TEXTS.extend(content for _, content in report.sections)
    if call.excinfo is not None:
        CANARY_TEXTS.append(str(call.excinfo.value))
    return report
