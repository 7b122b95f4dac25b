"""Helpers of tests/dbt/test_incremental_fct.py (fct_trade_flows and the reconciliation chain built
incrementally must equal full rebuilds), also used by tests/dbt/test_spark_incremental.py: dbt runs on
the module's home (in process, tests/dbt/runner.py), digests and counts of the fact, and the real China
2010 response landed as a new partition and as a revision of it.
"""

from __future__ import annotations

import copy
import json
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from ingest.comtrade.parse import parse_landed
from ingest.config import Paths
from ingest.landing import LandedFile, land
from tests.dbt.runner import DbtCall, DuckDbt
from tests.published import BAD_REPORTERS, SAMPLE_PARTITIONS

# The Comtrade partitions of the published build: one per sample file it landed, and the monthly 2019
# partition of reporter 842 (the good row of a bad file the build landed; the gate blocks the file of
# reporter 999, and reporter 843's file is quarantined whole).
PUBLISHED_PARTITIONS = {("comtrade", freq, year, reporter) for freq, year, reporter in SAMPLE_PARTITIONS} | {
    ("comtrade", "M", 2019, BAD_REPORTERS["quarantined_row"])
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

Partition = tuple[str, str, int, int]

CHAIN = (
    "fct_trade_flows int_mirror__reports int_mirror__cif_rates int_mirror__reliability fct_reconciled_flows"
)


def dbt_run(
    dbt: DuckDbt, db: Path, *, full_refresh: bool = False, select: str = "fct_trade_flows"
) -> int | None:
    """`dbt run --select fct_trade_flows` into ``db``; returns N of the log line
    `fct_trade_flows: N Comtrade partition(s) to re-derive` (None when the run logged none: full builds)."""
    found = {int(n) for n in LOG_LINE.findall(dbt_run_log(dbt, db, full_refresh=full_refresh, select=select))}
    assert len(found) <= 1, f"contradictory log lines: {found}"
    return found.pop() if found else None


def dbt_run_log(
    dbt: DuckDbt, db: Path, *, full_refresh: bool = False, select: str = "fct_trade_flows"
) -> str:
    """`dbt run --select <select>` into ``db``; the text of dbt's log file of that run."""
    args = ["run", "--select", *select.split()]
    if full_refresh:
        args.append("--full-refresh")
    done = dbt(*args, warehouse=db)
    assert done.success, f"dbt {' '.join(args)} failed: {done.results}\n{done.log[-4000:]}"
    assert done.results and {r.status for r in done.results} == {"success"}, done.results
    return done.log


def full_refresh_of_copy(store: Paths, dbt: DuckDbt, select: str = "fct_trade_flows") -> Path:
    """A `--full-refresh` build of a copy of the build warehouse (same lake, same blocklist), valid until
    the next call. Every copy has the build file's name, build.duckdb (in a folder of its own): dbt-duckdb
    names the catalog after the file, so that the home's one parsed manifest serves it too."""
    target = dbt.work / "full" / store.build_db.name
    target.parent.mkdir(exist_ok=True)
    wal = store.build_db.with_name(store.build_db.name + ".wal")
    target_wal = target.with_name(target.name + ".wal")
    target_wal.unlink(missing_ok=True)
    shutil.copyfile(store.build_db, target)
    if wal.exists():
        shutil.copyfile(wal, target_wal)
    assert dbt_run(dbt, target, full_refresh=True, select=select) is None
    return target


def dbt_test(dbt: DuckDbt, db: Path, select: str, *, full_tests: bool = False) -> DbtCall:
    """`dbt test --select <select>` against ``db`` (with var full_tests: every row)."""
    args = ["test", "--select", *select.split()]
    if full_tests:
        args += ["--vars", "{full_tests: true}"]
    return dbt(*args, warehouse=db)


@contextmanager
def gate_blocking(store: Paths, already_blocked: list[str], *source_files: str) -> Iterator[None]:
    """The Comtrade gate's blocklist with ``source_files`` added to the files it blocks already (which
    must be ``already_blocked``), restored as it was on exit."""
    gate = store.lake / "_gate" / "comtrade" / "records.json"
    original_gate = gate.read_bytes() if gate.exists() else None
    base = json.loads(original_gate) if original_gate else {}
    assert base.get("blocked_source_files", []) == already_blocked
    try:
        gate.parent.mkdir(parents=True, exist_ok=True)
        gate.write_text(json.dumps(base | {"blocked_source_files": [*already_blocked, *source_files]}))
        yield
    finally:
        if original_gate is None:
            gate.unlink(missing_ok=True)
        else:
            gate.write_bytes(original_gate)


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


def duplicate_a_row(db: Path, freq_code: str, ref_year: int, reporter_code: int) -> None:
    """Insert a second copy of one Comtrade row of that partition into fct_trade_flows (a planted fault)."""
    with duckdb.connect(str(db)) as con:
        con.execute(
            "insert into main.fct_trade_flows select * from main.fct_trade_flows "
            "where source = 'comtrade' and freq_code = ? and ref_year = ? and reporter_code = ? limit 1",
            [freq_code, ref_year, reporter_code],
        )


def double_kcs_imports_from_japan(store: Paths) -> str:
    """Revise one KCS lake file in place: Korea's imports from Japan doubled. Its source file's name."""
    import polars as pl  # noqa: PLC0415

    path, frame = next(
        (p, f)
        for p in sorted((store.lake / "kcs" / "trade").rglob("*.parquet"))
        if (f := pl.read_parquet(p)).filter((pl.col("stat_cd") == "JP") & (pl.col("imp_usd") > 0)).height
    )
    revised = frame.with_columns(
        pl.when(pl.col("stat_cd") == "JP").then(pl.col("imp_usd") * 2).otherwise(pl.col("imp_usd"))
    )
    assert revised["imp_usd"].sum() > frame["imp_usd"].sum()
    revised.write_parquet(path)
    return frame["source_file"][0]
