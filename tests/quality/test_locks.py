"""Per-partition write locks: two runs never write the same lake partition at once, a killed holder
never leaves a stale lock, and lock names cannot escape the lock folder."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from ingest.comtrade.parse import parse_landed
from ingest.config import Paths
from ingest.landing import land
from ingest.locks import PartitionLockedError, lock_path, partition_lock

PARTITION = "freq=M/year=2019/reporter=410"
FIXTURE = Path(__file__).parents[1] / "fixtures" / "bad_inputs" / "comtrade" / "huge_line.json"


@pytest.fixture
def holder(store: Paths) -> Iterator[subprocess.Popen[bytes]]:
    """Another process holding the lock of PARTITION until it is killed."""
    ready = store.home / "ready"
    code = textwrap.dedent(
        f"""
        import time
        from pathlib import Path
        from ingest.config import Paths
        from ingest.locks import partition_lock
        with partition_lock(Paths(Path({str(store.home)!r})), "comtrade", "records", {PARTITION!r}):
            Path({str(ready)!r}).write_text("held")
            time.sleep(120)
        """
    )
    store.home.mkdir(parents=True, exist_ok=True)
    proc = subprocess.Popen([sys.executable, "-c", code], cwd=Path(__file__).parents[2])
    deadline = time.monotonic() + 60
    while not ready.exists():
        assert proc.poll() is None, "the lock holder died"
        assert time.monotonic() < deadline, "the lock holder never took the lock"
        time.sleep(0.05)
    yield proc
    if proc.poll() is None:
        proc.kill()
    proc.wait()


def test_a_held_partition_cannot_be_taken(store: Paths, holder: subprocess.Popen[bytes]) -> None:
    # GIVEN another process holds the partition; WHEN this one asks without waiting; THEN a clear error
    with pytest.raises(
        PartitionLockedError,
        match=r"comtrade/records partition freq=M/year=2019/reporter=410 "
        r"is being written by another run",
    ):
        with partition_lock(store, "comtrade", "records", PARTITION, timeout=0):
            pass
    # another partition is free
    with partition_lock(store, "comtrade", "records", "freq=M/year=2019/reporter=392", timeout=0) as path:
        assert path.name == "freq=M__year=2019__reporter=392.lock"


def test_a_killed_holder_leaves_no_stale_lock(store: Paths, holder: subprocess.Popen[bytes]) -> None:
    # GIVEN a holder killed with SIGKILL (no cleanup code runs)
    os.kill(holder.pid, signal.SIGKILL)
    holder.wait()
    # THEN the kernel released the lock
    with partition_lock(store, "comtrade", "records", PARTITION, timeout=0):
        pass


def test_parse_waits_for_the_partition_and_writes_it_once(
    store: Paths, holder: subprocess.Popen[bytes]
) -> None:
    # GIVEN a landed file of the locked partition
    entry, _ = land(
        store,
        source="comtrade",
        dataset="records",
        partition=PARTITION,
        stem="get",
        content=FIXTURE.read_bytes(),
        params={},
        origin="sample",
    )
    results = []
    worker = threading.Thread(target=lambda: results.append(parse_landed(store, entry)))
    # WHEN this run parses it while the other run holds the partition
    worker.start()
    time.sleep(1.0)
    lake = store.lake / "comtrade" / "records" / PARTITION
    # THEN it waits and writes nothing yet
    assert worker.is_alive() and not list(lake.glob("*.parquet"))
    holder.kill()
    worker.join(timeout=60)
    assert not worker.is_alive()
    assert results[0].rows_kept == 1
    # and a second parse of the same partition finds the vintage written and skips it
    assert parse_landed(store, entry).skipped
    assert len(list(lake.glob("*.parquet"))) == 1


@pytest.mark.parametrize("partition", ["../escape", "freq=M/../../x", "a b", ""])
def test_lock_names_are_validated(store: Paths, partition: str) -> None:
    with pytest.raises(ValueError, match="not a safe lock name component"):
        lock_path(store, "comtrade", "records", partition)
