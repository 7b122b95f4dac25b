"""Live Comtrade orchestration against the fake Comtrade server: a partitioned pull lands exactly what
the server holds (and only lands: the lake asset parses it), the availability sensor launches only changed
reporter-years, and the API pool is set."""

from __future__ import annotations

from collections.abc import Iterator

import dagster as dg
import polars as pl
import pytest

from ingest.config import Paths, paths
from orchestration.defs import comtrade_live
from orchestration.defs.comtrade import comtrade_lake_records, comtrade_landed_responses
from orchestration.resources import api_resources, ingest_resources
from tests.fakes.comtrade_records import make_dataset
from tests.fakes.comtrade_server import API_KEY, FakeComtrade

PERIODS_2019 = [f"2019{m:02d}" for m in range(1, 13)]


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch, tmp_path) -> Iterator[FakeComtrade]:
    records = make_dataset([410, 392], [392, 156, 0], PERIODS_2019, ["281111", "370790"])
    with FakeComtrade(records, cap=2_000) as fake:
        monkeypatch.setenv("SEMITRADE_HOME", str(tmp_path / "data"))
        monkeypatch.setenv("COMTRADE_BASE_URL", fake.url)
        monkeypatch.setenv("COMTRADE_API_KEY", API_KEY)
        monkeypatch.setenv("COMTRADE_MIN_INTERVAL", "0")
        monkeypatch.setenv("COMTRADE_RETRY_BASE_DELAY", "0.01")
        yield fake


def _lake(store: Paths) -> pl.DataFrame:
    return pl.read_parquet(str(store.lake / "comtrade" / "records" / "**" / "*.parquet"))


def _materialize(key: str) -> dg.ExecuteInProcessResult:
    year, reporter = key.split("|")
    return dg.materialize(
        [comtrade_live.comtrade_live_records],
        partition_key=dg.MultiPartitionKey({"year": year, "reporter": reporter}),
        run_config={"ops": {"comtrade__live_records": {"config": {"cmd_codes": ["281111", "370790"]}}}},
        instance=dg.DagsterInstance.ephemeral(),
        resources=ingest_resources(),
    )


def _parse_lake() -> dg.ExecuteInProcessResult:
    """The lake asset: parses whatever landed and is not in the lake yet."""
    result = dg.materialize(
        [comtrade_lake_records], instance=dg.DagsterInstance.ephemeral(), resources=ingest_resources()
    )
    assert result.success
    return result


def test_a_partition_lands_exactly_the_servers_totals(server: FakeComtrade) -> None:
    # GIVEN a server holding 2019 monthly data for Korea and Japan, with breakdown rows that would double count
    # WHEN the partition 2019|410 is materialized
    result = _materialize("2019|410")
    assert result.success
    # THEN it landed the responses and wrote nothing to the lake: the lake asset is its only writer
    assert list((paths().landing / "comtrade" / "records").rglob("*.json"))
    assert not (paths().lake / "comtrade").exists()
    # AND once the lake asset ran, the lake holds every total row of Korea 2019 once, and no breakdown row
    lake_meta = _parse_lake().asset_materializations_for_node("comtrade__lake_records")[0].metadata
    lake = _lake(paths())
    expected = [
        r
        for r in server.records
        if r["reporterCode"] == 410
        and r["partner2Code"] == 0
        and r["motCode"] == 0
        and r["customsCode"] == "C00"
    ]
    assert lake.height == len(expected) == 12 * 3 * 2 * 2
    assert lake["primary_value"].sum() == pytest.approx(sum(r["primaryValue"] for r in expected))
    assert set(lake["reporter_code"]) == {410} and set(lake["origin"]) == {"live"}
    meta = result.asset_materializations_for_node("comtrade__live_records")[0].metadata
    assert meta["rows_landed"].value == lake.height and meta["files_landed"].value == 1
    assert lake_meta["rows_kept"].value == lake.height and lake_meta["rows_quarantined"].value == 0
    # AND the key was sent as a header, never written to landing/
    assert all(API_KEY not in p.read_text(errors="ignore") for p in paths().landing.rglob("*") if p.is_file())


def test_a_quota_stop_fails_the_partition_with_the_replenish_time(server: FakeComtrade) -> None:
    server.quota_after = 0
    with pytest.raises(dg.Failure, match="Quota will be replenished in 5:43:21"):
        _materialize("2019|392")


