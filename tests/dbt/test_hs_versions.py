"""The HS-version-by-year rule, stated once in the seed hs_versions and read by Python and dbt alike.

Python: ``ingest.reference.hs_version_for_year`` and the quality gate's national ``hs_key`` expression.
dbt: the macro ``hs_version_in_force`` (a join to the seed) in int_national__lines_usd and dim_period,
checked on the built sample by tests/orchestration; here its predicate and the seed's singular test run
in DuckDB on the CSV itself, no dbt run.
"""

from __future__ import annotations

import re

import duckdb
import polars as pl
import pytest

from ingest import reference
from ingest.quality.specs import _hs_version_for_year
from ingest.reference import dbt_project_dir, seed_path

# WCO entry into force of each edition, 1 January of the year (the rule the four former copies stated).
EXPECTED = {
    1988: "H0", 1995: "H0", 1996: "H1", 2001: "H1", 2002: "H2", 2006: "H2", 2007: "H3", 2011: "H3",
    2012: "H4", 2016: "H4", 2017: "H5", 2021: "H5", 2022: "H6", 2024: "H6", 2035: "H6",
}  # fmt: skip


@pytest.mark.parametrize(
    ("year", "version"), sorted(EXPECTED.items()), ids=[str(y) for y in sorted(EXPECTED)]
)
def test_python_reads_the_edition_in_force_from_the_seed(year: int, version: str) -> None:
    assert reference.hs_version_for_year(year) == version


def test_a_year_before_the_first_edition_is_an_error_that_names_the_seed() -> None:
    with pytest.raises(
        reference.HsVersionNotInForceError, match=r"no HS edition was in force in 1987.*1988.*hs_versions"
    ):
        reference.hs_version_for_year(1987)


def test_the_seed_names_every_comtrade_version_once_with_its_edition_year() -> None:
    versions = reference.hs_versions()
    assert [v.hs_version for v in versions] == ["H0", "H1", "H2", "H3", "H4", "H5", "H6"]
    assert [v.name for v in versions] == [
        "HS1992",
        "HS1996",
        "HS2002",
        "HS2007",
        "HS2012",
        "HS2017",
        "HS2022",
    ]
    assert versions[-1].last_year is None
    assert all(row["provenance"].startswith("WCO:") for row in reference.read_seed("hs_versions"))


def test_the_quality_gate_expression_agrees_with_python_every_year() -> None:
    # GIVEN every year from before the first edition to well after the last
    years = list(range(1980, 2041))
    # WHEN the gate's Polars expression is evaluated
    got = pl.DataFrame({"ref_year": years}).select(_hs_version_for_year("ref_year").alias("v"))["v"].to_list()
    # THEN it is Python's answer, and "none" (a key no code matches) before 1988
    assert got == [reference.hs_version_for_year(y) if y >= 1988 else "none" for y in years]


def _macro_predicate(year: str, alias: str) -> str:
    """The SQL of macro hs_version_in_force(year, alias), rendered by substitution (no Jinja runtime)."""
    text = (dbt_project_dir() / "macros" / "hs_version_in_force.sql").read_text(encoding="utf-8")
    body = re.sub(r"\{#.*?#\}", "", text, flags=re.S)
    body = body.split("-%}", 1)[1].rsplit("{%-", 1)[0]
    return body.replace("{{ year }}", year).replace("{{ versions }}", alias).strip()


def _seed_table(
    con: duckdb.DuckDBPyConnection, rows: list[tuple[str, int, int | None]] | None = None
) -> None:
    if rows is None:
        con.execute(
            "create table hs_versions as select hs_version, cast(first_year as integer) as first_year, "
            "cast(last_year as integer) as last_year from read_csv(?, header = true, all_varchar = true)",
            [str(seed_path("hs_versions"))],
        )
        return
    con.execute("create table hs_versions (hs_version varchar, first_year integer, last_year integer)")
    con.executemany("insert into hs_versions values (?, ?, ?)", rows)


def test_the_dbt_macro_joins_the_same_edition_as_python() -> None:
    # GIVEN the seed in DuckDB and one row per year
    con = duckdb.connect()
    _seed_table(con)
    # WHEN the years are joined to the seed with the macro's predicate
    predicate = _macro_predicate("y.year", "v")
    sql = f"select y.year, v.hs_version from range(1980, 2041) as y(year) left join hs_versions as v on {predicate} order by 1"  # noqa: S608, E501 - the macro's text
    got = dict(con.execute(sql).fetchall())
    # THEN every year gets Python's edition (one row per year: no overlap), none before 1988
    assert len(got) == 61
    assert got == {y: (reference.hs_version_for_year(y) if y >= 1988 else None) for y in range(1980, 2041)}


def _run_contiguity_test(con: duckdb.DuckDBPyConnection) -> list[tuple[object, ...]]:
    sql = (dbt_project_dir() / "tests" / "assert_hs_versions_follow_each_other.sql").read_text(
        encoding="utf-8"
    )
    return con.execute(re.sub(r"\{\{\s*ref\('(\w+)'\)\s*\}\}", r"\1", sql)).fetchall()


def test_the_seed_passes_its_contiguity_test() -> None:
    con = duckdb.connect()
    _seed_table(con)
    assert _run_contiguity_test(con) == []


@pytest.mark.parametrize(
    ("rows", "failing"),
    [
        ([("H0", 1988, 1995), ("H1", 1997, None)], ["H0"]),  # a gap: 1996 has no edition
        ([("H0", 1988, 1996), ("H1", 1996, None)], ["H0"]),  # an overlap: 1996 has two
        ([("H0", 1988, 1995), ("H1", 1996, 2001)], ["H1"]),  # the last edition closed
        ([("H1", 1988, 1995), ("H0", 1996, None)], ["H0"]),  # codes out of order
    ],
    ids=["gap", "overlap", "closed_last", "out_of_order"],
)
def test_the_contiguity_test_fails_on_a_broken_seed(
    rows: list[tuple[str, int, int | None]], failing: list[str]
) -> None:
    con = duckdb.connect()
    _seed_table(con, rows)
    assert [r[0] for r in _run_contiguity_test(con)] == failing
