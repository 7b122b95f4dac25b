"""The reference layer end to end: HS concordance, HS2022 long series, products and countries.

The session's published build (tests/published.py: `published_build`: landing → lake → `dbt build` with
every data test and unit test → publication) on a slice of the SYNTHETIC sample: Korea and Japan, annual
2005–2024 (HS2002 before 2007, then HS2007, 2012, 2017 and 2022 as the sample's reporters switch), and
China in the shared years.
"""

from __future__ import annotations

from collections.abc import Iterator

import dagster as dg
import duckdb
import openpyxl
import pytest

from ingest.config import Paths
from tests.published import LONG_SERIES, Build
from tests.reference_tables import SHARED

KOREA, JAPAN, TAIWAN_COMTRADE, TAIWAN_ISO = 410, 392, 490, 158

SME_SERIES = """
    select f.ref_year,
           sum(f.value_usd) as value_usd,
           bool_or(f.is_bridged) as is_bridged,
           bool_or(coalesce(f.hs2022_breaks, '') like '%H2>H3%') as crosses_hs2007_break,
           bool_or(f.is_unbridgeable) as is_unbridgeable,
           string_agg(distinct f.reported_hs_version, ',') as reported_versions
    from fct_trade_flows_hs2022 as f
    join dim_country as r on r.m49_code = f.reporter_code
    join dim_country as p on p.m49_code = f.partner_code
    where r.iso3 = 'KOR' and p.iso3 = 'JPN' and f.flow_code = 'M' and f.freq_code = 'A'
      and f.segment = 'equipment'
    group by 1
    order by 1
"""


@pytest.fixture(scope="module")
def built(published_build: Build) -> tuple[Paths, dg.ExecuteInProcessResult]:
    """The published session home (read-only): Korea's and Japan's twenty annual years 2005–2024 span five
    HS versions."""
    # the years below are those of this series
    assert (LONG_SERIES.reporters, LONG_SERIES.annual_years) == ((KOREA, JAPAN), tuple(range(2005, 2025)))
    return published_build.store, published_build.result


@pytest.fixture(scope="module")
def con(built: tuple[Paths, dg.ExecuteInProcessResult]) -> Iterator[duckdb.DuckDBPyConnection]:
    store, result = built
    assert result.success
    with duckdb.connect(str(store.build_db), read_only=True) as connection:
        yield connection


def test_the_main_job_builds_the_reference_models(built: tuple[Paths, dg.ExecuteInProcessResult]) -> None:
    # GIVEN the main job on the slice  WHEN it ran  THEN it succeeded with the concordance models built
    _, result = built
    assert result.success
    materialized = {
        e.asset_key.to_user_string() for e in result.get_asset_materialization_events() if e.asset_key
    }
    assert {
        "fct_trade_flows_hs2022",
        "intermediate/int_hs__split_weights",
        "intermediate/int_hs__code_map",
        "reference/hs_concordance",
    } <= materialized


def test_korea_sme_imports_from_japan_are_one_hs2022_series_2005_2024(con: duckdb.DuckDBPyConnection) -> None:
    # GIVEN Korea's imports of semiconductor manufacturing equipment from Japan, re-expressed in HS2022
    rows = con.execute(SME_SERIES).fetchall()
    series = {r[0]: r for r in rows}
    # THEN every year 2005–2024 is there, with a positive value
    assert sorted(series) == list(range(2005, 2025))
    assert all(r[1] > 0 for r in rows)
    # AND the HS2002 years are bridged across the HS2007 break and flagged; later years are not
    assert [y for y, r in series.items() if r[3]] == [2005, 2006]
    assert all(series[y][2] and series[y][5] == "H2" for y in (2005, 2006))
    assert all(not series[y][2] and series[y][5] == "H6" for y in (2022, 2023, 2024))
    assert not any(r[4] for r in rows)
    # AND the bridged years are in the range of the series (no break in level from dropped codes)
    assert 0.3 < series[2006][1] / series[2007][1] < 1.5


def test_the_hs2022_mart_preserves_the_reported_value(con: duckdb.DuckDBPyConnection) -> None:
    reported = con.execute("select sum(value_usd), count(*) from fct_trade_flows").fetchone()
    bridged = con.execute(
        "select sum(value_usd), count(distinct trade_flow_key) from fct_trade_flows_hs2022"
    ).fetchone()
    assert bridged[1] == reported[1]
    assert bridged[0] == pytest.approx(reported[0], rel=1e-9)


