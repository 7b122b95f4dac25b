"""`semitrade import`: real legacy and current Comtrade CSV files into the lake (ingest/comtrade/imports.py)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import polars as pl
import pytest

from ingest.comtrade import parse
from ingest.comtrade.import_formats import LEGACY_HEADER, ImportFormatError, convert
from ingest.comtrade.imports import import_file
from ingest.comtrade.schema import RENAME
from ingest.config import Paths, claim_home
from ingest.landing import land, read_manifest
from orchestration.cli import main

FIXTURES = Path(__file__).parents[2] / "fixtures" / "comtrade_import"
HF = FIXTURES / "hjk91_HF_281111_2014.csv"
MEMORY = FIXTURES / "hjk91_memory_854232_2014.csv"
BARBE_JSON = FIXTURES / "barbe_legacy_json_exports_world_2016_2017_head12.csv"
CURRENT = FIXTURES / "current_chn_2010_ind_2022.csv"
COMTRADR_JSON = Path(__file__).parents[2] / "fixtures" / "comtrade" / "data_v1_get_C_A_HS_chn_2010_total.json"
# A real HF row (Japan's 2014 exports to Korea), the base of the hand-made rows below.
JP_KR = HF.read_text(encoding="utf-8").splitlines()[8]


def _lake(store: Paths) -> pl.DataFrame:
    return pl.read_parquet(str(store.lake / "comtrade" / "records" / "**" / "*.parquet"))


def _pair(df: pl.DataFrame, reporter: int, partner: int, flow: str) -> tuple[float, float]:
    row = df.filter(reporter_code=reporter, partner_code=partner, flow_code=flow)
    assert row.height == 1
    return row["primary_value"].item(), row["net_wgt"].item()


def _legacy_csv(tmp_path: Path, *lines: str, name: str = "legacy.csv") -> Path:
    path = tmp_path / name
    path.write_text("\r\n".join([",".join(LEGACY_HEADER), *lines]), encoding="utf-8")
    return path


def _col(name: str) -> str:
    return {"code": "Commodity Code", "level": "Aggregate Level", "flow": "Trade Flow Code", "flag": "Flag"}[
        name
    ]


def _row(**cells: str) -> str:
    values = JP_KR.split(",")
    for key, value in cells.items():
        values[LEGACY_HEADER.index(_col(key))] = value
    return ",".join(values)


def test_legacy_hf_file_imports_with_its_real_totals(store: Paths) -> None:
    # GIVEN the real legacy Comtrade download of HS 281111 in 2014 (82 rows, 3 reporters)
    # WHEN it is imported
    entry, new, result = import_file(store, HF)
    # THEN every row is kept, split over the three reporters' annual 2014 partitions
    assert new and entry.origin == "imported"
    assert entry.params == {"format": "comtrade_legacy_csv", "file_name": HF.name}
    assert (result.rows_in, result.rows_kept, result.rows_quarantined) == (82, 82, 0)
    assert [f.parent.name for f in result.lake_files] == ["reporter=392", "reporter=410", "reporter=842"]
    assert {f.name for f in result.lake_files} == {f"vintage={entry.sha256[:16]}.parquet"}
    df = _lake(store)
    assert df.height == 82 and df["origin"].unique().to_list() == ["imported"]
    assert df["source_file"].unique().to_list() == [entry.path]
    assert sorted(df["source_row"].to_list()) == list(range(82))
    # AND the real mirror pair is there to the dollar and the kilogram
    assert _pair(df, 392, 410, "X") == (38_463_955, 25_305_924)
    assert _pair(df, 410, 392, "M") == (45_520_330, 31_051_183)
    # AND legacy codes became current ones: flows 1/2/3 → M/X/RX, unit 8 → kg, totals pinned like the API
    assert dict(df.group_by("flow_code").len().iter_rows()) == {"X": 48, "M": 30, "RX": 4}
    assert df.select("qty_unit_code", "qty_unit_abbr").unique().rows() == [(8, "kg")]
    assert df.select(
        "freq_code",
        "period",
        "ref_month",
        "partner2_code",
        "customs_code",
        "mot_code",
        "classification_code",
        "cmd_code",
    ).unique().rows() == [("A", "2014", 52, 0, "C00", 0, "H4", "281111")]
    world = df.filter(reporter_code=392, partner_code=0, flow_code="X")
    assert world.select(
        "is_aggregate", "legacy_estimation_flag", "is_qty_estimated", "is_net_wgt_estimated"
    ).row(0) == (True, 6, True, True)
    assert df.filter(partner_code=0).height == 7 and df.filter(pl.col("is_aggregate")).height == 7


def test_legacy_memory_file_maps_no_quantity_and_flag_4(store: Paths) -> None:
    _entry, _new, result = import_file(store, MEMORY)
    assert (result.rows_in, result.rows_kept, result.rows_quarantined) == (367, 367, 0)
    df = _lake(store)
    assert df.height == 367
    assert (
        df.filter(reporter_code=392, partner_code=410, flow_code="X")["primary_value"].item() == 298_081_902
    )
    assert (
        df.filter(reporter_code=410, partner_code=392, flow_code="M")["primary_value"].item() == 949_455_658
    )
    # legacy unit 1 "No Quantity" → current -1 N/A (qty empty stays null); 5 "Number of items" → 5 u
    assert dict(df.group_by("qty_unit_code").len().iter_rows()) == {-1: 290, 5: 77}
    assert df.filter(qty_unit_code=-1)["qty"].null_count() == 290
    flag4 = df.filter(legacy_estimation_flag=4)
    assert flag4.height == 301
    assert flag4.select("is_qty_estimated", "is_net_wgt_estimated").unique().rows() == [(False, True)]


@pytest.mark.parametrize(
    ("cells", "expected"),
    [
        ({"code": "10121"}, {"cmdCode": "010121", "aggrLevel": 6}),
        ({"code": "101", "level": "4"}, {"cmdCode": "0101", "aggrLevel": 4}),
        ({"code": "2811", "level": "4"}, {"cmdCode": "2811"}),
        ({"flow": "1"}, {"flowCode": "M", "flowDesc": "Import"}),
        ({"flow": "3"}, {"flowCode": "RX", "flowDesc": "Re-export"}),
        ({"flow": "4"}, {"flowCode": "RM", "flowDesc": "Re-import"}),
        ({"flag": "0"}, {"isQtyEstimated": False, "isNetWgtEstimated": False, "legacyEstimationFlag": 0}),
        ({"flag": "2"}, {"isQtyEstimated": True, "isNetWgtEstimated": False, "legacyEstimationFlag": 2}),
        ({"flag": "4"}, {"isQtyEstimated": False, "isNetWgtEstimated": True, "legacyEstimationFlag": 4}),
        ({"flag": "6"}, {"isQtyEstimated": True, "isNetWgtEstimated": True, "legacyEstimationFlag": 6}),
        ({"flag": ""}, {"isQtyEstimated": None, "isNetWgtEstimated": None, "legacyEstimationFlag": None}),
    ],
    ids=[
        "pad-hs6",
        "pad-hs4",
        "hs4",
        "flow-1-M",
        "flow-3-RX",
        "flow-4-RM",
        "flag-0",
        "flag-2",
        "flag-4",
        "flag-6",
        "flag-blank",
    ],
)
def test_legacy_row_mapping(cells: dict[str, str], expected: dict[str, object]) -> None:
    content = "\r\n".join([",".join(LEGACY_HEADER), _row(**cells)]).encode()
    converted = convert(content, "x.csv")
    assert converted.failures == []
    rec = converted.records[0][1]
    assert {k: rec[k] for k in expected} == expected
    assert parse.validate_record(rec) is None


def test_monthly_legacy_period_and_zero_value(tmp_path: Path) -> None:
    values = JP_KR.split(",")
    values[LEGACY_HEADER.index("Period")] = "201407"
    values[LEGACY_HEADER.index("Trade Value (US$)")] = "0"
    rec = convert("\n".join([",".join(LEGACY_HEADER), ",".join(values)]).encode(), "m.csv").records[0][1]
    assert (rec["freqCode"], rec["period"], rec["refYear"], rec["refMonth"], rec["refPeriodId"]) == (
        "M",
        "201407",
        2014,
        7,
        20140701,
    )
    assert rec["primaryValue"] == 0.0  # a value reported as zero is data


def test_current_format_csv_matches_the_json_path(store: Paths, tmp_path: Path) -> None:
    # GIVEN a current-format CSV of real API rows, and the same China rows parsed from the recorded JSON
    _entry, _new, result = import_file(store, CURRENT)
    assert (result.rows_in, result.rows_kept, result.rows_quarantined) == (5, 5, 0)
    assert [
        f.parent.relative_to(store.lake / "comtrade" / "records").as_posix() for f in result.lake_files
    ] == ["freq=A/year=2010/reporter=156", "freq=A/year=2022/reporter=699"]
    imported = _lake(store).sort("source_row")
    json_home = Paths(tmp_path / "json_home")
    entry, _ = land(
        json_home,
        source="comtrade",
        dataset="records",
        partition="freq=A/year=2010/reporter=156",
        stem="get",
        content=COMTRADR_JSON.read_bytes(),
        params={},
        origin="live",
    )
    parse.parse_landed(json_home, entry)
    from_json = _lake(json_home).sort("source_row")
    # THEN the 47 record columns are identical, row for row
    cols = list(RENAME.values())
    assert imported.head(4).select(cols).equals(from_json.select(cols))
    india = imported.filter(reporter_code=699).row(0, named=True)
    assert (india["is_aggregate"], india["qty"], india["net_wgt"], india["fob_value"]) == (
        True,
        0.0,
        0.0,
        452684213646.747,
    )


def test_legacy_json_api_csv_variant(store: Paths) -> None:
    _entry, _new, result = import_file(store, BARBE_JSON)
    assert (result.rows_in, result.rows_kept, result.rows_quarantined) == (12, 12, 0)
    df = _lake(store)
    first = df.filter(source_row=0).row(0, named=True)  # "1","H5","2017",2017-01-01,... Albania 848071
    assert (
        first["freq_code"],
        first["period"],
        first["reporter_code"],
        first["flow_code"],
        first["cmd_code"],
        first["primary_value"],
        first["net_wgt"],
        first["qty"],
        first["cif_value"],
    ) == ("A", "2017", 8, "X", "848071", 77377.0, 3279.0, 3279.0, None)


def test_bad_rows_are_quarantined_with_line_and_reason(store: Paths, tmp_path: Path) -> None:
    # GIVEN a legacy file with a good row, a truncated row, a non-numeric value, a contract breach and a repeat
    truncated = ",".join(JP_KR.split(",")[:20])
    letters = JP_KR.replace("38463955", "3.8e7x")
    hs = _row(flow="1").replace("H4,", "HS,", 1)
    src = _legacy_csv(tmp_path, JP_KR, truncated, letters, hs, "", JP_KR)
    # WHEN it is imported
    _entry, _new, result = import_file(store, src)
    # THEN rows in = kept + quarantined (the blank line is no row), and each reject names its line
    assert (result.rows_in, result.rows_kept, result.rows_quarantined) == (5, 1, 4)
    q = pl.read_parquet(result.quarantine_file).sort("source_row")
    assert q["reason"].to_list() == [
        "line 3: 20 cells, 35 expected (truncated row?)",
        "line 4: Trade Value (US$) '3.8e7x' is not a number",
        "line 5: classificationCode 'HS' is not one of H0, H1, H2, H3, H4, H5, H6",
        "line 7: duplicate key of row 0 (freqCode=A, period=2014, reporterCode=392, partnerCode=410, partner2Code=0, "
        "flowCode=X, classificationCode=H4, cmdCode=281111, customsCode=C00, motCode=0)",
    ]
    assert q["raw"].to_list() == [truncated, letters, hs, JP_KR]
    assert q["source_row"].to_list() == [1, 2, 3, 4]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            b"a,b,c\n1,2,3\n",
            "line 1: unsupported format: the header 'a,b,c' is not that of a legacy Comtrade CSV",
        ),
        (
            ",".join(LEGACY_HEADER[:-1]).encode() + b"\n",
            "line 1: the header looks like a legacy Comtrade CSV "
            "(35 columns Classification,Year,Period,...,Flag) but missing Flag",
        ),
        (
            b"typeCode,freqCode,period\n",
            "line 1: the header looks like a current Comtrade CSV (the 47 API fields "
            "typeCode,...,isAggregate) but missing refPeriodId, refYear",
        ),
        (b"", "empty file (no header line)"),
        (b"\x00\x01PK", "binary file (NUL bytes), not a CSV text file"),
    ],
    ids=["unknown-header", "legacy-missing-column", "current-missing-fields", "empty", "binary"],
)
def test_unusable_files_are_refused_before_landing(
    store: Paths, tmp_path: Path, content: bytes, message: str
) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_bytes(content)
    with pytest.raises(ImportFormatError) as info:
        import_file(store, bad)
    assert str(info.value).startswith(f"{bad}: {message}")
    assert list(read_manifest(store)) == []


def test_reimport_lands_nothing_new_and_reparse_from_landing_restores_the_lake(
    store: Paths, tmp_path: Path
) -> None:
    entry, _new, first = import_file(store, HF)
    before = {f: f.stat().st_mtime_ns for f in first.lake_files}
    # WHEN the same bytes are imported again, even under another name
    renamed = tmp_path / "copy.csv"
    shutil.copyfile(HF, renamed)
    again, new, second = import_file(store, renamed)
    # THEN nothing is landed or written; the manifest keeps the first import
    assert not new and second.skipped and again == entry
    assert len(list(read_manifest(store))) == 1
    assert {f: f.stat().st_mtime_ns for f in second.lake_files} == before
    # AND a lake rebuilt from landing (as the lake asset does, entry by entry) holds the same rows
    expected = _lake(store).sort("source_row")
    shutil.rmtree(store.lake / "comtrade")
    results = [
        parse.parse_landed(store, e) for e in read_manifest(store, source="comtrade", dataset="records")
    ]
    assert [r.rows_kept for r in results] == [82]
    assert _lake(store).sort("source_row").equals(expected)


def test_cli_imports_and_says_what_it_did(store: Paths, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["import", str(HF), str(MEMORY)]) == 0
    out = capsys.readouterr().out
    assert (
        f"{HF}: comtrade_legacy_csv, landed as landing/comtrade/records/imported/comtrade_legacy_csv__" in out
    )
    assert "rows: 82 in = 82 kept + 0 quarantined; 3 lake partition(s)" in out
    assert "rows: 367 in = 367 kept + 0 quarantined; 3 lake partition(s)" in out
    assert "    comtrade/records/freq=A/year=2014/reporter=410" in out
    assert out.rstrip().endswith("next: `semitrade build` rebuilds and publishes the warehouse from the lake")
    assert _lake(store).height == 82 + 367
    assert main(["import", str(HF)]) == 0
    assert "already imported (identical bytes), nothing new landed" in capsys.readouterr().out


def test_cli_refuses_a_bad_file_but_imports_the_others(
    store: Paths, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "notes.csv"
    bad.write_text("hello,world\n", encoding="utf-8")
    assert main(["import", str(bad), str(HF)]) == 1
    captured = capsys.readouterr()
    assert f"REFUSED {bad}: line 1: unsupported format" in captured.out
    assert "rows: 82 in = 82 kept + 0 quarantined" in captured.out
    assert captured.err.startswith(
        "semitrade import: error: 1 of 2 file(s) refused, nothing of them landed: "
    )
    assert [e.params["file_name"] for e in read_manifest(store)] == [HF.name]


def test_cli_refuses_a_sample_home(store: Paths, capsys: pytest.CaptureFixture[str]) -> None:
    claim_home(store, "sample")
    assert main(["import", str(HF)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("semitrade import: error: the data home") and "SYNTHETIC offline sample" in err
    assert not store.landing.exists() or list(read_manifest(store)) == []
    assert json.loads((store.home / ".semitrade-home.json").read_text())["kind"] == "sample"


def test_landed_import_with_an_unknown_format_is_quarantined_whole(store: Paths) -> None:
    # GIVEN an imported landing entry whose recorded format the parser does not know
    entry, _ = land(
        store,
        source="comtrade",
        dataset="records",
        partition="imported",
        stem="odd",
        content=HF.read_bytes(),
        params={"format": "bogus", "file_name": HF.name},
        origin="imported",
        suffix=".csv",
    )
    # WHEN the lake asset re-parses it
    result = parse.parse_landed(store, entry)
    # THEN the whole file is one quarantined row (position -1) with the reason, and no lake file
    assert (result.rows_in, result.rows_kept, result.rows_quarantined, result.lake_files) == (1, 0, 1, ())
    q = pl.read_parquet(result.quarantine_file)
    assert q.select("source_row", "reason").rows() == [
        (-1, f"{entry.path}: the manifest names no known import format ('bogus')")
    ]


def test_retired_legacy_area_codes_map_through_their_iso3() -> None:
    # GIVEN the real HF file, whose Italy rows carry the legacy code 381 (today's Comtrade list has 380)
    converted = convert(HF.read_bytes(), HF.name)
    italy = [rec for _pos, rec in converted.records if rec["partnerISO"] == "ITA"]
    # THEN every Italy row is partner 380, and no row keeps a code the current list lacks
    assert len(italy) == 2 and {rec["partnerCode"] for rec in italy} == {380}
    assert 381 not in {rec["partnerCode"] for _pos, rec in converted.records}
