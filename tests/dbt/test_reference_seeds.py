"""The reference seeds of the product layer: taxonomy completeness against the Comtrade code lists,
the taxonomy's singular dbt tests run on a taxonomy with an injected bad code, and the HS
concordance seed reproduced from the official UNSD tables in ../shared/reference.

No dbt run here: the seeds are CSV files, the singular tests are plain SQL run in DuckDB with their
`ref()`s bound to the CSVs, so a failing case is cheap to show.
"""

from __future__ import annotations

import csv
import re
from collections import defaultdict
from pathlib import Path

import duckdb
import pytest

from ingest import reference_build
from ingest.reference import dbt_project_dir, read_seed, seed_path
from tests.reference_tables import SHARED  # ../shared/reference or the fixture copy

TESTS_DIR = dbt_project_dir() / "tests"


def _codes_by_version() -> dict[str, set[str]]:
    out: dict[str, set[str]] = defaultdict(set)
    for row in read_seed("hs6_codes"):
        out[row["hs_version"]].add(row["hs6"])
    return out


def _taxonomy() -> list[dict[str, str]]:
    with open(seed_path("semiconductor_taxonomy"), encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def _run_singular_test(name: str, taxonomy_rows: list[dict[str, str]]) -> list[tuple[object, ...]]:
    """Run dbt_project/tests/<name>.sql in DuckDB with ref('…') bound to the seeds (taxonomy replaced)."""
    sql = (TESTS_DIR / f"{name}.sql").read_text(encoding="utf-8")
    sql = re.sub(r"\{\{\s*ref\('(\w+)'\)\s*\}\}", r"\1", sql)
    con = duckdb.connect()
    con.execute(
        "create table hs6_codes as select * from read_csv(?, header = true, all_varchar = true)",
        [str(seed_path("hs6_codes"))],
    )
    con.execute(
        "create table semiconductor_taxonomy (hs_version varchar, hs6 varchar, segment varchar, sub_segment varchar)"
    )
    con.executemany(
        "insert into semiconductor_taxonomy values (?, ?, ?, ?)",
        [(r["hs_version"], r["hs6"], r["segment"], r["sub_segment"]) for r in taxonomy_rows],
    )
    return con.execute(sql).fetchall()


@pytest.mark.parametrize("version", ["H3", "H4", "H5", "H6"])
def test_every_8486_and_854231_39_code_is_in_the_taxonomy(version: str) -> None:
    # GIVEN the Comtrade code list of an HS version from HS2007 on
    codes = _codes_by_version()[version]
    wanted = {c for c in codes if c.startswith("8486") or "854231" <= c <= "854239"}
    # WHEN we look up the taxonomy rows of that version
    have = {r["hs6"] for r in _taxonomy() if r["hs_version"] == version}
    # THEN every equipment heading code and every IC code is there
    assert len(wanted) >= 8
    assert wanted - have == set()


@pytest.mark.parametrize(
    ("version", "expected"),
    [
        pytest.param(
            "H2",
            {"845691", "854311", "901041", "901042", "901049", "854221", "854229", "854260"},
            id="HS2002-predecessors",
        ),
        pytest.param(
            "H6", {"854141", "854142", "854143", "854149", "854151", "854159"}, id="HS2022-new-8541"
        ),
    ],
)
def test_predecessor_and_successor_codes_are_in_the_taxonomy(version: str, expected: set[str]) -> None:
    have = {r["hs6"] for r in _taxonomy() if r["hs_version"] == version}
    assert expected <= have


def test_every_taxonomy_row_has_a_source_and_partial_codes_are_marked() -> None:
    rows = _taxonomy()
    assert all(r["source"].strip() for r in rows)
    partial = {(r["hs6"], r["is_partial"]) for r in rows if r["hs6"] in {"370790", "392099", "848620"}}
    assert partial == {("370790", "true"), ("392099", "true"), ("848620", "false")}


def test_the_committed_taxonomy_passes_both_singular_tests() -> None:
    rows = _taxonomy()
    assert _run_singular_test("assert_taxonomy_codes_exist_in_their_hs_version", rows) == []
    assert _run_singular_test("assert_taxonomy_one_segment_per_code", rows) == []
    assert _run_singular_test("assert_taxonomy_covers_semiconductor_headings", rows) == []


def test_a_code_that_does_not_exist_in_its_claimed_version_fails() -> None:
    # GIVEN the taxonomy plus 848620 claimed for HS2002, where heading 8486 did not exist yet
    rows = [
        *_taxonomy(),
        {"hs_version": "H2", "hs6": "848620", "segment": "equipment", "sub_segment": "wafer_fab_equipment"},
    ]
    # WHEN the existence test runs  THEN it returns exactly that row
    assert _run_singular_test("assert_taxonomy_codes_exist_in_their_hs_version", rows) == [("H2", "848620")]


def test_a_code_mapped_to_two_segments_fails() -> None:
    rows = [
        *_taxonomy(),
        {"hs_version": "H1", "hs6": "848620", "segment": "devices", "sub_segment": "memory"},
    ]
    rows = [
        r
        for r in rows
        if not (r["hs_version"] == "H1" and r["hs6"] == "848620" and r["segment"] == "equipment")
    ]
    assert _run_singular_test("assert_taxonomy_one_segment_per_code", rows) == [("848620", 2)]


def test_a_missing_equipment_code_fails_completeness() -> None:
    rows = [r for r in _taxonomy() if not (r["hs_version"] == "H4" and r["hs6"] == "848640")]
    assert _run_singular_test("assert_taxonomy_covers_semiconductor_headings", rows) == [("H4", "848640")]


needs_shared = pytest.mark.skipif(not (SHARED / "hs_reference").is_dir(), reason="reference tables missing")


@pytest.fixture(scope="module")
def built_seeds() -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """hs_concordance and hs_deleted_codes rows as the build script makes them from the official tables."""
    return reference_build.build(SHARED)


def _committed(name: str) -> list[dict[str, str]]:
    with open(seed_path(name), encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


@needs_shared
def test_the_concordance_seed_is_reproduced_from_the_official_tables(
    built_seeds: tuple[list[dict[str, str]], list[dict[str, str]]],
) -> None:
    # GIVEN the UNSD correlation tables and the HS1992/1996 conversion tables (+ gap links)
    rows, _ = built_seeds
    # WHEN compared with the committed seed  THEN they are identical, row for row
    committed = _committed("hs_concordance")
    assert len(rows) == len(committed) > 40_000
    assert rows == committed
    kinds = {k: sum(r["table_kind"] == k for r in rows) for k in ("derived", "subheading", "heading")}
    assert kinds == {"derived": 33, "subheading": 139, "heading": 513}


@needs_shared
def test_the_deleted_codes_seed_is_reproduced_from_the_official_tables(
    built_seeds: tuple[list[dict[str, str]], list[dict[str, str]]],
) -> None:
    _, gaps = built_seeds
    assert gaps == _committed("hs_deleted_codes")
    assert [(g["hs_version"], g["hs6"]) for g in gaps if g["resolution"] == "none"] == [
        ("H1", "252700"),
        ("H1", "850890"),
    ]


@needs_shared
def test_a_gap_link_does_not_cancel_the_unchanged_link_of_its_target() -> None:
    # GIVEN HS2002 9999AA (a Comtrade legacy code) linked by the heading rule to HS2007 999999
    rows = [
        {
            "newer_version": "H3",
            "newer_hs6": "999999",
            "older_version": "H2",
            "older_hs6": "9999AA",
            "table_kind": "heading",
        }
    ]
    codes = {v: {} for v in reference_build.VERSIONS} | {
        "H2": {"999999": "", "9999AA": ""},
        "H3": {"999999": ""},
    }
    # WHEN the adjacent links are built  THEN HS2002 999999 still continues as itself
    forward, backward = reference_build.adjacency(rows, codes)
    assert forward[("H2", "999999")] == {"999999"}
    assert backward[("H3", "999999")] == {"999999", "9999AA"}
    # AND an official row that lists 999999 does cancel it
    official = [{**rows[0], "older_hs6": "999998", "table_kind": "correlation"}]
    assert ("H2", "999999") not in reference_build.adjacency(official, codes)[0]


def test_a_missing_long_range_table_is_named(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"hs2_hs0.csv is missing"):
        reference_build.resolve_gaps(tmp_path, [], {v: {} for v in reference_build.VERSIONS})


@needs_shared
def test_the_unsd_hs2007_hs2002_links_for_8486_and_8542_match_the_shared_extract() -> None:
    # GIVEN the shared extract of the UNSD HS2007→HS2002 table (8486xx, 8542xx rows)
    with open(
        SHARED / "hs_reference" / "extract_unsd_HS2007_to_HS2002_8486_8542.csv", encoding="utf-8", newline=""
    ) as fh:
        extract = {(r["HS2007"], r["HS2002"], r["ex"] == "ex", r["relationship"]) for r in csv.DictReader(fh)}
    # WHEN the converter reads the .xls
    seed = {
        (r["newer_hs6"], r["older_hs6"], r["is_ex"] == "true", r["unsd_relationship"])
        for r in reference_build.unsd_links(SHARED)
        if r["source_table"] == "unsd_hs2007_hs2002" and r["newer_hs6"][:4] in ("8486", "8542")
    }
    # THEN it holds the same links, e.g. 845691 → 848620 whole, 854221 → 854231…854239 in part
    assert seed == extract
    assert ("848620", "845691", False, "n:n") in seed
    assert {n for n, o, ex, _ in seed if o == "854221" and ex} == {"854231", "854232", "854233", "854239"}


def test_a_malformed_sheet_is_rejected_with_the_row(tmp_path: Path) -> None:
    # GIVEN a conversion table whose code column holds text
    table = tmp_path / "hs_reference" / "concordance_pkg_csv"
    table.mkdir(parents=True)
    (table / "hs1_hs0.csv").write_text("HS1_6d,a,b,HS0_6d,c,d\nabc,,,010111,,\n", encoding="utf-8")
    (table / "hs2_hs1.csv").write_text("HS2_6d,a,b,HS1_6d,c,d\n", encoding="utf-8")
    # WHEN converted  THEN the error names the file and row
    with pytest.raises(
        reference_build.ReferenceFormatError, match=r"hs1_hs0.csv row 2: 'abc' is not an HS6 code"
    ):
        list(reference_build.conversion_links(tmp_path))
