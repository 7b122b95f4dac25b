"""The canary keys (set for the whole session by tests/conftest.py) appear nowhere: not in any file
the suite wrote under its temporary data directories (landing, manifests, lake, quarantine, warehouse,
Dagster instances, data docs, exports), not in captured logs or output, not in any failure text.

Runs last (tests/conftest.py orders it), so it sees what every other test left behind.
"""

from __future__ import annotations

import gzip
import logging
import os
import zlib
from pathlib import Path

import duckdb
import polars as pl
import pytest

from tests.conftest import CANARY_KEYS, CANARY_TEXTS

MAX_PLAIN = 200 * 1024 * 1024


def _hits_in_file(path: Path, needles: list[bytes]) -> list[str]:
    """Canaries found in ``path``: raw bytes, plus decoded content of compressed formats
    (Parquet pages and gzip are compressed, DuckDB compresses strings)."""
    found = []
    raw = path.read_bytes() if path.stat().st_size <= MAX_PLAIN else b""
    texts = [raw]
    if path.suffix == ".gz":
        try:
            texts.append(gzip.decompress(raw))
        except (OSError, EOFError, zlib.error):  # truncated/corrupt gzips of the bad-input tests: raw only
            pass
    if path.suffix == ".parquet" and not path.name.startswith("."):
        try:
            df = pl.read_parquet(path)
            texts.append(df.cast({c: pl.String for c in df.columns}, strict=False).write_csv().encode())
        except Exception:  # noqa: BLE001 - unreadable test inputs (bad-input corpus) are scanned raw only
            pass
    if path.suffix == ".duckdb" and not path.name.startswith("."):
        texts.append(_duckdb_strings(path))
    for needle in needles:
        if any(needle in t for t in texts):
            found.append(f"{path}: {needle.decode()}")
    return found


def _duckdb_strings(path: Path) -> bytes:
    try:
        con = duckdb.connect(str(path), read_only=True)
    except duckdb.Error:
        return b""
    out = []
    with con:
        cols = con.execute(
            "select table_schema, table_name, column_name from information_schema.columns "
            "where data_type = 'VARCHAR' and table_schema not in ('information_schema', 'pg_catalog')"
        ).fetchall()
        for schema, table, column in cols:
            ident = ".".join('"' + p.replace('"', '""') + '"' for p in (schema, table))
            col = '"' + column.replace('"', '""') + '"'
            try:
                rows = con.execute(
                    f"select {col} from {ident} where contains({col}, ?) or contains({col}, ?)",  # noqa: S608 - catalog names, quoted
                    list(CANARY_KEYS.values()),
                ).fetchall()
            except duckdb.Error:  # views over files that tests deleted
                continue
            out += [str(r[0]) for r in rows]
    return "\n".join(out).encode()


def test_the_canary_keys_were_set_for_the_session() -> None:
    for name, value in CANARY_KEYS.items():
        assert os.environ.get(name) == value, f"{name} is not the canary: a test left it changed"


def test_no_file_written_by_the_suite_holds_a_canary(tmp_path_factory: pytest.TempPathFactory) -> None:
    base = tmp_path_factory.getbasetemp()
    needles = [v.encode() for v in CANARY_KEYS.values()]
    files = [p for p in base.rglob("*") if p.is_file() and not p.is_symlink()]
    assert files, "the suite wrote nothing under its temporary directory?"
    hits = [h for p in files for h in _hits_in_file(p, needles)]
    assert hits == []


def test_no_log_output_or_failure_text_holds_a_canary(caplog: pytest.LogCaptureFixture) -> None:
    # GIVEN a log record carrying a canary would be caught (the detector works)
    logging.getLogger("semitrade.canary-selftest").warning("probe %s", "x")
    texts = list(CANARY_TEXTS)
    assert any("probe x" in t for t in texts + [caplog.text])
    # THEN no captured log, stdout, stderr or exception text of any test contains a canary
    leaks = [t[:200] for t in texts if any(v in t for v in CANARY_KEYS.values())]
    assert leaks == []


def test_the_detector_finds_a_planted_canary(tmp_path: Path) -> None:
    # GIVEN a canary hidden in a compressed Parquet column and in a DuckDB table
    value = next(iter(CANARY_KEYS.values()))
    pl.DataFrame({"x": ["a" * 1000 + value]}).write_parquet(tmp_path / "p.parquet", compression="zstd")
    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        con.execute("create table t as select ? || repeat('z', 5000) as s from range(1000)", [value])
    # THEN the scan finds both (so a clean result above means something)
    needles = [value.encode()]
    assert _hits_in_file(tmp_path / "p.parquet", needles) and _hits_in_file(tmp_path / "w.duckdb", needles)
    (tmp_path / "p.parquet").unlink()
    (tmp_path / "w.duckdb").unlink()
