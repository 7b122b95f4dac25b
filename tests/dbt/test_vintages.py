"""Vintages in the warehouse: staging exposes the latest vintage of each record, and the dbt var
`as_of` (a date) gives the records as they stood on that date. Runs the real dbt against a lake
holding two vintages of the same Comtrade partition."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from ingest.comtrade.parse import parse_landed
from ingest.config import Paths
from ingest.landing import land
from tests.dbt.runner import DuckDbt


def _land_vintage(store: Paths, body: dict, fetched: datetime) -> None:
    entry, _ = land(
        store,
        source="comtrade",
        dataset="records",
        partition="freq=A/year=2010/reporter=156",
        stem="get_C_A_HS_156_2010",
        content=json.dumps(body).encode(),
        params={"period": "2010"},
        origin="live",
        fetched_at=fetched,
    )
    parse_landed(store, entry)


def _staging(dbt: DuckDbt, as_of: str | None) -> dict[tuple[int, str], float]:
    """stg_comtrade__records built (with var as_of when given) into a warehouse file of its own."""
    db = dbt.work / f"wh_{as_of or 'latest'}" / "build.duckdb"  # one file name: one parse
    db.parent.mkdir()
    args = ["run", "--select", "stg_comtrade__records"]
    if as_of:
        args += ["--vars", json.dumps({"as_of": as_of})]
    done = dbt(*args, warehouse=db)
    assert done.success, done.log[-2000:]
    assert [(r.name, r.status) for r in done.results] == [("stg_comtrade__records", "success")]
    with duckdb.connect(str(db), read_only=True) as con:
        rows = con.execute(
            "select partner_code, flow_code, primary_value from main_staging.stg_comtrade__records"
        ).fetchall()
    return {(p, f): v for p, f, v in rows}


def test_latest_vintage_wins_and_as_of_returns_the_earlier_one(
    store: Paths, tmp_path: Path, fixtures_dir: Path
) -> None:
    # GIVEN the real 2010 China response fetched on 2020-01-10, and a revision (+10 %, one row dropped) on 2021-06-30
    v1 = json.loads((fixtures_dir / "comtrade" / "data_v1_get_C_A_HS_chn_2010_total.json").read_bytes())
    v2 = copy.deepcopy(v1)
    for rec in v2["data"]:
        rec["primaryValue"] = round(rec["primaryValue"] * 1.1, 2)
    _land_vintage(store, v1, datetime(2020, 1, 10, tzinfo=UTC))
    _land_vintage(store, v2, datetime(2021, 6, 30, tzinfo=UTC))
    original = {(r["partnerCode"], r["flowCode"]): r["primaryValue"] for r in v1["data"]}
    revised = {(r["partnerCode"], r["flowCode"]): r["primaryValue"] for r in v2["data"]}
    # WHEN staging is built without and with as_of
    dbt = DuckDbt(store.home, tmp_path)  # one parse of the project, reused with each var
    latest = _staging(dbt, None)
    before_revision = _staging(dbt, "2020-12-31")
    before_anything = _staging(dbt, "2019-12-31")
    # THEN each record appears once: the revision by default, the first vintage as of end-2020, nothing before
    assert latest == pytest.approx(revised)
    assert before_revision == pytest.approx(original)
    assert before_anything == {}
