"""End to end: the quality gate, the quarantine table, value conservation, idempotency and crash safety
of the whole main job (landing → lake → gate → dbt build → publish) on a slice of the sample.

Two stores get the same inputs: the offline sample slice plus three bad landed files (one with an
unknown reporter the gate must block, one with a negative value the parser quarantines, one empty file
quarantined whole). Store A runs the job twice: the marts must be byte-identical (checksums). Store B
first runs with a disk failure injected while the lake is written (the job fails), then again without
it: its marts must equal store A's.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
import polars as pl
import pytest

from ingest import atomic
from ingest.config import Paths
from ingest.landing import land
from ingest.quality.gate import read_blocklist
from orchestration.cli import main as cli_main
from tests.published import SMALL_SCOPE, run_main_job_in

SCOPE = SMALL_SCOPE  # Korea and Japan, monthly and annual 2019
CORPUS = Path(__file__).parents[1] / "fixtures" / "bad_inputs" / "comtrade"
UNKNOWN_REPORTER = 999


def _as_reporter(name: str, reporter: int) -> bytes:
    body = json.loads((CORPUS / name).read_text(encoding="utf-8"))
    for rec in body["data"]:
        rec["reporterCode"] = reporter
    return json.dumps(body).encode()


def land_bad_inputs(store: Paths) -> dict[str, str]:
    """Land the three bad files; returns their landing paths by role."""
    inputs = {
        "blocked": ("reporter=999", _as_reporter("unknown_reporter.json", UNKNOWN_REPORTER)),
        "quarantined_row": ("reporter=842", _as_reporter("negative_values.json", 842)),
        "quarantined_file": ("reporter=843", (CORPUS / "empty.json").read_bytes()),
    }
    out = {}
    for role, (part, content) in inputs.items():
        entry, _ = land(
            store,
            source="comtrade",
            dataset="records",
            partition=f"freq=M/year=2019/{part}",
            stem=f"bad_{role}",
            content=content,
            params={"test": role},
            origin="sample",
        )
        out[role] = entry.path
    return out


def run_main(home: Path) -> dg.ExecuteInProcessResult:
    """One full run of the main job on SCOPE in ``home`` (this module's own homes: the bad inputs are
    landed before the first run, so no session home can stand in for it)."""
    return run_main_job_in(home, SCOPE)


CORE_MARTS = {"fct_trade_flows", "dim_country", "dim_flow", "dim_period", "dim_product", "fct_quarantine"}


def mart_checksums(db: Path) -> dict[str, tuple[str, str]]:
    """Per table of the main schema of the published warehouse: (md5 of its ordered rows as text,
    md5 of the same with DOUBLE columns rounded to 1e-6 and printed to 12 significant digits)."""
    with duckdb.connect(str(db), read_only=True) as con:
        tables = [
            r[0]
            for r in con.execute(
                "select table_name from information_schema.tables where table_schema = 'main' "
                "and table_type = 'BASE TABLE' order by 1"
            ).fetchall()
        ]
        out = {}
        for name in tables:
            ident = '"' + name.replace('"', '""') + '"'
            cols = con.execute(
                "select column_name, data_type from information_schema.columns "
                "where table_schema = 'main' and table_name = ? order by ordinal_position",
                [name],
            ).fetchall()
            parts = [
                (
                    f"printf('%.12g', round(\"{c}\", 6))"
                    if d in ("DOUBLE", "FLOAT")
                    else f'cast("{c}" as varchar)'
                )
                for c, d in (tuple(x.replace('"', '""') for x in col) for col in cols)
            ]
            # names come from the catalog and are quoted
            exact_sql = f"select md5(coalesce(string_agg(cast(t as varchar), chr(10) order by cast(t as varchar)), '')) from main.{ident} as t"  # noqa: S608, E501
            exact = con.execute(exact_sql).fetchone()[0]
            rounded = con.execute(
                f"select md5(coalesce(string_agg(r, chr(10) order by r), '')) from "  # noqa: S608
                f"(select concat_ws('|', {', '.join(parts)}) as r from main.{ident})"
            ).fetchone()[0]
            out[name] = (exact, rounded)
    return out


def assert_same_marts(got: dict[str, tuple[str, str]], expected: dict[str, tuple[str, str]]) -> list[str]:
    """Same tables, every mart byte-identical (the exact checksum), and therefore equal when rounded too.

    dbt runs DuckDB with two worker threads (dbt_project/profiles.yml); sums of DOUBLE values are
    exact (macro sum_exact) so that the threads' order cannot change the last bits."""
    assert sorted(got) == sorted(expected)
    assert {t: got[t][1] for t in got} == {t: expected[t][1] for t in expected}
    differing = sorted(t for t in got if got[t][0] != expected[t][0])
    assert differing == [], f"marts not byte-identical between runs: {differing}"
    return differing


