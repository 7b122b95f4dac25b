"""Dagster definitions and the `semitrade` command line (calls into ingest/, never the reverse)."""
