"""fct_trade_flows built incrementally (strategy `replace_partitions`, macros/replace_partitions.sql)
must equal a full rebuild of the same lake: after a new partition, a revision, a blocklist change, a
removed lake file, and when nothing changed; and so must the mirror reports downstream of it
(int_mirror__reports, strategy `replace_where`, macros/replace_slices.sql) and the reconciliation
tables built on them.

The module's home is a copy of the session's small build (tests/published.py: a Dagster `main` run on
a small slice of the sample); the tests then change the lake and run `dbt run --select
fct_trade_flows` against that build file, and compare it with a `--full-refresh` build of a copy.
The home is shared and the tests run in file order: each one states (and where cheap, sets up) the
lake it expects, and leaves the blocklist as it found it.
"""

from __future__ import annotations

import copy
import itertools
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from ingest.comtrade.parse import parse_landed
from ingest.config import Paths
from ingest.landing import LandedFile, land
from ingest.reference import dbt_project_dir
from orchestration.defs.warehouse import incremental_schema_drift
from tests.published import SMALL_SCOPE, Build, copy_home

DBT = str(Path(sys.executable).parent / "dbt")
SCOPE = {
    "mode": "sample",
    "reporters": [410, 392],
    "monthly_years": [2019],
    "annual_years": list(range(2005, 2025)),
}
# The Comtrade partitions of the small build: Korea and Japan monthly 2019 and annual 2005–2024, and
# the monthly 2019 partition of reporter 842 (the good row of a bad file the build landed; the gate
# blocks the file of reporter 999, and reporter 843's file is quarantined whole).
SMALL_PARTITIONS = {("comtrade", "M", 2019, r) for r in (410, 392, 842)} | {
    ("comtrade", "A", y, r) for y in range(2005, 2025) for r in (410, 392)
}
FIXTURE = Path(__file__).parents[1] / "fixtures" / "comtrade" / "data_v1_get_C_A_HS_chn_2010_total.json"
CHINA = ("comtrade", "A", 2010, 156)  # (source, freq_code, ref_year, reporter_code) of the landed response
CHINA_PARTITION = "freq=A/year=2010/reporter=156"
DROPPED = (276, "X")  # the record the revision no longer carries
# Staging publishes the latest vintage of each RECORD (docs/data-quality.md: "the latest unblocked
# vintage of each record is published"), so a record the revision no longer carries keeps its first
# vintage's value, in a full rebuild as in an incremental one; it leaves the fact only when the file
# that carried it leaves the lake (or is blocked): test_removed_lake_files_….
LOG_LINE = re.compile(r"fct_trade_flows: (\d+) Comtrade partition\(s\) to re-derive")
_runs = itertools.count()

Partition = tuple[str, str, int, int]


# -- fixture and helpers -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def home(small_build: Build, work: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Paths]:
    """Every lake and the build warehouse of Korea + Japan, monthly 2019 and annual 2005–2024 (sample),
    with the three bad files of tests/published.py: a copy of the session's small build, in which the
    reconciliation chain and every model upstream of it are first rebuilt: the staging views read the
    lake by absolute path, and so does the lake-file inventory of the incremental fact (that build
    re-derives every partition of the copy)."""
    assert small_build.result.success and SMALL_SCOPE == SCOPE
    store = copy_home(small_build.store, tmp_path_factory.mktemp("incremental") / "data")
    assert store.build_db.exists()
    upstream = " ".join(f"+{model}" for model in CHAIN.split())
    dbt_run_log(store, store.build_db, work, select=upstream)
    yield store


@pytest.fixture(scope="module")
def already_blocked(small_build: Build) -> list[str]:
    """The files the gate blocked in the small build: the bad file of reporter 999 (tests/published.py)."""
    return [small_build.bad_inputs["blocked"]]