def test_hs2002_equipment_codes_map_whole_to_848620(con: duckdb.DuckDBPyConnection) -> None:
    rows = con.execute(
        """
        select hs6, target_hs6, round(weight, 12)
        from main_intermediate.int_hs__split_weights
        where target_version = 'H6' and hs_version = 'H2' and hs6 in ('845691', '854311', '901042') and weight > 0
        order by 1
        """
    ).fetchall()
    assert rows == [("845691", "848620", 1.0), ("854311", "848620", 1.0), ("901042", "848620", 1.0)]


def test_hs2002_ics_split_over_854231_39_with_trade_weights(con: duckdb.DuckDBPyConnection) -> None:
    # GIVEN HS2002 854221 (digital monolithic ICs), split by HS2007 into 854231…854239
    rows = con.execute(
        """
        select target_hs6, weight, weight_method
        from main_intermediate.int_hs__split_weights
        where target_version = 'H3' and hs_version = 'H2' and hs6 = '854221'
        order by 1
        """
    ).fetchall()
    # THEN the shares follow the values reported under HS2007 codes (in the sample's HS2007 years)
    h3 = dict(
        con.execute(
            "select hs6, sum(abs(value_usd)) from fct_trade_flows where hs_version = 'H3' and not is_aggregate "
            "and hs6 in ('854231', '854232', '854233', '854239') group by 1"
        ).fetchall()
    )
    total = sum(h3.values())
    assert [r[0] for r in rows] == ["854231", "854232", "854233", "854239"]
    assert {r[2] for r in rows} == {"trade"}
    for code, weight, _ in rows:
        assert weight == pytest.approx(h3[code] / total, rel=1e-9)


def test_hs2017_854140_split_by_hs2022(con: duckdb.DuckDBPyConnection) -> None:
    # GIVEN HS2017 854140 (photosensitive devices, LEDs), which HS2022 split into 854141…854149
    rows = con.execute(
        "select target_hs6, relationship, is_principal from main_intermediate.int_hs__code_map "
        "where target_version = 'H6' and hs_version = 'H5' and hs6 = '854140' order by 1"
    ).fetchall()
    targets = [r[0] for r in rows]
    # THEN its HS2022 codes in heading 8541 are the four new subheadings (UNSD also links the e-waste
    # heading 8549 created in HS2022), the code splits, and 854141 is the principal code
    assert [t for t in targets if t.startswith("8541")] == ["854141", "854142", "854143", "854149"]
    assert {r[1] for r in rows} <= {"1:n", "n:n"}
    assert [r[0] for r in rows if r[2]] == ["854141"]
    fact = con.execute(
        "select distinct hs6_2022, hs2022_n_codes from fct_trade_flows where hs_version = 'H5' and hs6 = '854140'"
    ).fetchall()
    assert fact == [("854141", len(targets))]
    # AND in the HS2022 mart the sample's value lands on the codes traded under HS2022 (854141, 854149)
    shares = dict(
        con.execute(
            "select hs6_2022, sum(hs2022_weight) > 0 from fct_trade_flows_hs2022 where reported_hs6 = '854140' "
            "and reported_hs_version = 'H5' group by 1"
        ).fetchall()
    )
    assert set(shares) == {"854141", "854149"}


