"""dbt run in this test process (dbtRunner), on either target, instead of a `dbt` subprocess per call.

A subprocess pays for Python, dbt's import and a parse of the project on every call (12 s when the
profile changed since the last parse in its target path, 5 s when nothing did). Here a home's project
is parsed once (``DuckDbt``) and every later call reuses that manifest. Two things are fixed at parse
time: the home (the sources' `external_location`, models/staging/*/_*__sources.yml, renders
$SEMITRADE_HOME) and the DuckDB catalog of every relation, which dbt-duckdb names after the warehouse
file (build.duckdb: catalog `build`). So a manifest serves one home and one warehouse file NAME; the
folder of the file is read per call (the profile, $SEMITRADE_WAREHOUSE_PATH), and so are `--vars` in
model SQL and macros and `env_var()` in macros.

Environment variables are set for the duration of one call only (a MonkeyPatch context).
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import pytest

from ingest.reference import dbt_project_dir


def invoke_dbt(
    args: list[str], *, env: Mapping[str, str | None], target_path: Path, manifest: Any = None
) -> Any:
    """`dbt <args>` in this process with ``env`` set during the call (None: unset) and the project's
    own project and profiles directories; dbt's result (dbtRunnerResult). ``manifest``: a parsed
    project to reuse (dbt skips parsing), else dbt parses as its CLI would."""
    from dbt.cli.main import dbtRunner  # noqa: PLC0415 - dbt is slow to import

    project = dbt_project_dir()
    with pytest.MonkeyPatch.context() as mp:
        for name, value in env.items():
            if value is None:
                mp.delenv(name, raising=False)
            else:
                mp.setenv(name, value)
        mp.chdir(project)
        return dbtRunner(manifest=manifest).invoke(
            [
                *args,
                "--project-dir",
                str(project),
                "--profiles-dir",
                str(project),
                "--target-path",
                str(target_path),
            ]
        )


def close_duckdb_environment() -> None:
    """Close the DuckDB database dbt-duckdb keeps open in this process after an invocation (its
    `keep_open` defaults to true, in a class-level environment): an open read-write database refuses
    any other connection to the file with another configuration (duckdb.connect(read_only=True))."""
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager  # noqa: PLC0415

    with DuckDBConnectionManager._LOCK:  # noqa: SLF001 - dbt-duckdb has no public call for this
        if DuckDBConnectionManager._ENV is not None:  # noqa: SLF001
            DuckDBConnectionManager._ENV.close()  # noqa: SLF001
        DuckDBConnectionManager.close_all_connections()


class NodeResult(NamedTuple):
    """dbt's result of one node of a command (run, test, seed, unit test)."""

    unique_id: str
    name: str
    status: str  # success, error, pass, fail, warn, skipped
    message: str
    failures: int | None  # rows a data test found


def node_results(res: Any) -> list[NodeResult]:
    """The result of every node of the project in a dbtRunnerResult (the on-run-start hooks are
    operations: left out)."""
    return [
        NodeResult(r.node.unique_id, r.node.name, str(r.status), str(r.message or ""), r.failures)
        for r in res.result or []
        if not r.node.unique_id.startswith("operation.")
    ]


@dataclass(frozen=True)
class DbtCall:
    """One dbt command run by ``DuckDbt``: whether dbt succeeded, every node's result (the on-run-start
    hooks left out) and the text of dbt's log file of that call alone."""

    success: bool
    results: list[NodeResult]
    log: str

    def result(self, name: str) -> NodeResult:
        """The result of the one node named ``name``."""
        found = [r for r in self.results if r.name == name]
        assert len(found) == 1, f"{name}: {len(found)} results in {self.results}"
        return found[0]


class DuckDbt:
    """dbt on the DuckDB target for one home, in this process: the project is parsed once per warehouse
    file name (the catalog), on the first call naming it, with SEMITRADE_HOME = ``home``; later calls
    reuse that manifest. Keep one file name (build.duckdb, in folders of their own) for one parse.
    Targets and per-call log folders go under ``work``; no call writes dbt's JSON artifacts (the
    manifest, run results: a few MB each time) nor a partial-parse file (nothing would read them)."""

    def __init__(self, home: Path, work: Path) -> None:
        self.home = home
        self.work = work
        self._manifests: dict[str, Any] = {}
        self._calls = itertools.count()

    def _env(self, warehouse: Path) -> dict[str, str | None]:
        return {"SEMITRADE_HOME": str(self.home), "SEMITRADE_WAREHOUSE_PATH": str(warehouse)}

    def manifest(self, warehouse: Path) -> Any:
        """The project parsed for this home and the catalog of ``warehouse`` (once each)."""
        if warehouse.name not in self._manifests:
            res = invoke_dbt(
                [
                    "parse",
                    "--no-partial-parse",
                    "--no-write-json",
                    "--log-path",
                    str(self.work / "logs_parse"),
                ],
                env=self._env(warehouse),
                target_path=self.work / f"target_{warehouse.stem}",
            )
            if not res.success:
                pytest.fail(f"dbt parse for {self.home} failed: {res.exception}")
            self._manifests[warehouse.name] = res.result
        return self._manifests[warehouse.name]

    def __call__(self, *args: str, warehouse: Path) -> DbtCall:
        """`dbt <args>` against the DuckDB file ``warehouse``; a dbt that cannot start fails the test.
        A command whose nodes fail is a DbtCall with success False (the test asserts on it)."""
        logs = self.work / f"logs_{next(self._calls)}"
        try:
            res = invoke_dbt(
                [*args, "--no-write-json", "--log-path", str(logs)],
                env=self._env(warehouse),
                target_path=self.work / f"target_{warehouse.stem}",
                manifest=self.manifest(warehouse),
            )
        finally:
            close_duckdb_environment()
        if res.exception is not None:
            pytest.fail(f"dbt {' '.join(args)} could not run: {res.exception}")
        return DbtCall(res.success, node_results(res), (logs / "dbt.log").read_text())
