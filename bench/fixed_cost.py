"""What a warehouse build costs with little data: ``dbt build`` of the offline sample's lake alone (the
bench warehouse's base home, without the generated bulk rows: 191,371 fact rows against 929,129 in the
1M build) on DuckDB and on Spark (local[2]).

``python -m bench.fixed_cost`` (work directory: $SEMITRADE_BENCH_DIR, else /tmp/semitrade-bench, as
``bench.run``; its base home is reused) prints the builds and writes ``bench/results/fixed_cost.json``.
Next to the 1M-row builds of ``bench.run`` it separates the cost of the project's nodes (seeds, models,
tests, unit tests; on Spark each a job or more, planned by the driver) from the cost of the data. Not
the same run as ``bench.run``'s: compare them only on a quiet machine (the load is in both JSONs).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import spark as bench_spark
from bench.homes import setup_home
from bench.measure import REPO, Measure, commit, machine, measure, uncommitted_changes

RESULTS = REPO / "bench" / "results"


def run(work: Path, max_gb: float) -> dict[str, Any]:
    """Both builds of the sample-only home; the result document (also written to bench/results)."""
    started = datetime.now(UTC)
    info = machine()
    reason = bench_spark.skip_reason(skip_spark=False, dbt=True)
    home = work / "home-sample"
    shutil.rmtree(home, ignore_errors=True)
    setup = setup_home(work, home)
    print(f"load {info['load_avg_at_start']}; setup: {setup}", flush=True)
    results: list[Measure] = []

    def add(m: Measure) -> Measure:
        results.append(m)
        print(
            f"  {m.name:<38} {m.seconds:8.1f} s  {m.peak_rss_mb:8.0f} MB  fct_rows {m.detail.get('fct_rows')}  {m.note}"
        )
        print("   ", bench_spark.node_summary(m), flush=True)
        return m

    add(measure("sample only: dbt build, duckdb", "dbt_build", max_gb, home=str(home)))
    if reason:
        print(f"  spark: skipped: {reason}")
    else:
        bench_spark.full_builds(home, max_gb, add, masters=(bench_spark.DEFAULT_MASTER,))
    doc = {
        "date": started.isoformat(timespec="seconds"),
        "commit": commit(),
        "uncommitted_changes": uncommitted_changes(),
        "machine": info | {"load_avg_at_end": [round(x, 2) for x in os.getloadavg()]},
        "setup": setup,
        "spark": {"skipped": reason},
        "results": [
            asdict(m) | {"seconds": round(m.seconds, 3), "peak_rss_mb": round(m.peak_rss_mb, 1)}
            for m in results
        ],
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / "fixed_cost.json"
    path.write_text(json.dumps(doc, indent=1, ensure_ascii=False) + "\n")
    print(f"written {path.relative_to(REPO)}")
    shutil.rmtree(home, ignore_errors=True)
    return doc


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description="dbt build of the offline sample alone, on DuckDB and on Spark")
    ap.add_argument("--max-gb", type=float, default=8.0, help="stop a build whose RSS passes this (GB)")
    args = ap.parse_args(argv)
    run(Path(os.environ.get("SEMITRADE_BENCH_DIR", "/tmp/semitrade-bench")), args.max_gb)


if __name__ == "__main__":
    main()
