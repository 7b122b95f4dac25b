"""Fault injection against a local fake Comtrade server (tests/fakes/comtrade_server.py): bursts of 429
and 5xx, timeouts, connection resets mid-body, truncated JSON, HTML error pages with status 200, quota
exhaustion, a full disk and an unwritable landing folder. For each: the pull either completes with a
lake equal to what the server holds, or fails with a clear message; afterwards the store holds no
partial file and no duplicated row, and a rerun without the fault completes the lake exactly.
"""

from __future__ import annotations

import errno
import json
import os
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import pytest

from ingest import atomic
from ingest.comtrade.client import ComtradeClient, ComtradeUnavailableError
from ingest.comtrade.fetch import fetch_records
from ingest.comtrade.planner import Query, parse_periods
from ingest.config import Paths
from ingest.http import RetryPolicy
from ingest.landing import LandingError, read_manifest
from tests.fakes.comtrade_records import lake_rows, make_dataset, server_rows
from tests.fakes.comtrade_server import API_KEY, FakeComtrade, Fault, LoggedRequest

PARTNERS = (392, 156, 0)
CMDS = ("281111", "854232")
PERIODS = parse_periods("201901-201912", "M")
REPORTERS = (410, 392)


class FaultyComtrade(FakeComtrade):
    """The fake service plus a fault the shared fake does not script: a connection reset mid-body
    (headers promise the whole body, half of it is sent, then the socket closes)."""

    def _apply_fault(self, h: BaseHTTPRequestHandler, fault: Fault, entry: LoggedRequest) -> bool:
        if fault.kind != "reset-mid-body":
            return super()._apply_fault(h, fault, entry)
        body = json.dumps({"elapsedTime": "0.01 secs", "count": 1, "data": [{"typeCode": "C"}] * 50}).encode()
        entry.status = 200
        h.send_response(200)
        h.send_header("Content-Type", "application/json; charset=utf-8")
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        h.wfile.write(body[: len(body) // 3])
        h.wfile.flush()
        h.close_connection = True
        h.connection.shutdown(2)
        return True


@pytest.fixture
def home(store: Paths, monkeypatch: pytest.MonkeyPatch) -> Paths:
    """An empty store; the canary key is replaced by the fake server's key only inside clients."""
    monkeypatch.delenv("COMTRADE_BASE_URL", raising=False)
    return store


@pytest.fixture
def server() -> Iterator[FaultyComtrade]:
    with FaultyComtrade(make_dataset(REPORTERS, PARTNERS, PERIODS, CMDS)) as fake:
        yield fake


@pytest.fixture
def client() -> Iterator[Callable[..., ComtradeClient]]:
    made: list[ComtradeClient] = []

    def factory(url: str, **kw: Any) -> ComtradeClient:
        kw.setdefault(
            "retry", RetryPolicy(max_attempts=6, base_delay=0.01, max_delay=0.05, max_total_wait=30)
        )
        kw.setdefault("timeout", (2.0, 2.0))
        made.append(ComtradeClient(url, API_KEY, min_interval=0.0, sleep=lambda s: None, **kw))
        return made[-1]

    yield factory
    for c in made:
        c.close()


def _query() -> Query:
    return Query(reporters=REPORTERS, periods=PERIODS, partners=PARTNERS, cmd_codes=CMDS, flows=("M", "X"))


def _expected(server: FakeComtrade) -> list[tuple[Any, ...]]:
    return server_rows(
        r
        for r in server.records
        if r["partner2Code"] == 0 and r["motCode"] == 0 and r["customsCode"] == "C00"
    )


def assert_store_is_clean(store: Paths) -> None:
    """No temporary or partial file anywhere; every landed file matches its manifest line; no duplicate
    lake row; every lake file is readable."""
    leftovers = [p for p in store.home.rglob("*") if p.name.endswith(".tmp")]
    assert leftovers == []
    entries = list(read_manifest(store, source="comtrade", dataset="records"))
    assert len({e.path for e in entries}) == len(entries)  # no landed file recorded twice
    import hashlib

    for e in entries:
        assert hashlib.sha256(e.absolute(store).read_bytes()).hexdigest() == e.sha256
    landed = (
        sorted((store.landing / "comtrade" / "records").rglob("*.json")) if store.landing.exists() else []
    )
    assert sorted(e.absolute(store) for e in entries) == landed  # no landed file without a manifest line
    rows = lake_rows(store.lake)
    assert len(rows) == len(set(rows))


@pytest.mark.parametrize(
    "faults",
    [
        pytest.param(
            [Fault("429", times=3, retry_after=1), Fault("429-header", times=2, retry_after=1)],
            id="429-burst",
        ),
        pytest.param([Fault("5xx", times=4)], id="5xx-burst"),
        pytest.param([Fault("reset", times=2)], id="reset-before-body"),
        pytest.param([Fault("reset-mid-body", times=2)], id="reset-mid-body"),
        pytest.param([Fault("truncated", times=2)], id="truncated-json"),
        pytest.param([Fault("html", times=2)], id="html-200"),
        pytest.param([Fault("slow", times=2, delay=2.0)], id="timeouts"),
    ],
)
def test_transient_faults_end_in_a_complete_lake(
    home: Paths, server: FaultyComtrade, client: Callable[..., ComtradeClient], faults: list[Fault]
) -> None:
    # GIVEN a server that misbehaves for the first requests
    server.faults.extend(faults)
    # WHEN the pull runs with retries
    summary = fetch_records(home, _query(), client(server.url, timeout=(1.0, 1.0)), check_availability=False)
    # THEN it completes, nothing quarantined (no error body landed), the lake equals the server
    assert summary.complete and summary.rows_quarantined == 0
    assert all(f.times == 0 for f in server.faults)
    assert lake_rows(home.lake) == _expected(server)
    assert_store_is_clean(home)


@pytest.mark.parametrize(
    ("fault", "message"),
    [
        pytest.param(Fault("slow", times=99, delay=2.0), "gave up after 3 attempt(s)", id="timeouts-forever"),
        pytest.param(Fault("html", times=99), "200 body is not JSON", id="html-200-forever"),
        pytest.param(Fault("5xx", times=99), "HTTP 503", id="5xx-forever"),
        pytest.param(Fault("reset-mid-body", times=99), "gave up after 3 attempt(s)", id="resets-forever"),
    ],
)
def test_persistent_faults_fail_clearly_and_land_nothing(
    home: Paths, server: FaultyComtrade, client: Callable[..., ComtradeClient], fault: Fault, message: str
) -> None:
    # GIVEN a server that keeps failing
    server.faults.append(fault)
    retry = RetryPolicy(max_attempts=3, base_delay=0.01, max_delay=0.02, max_total_wait=10)
    # WHEN the pull runs; THEN it stops with a message saying what failed and what to do
    with pytest.raises(ComtradeUnavailableError, match="try again later") as info:
        fetch_records(
            home, _query(), client(server.url, timeout=(1.0, 1.0), retry=retry), check_availability=False
        )
    assert message in str(info.value)
    # and nothing partial was landed or written to the lake
    assert lake_rows(home.lake) == []
    assert list(read_manifest(home)) == []
    assert_store_is_clean(home)
    # WHEN the service recovers and the pull is run again; THEN the lake is complete
    server.faults.clear()
    assert fetch_records(home, _query(), client(server.url), check_availability=False).complete
    assert lake_rows(home.lake) == _expected(server)
    assert_store_is_clean(home)


def test_quota_exhaustion_stops_cleanly_and_a_rerun_completes(
    home: Paths, server: FaultyComtrade, client: Callable[..., ComtradeClient]
) -> None:
    # GIVEN a quota of one data call
    server.quota_after = 1
    first = fetch_records(home, _query(), client(server.url), check_availability=False)
    # THEN the run says it stopped on the quota, and the lake holds the one finished partition, whole
    assert not first.complete and "quota" in (first.stopped or "").lower()
    assert len(list(read_manifest(home))) == 1
    rows = lake_rows(home.lake)
    assert 0 < len(rows) < len(_expected(server)) and len(rows) == len(set(rows))
    assert_store_is_clean(home)
    # WHEN the quota is replenished and the pull runs again; THEN it resumes and completes, no duplicate
    server.quota_after = None
    again = fetch_records(home, _query(), client(server.url), check_availability=False)
    assert again.complete and again.calls_skipped == 1
    assert lake_rows(home.lake) == _expected(server)
    assert_store_is_clean(home)


def _fail_replace_for(suffix: str, monkeypatch: pytest.MonkeyPatch, err: int = errno.ENOSPC) -> list[Path]:
    """Make the rename at the end of every atomic write of a ``suffix`` file fail with ``err``."""
    real = os.replace
    failed: list[Path] = []

    def replace(src: Any, dst: Any) -> None:
        if str(dst).endswith(suffix):
            failed.append(Path(dst))
            raise OSError(err, os.strerror(err), str(dst))
        real(src, dst)

    monkeypatch.setattr(atomic.os, "replace", replace)
    return failed


def test_disk_full_on_landing_fails_clearly_and_leaves_nothing(
    home: Paths,
    server: FaultyComtrade,
    client: Callable[..., ComtradeClient],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # GIVEN a disk that fills up when the raw response is written
    failed = _fail_replace_for(".json", monkeypatch)
    # WHEN the pull runs; THEN a LandingError names the file and the cause
    with pytest.raises(LandingError, match=r"could not land comtrade/records/.*No space left on device"):
        fetch_records(home, _query(), client(server.url), check_availability=False)
    assert failed
    assert list(read_manifest(home)) == [] and lake_rows(home.lake) == []
    assert_store_is_clean(home)
    # WHEN space is freed and the pull is run again; THEN the lake is complete
    monkeypatch.undo()
    assert fetch_records(home, _query(), client(server.url), check_availability=False).complete
    assert lake_rows(home.lake) == _expected(server)
    assert_store_is_clean(home)


def test_disk_full_on_the_lake_write_then_rerun(
    home: Paths,
    server: FaultyComtrade,
    client: Callable[..., ComtradeClient],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # GIVEN a disk that fills up when the lake Parquet is written (after the raw file was landed)
    _fail_replace_for(".parquet", monkeypatch)
    with pytest.raises(OSError, match="No space left on device"):
        fetch_records(home, _query(), client(server.url), check_availability=False)
    # THEN the raw file is kept, the lake holds nothing partial
    assert len(list(read_manifest(home))) == 1
    assert lake_rows(home.lake) == []
    assert_store_is_clean(home)
    # WHEN rerun; THEN the kept raw file is parsed, not landed twice, and the lake is complete
    monkeypatch.undo()
    again = fetch_records(home, _query(), client(server.url), check_availability=False)
    assert again.complete
    assert lake_rows(home.lake) == _expected(server)
    assert len(list(read_manifest(home))) == len(REPORTERS)
    assert_store_is_clean(home)


def test_unwritable_landing_folder_fails_clearly(
    home: Paths, server: FaultyComtrade, client: Callable[..., ComtradeClient]
) -> None:
    # GIVEN landing/ is a file, not a folder (as root, a permission bit would not stop us)
    home.home.mkdir(parents=True)
    home.landing.write_text("not a folder")
    # WHEN the pull runs; THEN the error says it could not land, where, and why
    with pytest.raises(LandingError, match=rf"could not land comtrade/records/.* under {home.landing}"):
        fetch_records(home, _query(), client(server.url), check_availability=False)
    assert lake_rows(home.lake) == []
    assert [p for p in home.home.rglob("*") if p.name.endswith(".tmp")] == []
