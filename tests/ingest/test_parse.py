"""Parsing Comtrade responses into the lake: real recordings, bad rows, conservation, idempotency."""

from __future__ import annotations

import copy
import importlib
import json
import threading
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from ingest.comtrade.parse import (
    ComtradeResponseError,
    load_envelope,
    parse_landed,
    split_records,
    validate_record,
)
from ingest.comtrade.schema import LAKE_SCHEMA
from ingest.config import Paths
from ingest.landing import LandedFile, land
from ingest.locks import partition_lock

REAL = "data_v1_get_C_A_HS_chn_2010_total.json"


def _land(store: Paths, content: bytes, stem: str = "get_C_A_HS_156_2010") -> LandedFile:
    entry, _ = land(
        store,
        source="comtrade",
        dataset="records",
        partition="freq=A/year=2010/reporter=156",
        stem=stem,
        content=content,
        params={"reporterCode": "156"},
        origin="live",
    )
    return entry


@pytest.fixture
def real_body(fixtures_dir: Path) -> dict:
    return json.loads((fixtures_dir / "comtrade" / REAL).read_bytes())


def test_real_recording_parses_to_typed_rows(store: Paths, fixtures_dir: Path) -> None:
    # GIVEN the real recorded response landed as a live fetch
    entry = _land(store, (fixtures_dir / "comtrade" / REAL).read_bytes())
    # WHEN it is parsed
    result = parse_landed(store, entry)
    # THEN all 4 rows are kept with the explicit schema and the real values
    assert (result.rows_in, result.rows_kept, result.rows_quarantined) == (4, 4, 0)
    df = pl.read_parquet(result.lake_file)
    assert df.schema == LAKE_SCHEMA
    row = df.filter((pl.col("partner_code") == 32) & (pl.col("flow_code") == "M")).row(0, named=True)
    assert row["cif_value"] == 6804128143.0 and row["fob_value"] is None
    assert row["primary_value"] == 6804128143.0
    assert row["ref_month"] == 52 and row["period"] == "2010" and row["classification_code"] == "H3"
    assert row["origin"] == "live" and row["source_row"] == 0 and row["vintage"] == entry.sha256
    assert df["primary_value"].sum() == pytest.approx(
        sum(r["primaryValue"] for r in json.loads((fixtures_dir / "comtrade" / REAL).read_bytes())["data"])
    )


def test_real_empty_response_gives_an_empty_lake_file(store: Paths, fixtures_dir: Path) -> None:
    entry = _land(store, (fixtures_dir / "comtrade" / "data_v1_get_S_A_EB_empty.json").read_bytes(), "empty")
    result = parse_landed(store, entry)
    assert (result.rows_in, result.rows_kept, result.rows_quarantined) == (0, 0, 0)
    assert pl.read_parquet(result.lake_file).height == 0


def _mutate(body: dict, field: str, value: object) -> dict:
    rec = copy.deepcopy(body["data"][0])
    if value is KeyError:
        del rec[field]
    else:
        rec[field] = value
    return rec


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("primaryValue", -5.0, "primaryValue is negative"),
        ("netWgt", -1, "netWgt is negative"),
        ("reporterCode", "156", "reporterCode has type str, expected int"),
        ("reporterCode", True, "reporterCode has type bool, expected int"),
        ("period", 2010, "period has type int, expected str"),
        ("cmdCode", None, "cmdCode is null"),
        ("flowCode", "Q", "flowCode 'Q' is not a Comtrade flow code"),
        ("classificationCode", "H9", "classificationCode 'H9' is not one of"),
        ("cmdCode", "28111", "cmdCode '28111' is not TOTAL"),
        ("period", "2011", "annual period '2011' does not match refYear 2010"),
        ("qty", "12", "qty has type str, expected num"),
        ("partnerCode", KeyError, "missing field(s): partnerCode"),
    ],
    ids=[
        "negative-value",
        "negative-weight",
        "code-as-string",
        "code-as-bool",
        "period-as-int",
        "null-key",
        "unknown-flow",
        "unknown-hs-version",
        "five-digit-cmd",
        "period-mismatch",
        "qty-as-string",
        "missing-field",
    ],
)
def test_invalid_records_are_named_with_their_reason(
    real_body: dict, field: str, value: object, reason: str
) -> None:
    assert reason in (validate_record(_mutate(real_body, field, value)) or "")


def test_valid_record_passes(real_body: dict) -> None:
    assert validate_record(real_body["data"][0]) is None
    assert validate_record(["not", "a", "record"]) == "record is a list, not an object"