def test_hs2017_300219_reaches_hs2022_through_its_subheading(con: duckdb.DuckDBPyConnection) -> None:
    # GIVEN HS2017 300219, which UNSD's HS2022→HS2017 table does not list (issue #13)
    rows = con.execute(
        "select target_hs6, weight, weight_method, reached_share from main_intermediate.int_hs__split_weights "
        "where target_version = 'H6' and hs_version = 'H5' and hs6 = '300219' order by 1"
    ).fetchall()
    # THEN it maps to the HS2022 subheading 3002.1, and the weights sum to 1
    assert [r[0] for r in rows] == ["300212", "300213", "300214", "300215"]
    assert sum(r[1] for r in rows) == pytest.approx(1.0, abs=1e-12)
    assert all(r[3] == pytest.approx(1.0) for r in rows)
    # AND the weights follow the values reported under those HS2022 codes, or equal shares when none
    traded = dict(
        con.execute(
            "select hs6, sum(abs(value_usd)) from fct_trade_flows where hs_version = 'H6' and not is_aggregate "
            "and hs6 in ('300212', '300213', '300214', '300215') group by 1"
        ).fetchall()
    )
    total = sum(traded.values())
    expected = {
        c: (traded.get(c, 0) / total if total else 0.25) for c in ("300212", "300213", "300214", "300215")
    }
    assert {r[0]: r[1] for r in rows} == pytest.approx(expected, rel=1e-9)
    assert {r[2] for r in rows} == {"trade" if total else "equal"}
    # AND the code map calls it a split with 300212 as the principal code, not unmapped
    mapped = con.execute(
        "select distinct relationship, bool_or(is_principal and target_hs6 = '300212') from main_intermediate.int_hs__code_map "
        "where target_version = 'H6' and hs_version = 'H5' and hs6 = '300219' group by 1"
    ).fetchall()
    assert mapped in ([("1:n", True)], [("n:n", True)])


def test_every_listed_code_reaches_hs2022_or_is_deleted_in_the_warehouse(
    con: duckdb.DuckDBPyConnection,
) -> None:
    rows = con.execute(
        "select relationship, count(*) from (select distinct hs_version, hs6, relationship "
        "from main_intermediate.int_hs__code_map where target_version = 'H6') group by 1"
    ).fetchall()
    counts = dict(rows)
    assert "unmapped" not in counts
    assert counts["deleted"] == 4
    deleted = con.execute(
        "select hs_version, hs6, dead_ends from main_intermediate.int_hs__code_map "
        "where target_version = 'H6' and relationship = 'deleted' order by 1, 2"
    ).fetchall()
    assert deleted == [
        ("H0", "252700", "H1-252700"),
        ("H0", "850890", "H1-850890"),
        ("H1", "252700", "H1-252700"),
        ("H1", "850890", "H1-850890"),
    ]


def test_chained_hs2022_to_hs2007_links_equal_the_direct_unsd_table(con: duckdb.DuckDBPyConnection) -> None:
    # GIVEN the official direct HS2022→HS2007 correlation table (not used to build the models)
    path = SHARED / "hs_reference" / "unsd_correlation" / "HS2022toHS2007ConversionAndCorrelationTables.xlsx"
    sheet = openpyxl.load_workbook(path, read_only=True).worksheets[1]
    direct = {
        (str(a), str(b))
        for a, b, *_ in sheet.iter_rows(min_row=3, values_only=True)
        if a and str(a)[:4] in ("8486", "8541", "8542")
    }
    # WHEN we chain the adjacent-version links backwards from HS2022 to HS2007
    chained = set(
        con.execute(
            "select hs6, target_hs6 from main_intermediate.int_hs__code_map where target_version = 'H3' and hs_version = 'H6' "
            "and substr(hs6, 1, 4) in ('8486', '8541', '8542')"
        ).fetchall()
    )
    # THEN both give the same links
    assert len(direct) > 100
    assert chained == direct


def test_every_country_code_in_the_facts_resolves(con: duckdb.DuckDBPyConnection) -> None:
    missing = con.execute(
        """
        select distinct code from (
            select reporter_code as code from fct_trade_flows union all select partner_code from fct_trade_flows
        ) where code not in (select m49_code from dim_country)
        """
    ).fetchall()
    assert missing == []


def test_taiwan_codes_are_reconciled(con: duckdb.DuckDBPyConnection) -> None:
    rows = con.execute(
        "select m49_code, economy_iso2, economy_iso3, iso_numeric_code, trade_m49_code, region, is_nes_area "
        "from dim_country where m49_code in (?, ?) order by 1",
        [TAIWAN_ISO, TAIWAN_COMTRADE],
    ).fetchall()
    assert rows == [
        (158, "TW", "TWN", 158, 490, "East Asia", False),
        (490, "TW", "TWN", 158, 490, "East Asia", False),
    ]
    # AND Korea's imports from Taiwan are recorded under 490 in the facts
    assert (
        con.execute(
            "select count(*) from fct_trade_flows where partner_code = 490 and reporter_code = 410"
        ).fetchone()[0]
        > 0
    )
    assert con.execute("select count(*) from fct_trade_flows where partner_code = 158").fetchone()[0] == 0


