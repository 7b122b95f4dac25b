"""Helpers shared by every source's lake datasets (lake/<source>/<dataset>/)."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from ingest.atomic import write_atomic
from ingest.config import Paths

# A zero-row file with the dataset's schema. dbt reads each dataset through a glob, and a glob that
# matches nothing is an error, so a source a home holds no data of (say Japan, with no key set) is
# read as an empty, typed table. The leading dot keeps it out of the quality gate's file list.
EMPTY_FILE = ".empty.parquet"


def dataset_dir(store: Paths, source: str, dataset: str) -> Path:
    """The lake folder of one dataset."""
    return store.lake / source / dataset


def has_lake_files(store: Paths, source: str, dataset: str) -> bool:
    """Whether the dataset holds at least one lake file with data (the empty schema file aside)."""
    folder = dataset_dir(store, source, dataset)
    return folder.exists() and any(p.name != EMPTY_FILE for p in folder.rglob("*.parquet"))


def ensure_dataset(store: Paths, source: str, dataset: str, schema: pl.Schema) -> Path:
    """Write the dataset's zero-row schema file if it is missing (idempotent); return its path."""
    target = dataset_dir(store, source, dataset) / EMPTY_FILE
    if not target.exists():
        write_atomic(target, lambda tmp: pl.DataFrame(schema=schema).write_parquet(tmp, compression="zstd"))
    return target