def test_sensor_requests_only_changed_reporter_years(server: FakeComtrade) -> None:
    # GIVEN a first sensor evaluation that sees every release for the first time
    instance = dg.DagsterInstance.ephemeral()
    with dg.build_sensor_context(
        instance=instance,
        definitions=dg.Definitions(
            assets=[comtrade_live.comtrade_live_records],
            jobs=[comtrade_live.comtrade_live_job],
            sensors=[comtrade_live.comtrade_availability_sensor],
            resources=ingest_resources(),
        ),
        resources=api_resources(),
    ) as ctx:
        first = comtrade_live.comtrade_availability_sensor(ctx)
    keys = sorted(r.partition_key for r in first.run_requests)
    assert keys == ["392|2019", "410|2019"]  # Dagster orders dimensions by name: reporter|year
    # WHEN nothing changed, nothing is requested; WHEN Korea's 2019-03 is revised, only 2019|410 is
    with dg.build_sensor_context(instance=instance, cursor=first.cursor, resources=api_resources()) as ctx:
        assert isinstance(comtrade_live.comtrade_availability_sensor(ctx), dg.SkipReason)
    server.revise(410, "201903")
    with dg.build_sensor_context(instance=instance, cursor=first.cursor, resources=api_resources()) as ctx:
        second = comtrade_live.comtrade_availability_sensor(ctx)
    assert [r.partition_key for r in second.run_requests] == ["410|2019"]


def test_live_asset_is_partitioned_pooled_and_outside_main() -> None:
    spec = comtrade_live.comtrade_live_records
    assert spec.partitions_def == comtrade_live.live_partitions
    assert "410" in comtrade_live.reporter_partitions.get_partition_keys()
    assert spec.op.pool == comtrade_live.API_POOL
    from orchestration.definitions import defs

    main_keys = {k.to_user_string() for k in defs.resolve_job_def("main").asset_layer.executable_asset_keys}
    assert "comtrade/live_records" not in main_keys


def test_default_query_uses_the_taxonomy_codes() -> None:
    query = comtrade_live.query_for(2019, 410, comtrade_live.ComtradeLiveConfig())
    assert "281111" in query.cmd_codes and "854232" in query.cmd_codes and "848620" in query.cmd_codes
    assert query.periods[0] == "201901" and len(query.periods) == 12 and query.partners is None


def test_main_landing_asset_in_live_mode_pulls_from_the_api(
    server: FakeComtrade, tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN the landing asset of the main job configured for live mode, and a scope file: Japan, 2019, monthly
    scope = tmp_path / "scope.toml"
    scope.write_text(
        '[scope]\nreporters = [392]\npartners = []\nfirst_year = 2019\nlast_year = 2019\ncomtrade_freqs = ["M"]\n',
        encoding="utf-8",
    )
    monkeypatch.setenv("SEMITRADE_SCOPE", str(scope))
    result = dg.materialize(
        [comtrade_landed_responses, comtrade_lake_records],
        run_config={"ops": {"comtrade__landed_responses": {"config": {"mode": "live"}}}},
        instance=dg.DagsterInstance.ephemeral(),
        resources=ingest_resources(),
    )
    # THEN Japan's 2019 totals are in the lake, labelled live, landed by the landing asset and parsed by the lake's
    assert result.success
    lake = _lake(paths())
    assert lake.height == 12 * 3 * 2 * 2 and set(lake["origin"]) == {"live"}
    landing = result.asset_materializations_for_node("comtrade__landed_responses")[0].metadata
    assert landing["mode"].value == "live" and landing["rows_landed"].value == lake.height
    parsed = result.asset_materializations_for_node("comtrade__lake_records")[0].metadata
    assert parsed["rows_kept"].value == lake.height and parsed["rows_quarantined"].value == 0


def test_the_live_asset_without_a_key_uses_the_preview_endpoint(
    server: FakeComtrade, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN no COMTRADE_API_KEY in the environment the definitions' resources are built from
    monkeypatch.delenv("COMTRADE_API_KEY")
    assert not api_resources()["comtrade_api"].has_key()
    # WHEN a partition is materialized; THEN it calls the keyless preview endpoint, as before resources
    result = _materialize("2019|410")
    assert result.success
    assert (
        result.asset_materializations_for_node("comtrade__live_records")[0].metadata["preview_endpoint"].value
    )
    assert server.log and not any(r.had_key for r in server.log)
