"""One record contract, two paths: the JSON parser (``parse.validate_record``) and the bulk TSV parser
(``bulk_parse.reason_expr``) both read ``schema.RECORD_FIELDS``/``VALUE_RULES``/``KEY_FIELDS``. Here
they must agree, record by record, on the bad-input corpus (tests/fixtures/bad_inputs/comtrade) and
on one breach of every rule.

A TSV row is text: "of its kind" means "reads as one", and an absent field is an empty cell (null).
So each record is compared as the TSV carries it (``_as_text_sees_it``): the JSON path's rules applied
to that record must give the rule the bulk path reports.
"""

from __future__ import annotations

import copy
import gzip
import json
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from ingest.comtrade.bulk_parse import parse_bulk
from ingest.comtrade.parse import ComtradeResponseError, load_envelope, rule_fails, validate_record
from ingest.comtrade.schema import (
    API_FIELDS,
    DUPLICATE_SUMMARY,
    KEY_FIELDS,
    NON_NEGATIVE,
    RECORD_FIELDS,
    VALUE_RULES,
)
from ingest.config import Paths
from ingest.landing import land
from tests.fakes.comtrade_records import make_record

CORPUS = Path(__file__).parents[2] / "fixtures" / "bad_inputs" / "comtrade"
_BAD = object()  # a cell whose text does not read as its field's kind

# One breach of every rule (and of the kinds), on a valid monthly record.
MUTATIONS: list[tuple[str, dict[str, Any]]] = [
    *[(f"negative {api}", {api: -5.0}) for api in NON_NEGATIVE],
    ("NaN value", {"primaryValue": float("nan")}),
    ("freq Q", {"freqCode": "Q"}),
    ("annual period", {"freqCode": "A", "period": "2019", "refMonth": 7}),
    ("monthly period", {"period": "201913", "refMonth": 13}),
    ("period of another month", {"period": "201902"}),
    ("unknown flow", {"flowCode": "Z"}),
    ("HS version", {"classificationCode": "H9"}),
    ("cmdCode of 5 digits", {"cmdCode": "28111"}),
    ("cmdCode with letters", {"cmdCode": "28AB11"}),
    ("null key", {"reporterCode": None}),
    ("null flow", {"flowCode": None}),
    ("int as text", {"partnerCode": "abc"}),
    ("int as float", {"motCode": 1.5}),
    ("bool as text", {"isLeaf": "maybe"}),
    ("null nullable", {"netWgt": None, "isLeaf": None}),
    ("two breaches, first wins", {"qty": -1.0, "cmdCode": "x"}),
]


def _text(value: Any) -> str:
    """A JSON value as a bulk file writes it (``True``/``False``, empty for null)."""
    return "" if value is None else str(value)


def _read(text: str, kind: str) -> Any:
    """A TSV cell as its kind, as the JSON path would hold it (None when empty, ``_BAD`` if unreadable)."""
    if text == "":
        return None
    if kind == "str":
        return text
    low = text.strip().lower()
    if kind == "bool":
        return {"true": True, "1": True, "false": False, "0": False}.get(low, _BAD)
    try:
        value = int(low) if kind == "int" else float(low)
    except ValueError:
        return _BAD
    return _BAD if value != value else value


def _as_text_sees_it(rec: dict[str, Any]) -> dict[str, Any]:
    return {api: _read(_text(rec.get(api)), kind) for api, _c, _d, kind, _n in RECORD_FIELDS}


def _expected(rec: dict[str, Any], earlier: set[tuple[Any, ...]]) -> str | None:
    """The bulk reason the contract gives for ``rec`` (as the TSV carries it), from the JSON path's
    rules; checks on the way that ``validate_record`` names the same rule in its own words."""
    seen = _as_text_sees_it(rec)
    for api, _c, _d, kind, nullable in RECORD_FIELDS:
        if seen[api] is None and not nullable:
            assert validate_record(seen) == f"{api} is null"
            return f"{api} is null"
        if seen[api] is _BAD:
            return f"{api} is not a valid {kind}"
    for rule in VALUE_RULES:
        if rule_fails(rule, seen):
            assert validate_record(seen) == rule.detail.format(**seen, v=seen[rule.field])
            return rule.summary
    assert validate_record(seen) is None
    key = tuple(seen[k] for k in KEY_FIELDS)
    if key in earlier:
        return DUPLICATE_SUMMARY
    earlier.add(key)
    return None


def _bulk_reasons(home: Paths, name: str, records: list[dict[str, Any]]) -> list[str | None]:
    lines = ["\t".join(API_FIELDS)]
    for rec in records:
        cells = [_text(rec.get(api)) for api in API_FIELDS]
        assert not any("\t" in c or "\n" in c for c in cells), "a TSV cell cannot hold a tab or a line end"
        lines.append("\t".join(cells))
    entry, _ = land(
        home,
        source="comtrade",
        dataset="bulk",
        partition="freq=M/year=2019/reporter=410",
        stem=f"bulk_{name}",
        content=gzip.compress(("\n".join(lines) + "\n").encode()),
        params={},
        suffix=".tsv.gz",
    )
    result = parse_bulk(home, entry)
    assert result.rows_in == len(records) == result.rows_kept + result.rows_quarantined
    reasons: list[str | None] = [None] * len(records)
    if result.quarantine_file:
        for row, reason in pl.read_parquet(result.quarantine_file).select("source_row", "reason").iter_rows():
            reasons[row] = reason
    return reasons


def _corpus() -> list[tuple[str, list[dict[str, Any]]]]:
    groups = []
    for path in sorted(CORPUS.glob("*.json")):
        try:
            data = load_envelope(path.read_bytes(), path.name)
        except ComtradeResponseError:
            continue  # unusable as a whole: no records to compare
        if data and all(isinstance(r, dict) for r in data):
            groups.append((path.stem, data))
    base = make_record(410, 392, "201901", "281111", "M", 100.0)
    groups.append(("mutations", [base, *({**copy.deepcopy(base), **m} for _, m in MUTATIONS), base]))
    return groups


@pytest.mark.parametrize(("name", "records"), _corpus(), ids=[g[0] for g in _corpus()])
def test_json_and_bulk_paths_apply_one_contract(
    home: Paths, name: str, records: list[dict[str, Any]]
) -> None:
    # GIVEN the records of one corpus file (or the mutations), WHEN they go through the bulk parser
    got = _bulk_reasons(home, name, records)
    # THEN each row is kept or quarantined for the reason the contract's rules give, in the same order
    earlier: set[tuple[Any, ...]] = set()
    want = [_expected(rec, earlier) for rec in records]
    assert got == want, json.dumps([[g, w] for g, w in zip(got, want, strict=True) if g != w], indent=1)


def test_the_comparison_covers_every_rule(home: Paths) -> None:
    # GIVEN the corpus and the mutations, THEN every value rule, the duplicate rule, a null and a kind
    # breach are exercised by at least one record
    reasons = {
        r for _n, records in _corpus() for r in (_expected(rec, set()) for rec in records) if r is not None
    }
    duplicates = {r for name, records in _corpus() for r in _bulk_reasons(home, name, records)}
    assert {rule.summary for rule in VALUE_RULES} <= reasons
    assert DUPLICATE_SUMMARY in duplicates
    assert any(r.endswith(" is null") for r in reasons)
    assert any(" is not a valid " in r for r in reasons)