def test_bad_rows_are_quarantined_not_dropped(store: Paths, real_body: dict) -> None:
    # GIVEN a response with 4 good rows, one negative value, one duplicate and one non-object
    body = copy.deepcopy(real_body)
    body["data"] += [_mutate(real_body, "primaryValue", -1.0), copy.deepcopy(real_body["data"][1]), "garbage"]
    body["count"] = len(body["data"])
    entry = _land(store, json.dumps(body).encode())
    # WHEN parsed
    result = parse_landed(store, entry)
    # THEN rows in = kept + quarantined, and each quarantined row keeps position, reason and raw content
    assert (result.rows_in, result.rows_kept, result.rows_quarantined) == (7, 4, 3)
    q = pl.read_parquet(result.quarantine_file).sort("source_row")
    assert q["source_row"].to_list() == [4, 5, 6]
    assert "primaryValue is negative" in q["reason"][0]
    assert q["reason"][1].startswith("duplicate key of row 1")
    assert q["reason"][2] == "record is a str, not an object"
    assert json.loads(q["raw"][0])["primaryValue"] == -1.0
    assert set(q["source_file"]) == {entry.path}


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b'{"elapsedTime":"0.1 secs","count":4,"data":[{"typeCode":"C"', "not JSON"),
        (b"<html><body>Service Unavailable</body></html>", "not JSON"),
        (b'{"statusCode":403,"message":"Out of call volume quota."}', "without the Comtrade envelope"),
        (b'{"elapsedTime":"0","count":0,"data":[],"error":"Invalid parameter"}', "the API reported an error"),
        (b'{"elapsedTime":"0","count":5,"data":[],"error":""}', "count=5 but data holds 0 rows"),
    ],
    ids=["truncated-json", "html-page", "quota-body", "api-error", "count-mismatch"],
)
def test_unusable_files_raise_a_clear_error(content: bytes, message: str) -> None:
    with pytest.raises(ComtradeResponseError, match=message):
        load_envelope(content, "landing/x.json")


def test_unusable_file_is_quarantined_whole(store: Paths) -> None:
    entry = _land(store, b"<html>Bad gateway</html>", "html")
    result = parse_landed(store, entry)
    assert (result.rows_kept, result.rows_quarantined) == (0, 1)
    q = pl.read_parquet(result.quarantine_file)
    assert (
        q["source_row"].to_list() == [-1]
        and "not JSON" in q["reason"][0]
        and q["raw"][0] == "<html>Bad gateway</html>"
    )


def test_parsing_twice_is_idempotent_and_leaves_no_temp_files(store: Paths, fixtures_dir: Path) -> None:
    entry = _land(store, (fixtures_dir / "comtrade" / REAL).read_bytes())
    first = parse_landed(store, entry)
    before = first.lake_file.read_bytes()
    second = parse_landed(store, entry)
    assert second.skipped and (second.rows_kept, second.rows_quarantined) == (4, 0)
    assert first.lake_file.read_bytes() == before
    assert not list(store.lake.rglob("*.tmp"))
    assert len(list(store.lake.rglob("*.parquet"))) == 1


def test_duplicates_detected_by_split_records(real_body: dict) -> None:
    good, bad = split_records(real_body["data"] + [real_body["data"][0]])
    assert len(good) == 4 and [pos for pos, *_ in bad] == [4]


@pytest.mark.parametrize(
    ("source", "dataset", "partition", "file"),
    [
        ("comtrade", "records", "freq=A/year=2010/reporter=156", "comtrade/empty.json"),
        ("kcs", "trade", "year=2019/hs=2811/country=JP", "kcs/empty.xml"),
        ("japan", "trade", "year=2017/direction=import", "japan/empty.csv"),
    ],
    ids=["comtrade", "kcs", "japan"],
)
def test_every_source_parser_writes_under_the_partition_lock(
    store: Paths, fixtures_dir: Path, source: str, dataset: str, partition: str, file: str
) -> None:
    # GIVEN a landed file, and its lake partition's write lock held by another run
    parser = importlib.import_module(f"ingest.{source}.parse").parse_landed
    content = (fixtures_dir / "bad_inputs" / file).read_bytes()
    entry, _ = land(
        store, source=source, dataset=dataset, partition=partition, stem="x", content=content, params={}
    )
    results: list[Any] = []
    with partition_lock(store, source, dataset, partition, timeout=0):
        worker = threading.Thread(target=lambda: results.append(parser(store, entry)))
        worker.start()
        worker.join(0.5)
        # THEN the parser waits: nothing is written while the lock is held
        assert worker.is_alive() and not list((store.lake / source).rglob("*.parquet"))
    # WHEN the lock is released; THEN the parser writes the vintage
    worker.join(30)
    assert not worker.is_alive() and results[0].lake_file.exists()
