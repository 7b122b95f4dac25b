"""Every code of the official H0…H6 lists reaches HS2022 (issue #13), checked from the seeds.

The walk is the one the dbt models make (int_hs__concordance_steps → int_hs__paths → int_hs__code_map):
adjacent-version links of hs_concordance plus the codes present in both lists that the official table
does not mention, forward to H6. A code that reaches no HS2022 code must end, on every branch, at a
code of hs_deleted_codes without successor (resolution none). The dbt singular test
assert_hs_every_code_reaches_hs2022 checks the same on the built models; it is also run here on small
hand-made tables to show that it fails on a gap.
"""

from __future__ import annotations

import csv
import re
from functools import cache

import duckdb
import pytest

from ingest import reference_build
from ingest.reference import dbt_project_dir, seed_path

Code = tuple[str, str]  # (hs_version, hs6)


def _seed(name: str) -> list[dict[str, str]]:
    with open(seed_path(name), encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


@cache
def _codes() -> dict[str, dict[str, str]]:
    return reference_build.hs_codes()


@cache
def _deleted() -> frozenset[Code]:
    return frozenset(
        (r["hs_version"], r["hs6"]) for r in _seed("hs_deleted_codes") if r["resolution"] == "none"
    )


def walk_to_hs2022(links: list[dict[str, str]]) -> dict[Code, tuple[frozenset[str], frozenset[Code]]]:
    """(version, code) of every listed code -> (HS2022 codes reached, dead ends where a branch stops)."""
    forward, _ = reference_build.adjacency(links, _codes())
    memo: dict[Code, tuple[frozenset[str], frozenset[Code]]] = {}

    def reach(version: str, code: str) -> tuple[frozenset[str], frozenset[Code]]:
        if version == "H6":
            return frozenset({code}), frozenset()
        if (version, code) not in memo:
            nxt = reference_build.VERSIONS[reference_build.VERSIONS.index(version) + 1]
            found: set[str] = set()
            dead: set[Code] = set()
            for successor in forward.get((version, code), ()):
                hs2022, ends = reach(nxt, successor)
                found |= hs2022
                dead |= ends
            stops_here = not forward.get((version, code))
            memo[(version, code)] = (frozenset(found), frozenset({(version, code)} if stops_here else dead))
        return memo[(version, code)]

    return {(v, c): reach(v, c) for v, codes in _codes().items() for c in codes}


def uncovered(walked: dict[Code, tuple[frozenset[str], frozenset[Code]]]) -> list[Code]:
    """Codes that reach no HS2022 code although a dead end is not a deleted code."""
    return sorted(k for k, (hs2022, dead) in walked.items() if not hs2022 and not dead <= _deleted())


@pytest.fixture(scope="module")
def walked() -> dict[Code, tuple[frozenset[str], frozenset[Code]]]:
    return walk_to_hs2022(_seed("hs_concordance"))


def test_every_code_of_every_hs_version_reaches_hs2022_or_is_deleted(
    walked: dict[Code, tuple[frozenset[str], frozenset[Code]]],
) -> None:
    # GIVEN every (version, code) of the Comtrade lists H0…H6
    n_listed = sum(len(c) for c in _codes().values())
    assert len(walked) == n_listed == len(_seed("hs6_codes")) > 36_000
    assert {v: len(c) for v, c in _codes().items()}["H5"] == 5388
    # WHEN each is walked forward to HS2022  THEN none is left without a successor or a deletion
    assert uncovered(walked) == []
    # AND the only codes without HS2022 code are HS1992/HS1996 cryolite and parts of hand tools, whose
    # HS1996 codes hs2_hs1 leaves without successor and whose heading HS2002 no longer has
    without = sorted(k for k, (hs2022, _) in walked.items() if not hs2022)
    assert without == [("H0", "252700"), ("H0", "850890"), ("H1", "252700"), ("H1", "850890")]


def test_the_deleted_list_names_its_source_and_resolution() -> None:
    rows = {(r["hs_version"], r["hs6"]): r for r in _seed("hs_deleted_codes")}
    # GIVEN the gaps of the official tables  THEN each names the table file that lacks the code
    assert len(rows) == 173
    assert all(r["source"].startswith(("concordance_pkg_csv/", "unsd_correlation/")) for r in rows.values())
    assert _deleted() == {("H1", "252700"), ("H1", "850890")}
    assert rows[("H5", "300219")]["source"].startswith(
        "unsd_correlation/HS2022toHS2017ConversionAndCorrelationTables.xlsx sheet 1 gives no HS2022 successor"
    )
    assert (rows[("H5", "300219")]["resolution"], rows[("H5", "300219")]["successors"]) == (
        "subheading",
        "300212 300213 300214 300215",
    )
    assert (rows[("H3", "291636")]["resolution"], rows[("H3", "291636")]["successors"]) == (
        "derived",
        "291616",
    )
    assert "hs5_hs3.csv converts HS2017 291616" in rows[("H3", "291636")]["source"]
    # HS1996 digital monolithic ICs merged by HS2002 into 854221: not subheading 8542.1 (cards), heading 8542
    assert rows[("H1", "854214")]["resolution"] == "heading"
    assert "854221" in rows[("H1", "854214")]["successors"].split()
    counts = {
        k: sum(r["resolution"] == k for r in rows.values())
        for k in ("derived", "subheading", "heading", "none")
    }
    assert counts == {"derived": 25, "subheading": 45, "heading": 101, "none": 2}


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        pytest.param(
            ("H5", "300219"), {"300212", "300213", "300214", "300215"}, id="HS2017-300219-subheading"
        ),
        pytest.param(("H3", "291636"), {"291616"}, id="HS2007-291636-derived"),
        pytest.param(("H2", "9999AA"), {"999999"}, id="HS2002-legacy-9999AA-heading"),
        pytest.param(("H2", "999999"), {"999999"}, id="HS2002-999999-still-unchanged"),
        pytest.param(("H5", "854140"), {"854141", "854142", "854143", "854149"}, id="HS2017-854140-official"),
    ],
)
def test_known_hs2022_answers(
    walked: dict[Code, tuple[frozenset[str], frozenset[Code]]], code: Code, expected: set[str]
) -> None:
    hs2022, _ = walked[code]
    if code == ("H5", "854140"):  # UNSD also links the new e-waste heading 8549
        hs2022 = frozenset(c for c in hs2022 if c.startswith("8541"))
    assert hs2022 == expected


