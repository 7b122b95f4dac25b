"""`semitrade fetch comtrade` through orchestration.cli.main against the fake server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ingest.config import Paths
from orchestration.cli import main
from tests.fakes.comtrade_records import lake_rows, make_dataset, server_rows
from tests.fakes.comtrade_server import API_KEY, FakeComtrade, Fault

ARGS = [
    "fetch",
    "comtrade",
    "--reporter",
    "410",
    "--partner",
    "392",
    "--period",
    "201901-201912",
    "--cmd",
    "281111,370790",
    "--flow",
    "M,X",
]
PERIODS = [f"{y}{m:02d}" for y in (2018, 2019) for m in range(1, 13)]


@pytest.fixture
def server(home: Paths, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeComtrade]:
    with FakeComtrade(make_dataset([410], [392, 156], PERIODS, ["281111", "370790", "854232"])) as fake:
        monkeypatch.setenv("COMTRADE_BASE_URL", fake.url)
        monkeypatch.setenv("COMTRADE_API_KEY", API_KEY)
        monkeypatch.setenv("COMTRADE_MIN_INTERVAL", "0")
        monkeypatch.setenv("COMTRADE_RETRY_BASE_DELAY", "0.01")
        yield fake


def _expected(server: FakeComtrade) -> list[tuple[object, ...]]:
    return server_rows(
        r
        for r in server.records
        if r["partnerCode"] == 392
        and r["cmdCode"] in ("281111", "370790")
        and r["period"].startswith("2019")
        and r["partner2Code"] == 0
        and r["motCode"] == 0
        and r["customsCode"] == "C00"
    )


def test_issue_example_command(home: Paths, server: FakeComtrade, capsys: pytest.CaptureFixture[str]) -> None:
    server.faults += [Fault("429", retry_after=0), Fault("5xx", times=2)]
    assert main(ARGS) == 0
    out, err = capsys.readouterr()
    assert "rows: 48 landed = 48 kept + 0 quarantined" in out
    assert "data API, free plan" in out
    assert "[1/1] fetched" in err
    assert lake_rows(home.lake) == _expected(server)
    assert API_KEY not in out + err


def test_quota_stop_exits_nonzero_then_resumes(
    home: Paths, server: FakeComtrade, capsys: pytest.CaptureFixture[str]
) -> None:
    server.quota_after = 1
    args = [*ARGS[:-6], "--period", "201811-201902", "--cmd", "281111,370790", "--flow", "M,X"]
    assert main(args) == 1  # two calls (2018, 2019): the second hits the quota
    out, err = capsys.readouterr()
    last = err.strip().splitlines()[-1]
    assert last.startswith("semitrade fetch: error:") and "replenished in 5:43:21" in last
    assert "calls: 2 planned, 1 made" in out
    server.quota_after = None
    assert main(args) == 0
    out, _ = capsys.readouterr()
    assert "1 made, 1 skipped" in out
    expected = server_rows(
        r
        for r in server.records
        if r["partnerCode"] == 392
        and r["cmdCode"] != "854232"
        and r["period"] in ("201811", "201812", "201901", "201902")
        and (r["partner2Code"], r["motCode"], r["customsCode"]) == (0, 0, "C00")
    )
    assert len(expected) == 16 and lake_rows(home.lake) == expected


def test_invalid_key_is_one_clear_line(
    home: Paths, server: FakeComtrade, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("COMTRADE_API_KEY", "expired-key-ABCDEF")
    assert main(ARGS) == 1
    out, err = capsys.readouterr()
    assert "HTTP 401" in err and "COMTRADE_API_KEY" in err
    assert "expired-key-ABCDEF" not in out + err
    assert len([line for line in err.splitlines() if "error:" in line]) == 1


def test_without_key_uses_preview_and_says_so(
    home: Paths, server: FakeComtrade, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("COMTRADE_API_KEY")
    assert main([*ARGS, "--quiet"]) == 0
    out, err = capsys.readouterr()
    assert "keyless preview endpoint" in err and "preview (no key)" in out
    assert all(r.path.startswith("/public/") for r in server.log)
    assert lake_rows(home.lake) == _expected(server)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(["--period", "201913"], "month 13", id="bad-month"),
        pytest.param(["--reporter", "KOR"], "not a numeric M49 code", id="reporter-iso"),
        pytest.param(["--cmd", ","], "--cmd is empty", id="empty-cmd"),
    ],
)
def test_bad_arguments_fail_clearly(
    home: Paths, server: FakeComtrade, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    assert main([*ARGS, *args]) == 1
    assert message in capsys.readouterr().err
    assert server.log == []
    assert not Path(home.home, "landing").exists() or not any(Path(home.home, "landing").rglob("*.json"))
