"""The offline sample: byte-compatible with the real Comtrade response, deterministic, and telling the 2019 story."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ingest.comtrade import sample
from ingest.comtrade.schema import API_FIELDS
from ingest.landing import read_manifest


@pytest.fixture(scope="module")
def generator() -> sample.SampleGenerator:
    return sample.SampleGenerator()


@pytest.fixture(scope="module")
def kor_2019(generator: sample.SampleGenerator) -> dict:
    return json.loads(generator.response(410, "M", 2019).content)


def _json_type(value: object) -> str:
    return {bool: "bool", int: "int", float: "float", str: "str", type(None): "null"}[type(value)]


def test_envelope_and_fields_match_the_real_recording(kor_2019: dict, fixtures_dir: Path) -> None:
    # GIVEN the real recorded response and a generated one
    real = json.loads((fixtures_dir / "comtrade" / "data_v1_get_C_A_HS_chn_2010_total.json").read_bytes())
    # THEN the envelope keys, record keys and their order are the same
    assert list(kor_2019) == list(real) == ["elapsedTime", "count", "data", "error"]
    assert kor_2019["count"] == len(kor_2019["data"]) > 100
    assert kor_2019["error"] == ""
    record = kor_2019["data"][0]
    assert list(record) == list(real["data"][0]) == list(API_FIELDS)
    assert "cifvalue" in record and "fobvalue" in record
    # AND every non-null field has the JSON type the real API sends
    real_types = {k: _json_type(v) for k, v in real["data"][0].items() if v is not None}
    for rec in kor_2019["data"][:200]:
        for key, kind in real_types.items():
            if rec[key] is not None and key not in ("cmdCode",):
                assert _json_type(rec[key]) == kind, (key, rec[key])
    assert isinstance(record["period"], str) and isinstance(record["mosCode"], str)


def test_generation_is_deterministic(generator: sample.SampleGenerator) -> None:
    again = sample.SampleGenerator()
    assert generator.response(392, "A", 2008).content == again.response(392, "A", 2008).content
    assert generator.response(392, "A", 2008).content != generator.response(392, "A", 2009).content


@pytest.mark.parametrize(
    ("year", "version"),
    [
        (2005, "H2"),
        (2006, "H2"),
        (2007, "H3"),
        (2011, "H3"),
        (2012, "H4"),
        (2016, "H4"),
        (2017, "H5"),
        (2021, "H5"),
        (2022, "H6"),
        (2024, "H6"),
    ],
    ids=lambda v: str(v),
)
def test_reporters_use_the_hs_version_of_the_year(
    generator: sample.SampleGenerator, year: int, version: str
) -> None:
    body = json.loads(generator.response(410, "A", year).content)
    assert {r["classificationCode"] for r in body["data"]} == {version}


def test_codes_cross_the_real_hs2007_break(generator: sample.SampleGenerator) -> None:
    codes_2006 = {r["cmdCode"] for r in json.loads(generator.response(410, "A", 2006).content)["data"]}
    codes_2007 = {r["cmdCode"] for r in json.loads(generator.response(410, "A", 2007).content)["data"]}
    assert "854232" not in codes_2006 and "854221" in codes_2006  # memories reported as digital ICs
    assert "854232" in codes_2007 and "854221" not in codes_2007
    assert "848620" not in codes_2006 and "845691" in codes_2006  # heading 8486 did not exist


def _kor_imports(body: dict, partner: int, cmd: str) -> dict[str, float]:
    return {
        r["period"]: r["primaryValue"]
        for r in body["data"]
        if r["flowCode"] == "M" and r["partnerCode"] == partner and r["cmdCode"] == cmd
    }


def test_hydrogen_fluoride_from_japan_collapses_from_july_2019(kor_2019: dict) -> None:
    hf = _kor_imports(kor_2019, 392, "281111")
    first_half = sum(hf[f"2019{m:02d}"] for m in range(1, 7)) / 6
    second_half = sum(hf[f"2019{m:02d}"] for m in range(7, 13)) / 6
    assert 3e6 < first_half < 12e6  # plausible: a few million dollars a month
    assert second_half < 0.2 * first_half


def test_korea_sources_more_hydrogen_fluoride_elsewhere_after_2019(generator: sample.SampleGenerator) -> None:
    before = json.loads(generator.response(410, "A", 2018).content)
    after = json.loads(generator.response(410, "A", 2020).content)
    others_before = sum(_kor_imports(before, p, "281111").get("2018", 0.0) for p in (156, 490))
    others_after = sum(_kor_imports(after, p, "281111").get("2020", 0.0) for p in (156, 490))
    assert others_after > 1.3 * others_before


def test_mirror_reports_disagree_like_cif_and_fob(generator: sample.SampleGenerator) -> None:
    kor = json.loads(generator.response(410, "A", 2018).content)["data"]
    jpn = json.loads(generator.response(392, "A", 2018).content)["data"]
    kor_m = {r["cmdCode"]: r["cifvalue"] for r in kor if r["flowCode"] == "M" and r["partnerCode"] == 392}
    jpn_x = {r["cmdCode"]: r["fobvalue"] for r in jpn if r["flowCode"] == "X" and r["partnerCode"] == 410}
    common = sorted(set(kor_m) & set(jpn_x))
    assert len(common) >= 10
    ratios = [kor_m[c] / jpn_x[c] for c in common]
    assert all(r != 1.0 for r in ratios)
    assert 1.0 < sorted(ratios)[len(ratios) // 2] < 1.12  # CIF above FOB by a few percent


def test_world_rows_exceed_the_bilateral_sum_and_are_flagged(kor_2019: dict) -> None:
    rows = [
        r
        for r in kor_2019["data"]
        if r["period"] == "201903" and r["flowCode"] == "X" and r["cmdCode"] == "854232"
    ]
    world = [r for r in rows if r["partnerCode"] == 0]
    bilateral = [r for r in rows if r["partnerCode"] != 0]
    assert len(world) == 1 and world[0]["isAggregate"] is True and world[0]["partnerISO"] == "W00"
    assert all(r["isAggregate"] is False for r in bilateral)
    assert world[0]["primaryValue"] > sum(r["primaryValue"] for r in bilateral)


def test_quantities_are_sometimes_missing_or_estimated(kor_2019: dict) -> None:
    rows = kor_2019["data"]
    missing = sum(r["qty"] is None for r in rows)
    estimated = sum(r["isQtyEstimated"] for r in rows)
    assert 0 < missing < len(rows) * 0.2
    assert 0 < estimated < len(rows) * 0.2


def test_landing_the_sample_marks_origin_and_is_idempotent(store) -> None:
    scope = sample.SampleScope(reporters=(410, 392), monthly_years=(2019,), annual_years=(2006, 2019))
    first = sample.land_sample(store, scope)
    second = sample.land_sample(store, scope)
    assert len(first) == 6 and all(written for _, written in first)
    assert not any(written for _, written in second)
    entries = list(read_manifest(store, source="comtrade"))
    assert len(entries) == 6
    assert {e.origin for e in entries} == {"sample"}
    assert {e.partition for e in entries} >= {
        "freq=M/year=2019/reporter=410",
        "freq=A/year=2006/reporter=392",
    }
