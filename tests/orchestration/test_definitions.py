"""The Dagster code location loads, and its asset graph is the one we expect (a snapshot)."""

from __future__ import annotations

import dagster as dg

from orchestration.definitions import defs

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
