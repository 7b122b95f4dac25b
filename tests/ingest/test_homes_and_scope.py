"""Homes (the sample and real data never share one) and the live scope file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ingest import config
from ingest.config import HOME_MARKER, HomeMixError, Paths, check_home, home_kind, paths
from ingest.landing import land, read_manifest
from ingest.scope import ScopeError, load_scope


def _land(store: Paths, origin: str, source: str = "kcs", content: bytes = b"<x/>") -> bool:
    _, written = land(
        store,
        source=source,
        dataset="trade",
        partition="year=2019",
        stem="t",
        content=content,
        params={},
        origin=origin,
    )
    return written


def test_default_homes_are_apart(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("SEMITRADE_HOME", raising=False)
    monkeypatch.chdir(tmp_path)
    assert paths("sample").home == tmp_path / "data" / "sample"
    assert paths("real").home == tmp_path / "data" / "live" == paths().home
    monkeypatch.setenv("SEMITRADE_HOME", str(tmp_path / "mine"))
    assert paths("sample").home == paths("real").home == tmp_path / "mine"


def test_a_sample_home_refuses_real_bytes_and_writes_nothing(store: Paths) -> None:
    # GIVEN a home the sample landed in
    assert _land(store, "sample")
    assert json.loads((store.home / HOME_MARKER).read_text())["kind"] == "sample"
    before = store.manifest.read_bytes()
    # WHEN live bytes are landed; THEN a clear error names the home and what it holds, and nothing is written
    with pytest.raises(HomeMixError, match=rf"the data home {store.home} holds the SYNTHETIC offline sample"):
        _land(store, "live", content=b"<live/>")
    with pytest.raises(HomeMixError, match="holds the SYNTHETIC offline sample"):
        _land(store, "imported", content=b"<imported/>")
    assert store.manifest.read_bytes() == before
    assert len([p for p in (store.landing / "kcs").rglob("*") if p.is_file()]) == 1


def test_a_real_home_refuses_the_sample(store: Paths) -> None:
    assert _land(store, "live")
    with pytest.raises(HomeMixError, match=rf"the data home {store.home} holds real data"):
        _land(store, "sample", content=b"<sample/>")
    assert [e.origin for e in read_manifest(store)] == ["live"]


def test_exchange_rates_land_in_both_kinds(store: Paths) -> None:
    assert _land(store, "sample")
    assert _land(store, "live", source="fx", content=b"rates")  # ECB rates are reference data
    assert home_kind(store) == "sample"


def test_a_home_without_marker_is_judged_by_its_manifest(store: Paths) -> None:
    # GIVEN a home written before markers existed (a manifest with sample lines, no marker)
    assert _land(store, "sample")
    (store.home / HOME_MARKER).unlink()
    # THEN it is a sample home, and real work is refused
    assert home_kind(store) == "sample"
    with pytest.raises(HomeMixError):
        check_home(store, "real")
    check_home(store, "sample")
    assert home_kind(config.Paths(store.home / "empty")) is None


def _scope(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "scope.toml"
    path.write_text(body, encoding="utf-8")
    return path


def test_scope_file_gives_reporters_partners_years_and_taxonomy_codes(tmp_path: Path) -> None:
    path = _scope(
        tmp_path,
        '[scope]\nreporters = [410]\npartners = [392, 490, 0]\nfirst_year = 2018\nlast_year = 2020\nsegments = ["materials"]\n',
    )
    scope = load_scope(explicit=path)
    assert (scope.reporters, scope.years, scope.comtrade_freqs) == ((410,), (2018, 2019, 2020), ("M",))
    assert scope.kcs_countries() == ("JP", "TW")
    assert scope.japan_countries() == ("106",)  # Japan's own code for Taiwan; World is no partner there
    codes = scope.hs6_codes(2019)
    assert "281111" in codes and "370790" in codes and "854232" not in codes  # memories are devices


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("[scope]\nreporters = []\nfirst_year = 2019\nlast_year = 2019\n", "reporters is empty"),
        ("[scope]\nreporters = [410]\nfirst_year = 2020\nlast_year = 2019\n", "first_year <= last_year"),
        ("[scope]\nreporters = ['KOR']\nfirst_year = 2019\nlast_year = 2019\n", "list of integer M49 codes"),
        (
            "[scope]\nreporters = [410]\nfirst_year = 2019\nlast_year = 2019\nyears = [1]\n",
            "unknown [scope] keys ['years']",
        ),
        ("[scope\n", "is not valid TOML"),
    ],
    ids=["no-reporter", "years-backwards", "iso-codes", "unknown-key", "not-toml"],
)
def test_bad_scope_files_are_clear_errors(tmp_path: Path, body: str, message: str) -> None:
    path = _scope(tmp_path, body)
    with pytest.raises(ScopeError) as err:
        load_scope(explicit=path)
    assert str(path) in str(err.value) and message in str(err.value)


def test_summary_points_to_the_sample_home_when_the_real_one_is_empty(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from orchestration.cli import main  # noqa: PLC0415 - the CLI, on default homes under tmp_path

    monkeypatch.delenv("SEMITRADE_HOME", raising=False)
    monkeypatch.chdir(tmp_path)
    sample_db = tmp_path / "data" / "sample" / "warehouse" / "semitrade.duckdb"
    sample_db.parent.mkdir(parents=True)
    sample_db.write_bytes(b"")
    assert main(["summary"]) == 1
    err = capsys.readouterr().err
    assert f"no published warehouse at {tmp_path / 'data' / 'live' / 'warehouse' / 'semitrade.duckdb'}" in err
    assert "add --sample to read it" in err
