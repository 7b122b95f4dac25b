"""Read-only access to the reference seeds in dbt_project/seeds/reference (one source of truth
for code lists shared by the sample generator, the parsers and dbt)."""

from __future__ import annotations

import csv
import os
from functools import cache
from pathlib import Path


class ReferenceNotFoundError(FileNotFoundError):
    """The dbt project (and its reference seeds) could not be located."""


def dbt_project_dir() -> Path:
    """The dbt project: $SEMITRADE_DBT_PROJECT_DIR, else the first ``dbt_project/`` found walking up
    from the working directory or from this package (an editable install or a source checkout)."""
    env = os.environ.get("SEMITRADE_DBT_PROJECT_DIR")
    if env:
        return Path(env).resolve()
    for start in (Path.cwd(), Path(__file__).resolve()):
        for parent in (start, *start.parents):
            candidate = parent / "dbt_project"
            if (candidate / "dbt_project.yml").exists():
                return candidate
    raise ReferenceNotFoundError(
        "cannot find dbt_project/dbt_project.yml; run from the semitrade checkout or set SEMITRADE_DBT_PROJECT_DIR"
    )


def seed_path(name: str) -> Path:
    """Path of reference seed ``name`` (without .csv)."""
    return dbt_project_dir() / "seeds" / "reference" / f"{name}.csv"


@cache
def read_seed(name: str) -> tuple[dict[str, str], ...]:
    """Rows of reference seed ``name`` as dicts of strings."""
    with open(seed_path(name), encoding="utf-8", newline="") as fh:
        return tuple(csv.DictReader(fh))


@cache
def hs6_descriptions() -> dict[tuple[str, str], str]:
    """(hs_version, hs6) -> Comtrade description."""
    return {(r["hs_version"], r["hs6"]): r["description"] for r in read_seed("hs6_codes")}


@cache
def hs6_units() -> dict[tuple[str, str], str]:
    """(hs_version, hs6) -> Comtrade standard quantity unit abbreviation (kg, u, m³ ...)."""
    return {(r["hs_version"], r["hs6"]): r["standard_unit"] for r in read_seed("hs6_codes")}


@cache
def countries() -> dict[int, dict[str, str]]:
    """M49 code -> Comtrade country row (iso3, iso2, country_name, is_group ...)."""
    return {int(r["m49_code"]): r for r in read_seed("comtrade_countries")}


@cache
def qty_unit_codes() -> dict[str, int]:
    """Quantity unit abbreviation -> Comtrade qtyUnitCode."""
    return {r["qty_unit_abbr"]: int(r["qty_unit_code"]) for r in read_seed("comtrade_qty_units")}


# The first year each HS version was in force (Comtrade classification codes H0…H6).
HS_VERSION_FIRST_YEAR: tuple[tuple[str, int], ...] = (
    ("H6", 2022),
    ("H5", 2017),
    ("H4", 2012),
    ("H3", 2007),
    ("H2", 2002),
    ("H1", 1996),
    ("H0", 1988),
)


def hs_version_for_year(year: int) -> str:
    """The HS version in force in ``year`` (what a reporter normally uses; Comtrade code)."""
    for version, first in HS_VERSION_FIRST_YEAR:
        if year >= first:
            return version
    return "H0"


def semiconductor_hs6(year: int | None = None, segments: tuple[str, ...] = ()) -> tuple[str, ...]:
    """HS6 codes of the semiconductor taxonomy seed: those of the HS version in force in ``year``
    (every version when None), optionally only the given segments. The one definition of
    "semiconductor codes" every source's live pull uses."""
    version = hs_version_for_year(year) if year is not None else None
    return tuple(
        sorted(
            {
                row["hs6"]
                for row in read_seed("semiconductor_taxonomy")
                if (version is None or row["hs_version"] == version)
                and (not segments or row["segment"] in segments)
            }
        )
    )
