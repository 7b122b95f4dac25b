"""The measured steps of the benchmark, each run in its own process by ``bench.run``.

``python -m bench.steps <step> <json-args>`` runs one step and prints one JSON line with its row
counts (and the process's own peak RSS, VmHWM, a cross-check of the sampled value).
Data are the SYNTHETIC files of ``bench.generate``: not published statistics.
"""

from __future__ import annotations

import json
import os
import re
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
DBT_PROJECT = REPO / "dbt_project"


def _partition(name: str) -> tuple[str, int, int]:
    """(partition, reporter, year) from a generated file name COMTRADE-FINAL-CA<rrr><yyyy><Hn>[...]."""
    stem = name.removeprefix("COMTRADE-FINAL-CA")
    reporter, year = int(stem[:3]), int(stem[3:7])
    return f"freq=A/year={year}/reporter={reporter}", reporter, year


def _ingest_one(file: str, home: str) -> tuple[int, int, int]:
    """Land one generated bulk file (hash + move, bounded memory) and ``parse_bulk`` it."""
    from ingest.comtrade.bulk_parse import parse_bulk
    from ingest.config import Paths
    from ingest.landing import land_file

    paths = Paths(Path(home))
    f = Path(file)
    src = paths.home / "_incoming" / f.name
    src.parent.mkdir(parents=True, exist_ok=True)
    src.unlink(missing_ok=True)
    os.link(f, src)  # the generated file stays in place for the other contenders
    partition, reporter, year = _partition(f.name)
    entry, _new = land_file(
        paths,
        src,
        source="comtrade",
        dataset="bulk",
        partition=partition,
        stem=f"bulk_{year}_{f.name[24:26]}",
        origin="sample",
        params={"endpoint": f"/bulk/v1/file/{reporter}/{f.name}", "period": str(year)},
    )
    r = parse_bulk(paths, entry)
    return r.rows_in, r.rows_kept, r.rows_quarantined


def ours_ingest(files: list[str], home: str, jobs: int = 1) -> dict[str, Any]:
    """Our path, bulk files → lake: land each file and parse it (parse, type, validate, quarantine),
    one file after the other (``jobs`` = 1) or in ``jobs`` worker processes, a file each."""
    if jobs > 1:
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(jobs) as pool:
            counts = list(pool.map(_ingest_one, files, [home] * len(files)))
    else:
        counts = [_ingest_one(f, home) for f in files]
    rows_in, kept, quarantined = (sum(c[i] for c in counts) for i in range(3))
    return {"rows": rows_in, "rows_kept": kept, "rows_quarantined": quarantined, "jobs": jobs}


def dbt_dirs(home: str, target: str = "duckdb") -> tuple[str, str]:
    """dbt's target and log folders for a build of ``home`` on ``target``: one pair per target, so that
    a Spark build leaves the DuckDB builds' partial-parse state (and their refresh's timing) alone."""
    suffix = "" if target == "duckdb" else f"_{target}"
    return f"{home}/dbt_target{suffix}", f"{home}/dbt_logs{suffix}"


def dbt_build(home: str, select: str | None = None, target: str = "duckdb") -> dict[str, Any]:
    """``dbt build`` (seeds, models, tests) of the project over the lake in ``home`` on ``target``, as
    the warehouse asset runs it (orchestration/defs/warehouse.py): ``dbt_target_args``, and on Spark
    the plan of the fact's partitions to re-derive (``--full-refresh`` when it says full), recorded
    after a successful build. fct row count and where the time went. The Spark session's settings
    come from the SEMITRADE_SPARK_* environment (profiles.yml)."""
    from ingest.config import Paths
    from orchestration.dbt_target import dbt_target_args
    from orchestration.refresh import plan_refresh, promote_pending
    from orchestration.resources import manifest_path, prepare_dbt_project
    from orchestration.spark_incremental import plan_fct_build

    store = Paths(Path(home))
    env = os.environ | {"SEMITRADE_HOME": home, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}
    (Path(home) / "warehouse").mkdir(parents=True, exist_ok=True)
    target_path, log_path = dbt_dirs(home, target)
    plan = plan_fct_build(store) if target == "spark" else None
    refresh = None
    if not select:  # as the warehouse asset: only what changed since the last build on this target
        prepare_dbt_project(Path(home))
        full = plan is not None and plan.full
        refresh = plan_refresh(store, DBT_PROJECT, manifest_path(DBT_PROJECT), all_nodes=full, target=target)
        env |= refresh.dbt_env()
    cmd = [
        str(Path(sys.executable).with_name("dbt")),
        "build",
        "--project-dir",
        str(DBT_PROJECT),
        "--profiles-dir",
        str(DBT_PROJECT),
        "--target-path",
        target_path,
        "--log-path",
        log_path,
        "--quiet",
        *dbt_target_args(target, store, plan),
    ]
    if plan is not None and plan.full:
        cmd.append("--full-refresh")
    if select:
        cmd += ["--select", select]
    if refresh is not None and refresh.dbt_args():  # dagster-dbt's own selection, narrowed as there
        cmd += ["--select", "fqn:*", *refresh.dbt_args()]
    # Spark's session may drop files (derby.log) in the working directory: the home, not the repository
    cwd = home if target == "spark" else None
    if refresh is not None and refresh.up_to_date:  # nothing to build: no dbt process at all
        return {
            "dbt_ok": True,
            "target": target,
            "refresh_plan": refresh.why,
            "dbt_nodes": 0,
        } | duckdb_counts(home)
    proc = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True, check=False)
    result: dict[str, Any] = {"dbt_ok": proc.returncode == 0, "target": target}
    if refresh is not None:
        result["refresh_plan"] = refresh.why
        if proc.returncode == 0:  # the bench publishes nothing: the build counts as published
            refresh.write_pending(store)
            promote_pending(store, target)
    if plan is not None:
        result["spark_fct_plan"] = "full" if plan.full else f"{len(plan.partitions)} partition(s)"
        if proc.returncode == 0:
            plan.record(store)
    if proc.returncode != 0:  # measured anyway: the note says which nodes failed
        lines = [ln for ln in (proc.stdout + proc.stderr).splitlines() if "Error" in ln or "FAIL" in ln]
        result["dbt_errors"] = lines[-6:]
    counts = spark_counts(home) if target == "spark" else duckdb_counts(home)
    return result | counts | slowest_nodes(target_path) | spark_settings(target)


