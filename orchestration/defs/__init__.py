"""Dagster definitions grouped by domain: comtrade (landing, lake), warehouse (dbt, publishing)."""
