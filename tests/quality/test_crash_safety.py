"""Crash safety: a process killed (SIGKILL, no cleanup) in the middle of writing a lake file or the
published warehouse leaves no partial file under a real name, and a rerun ends in exactly the state
of an uninterrupted run."""

from __future__ import annotations

import shutil
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import duckdb
import polars as pl
import pytest

from ingest.comtrade import sample
from ingest.comtrade.parse import parse_landed
from ingest.config import Paths
from ingest.landing import read_manifest

ROOT = Path(__file__).parents[2]
SCOPE = sample.SampleScope(reporters=(410, 392), monthly_years=(2019,), annual_years=(2018, 2019))

# Runs in a child process: parse every landed file, but on the 3rd lake write, write half of the
# Parquet bytes to the temporary file and then SIGKILL itself (a crash in the middle of a write).
KILL_MID_LAKE_WRITE = """
import os, signal, sys
from pathlib import Path
import polars as pl
from ingest.comtrade.parse import parse_landed
from ingest.config import Paths
from ingest.landing import read_manifest

store = Paths(Path(sys.argv[1]))
real = pl.DataFrame.write_parquet
writes = []

def dying_write(self, file, *args, **kwargs):
    writes.append(file)
    if len(writes) == 3:
        real(self, file, *args, **kwargs)
        data = Path(file).read_bytes()
        Path(file).write_bytes(data[: len(data) // 2])
        os.kill(os.getpid(), signal.SIGKILL)
    return real(self, file, *args, **kwargs)

pl.DataFrame.write_parquet = dying_write
for entry in read_manifest(store, source="comtrade", dataset="records"):
    parse_landed(store, entry)
"""

KILL_MID_PUBLISH = """
import os, shutil, signal, sys
from pathlib import Path
from orchestration.defs import warehouse

def dying_copy(src, dst, *args, **kwargs):
    data = Path(src).read_bytes()
    Path(dst).write_bytes(data[: len(data) // 2])
    os.kill(os.getpid(), signal.SIGKILL)

warehouse.shutil.copyfile = dying_copy
warehouse.publish_warehouse(Path(sys.argv[1]), Path(sys.argv[2]), required=("fct_trade_flows",))
"""


def _run_child(code: str, *args: str) -> int:
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code), *args], cwd=ROOT, capture_output=True, timeout=300
    )
    return proc.returncode


def _lake_state(store: Paths) -> dict[str, pl.DataFrame]:
    """Every published lake and quarantine file (the names readers glob) with its content."""
    files = sorted(p for p in store.lake.rglob("*.parquet") if not p.name.startswith("."))
    return {p.relative_to(store.lake).as_posix(): pl.read_parquet(p) for p in files}


def test_a_kill_mid_lake_write_then_rerun_equals_an_uninterrupted_parse(tmp_path: Path) -> None:
    # GIVEN the same landed files in two stores
    crashed, clean = Paths(tmp_path / "crashed"), Paths(tmp_path / "clean")
    sample.land_sample(crashed, SCOPE)
    shutil.copytree(crashed.landing, clean.landing)
    entries = list(read_manifest(clean, source="comtrade", dataset="records"))
    assert len(entries) == 6
    for entry in entries:
        parse_landed(clean, entry)
    # WHEN a parse is killed in the middle of writing the 3rd lake file
    assert _run_child(KILL_MID_LAKE_WRITE, str(crashed.home)) == -signal.SIGKILL
    # THEN the two finished files are whole, the third exists only as a hidden temporary file
    state = _lake_state(crashed)
    assert len(state) == 2
    assert all(df.height > 0 for df in state.values())
    orphans = [p.name for p in crashed.lake.rglob("*") if p.is_file() and p.name.endswith(".tmp")]
    assert len(orphans) == 1 and orphans[0].startswith(".vintage=")
    assert (
        pl.scan_parquet(str(crashed.lake / "comtrade" / "records" / "**" / "*.parquet")).collect().height > 0
    )
    # WHEN the parse runs again
    for entry in read_manifest(crashed, source="comtrade", dataset="records"):
        parse_landed(crashed, entry)
    # THEN the lake is the one an uninterrupted run writes: same files, same rows, nothing twice
    after, expected = _lake_state(crashed), _lake_state(clean)
    assert sorted(after) == sorted(expected)
    for name, df in expected.items():
        assert after[name].equals(df), name


CORE = ("fct_trade_flows",)  # the only table of these tiny builds


def _build_db(path: Path, value: int) -> Path:
    with duckdb.connect(str(path)) as con:
        con.execute("create table fct_trade_flows as select range as id, ? as v from range(50000)", [value])
    return path


def _serving_value(path: Path) -> tuple[int, int]:
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute("select count(*), max(v) from fct_trade_flows").fetchone()


def test_a_kill_mid_publish_keeps_the_previous_warehouse(tmp_path: Path) -> None:
    from orchestration.defs.warehouse import publish_warehouse  # noqa: PLC0415 - Dagster is slow to import

    serving = tmp_path / "semitrade.duckdb"
    # GIVEN a published warehouse (build 1) and a new build 2
    publish_warehouse(_build_db(tmp_path / "build1.duckdb", 1), serving, required=CORE)
    build2 = _build_db(tmp_path / "build2.duckdb", 2)
    # WHEN the publication of build 2 is killed half-way through the copy
    assert _run_child(KILL_MID_PUBLISH, str(build2), str(serving)) == -signal.SIGKILL
    # THEN readers still see build 1, whole
    assert _serving_value(serving) == (50000, 1)
    # WHEN published again; THEN build 2, whole, and no temporary file is visible under the real name
    publish_warehouse(build2, serving, required=CORE)
    assert _serving_value(serving) == (50000, 2)
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith(".")) == [
        "build1.duckdb",
        "build2.duckdb",
        "semitrade.duckdb",
    ]


def test_a_build_without_the_core_marts_is_refused_and_the_old_one_kept(tmp_path: Path) -> None:
    from orchestration.defs.warehouse import IncompleteBuildError, publish_warehouse

    serving = tmp_path / "semitrade.duckdb"
    # GIVEN a published warehouse, and a new build that holds fct_trade_flows but no dimension
    publish_warehouse(_build_db(tmp_path / "build1.duckdb", 1), serving, required=CORE)
    build2 = _build_db(tmp_path / "build2.duckdb", 2)
    # WHEN it is published with the default requirements  THEN it is refused, naming what is missing
    with pytest.raises(
        IncompleteBuildError,
        match=r"lacks the core marts \['dim_country', 'dim_flow', 'dim_period', 'dim_product'\]",
    ):
        publish_warehouse(build2, serving)
    # AND readers still see the previous build
    assert _serving_value(serving) == (50000, 1)