@pytest.fixture(scope="module")
def store_a(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """GIVEN store A with the sample slice and three bad files, WHEN the main job runs twice."""
    home = tmp_path_factory.mktemp("quality_a") / "data"
    store = Paths(home)
    bad = land_bad_inputs(store)
    first = run_main(home)
    sums_first = mart_checksums(store.serving_db) if first.success else {}
    second = run_main(home)
    yield {
        "store": store,
        "bad": bad,
        "first": first,
        "second": second,
        "sums_first": sums_first,
        "sums_second": mart_checksums(store.serving_db) if second.success else {},
    }


def _gate_eval(result: dg.ExecuteInProcessResult) -> Any:
    evals = [
        e
        for e in result.get_asset_check_evaluations()
        if e.check_name == "quality_gate" and e.asset_key == dg.AssetKey(["comtrade", "lake_records"])
    ]
    assert len(evals) == 1
    return evals[0]


def test_the_job_succeeds_and_the_gate_blocks_only_the_bad_file(store_a: dict[str, Any]) -> None:
    first = store_a["first"]
    assert first.success
    gate = _gate_eval(first)
    # THEN the gate failed as a warning (the rest is published), naming the file and the expectation
    assert not gate.passed and gate.severity == dg.AssetCheckSeverity.WARN
    assert gate.metadata["files_blocked"].value == 1
    assert gate.metadata["files_with_schema_errors"].value == 0
    assert gate.metadata["quarantine_rows_total"].value == 2
    assert "reporter_code" in gate.metadata["failures"].value
    blocklist = read_blocklist(store_a["store"], "comtrade", "records")
    assert blocklist["blocked_source_files"] == [store_a["bad"]["blocked"]]
    (failed,) = [f for v in blocklist["blocked"].values() for f in v["failed"]]
    assert (failed["expectation"], failed["column"], failed["examples"]) == (
        "expect_column_values_to_be_in_set",
        "reporter_code",
        [UNKNOWN_REPORTER],
    )


def test_every_dbt_test_passes_including_conservation(store_a: dict[str, Any]) -> None:
    evals = [e for e in store_a["first"].get_asset_check_evaluations() if e.check_name != "quality_gate"]
    names = {e.check_name for e in evals}
    assert {"assert_conservation_comtrade", "assert_annual_vs_monthly_comtrade"} <= names
    assert [e.check_name for e in evals if not e.passed] == []


def test_the_blocked_file_is_in_the_lake_but_not_published(store_a: dict[str, Any]) -> None:
    store: Paths = store_a["store"]
    lake = pl.scan_parquet(str(store.lake / "comtrade" / "records" / "**" / "*.parquet")).collect()
    assert lake.filter(pl.col("reporter_code") == UNKNOWN_REPORTER).height == 1  # kept, not lost
    with duckdb.connect(str(store.serving_db), read_only=True) as con:
        assert (
            con.execute(
                "select count(*) from fct_trade_flows where reporter_code = ?", [UNKNOWN_REPORTER]
            ).fetchone()[0]
            == 0
        )
        staged = con.execute(
            "select count(*) from main_staging.stg_comtrade__records where source_file = ?",
            [store_a["bad"]["blocked"]],
        ).fetchone()[0]
        assert staged == 0
        # the good row of the file with one quarantined row is published
        assert (
            con.execute("select count(*) from fct_trade_flows where reporter_code = 842").fetchone()[0] == 1
        )


def test_the_quarantine_table_holds_every_rejected_row(store_a: dict[str, Any]) -> None:
    store: Paths = store_a["store"]
    with duckdb.connect(str(store.serving_db), read_only=True) as con:
        rows = con.execute(
            "select source_file, source_row, reason, is_whole_file from fct_quarantine order by source_file"
        ).fetchall()
    assert [(r[0], r[1], r[3]) for r in rows] == [
        (store_a["bad"]["quarantined_row"], 1, False),
        (store_a["bad"]["quarantined_file"], -1, True),
    ]
    assert "primaryValue is negative" in rows[0][2] and "not JSON" in rows[1][2]


def test_the_summary_shows_the_quarantine_count(
    store_a: dict[str, Any], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SEMITRADE_HOME", str(store_a["store"].home))
    assert cli_main(["summary"]) == 0
    out = capsys.readouterr().out
    assert "Quarantined rows: 2 " in out
    assert "1 blocked (not published)" in out and "data docs" in out


def test_data_docs_are_written(store_a: dict[str, Any]) -> None:
    index = store_a["store"].home / "quality" / "data_docs" / "index.html"
    assert index.exists()
    assert "comtrade_records__rows" in index.read_text(encoding="utf-8")


def test_two_runs_give_identical_marts(store_a: dict[str, Any]) -> None:
    assert store_a["second"].success
    assert "fct_trade_flows" in store_a["sums_first"] and "fct_quarantine" in store_a["sums_first"]
    assert_same_marts(store_a["sums_second"], store_a["sums_first"])


def test_a_run_crashed_while_writing_the_lake_then_rerun_equals_an_uninterrupted_run(
    store_a: dict[str, Any], tmp_path_factory: pytest.TempPathFactory
) -> None:
    home = tmp_path_factory.mktemp("quality_b") / "data"
    store = Paths(home)
    land_bad_inputs(store)
    # GIVEN a disk that fails on the 4th lake file written (after the rename target was prepared)
    real, calls = os.replace, []

    def flaky_replace(src: Any, dst: Any) -> None:
        if str(dst).endswith(".parquet") and "/lake/comtrade/" in str(dst):
            calls.append(dst)
            if len(calls) == 4:
                raise OSError(28, "No space left on device", str(dst))
        real(src, dst)

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(atomic.os, "replace", flaky_replace)
        crashed = run_main(home)
    # THEN the job failed before publishing, with no partial file anywhere
    assert not crashed.success
    assert not store.serving_db.exists()
    assert [p for p in home.rglob("*") if p.name.endswith(".tmp")] == []
    # WHEN it is run again; THEN the marts equal those of the uninterrupted run
    rerun = run_main(home)
    assert rerun.success
    assert_same_marts(mart_checksums(store.serving_db), store_a["sums_first"])
