"""The DuckDB profile's thread counts come from the environment (dbt_project/profiles.yml)."""

from __future__ import annotations

from pathlib import Path

from tests.dbt.runner import close_duckdb_environment, invoke_dbt


def test_thread_counts_come_from_the_environment(tmp_path: Path) -> None:
    """SEMITRADE_DBT_THREADS sets dbt's threads and SEMITRADE_DUCKDB_THREADS DuckDB's worker threads
    (both 2 unless set): a query dbt runs sees DuckDB's, dbt's log says its own."""
    env = {
        "SEMITRADE_HOME": str(tmp_path),
        "SEMITRADE_WAREHOUSE_PATH": str(tmp_path / "build.duckdb"),
        "SEMITRADE_DBT_TARGET": None,
        "SEMITRADE_DBT_THREADS": "3",
        "SEMITRADE_DUCKDB_THREADS": "1",
    }
    try:
        result = invoke_dbt(
            [
                "show",
                "--inline",
                "select current_setting('threads') as duckdb_threads",
                "--log-path",
                str(tmp_path),
            ],
            env=env,
            target_path=tmp_path / "target",
        )
    finally:
        close_duckdb_environment()
    assert result.success, result.exception
    table = result.result.results[0].agate_table
    assert [row["duckdb_threads"] for row in table.rows] == [1]
    log = (tmp_path / "dbt.log").read_text()
    assert "Concurrency: 3 threads (target='duckdb')" in log
