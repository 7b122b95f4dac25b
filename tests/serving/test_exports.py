"""`semitrade export`: published marts → Parquet, CSV, Stata, Excel with labels and a codebook; clear errors."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd
import polars as pl
import pyarrow.parquet as pq
import pytest

from ingest.config import Paths
from orchestration.cli import main as cli_main
from serving.catalog import unit_for
from serving.errors import ExportError
from serving.exports import export_table, stata_names
from serving.filters import parse_filters


@pytest.fixture
def home(published_home: Paths, monkeypatch: pytest.MonkeyPatch) -> Paths:
    """The shared published warehouse as the current SEMITRADE_HOME (read-only use)."""
    monkeypatch.setenv("SEMITRADE_HOME", str(published_home.home))
    return published_home


def _query(store: Paths, sql: str, params: list[object] | None = None) -> list[tuple[object, ...]]:
    with duckdb.connect(str(store.serving_db), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


def test_stata_export_carries_dbt_descriptions_as_variable_labels(
    home: Paths, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # GIVEN the published warehouse built from the SYNTHETIC sample
    out = tmp_path / "flows.dta"
    # WHEN an economist exports the fact table to Stata through the command line
    assert cli_main(["export", "fct_trade_flows", "--format", "dta", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    # THEN the file opens in pandas with the dbt column descriptions as variable labels
    with pd.read_stata(out, iterator=True) as reader:
        labels = reader.variable_labels()
    assert labels["value_usd"] == "Trade value in US dollars as reported (CIF for imports, FOB for exports)."
    assert labels["net_weight_kg"] == "Net weight in kilograms; null when not reported."
    assert labels["ref_year"].startswith("Reference year.")
    assert all(0 < len(label) <= 80 for label in labels.values())
    assert all(len(name) <= 32 for name in labels)
    # AND it holds every row with the same totals as the warehouse
    frame = pd.read_stata(out)
    n, total = _query(home, "select count(*), sum(value_usd) from fct_trade_flows")[0]
    assert len(frame) == n > 10_000
    assert frame["value_usd"].sum() == pytest.approx(total, rel=1e-9)
    assert set(frame["origin"]) == {"sample"}
    # AND a codebook beside it warns that the data is synthetic and counts non-null values per column
    book = (tmp_path / "flows.dta.codebook.md").read_text()
    assert "SYNTHETIC SAMPLE" in book and "NOT published statistics" in book
    non_null_months = _query(home, "select count(ref_month) from fct_trade_flows")[0][0]
    assert (
        f"| ref_month | ref_month | Reference month (1–12); null for annual rows. | INTEGER | month (1–12) | {non_null_months} |"
        in book
    )
    assert "| value_usd | value_usd | Trade value in US dollars" in book and "| US dollars |" in book
    assert f"wrote {n:,} rows of fct_trade_flows" in printed and "WARNING: SYNTHETIC SAMPLE" in printed


def test_friendly_filters_match_the_equivalent_sql(home: Paths, tmp_path: Path) -> None:
    # GIVEN filters by ISO3 code, segment, a year range and a flow alias
    where = [
        "reporter=KOR",
        "partner=JPN",
        "segment=materials",
        "year=2018..2019",
        "flow=import",
        "freq=monthly",
    ]
    # WHEN exported to CSV
    result = export_table("fct_trade_flows", tmp_path / "kor_jpn.csv", where=where)
    got = pl.read_csv(result.path, schema_overrides={"period_key": pl.String, "hs6": pl.String})
    # THEN the rows are exactly those of the hand-written query, and the values bound as parameters
    expected = _query(
        home,
        "select count(*), sum(value_usd) from fct_trade_flows where reporter_code = 410 and partner_code = 392 "
        "and segment = 'materials' and ref_year between 2018 and 2019 and flow_code = 'M' and freq_code = 'M'",
    )[0]
    assert got.height == result.rows == expected[0] > 0
    assert got["value_usd"].sum() == pytest.approx(expected[1], rel=1e-9)
    assert set(got["reporter_code"]) == {410} and set(got["partner_code"]) == {392}
    assert set(got["period_key"].str.slice(0, 4)) == {"2018", "2019"}
    assert result.params == [410, 392, "materials", 2018, 2019, "M", "M"]
    assert "KOR" not in result.sql and "materials" not in result.sql
    # AND an M49 code, a list and repeated keys select the same rows
    same = export_table(
        "fct_trade_flows",
        tmp_path / "same.csv",
        where=[
            "reporter=410",
            "partner=392",
            "segment=materials",
            "year=2018",
            "year=2019",
            "flow=M",
            "freq=M",
        ],
    )
    assert same.rows == result.rows


def test_parquet_round_trip_keeps_types_and_labels(home: Paths, tmp_path: Path) -> None:
    # GIVEN Korea's monthly hydrogen fluoride imports
    where = ["reporter=KOR", "hs6=281111", "flow=M", "freq=M"]
    # WHEN exported to Parquet
    result = export_table("fct_trade_flows", tmp_path / "hf.parquet", fmt="parquet", where=where)
    # THEN the file equals the warehouse rows, with types preserved and descriptions as field metadata
    got = pl.read_parquet(result.path).sort("trade_flow_key")
    rows = _query(
        home,
        "select trade_flow_key, value_usd, ref_month from fct_trade_flows where reporter_code = 410 "
        "and hs6 = '281111' and flow_code = 'M' and freq_code = 'M' order by trade_flow_key",
    )
    assert got.select("trade_flow_key", "value_usd", "ref_month").rows() == rows
    assert got.schema["value_usd"] == pl.Float64 and got.schema["is_aggregate"] == pl.Boolean
    schema = pq.read_schema(result.path)
    assert schema.field("value_usd").metadata[b"unit"] == b"US dollars"
    assert schema.field("net_weight_kg").metadata[b"description"].startswith(b"Net weight in kilograms")
    assert schema.metadata[b"description"].startswith(b"Bilateral trade in goods")
    assert schema.metadata[b"origin"] == b"sample"


def test_excel_round_trip_with_a_codebook_sheet(home: Paths, tmp_path: Path) -> None:
    # GIVEN the flow dimension (a small, non-synthetic reference mart)
    out = tmp_path / "flows.xlsx"
    # WHEN exported to Excel, the format taken from the suffix
    assert cli_main(["export", "dim_flow", "--out", str(out)]) == 0
    # THEN the data sheet equals the table and the codebook sheet lists every column with its label
    sheets = pd.read_excel(out, sheet_name=None)
    expected = _query(home, "select flow_code, flow_desc, direction from dim_flow order by flow_code")
    data = sheets["data"].sort_values("flow_code")
    assert [tuple(None if pd.isna(v) else v for v in row) for row in data.itertuples(index=False)] == expected
    codebook = sheets["codebook"]
    assert "flow_code" in codebook.to_string() and "Flow code." in codebook.to_string()
    book = (tmp_path / "flows.xlsx.codebook.md").read_text()
    assert "SYNTHETIC" not in book and "| flow_code | Flow code. | VARCHAR |  | 10 |" in book


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(
            ["stg_comtrade__records", "--out", "x.csv"],
            "unknown table 'stg_comtrade__records': only published marts",
            id="staging-view",
        ),
        pytest.param(["hs6_codes", "--out", "x.csv"], "unknown table 'hs6_codes'", id="seed-not-a-mart"),
        pytest.param(
            ["fct_trade_flows; drop table dim_flow", "--out", "x.csv"], "unknown table", id="injected-name"
        ),
        pytest.param(
            ["fct_trade_flows", "--out", "x.csv", "--where", "colour=red"],
            "unknown key 'colour'",
            id="unknown-key",
        ),
        pytest.param(
            ["fct_trade_flows", "--out", "x.csv", "--where", "reporter"],
            "bad filter 'reporter': write key=value",
            id="no-equals",
        ),
        pytest.param(
            ["fct_trade_flows", "--out", "x.csv", "--where", "reporter=XYZ"],
            "no country with ISO3 code XYZ",
            id="unknown-iso3",
        ),
        pytest.param(
            ["fct_trade_flows", "--out", "x.csv", "--where", "reporter=KOR' or 1=1 --"],
            "give an ISO3 code",
            id="injected-value",
        ),
        pytest.param(
            ["fct_trade_flows", "--out", "x.csv", "--where", "year=2020..2018"],
            "runs backwards",
            id="backwards-range",
        ),
        pytest.param(
            ["fct_trade_flows", "--out", "x.csv", "--where", "year=last"],
            "'last' is not a year",
            id="bad-year",
        ),
        pytest.param(
            ["fct_trade_flows", "--out", "x.csv", "--where", "hs6=2811"], "six-digit HS codes", id="bad-hs6"
        ),
        pytest.param(
            ["fct_trade_flows", "--out", "x.csv", "--where", "segment=food"],
            "unknown segment 'food'",
            id="bad-segment",
        ),
        pytest.param(
            ["dim_flow", "--out", "x.csv", "--where", "reporter=KOR"],
            "table dim_flow has no reporter column",
            id="key-not-in-table",
        ),
        pytest.param(
            ["dim_flow", "--format", "dta", "--out", "x.csv"],
            "--format dta does not match the file name x.csv",
            id="format-mismatch",
        ),
        pytest.param(["dim_flow", "--out", "x.txt"], "cannot tell the format", id="unknown-suffix"),
    ],
)
def test_bad_requests_fail_with_a_clear_message(
    home: Paths,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    args: list[str],
    message: str,
) -> None:
    # GIVEN a bad table, filter or format  WHEN exporting  THEN exit status 1, one clear line, no file
    monkeypatch.chdir(tmp_path)
    assert cli_main(["export", *args]) == 1
    err = capsys.readouterr().err
    assert err.startswith("semitrade export: error: ") and message in err
    assert list(tmp_path.iterdir()) == []


def test_unwritable_paths_fail_with_a_clear_message(home: Paths, tmp_path: Path) -> None:
    # GIVEN a path below a regular file, and a path that is a directory
    blocker = tmp_path / "a_file"
    blocker.write_text("not a directory")
    # WHEN exporting THEN the error names the problem
    with pytest.raises(ExportError, match="a_file is a file, not a directory"):
        export_table("dim_flow", blocker / "out" / "flows.csv")
    with pytest.raises(ExportError, match="it is a directory"):
        export_table("dim_flow", tmp_path, fmt="csv")
    # AND a read-only file system location is reported, not a traceback
    with pytest.raises(ExportError, match="cannot write /proc/flows.csv"):
        export_table("dim_flow", Path("/proc/flows.csv"))


def test_bound_parameters_make_quotes_harmless(home: Paths, tmp_path: Path) -> None:
    # GIVEN a generic column filter whose value tries to close the string
    # WHEN exported THEN no row matches (the value was compared, not executed)
    result = export_table("fct_trade_flows", tmp_path / "none.csv", where=["hs_version=H5' or '1'='1"])
    assert result.rows == 0
    assert export_table("fct_trade_flows", tmp_path / "h5.csv", where=["hs_version=H5"]).rows > 0


def test_missing_warehouse_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ExportError, match="no published warehouse at .*run `semitrade run` first"):
        export_table("fct_trade_flows", tmp_path / "x.csv", warehouse=tmp_path / "nope.duckdb")


@pytest.mark.parametrize(
    ("column", "unit"),
    [("value_usd", "US dollars"), ("net_weight_kg", "kilograms"), ("ref_month", "month (1–12)"), ("hs6", "")],
    ids=["usd", "kg", "month", "none"],
)
def test_units_come_from_column_names(column: str, unit: str) -> None:
    assert unit_for(column) == unit


def test_stata_names_are_short_unique_and_valid() -> None:
    long = "share_of_korea_imports_from_japan_in_world_total"
    names = stata_names([long, long + "_x", "2019_value", "ok"])
    assert names == {
        long: long[:32],
        long + "_x": long[:30] + "_2",
        "2019_value": "_2019_value",
        "ok": "ok",
    }


def test_filters_parse_case_insensitive_keys() -> None:
    assert [(f.key, f.value) for f in parse_filters(["Reporter=KOR", " year = 2018..2020 "])] == [
        ("reporter", "KOR"),
        ("year", "2018..2020"),
    ]


def test_indicator_marts_export_with_friendly_keys_and_the_synthetic_warning(
    home: Paths, tmp_path: Path
) -> None:
    # GIVEN the 2019 export-control supplier mart (built by dbt from the SYNTHETIC sample)
    published = _query(
        home, "select count(*) from duckdb_tables() where table_name = 'fct_export_control_2019_suppliers'"
    )[0][0]
    assert published == 1, "fct_export_control_2019_suppliers is not published in the shared warehouse"
    # WHEN exporting China's rows with the friendly supplier key
    result = export_table("fct_export_control_2019_suppliers", tmp_path / "china.csv", where=["supplier=CHN"])
    # THEN only China's rows come out, all of them, and the codebook warns that they are synthetic
    got = pl.read_csv(result.path)
    expected = _query(
        home, "select count(*) from fct_export_control_2019_suppliers where supplier_code = 156"
    )[0][0]
    assert got.height == expected > 0 and set(got["supplier_code"]) == {156}
    assert "SYNTHETIC SAMPLE" in result.codebook.read_text()


def test_stata_export_of_dates_and_nullable_flags(home: Paths, tmp_path: Path) -> None:
    # GIVEN the period dimension (dates, booleans) and the country dimension (flags that may be null)
    # WHEN both are exported to Stata
    periods = export_table("dim_period", tmp_path / "periods.dta")
    countries = export_table("dim_country", tmp_path / "countries.dta")
    # THEN dates arrive as dates, flags as 0/1, and every row is there
    frame = pd.read_stata(periods.path)
    july = frame.loc[frame["period_key"] == "201907"].iloc[0]
    assert july["period_start"] == pd.Timestamp("2019-07-01") and july["is_after_2019_export_control"] == 1
    assert len(frame) == periods.rows == _query(home, "select count(*) from dim_period")[0][0]
    assert (
        len(pd.read_stata(countries.path))
        == countries.rows
        == _query(home, "select count(*) from dim_country")[0][0]
    )
