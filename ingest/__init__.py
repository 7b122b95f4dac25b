"""Pure-Python ingestion for semitrade: HTTP clients, raw landing, parsing to the Parquet lake.

Nothing in this package imports Dagster or dbt; orchestration/ calls into it.
"""
