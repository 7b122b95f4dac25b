"""Serving: what economists take out of the published warehouse (exports with codebooks, the HTML report).

Depends on ingest/ (paths, atomic writes, the dbt project folder) and on the published DuckDB file; never on
Dagster or on the command line. Errors are `serving.errors.ServingError` and its subclasses.
"""
