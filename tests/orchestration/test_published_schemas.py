"""The published warehouse holds what BI users query, not the incremental builds' bookkeeping."""

from __future__ import annotations

import duckdb

from tests.published import Build


def schemas(db: object) -> set[str]:
    with duckdb.connect(str(db), read_only=True) as con:
        return {r[0] for r in con.execute("select distinct schema_name from duckdb_tables()").fetchall()}


def test_the_state_schema_stays_in_the_build_file(published_build: Build) -> None:
    store = published_build.store
    assert "semitrade_state" in schemas(store.build_db)  # the incremental bookkeeping is there…
    published = schemas(store.serving_db)
    assert "semitrade_state" not in published  # …and not in what BI tools open
    assert {"main", "main_reference", "main_intermediate"} <= published