def test_world_nes_regions_and_eu_membership(con: duckdb.DuckDBPyConnection) -> None:
    flags = dict(
        con.execute(
            "select m49_code, (is_world, is_nes_area) from dim_country where m49_code in (0, 899, 360, 608)"
        ).fetchall()
    )
    assert flags == {0: (True, False), 899: (False, True), 360: (False, False), 608: (False, False)}
    eu = dict(
        con.execute(
            "select iso3, (eu_join_year, eu_exit_year, is_eu27) from dim_country where m49_code in (251, 276, 826, 191)"
        ).fetchall()
    )
    assert eu == {
        "FRA": (1958, None, True),
        "DEU": (1958, None, True),
        "GBR": (1973, 2020, False),
        "HRV": (2013, None, True),
    }
    assert (
        con.execute("select count(distinct economy_iso3) from dim_country where is_eu27").fetchone()[0] == 27
    )
    east_asia = {
        r[0] for r in con.execute("select economy_iso3 from dim_country where is_east_asia").fetchall()
    }
    assert {"CHN", "JPN", "KOR", "TWN", "HKG"} <= east_asia
    asean = {r[0] for r in con.execute("select economy_iso3 from dim_country where is_asean").fetchall()}
    assert {"SGP", "MYS", "VNM", "THA"} <= asean and "JPN" not in asean


def test_every_mofa_iso2_code_resolves_to_a_comtrade_area(con: duckdb.DuckDBPyConnection) -> None:
    # GIVEN the ISO2 codes Korea Customs uses  THEN each names an economy in dim_country
    unresolved = con.execute(
        "select iso2 from main_reference.iso_country_codes where iso2 not in (select economy_iso2 from dim_country where economy_iso2 is not null)"
    ).fetchall()
    # (Kosovo, XK, has no area of its own in Comtrade's lists)
    assert unresolved == [("XK",)]


def test_dim_product_carries_the_hs2022_hierarchy(con: duckdb.DuckDBPyConnection) -> None:
    row = con.execute(
        "select hs4, hs4_description, hs2_description, hs6_2022, hs2022_description, segment "
        "from dim_product where product_key = 'H2-845691'"
    ).fetchone()
    assert row[0] == "8456" and row[3] == "848620" and row[5] == "equipment"
    assert "semiconductor" in row[4].lower() and row[2] is not None
    assert (
        con.execute(
            "select count(*) from dim_product where hs_version = 'H6' and hs6_2022 <> hs6"
        ).fetchone()[0]
        == 0
    )


def test_eu_membership_is_as_of_the_period(con: duckdb.DuckDBPyConnection) -> None:
    # GIVEN the membership years of the seed, applied independently of the mart to every fact row
    wrong = con.execute(
        """
        select f.partner_code, f.ref_year, f.is_partner_eu_member
        from fct_trade_flows as f
        left join dim_country as c on c.m49_code = f.partner_code
        left join main_reference.country_group_membership as g
            on g.group_code = 'EU' and g.iso3 = c.economy_iso3
        where f.is_partner_eu_member
            <> coalesce(f.ref_year >= g.join_year and (g.exit_year is null or f.ref_year < g.exit_year), false)
        """
    ).fetchall()
    # THEN the mart agrees on every row
    assert wrong == []
    # AND the sample's partners: Germany, the Netherlands, Belgium members in every year, Japan never
    members = dict(
        con.execute(
            "select partner_code, list(distinct is_partner_eu_member) from fct_trade_flows "
            "where partner_code in (276, 528, 56, 392) group by 1"
        ).fetchall()
    )
    assert members == {276: [True], 528: [True], 56: [True], 392: [False]}
    # AND the rule ends membership in the exit year: the United Kingdom (not a sample partner, so
    # checked on the seed the mart joins) is a member in 2019, not in 2020
    uk = con.execute(
        "select y, coalesce(y >= join_year and (exit_year is null or y < exit_year), false) "
        "from main_reference.country_group_membership, (values (2019), (2020)) as t(y) "
        "where group_code = 'EU' and iso3 = 'GBR' order by y"
    ).fetchall()
    assert uk == [(2019, True), (2020, False)]
    assert con.execute("select count(*) from fct_trade_flows where partner_code = 826").fetchone()[0] == 0
