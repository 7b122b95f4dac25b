"""End to end: the quality gate, the quarantine table, value conservation, idempotency and crash safety
of the whole main job (landing → lake → gate → dbt build → publish) on slices of the sample.

The session's published build (tests/published.py: `published_build`) landed three bad files before its
run (one with an unknown reporter the gate must block, one with a negative value the parser quarantines,
one empty file quarantined whole): the gate, quarantine, summary and data-docs tests read it. The
session's rebuilt home (`rebuilt_build`) is a copy of the published home without its Comtrade lake and
publication: the job first runs with a disk failure injected while the lake is written (it fails),
then again; its marts must be byte-identical to those of the uninterrupted published build.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
import polars as pl
import pytest

from ingest.config import Paths
from ingest.quality.verdict import read_blocklist
from orchestration.cli import main as cli_main
from tests.published import BAD_REPORTERS, CRASH_ON_LAKE_FILE, UNKNOWN_REPORTER, Build, Rebuild, failures

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


def _gate_eval(result: dg.ExecuteInProcessResult) -> Any:
    evals = [
        e
        for e in result.get_asset_check_evaluations()
        if e.check_name == "quality_gate" and e.asset_key == dg.AssetKey(["comtrade", "lake_records"])
    ]
    assert len(evals) == 1
    return evals[0]


def test_the_job_succeeds_and_the_gate_blocks_only_the_bad_file(published_build: Build) -> None:
    first = published_build.result
    assert first.success and set(published_build.bad_inputs) == set(BAD_REPORTERS)
    gate = _gate_eval(first)
    # THEN the gate failed as a warning (the rest is published), naming the file and the expectation
    assert not gate.passed and gate.severity == dg.AssetCheckSeverity.WARN
    assert gate.metadata["files_blocked"].value == 1
    assert gate.metadata["files_with_schema_errors"].value == 0
    assert gate.metadata["quarantine_rows_total"].value == 2
    assert "reporter_code" in gate.metadata["failures"].value
    blocklist = read_blocklist(published_build.store, "comtrade", "records")
    assert blocklist["blocked_source_files"] == [published_build.bad_inputs["blocked"]]
    (failed,) = [f for v in blocklist["blocked"].values() for f in v["failed"]]
    assert (failed["expectation"], failed["column"], failed["examples"]) == (
        "expect_column_values_to_be_in_set",
        "reporter_code",
        [UNKNOWN_REPORTER],
    )


def test_every_dbt_test_passes_including_conservation(published_build: Build) -> None:
    evals = [
        e for e in published_build.result.get_asset_check_evaluations() if e.check_name != "quality_gate"
    ]
    names = {e.check_name for e in evals}
    assert {"assert_conservation_comtrade", "assert_annual_vs_monthly_comtrade"} <= names
    assert [e.check_name for e in evals if not e.passed] == []


def test_the_blocked_file_is_in_the_lake_but_not_published(published_build: Build) -> None:
    store = published_build.store
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
            [published_build.bad_inputs["blocked"]],
        ).fetchone()[0]
        assert staged == 0
        # the good row of the file with one quarantined row is published
        assert (
            con.execute(
                "select count(*) from fct_trade_flows where reporter_code = ?",
                [BAD_REPORTERS["quarantined_row"]],
            ).fetchone()[0]
            == 1
        )


def test_the_quarantine_table_holds_every_rejected_row(published_build: Build) -> None:
    with duckdb.connect(str(published_build.store.serving_db), read_only=True) as con:
        rows = con.execute(
            "select source_file, source_row, reason, is_whole_file from fct_quarantine order by source_file"
        ).fetchall()
    assert [(r[0], r[1], r[3]) for r in rows] == [
        (published_build.bad_inputs["quarantined_row"], 1, False),
        (published_build.bad_inputs["quarantined_file"], -1, True),
    ]
    assert "primaryValue is negative" in rows[0][2] and "not JSON" in rows[1][2]


def test_the_summary_shows_the_quarantine_count(
    published_build: Build, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SEMITRADE_HOME", str(published_build.store.home))
    assert cli_main(["summary"]) == 0
    out = capsys.readouterr().out
    assert "Quarantined rows: 2 " in out
    assert "1 blocked (not published)" in out and "data docs" in out


def test_data_docs_are_written(published_build: Build) -> None:
    index = published_build.store.home / "quality" / "data_docs" / "index.html"
    assert index.exists()
    assert "comtrade_records__rows" in index.read_text(encoding="utf-8")


def _landed_and_lake_files(store: Paths) -> tuple[list[str], list[str], list[str]]:
    """The landed files, the manifest lines and the lake files of a home (home-relative, sorted)."""
    landed = sorted(str(p.relative_to(store.home)) for p in store.landing.rglob("*") if p.is_file())
    manifest = sorted(store.manifest.read_text(encoding="utf-8").splitlines())
    lake = sorted(str(p.relative_to(store.home)) for p in store.lake.rglob("*.parquet"))
    return landed, manifest, lake


def test_two_runs_give_identical_marts(published_build: Build, rebuilt_build: Rebuild) -> None:
    # GIVEN the published build, and a copy of its home (warehouse and landing kept) run again
    assert rebuilt_build.result.success
    first = mart_checksums(published_build.store.serving_db)
    assert "fct_trade_flows" in first and "fct_quarantine" in first
    # THEN the second run landed nothing new and wrote the same lake files, and every mart is identical
    assert _landed_and_lake_files(rebuilt_build.store) == _landed_and_lake_files(published_build.store)
    assert_same_marts(mart_checksums(rebuilt_build.store.serving_db), first)
    # AND the rerun was a refresh (orchestration/refresh.py): only what the rewritten Comtrade lake and
    # quarantine reach was rebuilt, and the views that read the lake (the copy moved the home); the rest
    # was reported unchanged, and still every mart is identical
    reported = {
        m.asset_key.to_user_string(): m.metadata.get("semitrade/rebuilt")
        for m in rebuilt_build.result.asset_materializations_for_node("semitrade_dbt_assets")
    }
    unchanged = sorted(key for key, flag in reported.items() if flag is not None and flag.value is False)
    assert reported["fct_trade_flows"] is None and reported["fct_quarantine"] is None
    assert {"dim_country", "dim_flow", "dim_product"} <= set(unchanged)
    national = [key for key in reported if key.endswith(("stg_kcs__trade", "stg_japan__trade"))]
    assert len(national) == 2 and not set(national) & set(unchanged)
    assert [key for key in unchanged if key.endswith("int_trade_flows__national")]
    assert 10 < len(unchanged) < len(reported)


def test_a_run_crashed_while_writing_the_lake_then_rerun_equals_an_uninterrupted_run(
    published_build: Build, rebuilt_build: Rebuild
) -> None:
    # GIVEN a disk that fails on the 4th lake file written (after the rename target was prepared)
    assert rebuilt_build.crash_lake_writes == CRASH_ON_LAKE_FILE == 4
    # THEN the job failed before publishing, with no partial file anywhere
    assert not rebuilt_build.crashed.success
    crash_failures = failures(rebuilt_build.crashed)
    assert crash_failures and all("No space left on device" in m for m in crash_failures)
    assert not rebuilt_build.crash_left_serving
    assert rebuilt_build.crash_left_tmp == []
    # WHEN it is run again; THEN the marts equal those of the uninterrupted run
    assert rebuilt_build.result.success
    assert_same_marts(
        mart_checksums(rebuilt_build.store.serving_db), mart_checksums(published_build.store.serving_db)
    )
