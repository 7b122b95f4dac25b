"""Read-only access to the reference seeds in dbt_project/seeds/reference (one source of truth
for code lists shared by the sample generator, the parsers and dbt)."""

from __future__ import annotations

import csv
import os
from dataclasses import dataclass
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
def seed_codes(name: str, column: str) -> frozenset[str]:
    """The codes in ``column`` of reference seed ``name`` (e.g. the partner codes a source may send)."""
    return frozenset(r[column] for r in read_seed(name))


@cache
def codes_by_m49(name: str, column: str) -> dict[int, str]:
    """M49 code -> ``column`` of reference seed ``name`` (the first row of an M49 code wins)."""
    out: dict[int, str] = {}
    for row in read_seed(name):
        out.setdefault(int(row["m49_code"]), row[column])
    return out


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


class HsVersionNotInForceError(LookupError):
    """No HS edition of the hs_versions seed was in force in the year asked about."""


@dataclass(frozen=True)
class HsVersion:
    """One HS edition of the hs_versions seed: Comtrade code (H0…H6), name (HS1992…HS2022) and the
    calendar years it was in force (``last_year`` None for the edition in force today)."""

    hs_version: str
    name: str
    first_year: int
    last_year: int | None

    def in_force(self, year: int) -> bool:
        """Whether the edition was in force in ``year`` (editions enter into force on 1 January)."""
        return self.first_year <= year and (self.last_year is None or year <= self.last_year)


@cache
def hs_versions() -> tuple[HsVersion, ...]:
    """The HS editions of the seed hs_versions (WCO entry-into-force dates), oldest first. The one
    statement of the rule: dbt joins the same seed (macro hs_version_in_force)."""
    return tuple(
        sorted(
            (
                HsVersion(
                    hs_version=r["hs_version"],
                    name=r["name"],
                    first_year=int(r["first_year"]),
                    last_year=int(r["last_year"]) if r["last_year"] else None,
                )
                for r in read_seed("hs_versions")
            ),
            key=lambda v: v.first_year,
        )
    )


def hs_version_for_year(year: int) -> str:
    """The HS version in force in ``year`` (what a reporter normally uses; Comtrade code), from the
    seed hs_versions."""
    for version in hs_versions():
        if version.in_force(year):
            return version.hs_version
    first = hs_versions()[0]
    raise HsVersionNotInForceError(
        f"no HS edition was in force in {year}: the first ({first.hs_version}, {first.name}) entered into "
        f"force in {first.first_year} (seed {seed_path('hs_versions')}); ask for a year from {first.first_year} on"
    )


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
