"""The Dagster code location loads, its asset graph is the one we expect (a snapshot), and paths and
API keys reach the assets through resources (keys as environment variables, never as values)."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pytest
from dagster._core.remote_representation.external_data import RepositorySnap, ResourceConfigEnvVarSnap

from orchestration.definitions import build_defs, defs
from orchestration.defs.comtrade import comtrade_landed_responses
from orchestration.defs.national import japan_landed_files, kcs_landed_responses, kcs_live_monthly
from orchestration.resources import API_KEYS, api_resources, ingest_resources

# Sorted asset keys. A change here is a change of the graph: update deliberately.
EXPECTED_ASSET_KEYS = [
    "comtrade/lake_records",
    "comtrade/landed_responses",
    "comtrade/live_records",
    "dim_country",
    "dim_flow",
    "dim_period",
    "dim_product",
    "fct_export_control_2019_monthly",
    "fct_export_control_2019_summary",
    "fct_export_control_2019_suppliers",
    "fct_ind_intra_industry_trade",
    "fct_ind_korea_japan_balance",
    "fct_ind_rca",
    "fct_ind_supplier_concentration",
    "fct_ind_supplier_shares",
    "fct_ind_trade_complementarity",
    "fct_ind_trade_intensity",
    "fct_national_vs_comtrade",
    "fct_quarantine",
    "fct_reconciled_flows",
    "fct_trade_flows",
    "fct_trade_flows_hs2022",
    "fct_trade_flows_national_detail",
    "fct_trade_flows_preferred",
    "fx/monthly_rates",
    "intermediate/int_fx__usd_monthly_rates",
    "intermediate/int_hs__code_map",
    "intermediate/int_hs__concordance_steps",
    "intermediate/int_hs__paths",
    "intermediate/int_hs__split_weights",
    "intermediate/int_indicators__export_control_imports",
    "intermediate/int_indicators__flows",
    "intermediate/int_mirror__cif_rates",
    "intermediate/int_mirror__reliability",
    "intermediate/int_mirror__reports",
    "intermediate/int_national__lines_usd",
    "intermediate/int_trade_flows__comtrade",
    "intermediate/int_trade_flows__national",
    "japan/lake_trade",
    "japan/landed_files",
    "japan/live_monthly",
    "kcs/lake_trade",
    "kcs/landed_responses",
    "kcs/live_monthly",
    "reference/comtrade_countries",
    "reference/comtrade_flows",
    "reference/comtrade_legacy_qty_units",
    "reference/comtrade_qty_units",
    "reference/country_code_reconciliation",
    "reference/country_group_membership",
    "reference/country_regions",
    "reference/export_control_products",
    "reference/hs6_codes",
    "reference/hs_concordance",
    "reference/hs_deleted_codes",
    "reference/hs_headings",
    "reference/hs_versions",
    "reference/iso_country_codes",
    "reference/japan_customs_country_codes",
    "reference/kcs_country_codes",
    "reference/semiconductor_taxonomy",
    "staging/stg_comtrade__records",
    "staging/stg_fx__monthly_rates",
    "staging/stg_japan__trade",
    "staging/stg_kcs__trade",
    "staging/stg_quarantine__rows",
    "warehouse/published",
]


def test_asset_keys_snapshot() -> None:
    keys = sorted(k.to_user_string() for k in defs.resolve_asset_graph().get_all_asset_keys())
    assert keys == EXPECTED_ASSET_KEYS


def test_dbt_source_is_linked_to_the_lake_asset() -> None:
    graph = defs.resolve_asset_graph()
    staging = graph.get(dg.AssetKey(["staging", "stg_comtrade__records"]))
    assert dg.AssetKey(["comtrade", "lake_records"]) in staging.parent_keys


def test_assets_are_grouped_by_layer() -> None:
    graph = defs.resolve_asset_graph()
    groups = {k.to_user_string(): graph.get(k).group_name for k in graph.get_all_asset_keys()}
    assert groups["comtrade/landed_responses"] == "landing"
    assert groups["comtrade/lake_records"] == "lake"
    assert groups["staging/stg_comtrade__records"] == "staging"
    assert groups["fct_trade_flows"] == "marts"
    assert groups["reference/semiconductor_taxonomy"] == "reference"
    assert groups["warehouse/published"] == "serving"


def test_every_asset_has_a_description() -> None:
    graph = defs.resolve_asset_graph()
    missing = [
        k.to_user_string() for k in graph.get_all_asset_keys() if not (graph.get(k).description or "").strip()
    ]
    assert missing == []


def test_main_job_selects_every_asset() -> None:
    job = defs.resolve_job_def("main")
    assert job.name == "main"
    partitioned = {"comtrade/live_records", "japan/live_monthly", "kcs/live_monthly"}
    selected = {k.to_user_string() for k in job.asset_layer.executable_asset_keys}
    assert selected == {k for k in EXPECTED_ASSET_KEYS if k not in partitioned}


# The assets outside dbt, and the API key resource each one takes besides the store.
INGEST_ASSETS = {
    "comtrade/landed_responses": "comtrade_api",
    "comtrade/live_records": "comtrade_api",
    "comtrade/lake_records": None,
    "kcs/landed_responses": "kcs_api",
    "kcs/live_monthly": "kcs_api",
    "kcs/lake_trade": None,
    "japan/landed_files": "estat_api",
    "japan/live_monthly": "estat_api",
    "japan/lake_trade": None,
    "fx/monthly_rates": None,
    "warehouse/published": None,
}


@pytest.mark.parametrize(("key", "api"), INGEST_ASSETS.items(), ids=list(INGEST_ASSETS))
def test_assets_take_the_store_and_their_key_from_resources(key: str, api: str | None) -> None:
    required = defs.resolve_assets_def(dg.AssetKey.from_user_string(key)).required_resource_keys
    assert required - {"io_manager"} == {"store"} | ({api} if api else set())


def test_the_lake_assets_are_downstream_of_every_asset_landing_their_files() -> None:
    graph = defs.resolve_asset_graph()
    parents = {
        lake: sorted(k.to_user_string() for k in graph.get(dg.AssetKey.from_user_string(lake)).parent_keys)
        for lake in ("comtrade/lake_records", "kcs/lake_trade", "japan/lake_trade")
    }
    assert parents == {
        "comtrade/lake_records": ["comtrade/landed_responses", "comtrade/live_records"],
        "kcs/lake_trade": ["kcs/landed_responses", "kcs/live_monthly"],
        "japan/lake_trade": ["japan/landed_files", "japan/live_monthly"],
    }


def test_api_keys_are_environment_variables_in_the_ui_never_values(monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN every key in the environment
    values = {var: f"value-of-{var.lower()}-7f3a" for _, var in API_KEYS.values()}
    for var, value in values.items():
        monkeypatch.setenv(var, value)
    # WHEN the code location is loaded, as the Dagster UI sees it
    snap = RepositorySnap.from_def(build_defs().get_repository_def())
    configured = {r.name: r.configured_values for r in snap.resources}
    # THEN each key field is backed by its environment variable, and no key value is anywhere in it
    assert {name: configured[name] for name in API_KEYS} == {
        name: {"key": ResourceConfigEnvVarSnap(name=var)} for name, (_, var) in API_KEYS.items()
    }
    assert not [value for value in values.values() if value in repr(snap)]


def test_an_unset_key_leaves_its_resource_without_a_key(monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN no key at all (Dagster fails a run whose EnvVar is not set: the offline sample must still run)
    for _, var in API_KEYS.values():
        monkeypatch.delenv(var, raising=False)
    # THEN the resources hold no key and the sources are skipped, or Comtrade uses its preview, as before
    assert not any(resource.has_key() for resource in api_resources().values())


def test_without_keys_the_live_landing_assets_skip_or_fail_with_a_clear_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # GIVEN a real-data home, a scope with Korea and Japan, and no key nor Japan download URL
    for _, var in API_KEYS.values():
        monkeypatch.delenv(var, raising=False)
    monkeypatch.delenv("JAPAN_CUSTOMS_BASE_URL", raising=False)
    monkeypatch.setenv("SEMITRADE_HOME", str(tmp_path / "home"))
    scope = tmp_path / "scope.toml"
    scope.write_text(
        "[scope]\nreporters = [410, 392]\npartners = []\nfirst_year = 2019\nlast_year = 2019\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("SEMITRADE_SCOPE", str(scope))
    live = {"config": {"mode": "live"}}
    # WHEN the main job's landing assets run live
    result = dg.materialize(
        [comtrade_landed_responses, kcs_landed_responses, japan_landed_files],
        run_config={
            "ops": {
                "comtrade__landed_responses": live,
                "kcs__landed_responses": live,
                "japan__landed_files": live,
            }
        },
        instance=dg.DagsterInstance.ephemeral(),
        resources=ingest_resources(),
    )
    # THEN each source is skipped with the reason, and nothing is landed in its place
    assert result.success
    skipped = {
        node: result.asset_materializations_for_node(node)[0].metadata["skipped"].value
        for node in ("comtrade__landed_responses", "kcs__landed_responses", "japan__landed_files")
    }
    assert skipped == {
        "comtrade__landed_responses": "COMTRADE_API_KEY is not set",
        "kcs__landed_responses": "DATA_GO_KR_KEY is not set",
        "japan__landed_files": "ESTAT_APP_ID / JAPAN_CUSTOMS_BASE_URL not set",
    }
    assert not (tmp_path / "home" / "landing").exists()
    # AND the partitioned Korea Customs pull fails with a line saying what is missing
    with pytest.raises(
        dg.Failure, match="DATA_GO_KR_KEY is not set: the Korea Customs pull needs a data.go.kr"
    ):
        dg.materialize(
            [kcs_live_monthly],
            partition_key="2019-01-01",
            instance=dg.DagsterInstance.ephemeral(),
            resources=ingest_resources(),
        )