def duckdb_counts(home: str) -> dict[str, Any]:
    """Rows of fct_trade_flows and tables of schema main in the DuckDB build of ``home``."""
    import duckdb

    con = duckdb.connect(f"{home}/warehouse/build.duckdb", read_only=True)
    try:
        fct = con.execute("select count(*) from fct_trade_flows").fetchone()[0]
        models = con.execute(
            "select count(*) from information_schema.tables where table_schema = 'main'"
        ).fetchone()[0]
    finally:
        con.close()
    return {"rows": fct, "fct_rows": fct, "main_tables": models}


def spark_counts(home: str) -> dict[str, Any]:
    """Rows of fct_trade_flows (read by DuckDB from its Parquet folder) and the tables the Spark build of
    ``home`` wrote in the published schema; zeros when the build wrote no fct_trade_flows."""
    import duckdb

    from ingest.config import Paths
    from orchestration.dbt_target import spark_mart_dir, spark_tables

    store = Paths(Path(home))
    files = [str(f) for f in sorted(spark_mart_dir(store, "fct_trade_flows").rglob("[!._]*.parquet"))]
    fct = 0
    if files:
        with duckdb.connect() as con:
            fct = con.execute("select count(*) from read_parquet(?)", [files]).fetchone()[0]
    tables = sum(1 for schema, _ in spark_tables(store) if schema == "main")
    return {"rows": fct, "fct_rows": fct, "main_tables": tables}


def spark_settings(target: str) -> dict[str, Any]:
    """The local Spark session's settings in effect: each SEMITRADE_SPARK_* variable profiles.yml reads,
    from the environment or profiles.yml's default; nothing on DuckDB."""
    if target != "spark":
        return {}
    profiles = (DBT_PROJECT / "profiles.yml").read_text()
    defaults = dict(re.findall(r"env_var\('SEMITRADE_SPARK_(\w+)', '([^']*)'\)", profiles))
    return {
        "spark": {k.lower(): os.environ.get(f"SEMITRADE_SPARK_{k}", v) for k, v in sorted(defaults.items())}
    }


def slowest_nodes(target_path: str, n: int = 8) -> dict[str, Any]:
    """From dbt's run_results.json: node count, dbt's own elapsed time, per kind of node (seed, model,
    test, unit_test) the count, summed and median seconds, and the ``n`` slowest nodes (seconds,
    name) — where the time of a ``dbt build`` went."""
    path = Path(target_path) / "run_results.json"
    if not path.exists():
        return {}
    doc = json.loads(path.read_text())
    nodes = sorted(doc["results"], key=lambda r: -r["execution_time"])
    kinds: dict[str, list[float]] = {}
    for r in nodes:
        kinds.setdefault(r["unique_id"].split(".", 1)[0], []).append(r["execution_time"])
    return {
        "dbt_nodes": len(nodes),
        "dbt_elapsed_s": round(doc["elapsed_time"], 1),
        "node_seconds_by_kind": {
            kind: {"nodes": len(t), "sum_s": round(sum(t), 1), "median_s": round(statistics.median(t), 3)}
            for kind, t in sorted(kinds.items())
        },
        "slowest_nodes": [
            [round(r["execution_time"], 2), r["unique_id"].split(".", 2)[-1]] for r in nodes[:n]
        ],
    }


