"""The bad-input corpus (tests/fixtures/bad_inputs/<source>/index.yaml): every malformed input ends
quarantined with its reason, rejected whole, blocked by the quality gate or flagged, never lost.

All inputs are landed into one store, parsed, and the gate runs once over all of them (Great
Expectations is slow per call), then each input's outcome is checked against the index.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl
import pytest
import yaml

from ingest.comtrade.parse import parse_landed
from ingest.config import Paths
from ingest.landing import land
from ingest.quality.gate import run_gate
from ingest.quality.specs import spec_for
from ingest.quality.verdict import GateResult

CORPUS = Path(__file__).parents[1] / "fixtures" / "bad_inputs"
COMTRADE_CASES: list[dict[str, Any]] = yaml.safe_load((CORPUS / "comtrade" / "index.yaml").read_text())


@pytest.fixture(scope="module")
def corpus_run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """GIVEN every Comtrade bad input landed in its own partition, WHEN parsed and gated once."""
    store = Paths(tmp_path_factory.mktemp("bad_inputs") / "data")
    results: dict[str, Any] = {}
    for case in COMTRADE_CASES:
        stem = Path(case["file"]).stem
        entry, _ = land(
            store,
            source="comtrade",
            dataset="records",
            partition=f"freq=M/year=2019/reporter={stem}",
            stem=stem,
            content=(CORPUS / "comtrade" / case["file"]).read_bytes(),
            params={"corpus": case["file"]},
            origin="sample",
        )
        results[case["file"]] = (entry, parse_landed(store, entry))
    gate = run_gate(store, spec_for("comtrade", "records"), build_docs=False)
    return {"store": store, "parsed": results, "gate": gate}


def _gate_entries(gate: GateResult, source_file: str, attr: str) -> list[Any]:
    lake_files = [f for f, s in gate.source_files.items() if s == source_file]
    return [x for f in lake_files for x in getattr(gate, attr).get(f, [])]


def test_the_index_covers_every_file_and_every_kind() -> None:
    files = {p.name for p in (CORPUS / "comtrade").iterdir() if p.suffix == ".json"}
    assert {c["file"] for c in COMTRADE_CASES} == files
    kinds = " ".join(c["kind"] for c in COMTRADE_CASES)
    for kind in (
        "wrong types",
        "missing fields",
        "negative values",
        "unknown codes",
        "duplicate keys",
        "wrong encoding",
        "empty file",
        "huge line",
    ):
        assert kind in kinds


@pytest.mark.parametrize("case", COMTRADE_CASES, ids=[c["file"] for c in COMTRADE_CASES])
def test_each_bad_input_has_its_expected_outcome(corpus_run: dict[str, Any], case: dict[str, Any]) -> None:
    entry, parsed = corpus_run["parsed"][case["file"]]
    gate: GateResult = corpus_run["gate"]
    store: Paths = corpus_run["store"]
    quarantine = pl.read_parquet(parsed.quarantine_file) if parsed.quarantine_file else None
    blocked = _gate_entries(gate, entry.path, "blocked")
    flagged = _gate_entries(gate, entry.path, "warnings")
    # THEN nothing is lost: rows in = kept + quarantined
    assert parsed.rows_in == parsed.rows_kept + parsed.rows_quarantined
    outcome = case["outcome"]
    if outcome == "quarantine":
        assert (parsed.rows_kept, parsed.rows_quarantined) == (case["kept"], case["quarantined"])
        assert quarantine is not None and case["reason"] in quarantine["reason"][0]
        assert quarantine["source_file"][0] == entry.path and quarantine["source_row"][0] >= 0
        assert quarantine["raw"][0].startswith("{")  # the raw record is kept
        assert blocked == []
    elif outcome == "whole_file":
        assert (parsed.rows_kept, parsed.rows_quarantined) == (0, 1)
        assert quarantine is not None and quarantine["source_row"].to_list() == [-1]
        assert case["reason"] in quarantine["reason"][0]
        assert quarantine["raw"][0] == entry.absolute(store).read_bytes().decode("utf-8", "replace")
    elif outcome == "kept":
        assert (parsed.rows_kept, parsed.rows_quarantined) == (case["kept"], 0)
        assert blocked == [] and flagged == []
    elif outcome == "blocked":
        assert parsed.rows_quarantined == 0
        assert [(b.expectation, b.column) for b in blocked] == [(case["expectation"], case["column"])]
        assert entry.path in gate_blocklist(store)["blocked_source_files"]
    elif outcome == "flagged":
        assert parsed.rows_kept == case["kept"] and blocked == []
        assert [(f.column, f.unexpected_count) for f in flagged] == [(case["column"], 1)]
        assert entry.path not in gate_blocklist(store)["blocked_source_files"]
    else:
        raise AssertionError(f"unknown outcome {outcome!r} in index.yaml")


def gate_blocklist(store: Paths) -> dict[str, Any]:
    from ingest.quality.verdict import read_blocklist

    return read_blocklist(store, "comtrade", "records")


def test_only_the_gate_cases_are_blocked(corpus_run: dict[str, Any]) -> None:
    gate: GateResult = corpus_run["gate"]
    expected = sorted(
        corpus_run["parsed"][c["file"]][0].path for c in COMTRADE_CASES if c["outcome"] == "blocked"
    )
    assert sorted(gate_blocklist(corpus_run["store"])["blocked_source_files"]) == expected
    assert gate.schema_failures == {}


KCS_CASES: list[dict[str, Any]] = yaml.safe_load((CORPUS / "kcs" / "index.yaml").read_text())


@pytest.mark.parametrize("case", KCS_CASES, ids=[c["file"] for c in KCS_CASES])
def test_each_korea_customs_bad_input_has_its_expected_outcome(store: Paths, case: dict[str, Any]) -> None:
    from ingest.kcs.parse import parse_landed as parse_kcs

    # GIVEN a malformed Korea Customs response landed
    content = (CORPUS / "kcs" / case["file"]).read_bytes()
    entry, _ = land(
        store,
        source="kcs",
        dataset="trade",
        partition="case=" + Path(case["file"]).stem,
        stem="nitemtrade",
        content=content,
        params={},
        origin="sample",
        suffix=".xml",
    )
    # WHEN parsed
    parsed = parse_kcs(store, entry)
    quarantine = pl.read_parquet(parsed.quarantine_file) if parsed.quarantine_file else None
    # THEN nothing is lost, and the outcome is the expected one
    assert parsed.rows_in == parsed.rows_kept + parsed.rows_quarantined
    if case["outcome"] == "quarantine":
        assert (parsed.rows_kept, parsed.rows_quarantined) == (case["kept"], case["quarantined"])
        assert quarantine is not None and all(case["reason"] in r for r in quarantine["reason"])
        assert (quarantine["source_row"] >= 1).all() and (quarantine["source_file"] == entry.path).all()
    elif case["outcome"] == "whole_file":
        assert (parsed.rows_kept, parsed.rows_quarantined) == (0, 1)
        assert quarantine is not None and quarantine["source_row"].to_list() == [-1]
        assert case["reason"] in quarantine["reason"][0]
    elif case["outcome"] == "kept":
        assert (parsed.rows_kept, parsed.rows_quarantined) == (case["kept"], 0)
    else:
        raise AssertionError(f"unknown outcome {case['outcome']!r} in kcs/index.yaml")


JAPAN_CASES: list[dict[str, Any]] = yaml.safe_load((CORPUS / "japan" / "index.yaml").read_text())


def test_the_japan_index_covers_every_file_and_every_kind() -> None:
    files = {p.name for p in (CORPUS / "japan").iterdir() if p.suffix == ".csv"}
    assert {c["file"] for c in JAPAN_CASES} == files
    kinds = " ".join(c["kind"] for c in JAPAN_CASES)
    for kind in (
        "wrong types",
        "missing columns",
        "negative values",
        "unknown codes",
        "duplicate keys",
        "wrong encoding",
        "empty file",
        "truncated CSV",
        "HTML page",
        "huge line",
    ):
        assert kind in kinds


@pytest.mark.parametrize("case", JAPAN_CASES, ids=[c["file"] for c in JAPAN_CASES])
def test_each_japan_mof_bad_input_has_its_expected_outcome(store: Paths, case: dict[str, Any]) -> None:
    from ingest.japan.parse import parse_landed as parse_japan

    # GIVEN a malformed Japan MOF CSV landed
    content = (CORPUS / "japan" / case["file"]).read_bytes()
    entry, _ = land(
        store,
        source="japan",
        dataset="trade",
        partition="case=" + Path(case["file"]).stem,
        stem="hs9_country",
        content=content,
        params={},
        origin="sample",
        suffix=".csv",
    )
    # WHEN parsed
    parsed = parse_japan(store, entry)
    quarantine = pl.read_parquet(parsed.quarantine_file) if parsed.quarantine_file else None
    # THEN nothing is lost, and the outcome is the expected one
    assert parsed.rows_in == parsed.rows_kept + parsed.rows_quarantined
    if case["outcome"] == "quarantine":
        assert (parsed.rows_kept, parsed.rows_quarantined) == (case["kept"], case["quarantined"])
        assert quarantine is not None and all(case["reason"] in r for r in quarantine["reason"])
        assert (quarantine["source_row"] >= 1).all() and (quarantine["source_file"] == entry.path).all()
    elif case["outcome"] == "whole_file":
        assert (parsed.rows_kept, parsed.rows_quarantined) == (0, 1)
        assert quarantine is not None and quarantine["source_row"].to_list() == [-1]
        assert case["reason"] in quarantine["reason"][0]
    elif case["outcome"] == "kept":
        assert (parsed.rows_kept, parsed.rows_quarantined) == (case["kept"], 0)
        assert parsed.encoding == case["encoding"]
    else:
        raise AssertionError(f"unknown outcome {case['outcome']!r} in japan/index.yaml")
