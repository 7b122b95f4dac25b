"""Shared Dagster resources (the data home, the API keys, the dbt CLI) and the dbt project handle with its manifest.

Importing this module (or building the project handle) changes nothing: no environment variable is
set and dbt does not run. The manifest Dagster reads (dbt_project/target/manifest.json) is refreshed
explicitly by ``prepare_dbt_project``: the `semitrade` commands that load the definitions, `make dev`
(through ``python -m orchestration.instance``), the test session, or ``python -m orchestration.resources``.
dbt is called by its path beside this Python, so an un-activated virtualenv works without editing PATH.

Assets get the data home from the ``SemitradeStore`` resource and the API keys from ``ComtradeApi``,
``KcsApi`` and ``EstatApi``, whose ``key`` fields the definitions set with ``dg.EnvVar`` (``api_resources``):
the Dagster UI shows the variable's name, never its value, and the value is read when a run starts.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import dagster as dg
from pydantic import Field

from ingest.config import Paths, check_home, paths
from ingest.reference import dbt_project_dir

if TYPE_CHECKING:
    from dagster_dbt import DbtCliResource, DbtProject

    from ingest.comtrade.client import ComtradeClient
    from ingest.japan.estat import EstatClient
    from ingest.kcs.client import KcsClient

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

    def live_paths(self) -> Paths:
        """The store, for real data: HomeMixError (writing nothing) when it holds the offline sample."""
        store = self.paths()
        check_home(store, "real")
        return store

    def sample_paths(self) -> Paths:
        """The store, for the offline sample: ``home`` or $SEMITRADE_HOME, which must be chosen explicitly
        (``semitrade run`` and ``make dev`` do) so that the sample never lands in the default home of real
        data; HomeMixError when it holds real data."""
        if not (self.home or os.environ.get("SEMITRADE_HOME")):
            raise dg.Failure(
                "the offline sample needs its own home: set SEMITRADE_HOME (e.g. data/sample, as `make dev` and "
                "`semitrade run` do); the default home data/live is for real data only"
            )
        store = self.paths()
        check_home(store, "sample")
        return store


# One instance shared by every Definitions object that needs it (Definitions.merge requires the same object).
STORE = SemitradeStore()


class ApiKey(dg.ConfigurableResource):
    """A source's API key. The definitions set ``key`` with ``dg.EnvVar`` (``api_resources``); empty: none."""

    key: str = Field(
        default="",
        description="The API key, from an environment variable (the UI shows its name, never its value); "
        "empty: no key.",
    )

    def has_key(self) -> bool:
        """Whether a key is configured."""
        return bool(self.key.strip())


class ComtradeApi(ApiKey):
    """UN Comtrade API access: the subscription key ($COMTRADE_API_KEY); the base URL and call tuning come
    from $COMTRADE_* (``ComtradeClient.from_env``). Without a key, the keyless preview endpoint (500 records
    a call)."""

    def client(self) -> ComtradeClient:
        """A client with this key (never logged: the HTTP layer masks it)."""
        from ingest.comtrade.client import ComtradeClient  # noqa: PLC0415 - only runs that call the API

        return ComtradeClient.from_env(api_key=self.key)


class KcsApi(ApiKey):
    """Korea Customs (data.go.kr) access: the service key ($DATA_GO_KR_KEY); the base URL from
    $KCS_BASE_URL. Without a key, Korea is skipped."""

    def client(self) -> KcsClient:
        """A client with this key (never logged: the HTTP layer masks it)."""
        from ingest.kcs.client import KcsClient  # noqa: PLC0415 - only runs that call the API

        return KcsClient.from_env(service_key=self.key)


class EstatApi(ApiKey):
    """e-Stat API access for Japan MOF: the application ID ($ESTAT_APP_ID); the base URL from
    $ESTAT_BASE_URL. Without one, Japan comes from the CSV download when $JAPAN_CUSTOMS_BASE_URL is set."""

    def client(self) -> EstatClient | None:
        """A client with this application ID, None without one (never logged: the HTTP layer masks it)."""
        from ingest.japan.estat import EstatClient  # noqa: PLC0415 - only runs that call the API

        return EstatClient.from_env(app_id=self.key)


# Resource key → (resource class, the environment variable its key is read from).
API_KEYS: dict[str, tuple[type[ApiKey], str]] = {
    "comtrade_api": (ComtradeApi, "COMTRADE_API_KEY"),
    "kcs_api": (KcsApi, "DATA_GO_KR_KEY"),
    "estat_api": (EstatApi, "ESTAT_APP_ID"),
}


def api_resources() -> dict[str, ApiKey]:
    """The API key resources, each key field set with ``dg.EnvVar``: the UI shows the variable, never
    its value, and Dagster reads it when a run starts. A variable that is not set at all when the
    definitions load leaves its key empty (the source is skipped, or Comtrade uses its keyless preview,
    as with a blank key): Dagster fails every run whose EnvVar is unset, and the offline sample runs
    without keys. Reads the environment, changes nothing in it."""
    return {
        name: cls(key=dg.EnvVar(var)) if var in os.environ else cls() for name, (cls, var) in API_KEYS.items()
    }


def ingest_resources() -> dict[str, dg.ConfigurableResource]:
    """Every resource the landing and lake assets take: the store and the API keys."""
    return {"store": STORE, **api_resources()}


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
