"""The KCS offline sample comes from the Comtrade sample's model; `semitrade fetch kcs` end to end."""

from __future__ import annotations

import time
from typing import Any

import polars as pl
import pytest

from ingest.comtrade import sample_flows
from ingest.comtrade.sample import SampleGenerator
from ingest.kcs import parse
from ingest.kcs import sample as kcs_sample
from ingest.kcs.client import KcsClient, KcsQuery
from ingest.kcs.fetch import KcsLanded, land_kcs
from ingest.landing import read_manifest
from orchestration.cli import main as cli_main
from tests.fakes import kcs_server


@pytest.fixture(scope="module")
def generator() -> SampleGenerator:
    return SampleGenerator()


def test_hf_imports_from_japan_follow_the_model_and_roll_up(generator: SampleGenerator) -> None:
    # GIVEN the Comtrade sample's model of Japan → Korea HF (281111) flows
    gen = kcs_sample.KcsSampleGenerator(generator)
    product = next(p for p in sample_flows.PRODUCTS if p.code == "281111")
    resp = gen.response(2019, product, "281111", 1.0)
    # WHEN the XML is read back
    total, items = parse.load_items(resp.content, "x")
    # THEN the total row is the control, and HSK10 lines roll up to the model's value within noise
    assert parse.control_mismatch(total, items) is None
    lines = {i["hsCd"] for i in items}
    assert all(code.startswith("281111") and len(code) == 10 for code in lines)
    jan = sum(float(i["impDlr"]) for i in items if i["statCd"] == "JP" and i["year"] == "2019.01")
    model = generator.model.values[(392, 410, "281111")][(2019, 1)]
    assert 0.85 * model < jan < 1.25 * model
    aug = sum(float(i["impDlr"]) for i in items if i["statCd"] == "JP" and i["year"] == "2019.08")
    assert aug < 0.2 * jan  # the July 2019 export controls


def test_full_sample_lands_and_parses_quickly(home: Any, generator: SampleGenerator) -> None:
    t0 = time.monotonic()
    landed = kcs_sample.land_sample(home, (2023, 2024), generator)
    results = [parse.parse_landed(home, e) for e, _ in landed]
    elapsed = time.monotonic() - t0
    assert all(e.origin == "sample" for e, _ in landed)
    assert sum(r.rows_quarantined for r in results) == 0 and all(r.control_ok for r in results)
    assert elapsed < 6  # 2 of 10 years; the full sample stays well under 15 s
    df = pl.read_parquet(str(home.lake / "kcs" / "trade" / "**" / "*.parquet"))
    assert set(df["stat_cd"]) >= {"JP", "CN", "TW", "US"}


def test_cli_fetch_splits_the_period_and_lands_into_the_lake(
    home: Any,
    kcs_state: kcs_server.KcsState,
    kcs_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("KCS_BASE_URL", kcs_url)
    monkeypatch.setenv("DATA_GO_KR_KEY", kcs_server.SERVICE_KEY)
    # WHEN 18 months are asked for
    assert cli_main(["fetch", "kcs", "--hs", "281111", "--country", "JP", "--period", "201901-202006"]) == 0
    out = capsys.readouterr()
    # THEN two calendar-year calls were made, the rows are in the lake, and the key is nowhere
    assert [q.split("strtYymm=")[1][:6] for q in kcs_state.requests] == ["201901", "202001"]
    assert "[2/2] 202001-202006: 1 items, 1 kept, 0 quarantined" in out.err
    assert "rows kept: 4, quarantined: 0" in out.out
    manifest = home.manifest.read_text()
    assert kcs_server.SERVICE_KEY not in manifest and "serviceKey" not in manifest
    assert len(list(read_manifest(home, source="kcs"))) == 2


def test_cli_fails_with_one_line_on_a_refused_key(
    home: Any, kcs_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("KCS_BASE_URL", kcs_url)
    monkeypatch.setenv("DATA_GO_KR_KEY", "not-registered")
    assert cli_main(["fetch", "kcs", "--hs", "281111", "--period", "201901-201903"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert (
        len(err) == 1 and "SERVICE_KEY_IS_NOT_REGISTERED_ERROR" in err[0] and "not-registered" not in err[0]
    )
    assert not home.manifest.exists()


def test_land_kcs_lands_only_and_the_lake_step_parses_the_same(
    home: Any, kcs_client: KcsClient, kcs_state: kcs_server.KcsState
) -> None:
    # GIVEN HF from Japan in 2019 and 2020; WHEN the responses are landed only (what the Dagster assets run)
    queries = [
        KcsQuery(s, e, hs="281111", country="JP") for s, e in (("201901", "201912"), ("202001", "202006"))
    ]
    landed: list[KcsLanded] = []
    summary = land_kcs(home, queries, kcs_client, landed.append)
    # THEN two files are landed, with their lines counted, and nothing is in the lake
    assert (summary.calls, summary.new_files, summary.items) == (2, 2, 4)
    assert [item.items for item in landed] == [3, 1] and all(item.new for item in landed)
    assert (summary.rows_kept, summary.rows_quarantined) == (0, 0)
    assert not (home.lake / "kcs").exists()
    # WHEN the lake asset's step parses what landed; THEN every line is kept and the control totals hold
    results = [parse.parse_landed(home, item.entry) for item in landed]
    assert [r.rows_kept for r in results] == [3, 1] and all(r.control_ok for r in results)
    df = pl.read_parquet(str(home.lake / "kcs" / "trade" / "**" / "*.parquet"))
    assert sorted(df["imp_usd"].to_list()) == [200_000, 900_000, 1_000_000, 3_000_000]