def refresh(file: str, home: str, dbt: bool = True, target: str = "duckdb") -> dict[str, Any]:
    """Incremental refresh of one reporter-period: land + parse its revised file (a no-op when an
    earlier refresh of the same lake landed it), then ``dbt build`` on ``target``."""
    import time

    t0 = time.perf_counter()
    lake = ours_ingest([file], home)
    t1 = time.perf_counter()
    if not dbt:
        return {"rows": lake["rows"], "lake_seconds": round(t1 - t0, 3), "dbt_seconds": None}
    wh = dbt_build(home, target=target)
    t2 = time.perf_counter()
    return {
        "rows": lake["rows"],
        "lake_seconds": round(t1 - t0, 3),
        "dbt_seconds": round(t2 - t1, 3),
        "fct_rows": wh["fct_rows"],
        "dbt_ok": wh["dbt_ok"],
        "dbt_errors": wh.get("dbt_errors", []),
        "partitions_rederived": _rederived(dbt_dirs(home, target)[1]),
    } | {
        k: wh[k]
        for k in (
            "target",
            "spark_fct_plan",
            "dbt_nodes",
            "dbt_elapsed_s",
            "node_seconds_by_kind",
            "slowest_nodes",
            "spark",
        )
        if k in wh
    }


def _rederived(log_path: str) -> int | None:
    """How many Comtrade partitions the last incremental build of fct_trade_flows re-derived (its log
    line; None when it logged none, e.g. a Spark build, which rebuilds fct_trade_flows whole)."""
    log = Path(log_path) / "dbt.log"
    if not log.exists():
        return None
    hits = [ln for ln in log.read_text(errors="replace").splitlines() if "partition(s) to re-derive" in ln]
    if not hits:
        return None
    return int(hits[-1].split("fct_trade_flows: ", 1)[1].split()[0])


def polars_limit(files: list[str], out: str) -> dict[str, Any]:
    """Engine limit: Polars streaming ``scan_csv(...).sink_parquet(...)``, every column a string, no checks."""
    import polars as pl

    pl.scan_csv(files, separator="\t", infer_schema=False, quote_char=None).sink_parquet(
        out, compression="zstd"
    )
    return {"rows": pl.scan_parquet(out).select(pl.len()).collect().item()}


def duckdb_limit(files: list[str], out: str) -> dict[str, Any]:
    """Engine limit: DuckDB ``read_csv`` → ``COPY ... TO parquet``, every column a string, no checks."""
    import duckdb

    con = duckdb.connect()
    target = out.replace("'", "''")  # a path we chose; COPY takes no parameter for it
    sql = (
        "copy (select * from read_csv($files, delim = '\t', header = true, quote = '', all_varchar = true)) "  # noqa: S608
        f"to '{target}' (format parquet, compression zstd)"
    )
    con.execute(sql, {"files": files})
    return {"rows": con.execute("select count(*) from read_parquet($p)", {"p": out}).fetchone()[0]}


def pandas_bulk(files: list[str], out: str) -> dict[str, Any]:
    """User baseline: pandas ``read_csv`` of each bulk file, ``concat``, ``to_parquet``."""
    import pandas as pd

    df = pd.concat(
        [pd.read_csv(f, sep="\t", compression="gzip", low_memory=False) for f in files], ignore_index=True
    )
    df.to_parquet(out)
    return {"rows": len(df)}


def pandas_json(files: list[str], out: str) -> dict[str, Any]:
    """User baseline for API-sized JSON responses: ``pd.json_normalize`` of each response's data."""
    import pandas as pd

    frames = []
    for f in files:
        with open(f, encoding="utf-8") as fh:
            frames.append(pd.json_normalize(json.load(fh)["data"]))
    df = pd.concat(frames, ignore_index=True)
    df.to_parquet(out)
    return {"rows": len(df)}


def ours_json(home: str) -> dict[str, Any]:
    """Our path for JSON responses: ``parse_landed`` (validate, type, quarantine) of every landed response."""
    from ingest.comtrade.parse import parse_landed
    from ingest.config import Paths
    from ingest.landing import read_manifest

    paths = Paths(Path(home))
    rows = kept = 0
    for entry in read_manifest(paths, source="comtrade", dataset="records"):
        r = parse_landed(paths, entry, force=True)
        rows += r.rows_in
        kept += r.rows_kept
    return {"rows": rows, "rows_kept": kept}


STEPS = {
    f.__name__: f
    for f in (
        ours_ingest,
        dbt_build,
        refresh,
        polars_limit,
        duckdb_limit,
        pandas_bulk,
        pandas_json,
        ours_json,
    )
}


def vm_hwm_mb() -> float:
    """This process's own peak resident set (VmHWM, MB). Unlike getrusage's ru_maxrss it does not
    inherit the parent's peak across fork + exec."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def main() -> None:
    step, args = sys.argv[1], json.loads(sys.argv[2])
    result = STEPS[step](**args)
    print(json.dumps(result | {"own_peak_rss_mb": round(vm_hwm_mb(), 1)}))


if __name__ == "__main__":
    main()
