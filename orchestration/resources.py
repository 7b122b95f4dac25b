"""Shared Dagster resources (the data home, the dbt CLI) and the dbt project handle with its manifest.

Importing this module (or building the project handle) changes nothing: no environment variable is
set and dbt does not run. The manifest Dagster reads (dbt_project/target/manifest.json) is refreshed
explicitly by ``prepare_dbt_project``: the `semitrade` commands that load the definitions, `make dev`
(through ``python -m orchestration.instance``), the test session, or ``python -m orchestration.resources``.
dbt is called by its path beside this Python, so an un-activated virtualenv works without editing PATH.

Assets get the data home from the ``SemitradeStore`` resource instead of reading the environment.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import dagster as dg
from pydantic import Field

from ingest.config import Paths, paths
from ingest.reference import dbt_project_dir

if TYPE_CHECKING:
    from dagster_dbt import DbtCliResource, DbtProject

# The folders whose files make up the parsed project; a newer file there makes the manifest stale.
PROJECT_FOLDERS: tuple[str, ...] = ("models", "seeds", "macros", "tests")


class SemitradeStore(dg.ConfigurableResource):
    """The data home the assets read and write: landing/, lake/, warehouse/ (``ingest.config.Paths``).

    ``home`` empty (the default) means $SEMITRADE_HOME as it is when the run starts, else data/live;
    a deployment may pin it, e.g. ``SemitradeStore(home=dg.EnvVar("SEMITRADE_HOME"))``.
    """

    home: str = Field(
        default="",
        description="Root of landing/, lake/ and warehouse/; empty: $SEMITRADE_HOME, else data/live.",
    )

    def paths(self) -> Paths:
        """The store layout under ``home`` (made absolute)."""
        return Paths(Path(self.home).expanduser().resolve()) if self.home else paths()


# One instance shared by every Definitions object that needs it (Definitions.merge requires the same object).
STORE = SemitradeStore()


class DbtParseError(RuntimeError):
    """`dbt parse` failed: the dbt project has an error; the message carries dbt's own output."""


def dbt_executable() -> str:
    """The dbt installed next to this Python (works without an activated venv), else `dbt` on PATH."""
    beside = Path(sys.executable).parent / "dbt"
    return str(beside) if beside.exists() else "dbt"


def manifest_path(project_dir: Path | None = None) -> Path:
    """Where `dbt parse` writes the manifest Dagster reads."""
    return (project_dir or dbt_project_dir()) / "target" / "manifest.json"


def manifest_is_stale(project_dir: Path | None = None) -> bool:
    """True when the manifest is missing or older than a file of the dbt project."""
    project_dir = project_dir or dbt_project_dir()
    manifest = manifest_path(project_dir)
    if not manifest.exists():
        return True
    built = manifest.stat().st_mtime
    for folder in PROJECT_FOLDERS:
        for path in (project_dir / folder).rglob("*"):
            if path.is_file() and path.stat().st_mtime > built:
                return True
    return (project_dir / "dbt_project.yml").stat().st_mtime > built


def prepare_dbt_project(home: Path | None = None) -> bool:
    """Run `dbt parse` when the manifest is stale; True when it ran.

    ``home`` (default: the current SEMITRADE_HOME, made absolute) reaches dbt through the parse's own
    environment, never through this process's. dbt's output is captured (``python -m orchestration.instance``
    prints DAGSTER_HOME on stdout); on failure it is in the DbtParseError.
    """
    project_dir = dbt_project_dir()
    if not manifest_is_stale(project_dir):
        return False
    env = {**os.environ, "SEMITRADE_HOME": str(home or paths().home)}
    command = [dbt_executable(), "parse", "--quiet", "--project-dir", str(project_dir)]
    command += ["--profiles-dir", str(project_dir)]
    try:
        proc = subprocess.run(command, cwd=project_dir, env=env, capture_output=True, text=True, check=False)
    except FileNotFoundError as exc:
        raise DbtParseError(
            f"cannot run dbt ({command[0]}): install the project with `make install` (dbt-duckdb)"
        ) from exc
    if proc.returncode != 0:
        output = (proc.stdout + proc.stderr).strip()[-4000:]
        raise DbtParseError(
            f"`dbt parse` of {project_dir} failed (exit {proc.returncode}); fix the dbt project:\n{output}"
        )
    return True


def prepare_if_dev() -> bool:
    """Under `dagster dev` only (as dagster-dbt's ``DbtProject.prepare_if_dev``): re-parse a stale
    manifest when the code location (re)loads, so edits to the dbt project show up on reload."""
    if not os.environ.get("DAGSTER_IS_DEV_CLI"):
        return False
    return prepare_dbt_project()


def dbt_project() -> DbtProject:
    """The semitrade dbt project handle, without side effects: the manifest as last parsed
    (``prepare_dbt_project`` refreshes it); a DbtParseError saying what to run when there is none."""
    from dagster_dbt import DbtProject  # noqa: PLC0415 - dagster-dbt is slow to import

    project_dir = dbt_project_dir()
    project = DbtProject(project_dir=project_dir, profiles_dir=project_dir)
    if not project.manifest_path.exists():
        raise DbtParseError(
            f"no dbt manifest at {project.manifest_path}: run `python -m orchestration.resources` "
            "(`semitrade run`, `semitrade build` and `make dev` do it for you)"
        )
    return project


def dbt_resource(project: DbtProject) -> DbtCliResource:
    """dbt CLI resource using the dbt installed next to this Python (works without an activated venv)."""
    from dagster_dbt import DbtCliResource  # noqa: PLC0415 - dagster-dbt is slow to import

    return DbtCliResource(
        project_dir=project,
        profiles_dir=str(project.profiles_dir),
        dbt_executable=dbt_executable(),
    )


if __name__ == "__main__":
    print("parsed" if prepare_dbt_project() else "manifest up to date", file=sys.stderr)
