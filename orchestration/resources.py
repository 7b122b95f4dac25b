"""Shared Dagster resources and the dbt project handle."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from dagster_dbt import DbtCliResource, DbtProject

from ingest.config import paths
from ingest.reference import dbt_project_dir


def _manifest_is_stale(project: DbtProject) -> bool:
    manifest = project.manifest_path
    if not manifest.exists():
        return True
    built = manifest.stat().st_mtime
    project_dir = Path(project.project_dir)
    for folder in ("models", "seeds", "macros", "tests"):
        for path in (project_dir / folder).rglob("*"):
            if path.is_file() and path.stat().st_mtime > built:
                return True
    return (project_dir / "dbt_project.yml").stat().st_mtime > built


def dbt_project() -> DbtProject:
    """The semitrade dbt project, parsed (manifest.json refreshed) when any of its files changed."""
    project_dir = dbt_project_dir()
    # dbt reads SEMITRADE_HOME from the environment; make it absolute so dbt's working directory
    # (the project folder) does not change where the lake and the warehouse are.
    os.environ["SEMITRADE_HOME"] = str(paths().home)
    # dagster-dbt looks for `dbt` on PATH (also when it parses the project): put this
    # interpreter's bin folder first, so an un-activated virtualenv works.
    bin_dir = str(Path(sys.executable).parent)
    if bin_dir not in os.environ.get("PATH", "").split(os.pathsep):
        os.environ["PATH"] = bin_dir + os.pathsep + os.environ.get("PATH", "")
    project = DbtProject(project_dir=project_dir, profiles_dir=project_dir)
    if _manifest_is_stale(project):
        project.preparer.prepare(project)
    return project


def dbt_resource(project: DbtProject) -> DbtCliResource:
    """dbt CLI resource using the dbt installed next to this Python (works without an activated venv)."""
    beside = Path(sys.executable).parent / "dbt"
    return DbtCliResource(
        project_dir=project,
        profiles_dir=str(project.profiles_dir),
        dbt_executable=str(beside) if beside.exists() else "dbt",
    )