@pytest.fixture(scope="module")
def work(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """dbt target/log directories and the copies for full refreshes (outside the data home)."""
    return tmp_path_factory.mktemp("incremental_dbt")


def dbt_run(
    store: Paths, db: Path, work: Path, *, full_refresh: bool = False, select: str = "fct_trade_flows"
) -> int | None:
    """`dbt run --select fct_trade_flows` into ``db``; returns N of the log line
    `fct_trade_flows: N Comtrade partition(s) to re-derive` (None when the run logged none: full builds)."""
    found = {
        int(n)
        for n in LOG_LINE.findall(dbt_run_log(store, db, work, full_refresh=full_refresh, select=select))
    }
    assert len(found) <= 1, f"contradictory log lines: {found}"
    return found.pop() if found else None


def dbt_run_log(
    store: Paths, db: Path, work: Path, *, full_refresh: bool = False, select: str = "fct_trade_flows"
) -> str:
    """`dbt run --select <select>` into ``db``; the text of dbt's log file of that run."""
    logs = work / f"logs_{next(_runs)}"
    env = os.environ | {"SEMITRADE_HOME": str(store.home), "SEMITRADE_WAREHOUSE_PATH": str(db)}
    cmd = [
        DBT,
        "run",
        "--select",
        *select.split(),
        "--project-dir",
        str(dbt_project_dir()),
        "--profiles-dir",
        str(dbt_project_dir()),
        "--log-path",
        str(logs),
        "--target-path",
        str(work / ("target_full" if full_refresh else "target")),
    ]
    if full_refresh:
        cmd.append("--full-refresh")
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, f"{' '.join(cmd)} failed:\n{done.stdout[-4000:]}\n{done.stderr[-2000:]}"
    return (logs / "dbt.log").read_text()


def full_refresh_of_copy(store: Paths, work: Path, select: str = "fct_trade_flows") -> Path:
    """A `--full-refresh` build of a copy of the build warehouse (same lake, same blocklist), valid until
    the next call: every copy has the same path, so that dbt's profile (the warehouse path) stays the
    same and dbt parses the project once for all full refreshes, not once each."""
    target = work / "full.duckdb"
    wal = store.build_db.with_name(store.build_db.name + ".wal")
    target_wal = target.with_name(target.name + ".wal")
    target_wal.unlink(missing_ok=True)
    shutil.copyfile(store.build_db, target)
    if wal.exists():
        shutil.copyfile(wal, target_wal)
    assert dbt_run(store, target, work, full_refresh=True, select=select) is None
    return target


def checksum(db: Path, where: str = "true") -> tuple[str, int]:
    """Order-independent digest of fct_trade_flows (every column of every row) and its row count."""
    rows = f"select cast(t as varchar) as r from main.fct_trade_flows as t where {where}"  # noqa: S608 - test literals
    with duckdb.connect(str(db), read_only=True) as con:
        digest = f"select md5(coalesce(string_agg(r, chr(10) order by r), '')), count(*) from ({rows})"  # noqa: S608
        return con.execute(digest).fetchone()


def counts(db: Path) -> dict[Partition, int]:
    """Rows of fct_trade_flows per (source, freq_code, ref_year, reporter_code)."""
    with duckdb.connect(str(db), read_only=True) as con:
        rows = con.execute(
            "select source, freq_code, ref_year, reporter_code, count(*) from main.fct_trade_flows group by all"
        ).fetchall()
    return {(s, f, y, r): n for s, f, y, r, n in rows}


def values(db: Path, part: Partition) -> dict[tuple[int, str], float]:
    """(partner_code, flow_code) -> value_usd of one Comtrade partition of the fact (one row per key)."""
    with duckdb.connect(str(db), read_only=True) as con:
        rows = con.execute(
            "select partner_code, flow_code, value_usd from main.fct_trade_flows "
            "where source = ? and freq_code = ? and ref_year = ? and reporter_code = ?",
            list(part),
        ).fetchall()
    out = {(p, f): v for p, f, v in rows}
    assert len(out) == len(rows), f"a key appears twice in {part}: {rows}"
    return out


def outside(part: Partition) -> str:
    """Filter for the rows of every other partition (for checksums of the partitions left alone)."""
    s, f, y, r = part
    return f"not (source = '{s}' and freq_code = '{f}' and ref_year = {y} and reporter_code = {r})"


def lake_files(store: Paths, partition: str) -> list[Path]:
    return sorted((store.lake / "comtrade" / "records" / partition).glob("*.parquet"))


def source_file_of(lake_file: Path) -> str:
    """The landing-relative source_file of a lake file (one per file)."""
    with duckdb.connect() as con:
        rows = con.execute("select distinct source_file from read_parquet(?)", [str(lake_file)]).fetchall()
    assert len(rows) == 1
    return rows[0][0]


def china_bodies() -> tuple[dict, dict]:
    """The real recorded China 2010 response and a revision of it (values +10 %, one record dropped).

    The recording holds commodity TOTAL rows (aggregation level 0), which the fact leaves out (HS6
    rows only), so its four records are relabelled as HS6 854231 (H3, processors): same keys, values
    and lineage otherwise."""
    v1 = json.loads(FIXTURE.read_bytes())
    for rec in v1["data"]:
        rec.update(cmdCode="854231", aggrLevel=6, isLeaf=True)
    v2 = copy.deepcopy(v1)
    v2["data"] = [r for r in v2["data"] if (r["partnerCode"], r["flowCode"]) != DROPPED]
    v2["count"] = len(v2["data"])
    for rec in v2["data"]:
        rec["primaryValue"] = round(rec["primaryValue"] * 1.1, 2)
        rec["cifvalue"] = rec["primaryValue"] if rec["cifvalue"] is not None else None
    return v1, v2


def land_china(store: Paths, body: dict, fetched: datetime) -> tuple[LandedFile, Path]:
    """Land and parse one vintage of the China 2010 partition (idempotent); returns entry and lake file."""
    entry, _ = land(
        store,
        source="comtrade",
        dataset="records",
        partition=CHINA_PARTITION,
        stem="get_C_A_HS_156_2010",
        content=json.dumps(body).encode(),
        params={"period": "2010"},
        origin="sample",  # the test home holds the offline sample, and a home never mixes kinds
        fetched_at=fetched,
    )
    result = parse_landed(store, entry)
    assert result.rows_quarantined == 0 and result.lake_file is not None
    return entry, result.lake_file


def keyed(body: dict) -> dict[tuple[int, str], float]:
    return {(r["partnerCode"], r["flowCode"]): r["primaryValue"] for r in body["data"]}


def latest_of(*bodies: dict) -> dict[tuple[int, str], float]:
    """Each record's value in the most recent of ``bodies`` (oldest first) that carries it."""
    out: dict[tuple[int, str], float] = {}
    for body in bodies:
        out |= keyed(body)
    return out


V1_FETCHED = datetime(2020, 1, 10, tzinfo=UTC)
V2_FETCHED = datetime(2021, 6, 30, tzinfo=UTC)


# -- tests (file order: each builds on the lake the previous one left) ---------------------------


def test_new_partition_then_revision_rederive_one_partition_and_equal_a_full_rebuild(
    home: Paths, work: Path
) -> None:
    # GIVEN the warehouse the Dagster job built (sample partitions of Korea and Japan, no China)
    db = home.build_db
    before = counts(db)
    assert CHINA not in before
    assert {k for k in before if k[0] == "comtrade"} == SMALL_PARTITIONS
    others_before = checksum(db, outside(CHINA))
    v1, v2 = china_bodies()

    # WHEN the real China 2010 response lands in a new partition and the fact builds incrementally
    land_china(home, v1, V1_FETCHED)
    n = dbt_run(home, db, work)

    # THEN exactly that partition is derived, with every record of the response, and nothing else moved
    assert n == 1
    assert values(db, CHINA) == pytest.approx(keyed(v1), rel=1e-12)
    after_new = counts(db)
    assert after_new == before | {CHINA: 4}
    assert checksum(db, outside(CHINA)) == others_before

    # WHEN a revision of that partition lands (values +10 %, record 276/X dropped, fetched later)
    land_china(home, v2, V2_FETCHED)
    assert len(lake_files(home, CHINA_PARTITION)) == 2
    n = dbt_run(home, db, work)

    # THEN only that partition is re-derived: the revised values, and the record the revision no
    # longer carries at its first vintage's value (staging's latest vintage per record)
    assert n == 1
    revised = values(db, CHINA)
    assert revised == pytest.approx(latest_of(v1, v2), rel=1e-12)
    assert revised[DROPPED] == keyed(v1)[DROPPED]
    assert revised[(32, "M")] != keyed(v1)[(32, "M")]
    assert counts(db) == before | {CHINA: 4}
    assert checksum(db, outside(CHINA)) == others_before
    # AND the whole table equals a full rebuild of the same lake
    assert checksum(db) == checksum(full_refresh_of_copy(home, work))


def test_blocklist_changes_rederive_the_partitions_of_the_files_named(
    home: Paths, work: Path, already_blocked: list[str]
) -> None:
    # GIVEN both China vintages in the lake, the fact up to date, and the sample annual Japan 2019
    # partition holding a single lake file
    db = home.build_db
    v1, v2 = china_bodies()
    first, _ = land_china(home, v1, V1_FETCHED)
    revision, _ = land_china(home, v2, V2_FETCHED)
    dbt_run(home, db, work)
    japan = ("comtrade", "A", 2019, 392)
    (japan_file,) = lake_files(home, "freq=A/year=2019/reporter=392")
    gate = home.lake / "_gate" / "comtrade" / "records.json"
    original_gate = gate.read_bytes() if gate.exists() else None
    base = json.loads(original_gate) if original_gate else {}
    assert base.get("blocked_source_files", []) == already_blocked
    start = counts(db)
    assert start[CHINA] == 4 and start[japan] > 0
    assert values(db, CHINA) == pytest.approx(latest_of(v1, v2), rel=1e-12)
    start_sum = checksum(db)
    untouched = f"{outside(CHINA)} and {outside(japan)}"
    untouched_sum = checksum(db, untouched)

    try:
        # WHEN the gate blocks the China revision and the only file of Japan A/2019, and the fact builds
        gate.parent.mkdir(parents=True, exist_ok=True)
        blocked = [*already_blocked, revision.path, source_file_of(japan_file)]
        gate.write_text(json.dumps(base | {"blocked_source_files": blocked}))
        n = dbt_run(home, db, work)

        # THEN both partitions are re-derived: China falls back to the first vintage, Japan A/2019 is empty
        assert n == 2
        assert values(db, CHINA) == pytest.approx(keyed(v1), rel=1e-12)
        blocked_counts = counts(db)
        assert japan not in blocked_counts
        assert {k: v for k, v in blocked_counts.items() if k not in (CHINA, japan)} == {
            k: v for k, v in start.items() if k not in (CHINA, japan)
        }
        assert checksum(db, untouched) == untouched_sum
        # AND the table equals a full rebuild under the same blocklist
        assert checksum(db) == checksum(full_refresh_of_copy(home, work))
        with duckdb.connect(str(db), read_only=True) as con:
            assert (
                con.execute(
                    "select count(*) from main.fct_trade_flows where source_file = ?", [first.path]
                ).fetchone()[0]
                == 4
            )
    finally:
        # WHEN the files leave the blocklist again
        if original_gate is None:
            gate.unlink(missing_ok=True)
        else:
            gate.write_bytes(original_gate)
    n = dbt_run(home, db, work)

    # THEN the same two partitions are re-derived and the table is back to the revision, as before
    assert n == 2
    assert values(db, CHINA) == pytest.approx(latest_of(v1, v2), rel=1e-12)
    assert counts(db) == start
    assert checksum(db) == start_sum


def test_removed_lake_files_empty_or_fall_back_and_equal_a_full_rebuild(home: Paths, work: Path) -> None:
    # GIVEN both China vintages and the sample monthly Korea 2019 partition (one lake file), fact up to date
    db = home.build_db
    v1, v2 = china_bodies()
    _, first_file = land_china(home, v1, V1_FETCHED)
    land_china(home, v2, V2_FETCHED)
    dbt_run(home, db, work)
    korea = ("comtrade", "M", 2019, 410)
    (korea_file,) = lake_files(home, "freq=M/year=2019/reporter=410")
    start = counts(db)
    assert start[korea] > 0 and start[CHINA] == 4
    assert DROPPED in values(db, CHINA)
    start_sum = checksum(db)
    untouched = f"{outside(CHINA)} and {outside(korea)}"
    untouched_sum = checksum(db, untouched)
    aside = work / "aside"
    aside.mkdir(exist_ok=True)

    # WHEN the Korea file and the China FIRST vintage's file leave the lake, and the fact builds
    moved = {f: aside / f"{i}_{f.name}" for i, f in enumerate((korea_file, first_file))}
    for src, dst in moved.items():
        shutil.move(src, dst)
    try:
        n = dbt_run(home, db, work)

        # THEN Korea M/2019 has no row left; China holds the revision alone, so the record only the
        # first vintage carried is gone (a merge on the row key would have kept it); the rest is untouched
        assert n == 2
        now = counts(db)
        assert korea not in now
        china = values(db, CHINA)
        assert DROPPED not in china
        assert china == pytest.approx(keyed(v2), rel=1e-12)
        assert now == {k: v for k, v in start.items() if k != korea} | {CHINA: 3}
        assert checksum(db, untouched) == untouched_sum
        # AND the table equals a full rebuild of the lake without those files
        assert checksum(db) == checksum(full_refresh_of_copy(home, work))
    finally:
        # WHEN the files come back
        for src, dst in moved.items():
            shutil.move(dst, src)
    n = dbt_run(home, db, work)

    # THEN both partitions are re-derived again and the table is what it was before the removal
    assert n == 2
    assert counts(db) == start
    assert checksum(db) == start_sum


def test_a_build_without_lake_change_rederives_nothing(home: Paths, work: Path) -> None:
    # GIVEN a fact built incrementally after every earlier change
    db = home.build_db
    dbt_run(home, db, work)
    before = checksum(db)
    before_counts = counts(db)

    # WHEN it builds again with the lake and the blocklist unchanged
    n = dbt_run(home, db, work)

    # THEN no Comtrade partition is re-derived and the table is identical (national rows included)
    assert n == 0
    assert checksum(db) == before
    assert counts(db) == before_counts
    # AND it still equals a full rebuild
    assert before == checksum(full_refresh_of_copy(home, work))


# -- the reconciliation chain (macros/replace_slices.sql) ------------------------------------------

CHAIN = (
    "fct_trade_flows int_mirror__reports int_mirror__cif_rates int_mirror__reliability fct_reconciled_flows"
)
CHAIN_TABLES = {
    "fct_trade_flows": "main.fct_trade_flows",
    "int_mirror__reports": "main_intermediate.int_mirror__reports",
    "int_mirror__cif_rates": "main_intermediate.int_mirror__cif_rates",
    "int_mirror__reliability": "main_intermediate.int_mirror__reliability",
    "fct_reconciled_flows": "main.fct_reconciled_flows",
}
MIRROR_LINE = re.compile(r"int_mirror__reports: (\d+) changed fact partition\(s\) to take in")


def chain_sums(db: Path) -> dict[str, tuple[str, int]]:
    """Order-independent digest and row count of every table of the reconciliation chain."""
    out = {}
    with duckdb.connect(str(db), read_only=True) as con:
        for name, table in CHAIN_TABLES.items():
            rows = f"select cast(t as varchar) as r from {table} as t"  # noqa: S608 - test literals
            out[name] = con.execute(
                f"select md5(coalesce(string_agg(r, chr(10) order by r), '')), count(*) from ({rows})"  # noqa: S608
            ).fetchone()
    return out


def reconciled_rows(db: Path, where: str) -> int:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(f"select count(*) from main.fct_reconciled_flows where {where}").fetchone()[0]  # noqa: S608


def test_reconciliation_chain_builds_incrementally_and_equals_a_full_rebuild(
    home: Paths, work: Path, already_blocked: list[str]
) -> None:
    # GIVEN the fact rebuilt by every earlier test (`--select fct_trade_flows` only), while the mirror
    # reports and the reconciled flows were last built by the Dagster job, several fact builds ago
    db = home.build_db

    # WHEN the chain builds incrementally
    log = dbt_run_log(home, db, work, select=CHAIN)

    # THEN the mirror reports take in the changes of every fact build since (China A/2010, Japan
    # A/2019, Korea M/2019), and the whole chain equals a full rebuild of the same lake
    assert [int(n) for n in MIRROR_LINE.findall(log)] == [3]
    start = chain_sums(db)
    assert start == chain_sums(full_refresh_of_copy(home, work, select=CHAIN))
    assert start["fct_reconciled_flows"][1] == start["int_mirror__reports"][1] > 0

    # WHEN nothing changed and the chain builds again
    log = dbt_run_log(home, db, work, select=CHAIN)

    # THEN nothing is re-derived and nothing moves
    assert [int(n) for n in MIRROR_LINE.findall(log)] == [0]
    assert chain_sums(db) == start

    # GIVEN Korea's annual 2019 report (double-reported with Japan) and the reconciled rows outside it
    korea = "freq=A/year=2019/reporter=410"
    (korea_file,) = lake_files(home, korea)
    korea_2019 = "freq_code = 'A' and ref_year = 2019 and exporter_code = 410"
    other_years = (
        "freq_code = 'A' and ref_year <> 2019 and exporter_code = 410 and reports_available = 'both'"
    )
    both_before = reconciled_rows(db, f"{korea_2019} and reports_available = 'both'")
    both_other_years = reconciled_rows(db, other_years)
    assert both_before > 0 and both_other_years > 0
    gate = home.lake / "_gate" / "comtrade" / "records.json"
    original_gate = gate.read_bytes() if gate.exists() else None
    base = json.loads(original_gate) if original_gate else {}
    assert base.get("blocked_source_files", []) == already_blocked
    try:
        # WHEN the gate blocks it and the chain builds incrementally
        gate.parent.mkdir(parents=True, exist_ok=True)
        to_block = [*already_blocked, source_file_of(korea_file)]
        gate.write_text(json.dumps(base | {"blocked_source_files": to_block}))
        log = dbt_run_log(home, db, work, select=CHAIN)

        # THEN the mirror reports take in one fact partition; Korea's 2019 exports are now known from
        # the importers' reports only, and its other years are left as they were ...
        assert reconciled_rows(db, f"{korea_2019} and reports_available = 'both'") == 0
        assert reconciled_rows(db, f"{korea_2019} and reports_available = 'importer_only'") >= both_before
        assert reconciled_rows(db, other_years) == both_other_years
        # ... and every table of the chain equals a full rebuild under the same blocklist
        blocked = chain_sums(db)
        assert blocked != start
        assert blocked == chain_sums(full_refresh_of_copy(home, work, select=CHAIN))
    finally:
        if original_gate is None:
            gate.unlink(missing_ok=True)
        else:
            gate.write_bytes(original_gate)

    # WHEN the file leaves the blocklist and the chain builds again
    log = dbt_run_log(home, db, work, select=CHAIN)

    # THEN the chain is back where it started, row for row
    assert [int(n) for n in MIRROR_LINE.findall(log)] == [1]
    assert chain_sums(db) == start


def dbt_test(store: Paths, db: Path, work: Path, select: str, *, full_tests: bool = False) -> tuple[int, str]:
    """`dbt test --select <select>` against ``db``: (return code, stdout)."""
    env = os.environ | {"SEMITRADE_HOME": str(store.home), "SEMITRADE_WAREHOUSE_PATH": str(db)}
    cmd = [
        DBT, "test", "--select", select,
        "--project-dir", str(dbt_project_dir()), "--profiles-dir", str(dbt_project_dir()),
        "--log-path", str(work / f"logs_{next(_runs)}"),
        # the runs' target (same warehouse path), and one of its own with the var: changing the
        # profile or a var makes dbt parse the whole project again
        "--target-path", str(work / ("target_full_tests" if full_tests else "target")),
    ]  # fmt: skip
    if full_tests:
        cmd += ["--vars", "{full_tests: true}"]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    return done.returncode, done.stdout


def duplicate_a_row(db: Path, freq_code: str, ref_year: int, reporter_code: int) -> None:
    """Insert a second copy of one Comtrade row of that partition into fct_trade_flows (a planted fault)."""
    with duckdb.connect(str(db)) as con:
        con.execute(
            "insert into main.fct_trade_flows select * from main.fct_trade_flows "
            "where source = 'comtrade' and freq_code = ? and ref_year = ? and reporter_code = ? limit 1",
            [freq_code, ref_year, reporter_code],
        )


def test_generic_tests_of_an_incremental_build_check_the_rows_it_rederived(home: Paths, work: Path) -> None:
    # GIVEN a last fact build that re-derived Korea A/2019 alone (the unblock of the test above)
    db = home.build_db
    with duckdb.connect(str(db), read_only=True) as con:
        last = con.execute(
            "select freq_code, ref_year, reporter_code, is_full from semitrade_state.fct_trade_flows__last_build"
        ).fetchall()
    assert last == [("A", 2019, 410, False)]
    unique = "unique_fct_trade_flows_trade_flow_key"
    conservation = "assert_conservation_comtrade"  # a singular test, scoped the same way
    both = f"{unique} {conservation}"
    saved = work / "before_planting.duckdb"
    shutil.copyfile(db, saved)
    try:
        # WHEN a row of Japan M/2019, a partition that build left alone, is duplicated
        duplicate_a_row(db, "M", 2019, 392)

        # THEN the tests of the fact check the re-derived rows and pass ...
        code, out = dbt_test(home, db, work, both)
        assert code == 0, out[-2000:]
        assert re.search(rf"PASS {unique} ", out), out[-2000:]
        assert re.search(rf"PASS {conservation} ", out), out[-2000:]
        # ... and with var full_tests they check every row and both find the duplicate
        code, out = dbt_test(home, db, work, both, full_tests=True)
        assert code == 1
        assert re.search(rf"FAIL 1 {unique}", out), out[-2000:]
        assert re.search(rf"FAIL 1 {conservation}", out), out[-2000:]

        # WHEN a row of the re-derived partition is duplicated
        shutil.copyfile(saved, db)
        duplicate_a_row(db, "A", 2019, 410)

        # THEN the scoped tests find it
        code, out = dbt_test(home, db, work, both)
        assert code == 1
        assert re.search(rf"FAIL 1 {unique}", out), out[-2000:]
        assert re.search(rf"FAIL 1 {conservation}", out), out[-2000:]
    finally:
        shutil.copyfile(saved, db)


# -- incremental_schema_drift ----------------------------------------------------------------------


def _manifest(path: Path, columns: list[str]) -> Path:
    nodes = {
        "model.semitrade.fct_trade_flows": {
            "resource_type": "model",
            "alias": "fct_trade_flows",
            "config": {"materialized": "incremental"},
            "columns": {c: {"name": c, "description": c} for c in columns},
        },
        # a table model and a test are never reported, whatever their columns
        "model.semitrade.dim_country": {
            "resource_type": "model",
            "alias": "dim_country",
            "config": {"materialized": "table"},
            "columns": {"nowhere": {"name": "nowhere"}},
        },
        "test.semitrade.some_test": {
            "resource_type": "test",
            "alias": "some_test",
            "config": {},
            "columns": {},
        },
    }
    path.write_text(json.dumps({"nodes": nodes}))
    return path


def test_incremental_schema_drift_lists_the_missing_columns(tmp_path: Path) -> None:
    # GIVEN a build warehouse whose fct_trade_flows lacks column `hs6_2022`, and a dim_country table
    db = tmp_path / "build.duckdb"
    with duckdb.connect(str(db)) as con:
        con.execute("create table main.fct_trade_flows (trade_flow_key varchar, value_usd double)")
        con.execute("create table main.dim_country (m49_code integer)")
    drifted = _manifest(tmp_path / "drift.json", ["trade_flow_key", "value_usd", "hs6_2022"])
    same = _manifest(tmp_path / "same.json", ["trade_flow_key", "value_usd"])

    # WHEN / THEN the project defines a column the table lacks: it is reported (only for the incremental model)
    assert incremental_schema_drift(db, drifted) == {"fct_trade_flows": ["hs6_2022"]}
    # a table with every documented column: no drift
    assert incremental_schema_drift(db, same) == {}
    # no warehouse yet: no drift, and none is created
    missing = tmp_path / "nothing" / "build.duckdb"
    assert incremental_schema_drift(missing, drifted) == {}
    assert not missing.exists()


def test_incremental_schema_drift_ignores_a_warehouse_without_the_table(tmp_path: Path) -> None:
    # GIVEN a warehouse in which fct_trade_flows was never built
    db = tmp_path / "build.duckdb"
    with duckdb.connect(str(db)) as con:
        con.execute("create table main.other (a integer)")
    # WHEN / THEN nothing to refresh: the first build creates the table whole
    assert incremental_schema_drift(db, _manifest(tmp_path / "m.json", ["a", "b"])) == {}
