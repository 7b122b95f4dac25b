"""A DuckDB warehouse build runs only what changed since the last published build (orchestration/refresh.py):
the plan against the project's real manifest, its selection against dbt's own ``source:…+``, and a KCS
revision built through `semitrade build` on a copy of the published home, then a build with nothing to do.

That a refresh equals a full build is also checked where it costs nothing more: `rebuilt_build`'s rerun
re-derives the Comtrade lake only and its marts must equal `published_build`'s (test_idempotency.py)."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import duckdb
import pytest

from ingest.config import Paths
from ingest.reference import dbt_project_dir
from orchestration.cli import main
from orchestration.dbt_target import spark_mart_dir
from orchestration.refresh import (
    PENDING_FILE,
    STATE_FILE,
    downstream,
    plan_refresh,
    project_fingerprint,
    promote_pending,
)
from orchestration.spark_incremental import state_path as spark_fct_state_path
from tests.dbt.incremental import double_kcs_imports_from_japan
from tests.dbt.runner import invoke_dbt
from tests.published import copy_home

PROJECT = dbt_project_dir()
MANIFEST = PROJECT / "target" / "manifest.json"


def _lake_file(store: Paths, relative: str, content: bytes = b"rows") -> Path:
    path = store.lake / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content)
    return path


@pytest.fixture
def recorded(tmp_path: Path) -> Paths:
    """A home with one file per lake input, a build warehouse and the state of its published build."""
    store = Paths(tmp_path / "home")
    for relative in (
        "comtrade/records/freq=A/year=2019/reporter=410/a.parquet",
        "kcs/trade/year=2019/b.parquet",
        "japan/trade/year=2019/c.parquet",
        "fx/monthly_rates/d.parquet",
        "_gate/comtrade/records.json",
        "_locks/comtrade/records.lock",
    ):
        _lake_file(store, relative)
    store.warehouse_dir.mkdir(parents=True)
    store.build_db.write_bytes(b"")
    plan_refresh(store, PROJECT, MANIFEST, all_nodes=True).write_pending(store)
    assert promote_pending(store)
    return store


def test_no_published_build_runs_every_node(tmp_path: Path) -> None:
    store = Paths(tmp_path / "home")
    _lake_file(store, "kcs/trade/year=2019/b.parquet")
    plan = plan_refresh(store, PROJECT, MANIFEST)
    assert plan.changed is None and plan.dbt_args() == []
    assert plan.why == "every node: no published build to refresh"
    assert set(plan.state["inputs"]) == {
        "source:comtrade.records+",
        "source:kcs.trade+",
        "source:japan.trade+",
        "source:fx.monthly_rates+",
        "stg_quarantine__rows+",
    }


def test_nothing_changed_is_up_to_date(recorded: Paths) -> None:
    plan = plan_refresh(recorded, PROJECT, MANIFEST)
    assert plan.up_to_date and plan.dbt_args() == []
    assert plan.why.startswith("up to date")
    # the partition locks are bookkeeping: taking one changes nothing
    _lake_file(recorded, "_locks/kcs/trade.lock")
    assert plan_refresh(recorded, PROJECT, MANIFEST).up_to_date


def test_a_new_file_selects_its_source_downstream(recorded: Paths) -> None:
    _lake_file(recorded, "kcs/trade/year=2020/e.parquet")
    plan = plan_refresh(recorded, PROJECT, MANIFEST)
    assert plan.changed == ["source:kcs.trade+"]
    assert "model.semitrade.fct_trade_flows" in plan.rebuilt
    assert "model.semitrade.stg_comtrade__records" not in plan.rebuilt
    excluded = set(plan.exclude)
    assert {"dim_country", "stg_comtrade__records", "hs_concordance", "source:comtrade.records"} <= excluded
    assert excluded.isdisjoint({"stg_kcs__trade", "fct_trade_flows", "source:kcs.trade"})
    args = plan.dbt_args()
    assert args[args.index("--exclude") + 1] == " ".join(plan.exclude)  # one value: dagster-dbt splits it
    assert args[-4:] == ["--indirect-selection", "cautious", "--exclude-resource-type", "unit_test"]


def test_a_change_no_national_row_reads_keeps_the_national_rows(recorded: Paths, tmp_path: Path) -> None:
    """fct_trade_flows re-derives the national sources' rows whole, unless the refresh says none of their
    inputs changed ($SEMITRADE_FCT_NATIONAL 'keep'): a Comtrade file does not feed them, the FX rates do."""
    _lake_file(recorded, "comtrade/records/freq=A/year=2020/reporter=410/e.parquet")
    plan = plan_refresh(recorded, PROJECT, MANIFEST)
    assert plan.keep_national
    assert plan.dbt_env() == {"SEMITRADE_FCT_NATIONAL": "keep"}
    assert plan.why.endswith(
        "; fct_trade_flows keeps the national sources' rows (none of their inputs changed)"
    )
    moved = Paths(tmp_path / "elsewhere")
    shutil.copytree(recorded.home, moved.home)
    assert not plan_refresh(moved, PROJECT, MANIFEST).keep_national  # a moved home: re-derived, to be safe
    _lake_file(recorded, "fx/monthly_rates/e.parquet")  # the FX rates convert the national values to USD
    plan = plan_refresh(recorded, PROJECT, MANIFEST)
    assert plan.changed == ["source:comtrade.records+", "source:fx.monthly_rates+"]
    assert not plan.keep_national and plan.dbt_env() == {"SEMITRADE_FCT_NATIONAL": "rederive"}


def test_a_rewritten_or_removed_file_counts_as_a_change(recorded: Paths) -> None:
    path = recorded.lake / "japan/trade/year=2019/c.parquet"
    path.write_bytes(b"other rows")
    assert plan_refresh(recorded, PROJECT, MANIFEST).changed == ["source:japan.trade+"]
    path.unlink()
    assert plan_refresh(recorded, PROJECT, MANIFEST).changed == ["source:japan.trade+"]


def test_the_gate_blocklist_and_the_quarantine_are_inputs(recorded: Paths) -> None:
    blocklist = recorded.lake / "_gate/comtrade/records.json"
    stat = blocklist.stat()
    blocklist.write_bytes(b"rows")  # rewritten with the same content: not a change
    os.utime(blocklist, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    assert plan_refresh(recorded, PROJECT, MANIFEST).up_to_date
    blocklist.write_bytes(b'{"blocked_source_files": ["x"]}')
    _lake_file(recorded, "_quarantine/kcs/trade/q.parquet")
    assert plan_refresh(recorded, PROJECT, MANIFEST).changed == [
        "source:comtrade.records+",
        "stg_quarantine__rows+",
    ]


def test_an_unknown_lake_folder_runs_every_node(recorded: Paths) -> None:
    _lake_file(recorded, "baci/trade/x.parquet")
    plan = plan_refresh(recorded, PROJECT, MANIFEST)
    assert plan.changed is None
    assert plan.why == "every node: lake folders no dbt input reads changed: ['baci']"


def test_a_project_change_or_a_missing_warehouse_runs_every_node(recorded: Paths, tmp_path: Path) -> None:
    project = tmp_path / "project"
    (project / "models").mkdir(parents=True)
    (project / "dbt_project.yml").write_text("name: x\n")
    model = project / "models" / "m.sql"
    model.write_text("select 1 as a\n")
    before = project_fingerprint(project)
    os.utime(model, ns=(0, 0))  # the time alone is not a change
    assert project_fingerprint(project) == before
    model.write_text("select 2 as a\n")
    assert project_fingerprint(project) != before

    state = json.loads((recorded.warehouse_dir / STATE_FILE).read_text())
    state["project"] = "an older project"
    (recorded.warehouse_dir / STATE_FILE).write_text(json.dumps(state))
    plan = plan_refresh(recorded, PROJECT, MANIFEST)
    assert (plan.changed, plan.why) == (
        None,
        "every node: the dbt project or the dbt/DuckDB versions changed",
    )
    recorded.build_db.unlink()
    assert plan_refresh(recorded, PROJECT, MANIFEST).why == "every node: no published build to refresh"


def test_a_moved_home_makes_again_the_views_that_read_the_lake(recorded: Paths, tmp_path: Path) -> None:
    moved = Paths(tmp_path / "elsewhere")
    shutil.copytree(recorded.home, moved.home)  # file times kept: no input changed
    plan = plan_refresh(moved, PROJECT, MANIFEST)
    assert plan.changed == [] and plan.moved and not plan.up_to_date
    assert plan.why.endswith(f"and the views that read the lake, which moved to {moved.lake.resolve()}")
    readers = {"stg_comtrade__records", "stg_kcs__trade", "stg_japan__trade", "stg_fx__monthly_rates"}
    assert {uid.split(".")[-1] for uid in plan.rebuilt} == readers | {"stg_quarantine__rows"}
    assert "fct_trade_flows" in plan.exclude and not readers & set(plan.exclude)
    assert "--exclude" in plan.dbt_args()
    _lake_file(moved, "kcs/trade/year=2020/e.parquet")
    plan = plan_refresh(moved, PROJECT, MANIFEST)
    assert plan.changed == ["source:kcs.trade+"] and "model.semitrade.stg_comtrade__records" in plan.rebuilt
    assert "model.semitrade.int_hs__code_map" not in plan.rebuilt


def test_the_spark_target_keeps_its_own_state(recorded: Paths, tmp_path: Path) -> None:
    """Spark's state sits with its warehouse: the DuckDB state does not make a Spark build a refresh,
    nor the other way round; a moved home runs every node on Spark (the metastore holds its paths)."""
    plan = plan_refresh(recorded, PROJECT, MANIFEST, target="spark")
    assert plan.why == "every node: no published build to refresh"  # no Spark tables yet
    table = spark_mart_dir(recorded, "fct_trade_flows") / "part-0.parquet"
    table.parent.mkdir(parents=True)
    table.write_bytes(b"rows")
    assert plan_refresh(recorded, PROJECT, MANIFEST, target="spark").why == (
        "every node: no published build to refresh"
    )  # Spark tables, but no Spark state recorded
    plan_refresh(recorded, PROJECT, MANIFEST, all_nodes=True, target="spark").write_pending(recorded)
    spark_state = spark_fct_state_path(recorded).parent
    assert (spark_state / PENDING_FILE).exists() and not (recorded.warehouse_dir / PENDING_FILE).exists()
    assert promote_pending(recorded, "spark") and (spark_state / STATE_FILE).exists()
    assert project_fingerprint(PROJECT, "spark") != project_fingerprint(PROJECT, "duckdb")
    assert plan_refresh(recorded, PROJECT, MANIFEST, target="spark").up_to_date
    _lake_file(recorded, "kcs/trade/year=2020/e.parquet")
    spark = plan_refresh(recorded, PROJECT, MANIFEST, target="spark")
    duck = plan_refresh(recorded, PROJECT, MANIFEST)
    assert spark.changed == duck.changed == ["source:kcs.trade+"]
    # DuckDB leaves its views standing; on Spark they are tables, made again
    assert spark.rebuilt - duck.rebuilt == {"model.semitrade.fct_trade_flows_hs2022"}
    assert "model.semitrade.fct_trade_flows" in spark.rebuilt and "dim_country" in spark.exclude
    spark.write_pending(recorded)
    assert promote_pending(recorded, "spark")
    assert plan_refresh(recorded, PROJECT, MANIFEST, target="spark").up_to_date
    assert plan_refresh(recorded, PROJECT, MANIFEST).changed == ["source:kcs.trade+"]  # DuckDB's own state
    moved = Paths(tmp_path / "elsewhere")
    shutil.copytree(recorded.home, moved.home)
    assert plan_refresh(moved, PROJECT, MANIFEST, target="spark").why == (
        f"every node: the home moved to {moved.home} (the Spark metastore holds the old paths)"
    )


def test_views_with_an_unchanged_definition_stand(recorded: Paths, tmp_path: Path) -> None:
    """A Comtrade change leaves the Comtrade staging views alone on DuckDB (no data test reads them only),
    unless the home moved (their definition names the lake); views with their own data tests are made
    again, so that the tests run."""
    _lake_file(recorded, "comtrade/records/freq=A/year=2020/reporter=410/e.parquet")
    plan = plan_refresh(recorded, PROJECT, MANIFEST)
    views = {"stg_comtrade__records", "int_trade_flows__comtrade", "fct_trade_flows_hs2022"}
    assert not {f"model.semitrade.{v}" for v in views} & plan.rebuilt and views <= set(plan.exclude)
    assert {
        "model.semitrade.fct_trade_flows_preferred",
        "model.semitrade.fct_reconciled_flows",
    } <= plan.rebuilt
    assert "model.semitrade.int_mirror__cif_rates" in plan.rebuilt  # a table (dbt_project.yml): made again
    assert "model.semitrade.fct_trade_flows" in plan.rebuilt
    moved = Paths(tmp_path / "elsewhere")
    shutil.copytree(recorded.home, moved.home)
    plan = plan_refresh(moved, PROJECT, MANIFEST)
    assert "model.semitrade.stg_comtrade__records" in plan.rebuilt  # it names the lake's old path
    assert "model.semitrade.int_trade_flows__comtrade" not in plan.rebuilt  # it names the view
    spark = plan_refresh(recorded, PROJECT, MANIFEST, target="spark")
    assert spark.why == "every node: no published build to refresh"  # Spark keeps its own state


def test_only_a_publication_records_the_state(recorded: Paths) -> None:
    _lake_file(recorded, "fx/monthly_rates/e.parquet")
    plan = plan_refresh(recorded, PROJECT, MANIFEST)
    plan.write_pending(recorded)  # built, not published (the publication failed)
    assert plan_refresh(recorded, PROJECT, MANIFEST).changed == ["source:fx.monthly_rates+"]
    assert promote_pending(recorded) and not (recorded.warehouse_dir / PENDING_FILE).exists()
    assert plan_refresh(recorded, PROJECT, MANIFEST).up_to_date
    assert not promote_pending(recorded)


def test_the_exclusion_leaves_what_dbt_selects_downstream(recorded: Paths, tmp_path: Path) -> None:
    """dagster-dbt adds `--select fqn:*`; with the plan's exclusion dbt must list exactly the nodes of
    `--select source:X+` (unit tests aside): the same set, for each input."""
    manifest = json.loads(MANIFEST.read_text())
    env = {"SEMITRADE_HOME": str(recorded.home), "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}

    def listed(*args: str) -> set[str]:
        res = invoke_dbt(
            [
                "ls",
                *args,
                "--output",
                "json",
                "--output-keys",
                "unique_id",
                "--quiet",
                "--log-path",
                str(tmp_path),
            ],
            env=env,
            target_path=tmp_path / "target",
        )
        assert res.success, res.exception
        return {json.loads(line)["unique_id"] for line in res.result}

    # the views that stand (their definition is in the warehouse; no data test needs them made again)
    for relative, selector, standing in (
        ("kcs/trade/year=2021/f.parquet", "source:kcs.trade+", {"model.semitrade.fct_trade_flows_hs2022"}),
        ("_quarantine/comtrade/records/q.parquet", "stg_quarantine__rows+", set()),
    ):
        _lake_file(recorded, relative)
        plan = plan_refresh(recorded, PROJECT, MANIFEST)
        assert plan.changed == [selector]
        narrowed = listed("--select", "fqn:*", *plan.dbt_args(), "--exclude-resource-type", "source")
        expected = listed(
            "--select", selector, "--exclude-resource-type", "unit_test", "--exclude-resource-type", "source"
        )
        assert standing <= expected
        assert narrowed == expected - standing
        assert narrowed == {uid for uid in plan.rebuilt if uid.split(".")[0] in ("model", "test")}
        assert len(narrowed) > 10
        plan.write_pending(recorded)
        promote_pending(recorded)
    assert downstream(manifest, ["model.semitrade.fct_trade_flows"]) >= {
        "model.semitrade.fct_trade_flows_hs2022"
    }


def _marts(db: Path) -> dict[str, int]:
    with duckdb.connect(str(db), read_only=True) as con:
        rows = con.execute(
            "select table_name from duckdb_tables() where schema_name = 'main' order by 1"
        ).fetchall()
        return {t: con.execute(f'select count(*) from main."{t}"').fetchone()[0] for (t,) in rows}  # noqa: S608


def test_a_kcs_revision_rebuilds_korea_downstream_then_nothing(
    published_home: Paths, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    store = copy_home(published_home, tmp_path / "home")
    monkeypatch.setenv("SEMITRADE_HOME", str(store.home))
    monkeypatch.delenv("SEMITRADE_FCT_NATIONAL", raising=False)
    copied = plan_refresh(store, PROJECT, MANIFEST)  # the copy is the published build, moved
    assert copied.changed == [] and copied.moved
    source_file = double_kcs_imports_from_japan(store)  # a revised KCS file
    query = (
        "select sum(value_usd) from fct_trade_flows where source = 'kcs' and flow_code = 'M' "
        "and partner_code = 392 and source_file = ?"
    )
    with duckdb.connect(str(store.serving_db), read_only=True) as con:
        before = con.execute(query, [source_file]).fetchone()[0]
    assert before is not None and before > 0
    published_before = _marts(store.serving_db)

    assert main(["build"]) == 0
    out = "".join(capsys.readouterr())
    assert "dbt build: the nodes downstream of the lake inputs that changed: source:kcs.trade+" in out
    unchanged = [line for line in out.splitlines() if "asset(s) unchanged, their" in line]
    assert len(unchanged) == 1 and "dbt build: 0 asset(s)" not in unchanged[0]
    with duckdb.connect(str(store.serving_db), read_only=True) as con:
        after = con.execute(query, [source_file]).fetchone()[0]
    assert after == pytest.approx(2 * before, rel=1e-12)  # the publication holds the revision
    assert _marts(store.serving_db) == published_before  # the same tables and row counts
    assert not (store.warehouse_dir / PENDING_FILE).exists()
    assert plan_refresh(store, PROJECT, MANIFEST).up_to_date  # recorded with the publication

    assert main(["build"]) == 0
    out = "".join(capsys.readouterr())
    assert "dbt build: up to date: no lake input and no dbt project file changed" in out
    assert "Done. PASS=" not in out  # dbt did not run
    with duckdb.connect(str(store.serving_db), read_only=True) as con:
        assert con.execute(query, [source_file]).fetchone()[0] == pytest.approx(after, rel=1e-12)

    # WHEN a Comtrade lake file leaves the lake and the job runs: its ingest writes the file again from
    # the landed response (a new file: a change that feeds no national row), then builds
    national = "select count(*), sum(value_usd) from fct_trade_flows where source <> 'comtrade'"
    comtrade = "select count(*), sum(value_usd) from fct_trade_flows where source = 'comtrade'"
    with duckdb.connect(str(store.serving_db), read_only=True) as con:
        national_before, comtrade_before = con.execute(national).fetchone(), con.execute(comtrade).fetchone()
    lake_file = max((store.lake / "comtrade" / "records").rglob("[!.]*.parquet"))
    lake_file.rename(tmp_path / lake_file.name)
    assert main(["build"]) == 0
    out = "".join(capsys.readouterr())

    # THEN the dbt process had the refresh's word: the fact kept the national rows (the rewritten file has
    # the name the fact's inventory holds: no partition to re-derive); the publication holds the same rows
    assert lake_file.exists()
    assert "dbt build: the nodes downstream of the lake inputs that changed: source:comtrade.records+" in out
    assert "fct_trade_flows keeps the national sources' rows (none of their inputs changed)" in out
    assert "fct_trade_flows: the national sources' rows stay" in out
    assert "SEMITRADE_FCT_NATIONAL" not in os.environ  # the dbt process had it, not this one's later dbt runs
    with duckdb.connect(str(store.serving_db), read_only=True) as con:
        assert con.execute(national).fetchone() == national_before
        assert con.execute(comtrade).fetchone() == pytest.approx(comtrade_before, rel=1e-12)