def test_hs1996_ics_reach_the_hs2007_ic_codes(
    walked: dict[Code, tuple[frozenset[str], frozenset[Code]]],
) -> None:
    hs2022, _ = walked[("H1", "854214")]
    assert {"854231", "854232", "854233", "854239"} <= hs2022


def test_without_the_gap_links_the_check_finds_300219_and_the_hs1996_gaps() -> None:
    # GIVEN only the official tables' rows (the seed before issue #13)
    official = [r for r in _seed("hs_concordance") if r["table_kind"] in reference_build.TABLE_KINDS]
    # WHEN walked  THEN HS2017 300219 and the merged HS1996 ICs are uncovered again
    missing = uncovered(walk_to_hs2022(official))
    assert ("H5", "300219") in missing
    assert {("H1", "854214"), ("H1", "854219"), ("H3", "291636")} <= set(missing)
    assert len(missing) > 200


def _run_coverage_test(code_map: list[tuple[str, str, str, str | None, str]]) -> list[tuple[object, ...]]:
    """Run dbt_project/tests/assert_hs_every_code_reaches_hs2022.sql on hand-made tables."""
    sql = (dbt_project_dir() / "tests" / "assert_hs_every_code_reaches_hs2022.sql").read_text(
        encoding="utf-8"
    )
    sql = re.sub(r"\{\{\s*ref\('(\w+)'\)\s*\}\}", r"\1", sql)
    con = duckdb.connect()
    con.execute("create table hs6_codes (hs_version varchar, hs6 varchar)")
    con.executemany(
        "insert into hs6_codes values (?, ?)", [("H5", "300219"), ("H1", "252700"), ("H6", "300212")]
    )
    con.execute("create table hs_deleted_codes (hs_version varchar, hs6 varchar, resolution varchar)")
    con.executemany(
        "insert into hs_deleted_codes values (?, ?, ?)",
        [("H5", "300219", "subheading"), ("H1", "252700", "none")],
    )
    con.execute(
        "create table int_hs__code_map (target_version varchar, hs_version varchar, hs6 varchar, target_hs6 varchar, relationship varchar)"
    )
    con.executemany("insert into int_hs__code_map values (?, ?, ?, ?, ?)", code_map)
    return sorted(con.execute(sql).fetchall())


def test_the_dbt_coverage_test_passes_a_complete_map_and_fails_on_a_gap() -> None:
    complete = [
        ("H6", "H5", "300219", "300212", "1:n"),
        ("H6", "H1", "252700", None, "deleted"),
        ("H6", "H6", "300212", "300212", "1:1"),
    ]
    assert _run_coverage_test(complete) == []
    # a resolved gap that reaches nothing, a deleted code reported unmapped, a listed code missing
    broken = [("H6", "H5", "300219", None, "unmapped"), ("H6", "H1", "252700", None, "unmapped")]
    assert _run_coverage_test(broken) == [
        ("gap_left", "H5", "300219"),
        ("missing", "H6", "300212"),
        ("not_deleted", "H1", "252700"),
        ("unmapped", "H1", "252700"),
        ("unmapped", "H5", "300219"),
    ]
