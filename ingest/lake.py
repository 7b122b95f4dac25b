"""The lake writer shared by every source: where a vintage's files go, the parse result, the
quarantine (schema and frame), "is this vintage in the lake yet?", and the write itself.

Layout: lake/<source>/<dataset>/<partition>/vintage=<sha16>.parquet for the kept rows and
lake/_quarantine/<source>/<dataset>/<partition>/vintage=<sha16>.parquet for the rows that break the
source's contract (with the reason and the raw row). Rows in = rows kept + rows quarantined, checked
for every write. Every parser holds the partition's write lock (``ingest.locks``) around "is this
vintage in the lake yet? → write it", so two runs never write one partition at once.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import polars as pl

from ingest.atomic import AtomicFile, write_atomic
from ingest.config import Paths
from ingest.landing import LandedFile
from ingest.locks import locks_partition, partition_lock

__all__ = [
    "EMPTY_FILE",
    "TRADE_DATASETS",
    "WAREHOUSE_DATASETS",
    "LINEAGE_SCHEMA",
    "QUARANTINE_SCHEMA",
    "ParquetAppender",
    "ParseResult",
    "Rejected",
    "VintageFiles",
    "already_in_lake",
    "dataset_dir",
    "ensure_dataset",
    "has_lake_files",
    "locks_partition",
    "partition_lock",
    "quarantine_frame",
    "split_valid",
    "vintage_files",
    "write_parquet",
    "write_vintage",
]

# A zero-row file with the dataset's schema. dbt reads each dataset through a glob, and a glob that
# matches nothing is an error, so a source a home holds no data of (say Japan, with no key set) is
# read as an empty, typed table. The leading dot keeps it out of the quality gate's file list.
EMPTY_FILE = ".empty.parquet"

# The trade datasets of the lake (source, dataset), and with the ECB rates every dataset the dbt sources
# read (dbt_project/models/staging/*/_*__sources.yml): a new source adds its dataset here and there.
TRADE_DATASETS: tuple[tuple[str, str], ...] = (("comtrade", "records"), ("kcs", "trade"), ("japan", "trade"))
WAREHOUSE_DATASETS: tuple[tuple[str, str], ...] = (*TRADE_DATASETS, ("fx", "monthly_rates"))

# One quarantine row: where the rejected row came from, why, and its raw content.
QUARANTINE_SCHEMA: pl.Schema = pl.Schema(
    {
        "source": pl.String(),
        "dataset": pl.String(),
        "source_file": pl.String(),
        "source_row": pl.Int32(),
        "reason": pl.String(),
        "raw": pl.String(),
        "origin": pl.String(),
        "vintage": pl.String(),
    }
)

# Lineage columns ending every source's lake schema, so each number traces back to a raw file.
LINEAGE_SCHEMA: dict[str, pl.DataType] = {
    "origin": pl.String(),  # 'live', 'sample' or 'imported'
    "source_file": pl.String(),  # landing-relative path of the raw file
    "source_row": pl.Int32(),  # position of the row in the raw file (each source says how it counts)
    "vintage": pl.String(),  # sha256 of the raw file (or of the pages of one fetch)
    "fetched_at": pl.String(),  # ISO timestamp of the fetch
}

# A rejected row: (position, reason, raw) — raw is text, or a JSON-able object — optionally with the
# landed file it came from when it is not the vintage's own (the pages of an e-Stat fetch).
Rejected = tuple[int, str, Any] | tuple[int, str, Any, str]


@dataclass(frozen=True)
class ParseResult:
    """Counts for one landed file (or one fetch): rows in = rows kept + rows quarantined."""

    source_file: str
    rows_in: int
    rows_kept: int
    rows_quarantined: int
    lake_file: Path | None
    quarantine_file: Path | None
    skipped: bool = False  # this vintage was already in the lake
    # Every lake file the landed file feeds: ``(lake_file,)`` for most; one per partition for a
    # Comtrade import (which spans several).
    lake_files: tuple[Path, ...] = ()


@dataclass(frozen=True)
class VintageFiles:
    """The lake file and the quarantine file of one vintage of one partition."""

    lake_file: Path
    quarantine_file: Path


def dataset_dir(store: Paths, source: str, dataset: str) -> Path:
    """The lake folder of one dataset."""
    return store.lake / source / dataset


def vintage_files(store: Paths, source: str, dataset: str, partition: str, vintage: str) -> VintageFiles:
    """lake/<source>/<dataset>/<partition>/vintage=<sha16>.parquet and its quarantine twin under
    lake/_quarantine/: one file per partition and vintage (``vintage`` is a sha256 hex digest)."""
    name = f"vintage={vintage[:16]}.parquet"
    return VintageFiles(
        dataset_dir(store, source, dataset) / partition / name,
        store.quarantine / source / dataset / partition / name,
    )


def has_lake_files(store: Paths, source: str, dataset: str) -> bool:
    """Whether the dataset holds at least one lake file with data (the empty schema file aside)."""
    folder = dataset_dir(store, source, dataset)
    return folder.exists() and any(p.name != EMPTY_FILE for p in folder.rglob("*.parquet"))


def write_parquet(df: pl.DataFrame, path: Path) -> Path:
    """Write ``df`` to ``path`` atomically (zstd, with statistics)."""
    return write_atomic(path, lambda tmp: df.write_parquet(tmp, compression="zstd", statistics=True))


def ensure_dataset(store: Paths, source: str, dataset: str, schema: pl.Schema) -> Path:
    """Write the dataset's zero-row schema file if it is missing (idempotent); return its path."""
    target = dataset_dir(store, source, dataset) / EMPTY_FILE
    if not target.exists():
        write_atomic(target, lambda tmp: pl.DataFrame(schema=schema).write_parquet(tmp, compression="zstd"))
    return target


def _count(path: Path, expr: pl.Expr) -> Any:
    return pl.scan_parquet(path).select(expr).collect().row(0)


def already_in_lake(
    files: VintageFiles, *, force: bool = False, kept: pl.Expr | None = None
) -> tuple[int, int] | None:
    """(rows kept, rows quarantined) of a vintage already in the lake, read back from its files; None
    when it must be (re)written (no lake file yet, or ``force``). ``kept`` counts the kept rows when a
    lake row is not one input row (default: the lake file's row count)."""
    if force or not files.lake_file.exists():
        return None
    rows_kept = _count(files.lake_file, pl.len() if kept is None else kept)[0]
    q = files.quarantine_file
    return rows_kept, _count(q, pl.len())[0] if q.exists() else 0


T = TypeVar("T")


def split_valid(
    items: Iterable[tuple[int, T]],
    check: Callable[[T], str | None],
    key: Callable[[T], Hashable],
    duplicate: Callable[[int, Any], str],
    raw: Callable[[T], Any] = lambda item: item,
) -> tuple[list[tuple[int, T]], list[tuple[int, str, Any]]]:
    """Split positioned rows into kept ``(position, row)`` and rejected ``(position, reason, raw)``:
    a row is rejected with ``check(row)`` (the source's row contract) when that is not None, else
    when ``key(row)`` was seen on an earlier kept row, with ``duplicate(first position, key)``."""
    good: list[tuple[int, T]] = []
    bad: list[tuple[int, str, Any]] = []
    seen: dict[Hashable, int] = {}
    for pos, item in items:
        reason = check(item)
        if reason is None:
            k = key(item)
            if k in seen:
                reason = duplicate(seen[k], k)
            else:
                seen[k] = pos
        if reason is None:
            good.append((pos, item))
        else:
            bad.append((pos, reason, raw(item)))
    return good, bad


def quarantine_frame(bad: Iterable[Rejected], entry: LandedFile, *, sort_keys: bool = True) -> pl.DataFrame:
    """Rejected rows with source, dataset, file, position, reason and raw content (an object as JSON,
    keys sorted unless ``sort_keys`` is false), lineage from ``entry``."""
    rows = [
        {
            "source": entry.source,
            "dataset": entry.dataset,
            "source_file": item[3] if len(item) > 3 else entry.path,
            "source_row": item[0],
            "reason": item[1],
            "raw": item[2]
            if isinstance(item[2], str)
            else json.dumps(item[2], ensure_ascii=False, sort_keys=sort_keys),
            "origin": entry.origin,
            "vintage": entry.sha256,
        }
        for item in bad
    ]
    return pl.DataFrame(rows, schema=QUARANTINE_SCHEMA)


def write_vintage(
    files: VintageFiles,
    kept: pl.DataFrame,
    quarantined: pl.DataFrame,
    *,
    rows_in: int,
    rows_kept: int | None = None,
    label: str,
) -> Path | None:
    """Write one vintage: the quarantine file when rows were rejected (a stale one of an earlier
    forced parse is removed otherwise), then the lake file. Checks rows in = kept + quarantined
    first (``rows_kept`` when a lake row is not one input row; ``label`` names the input in the
    error). Returns the quarantine file, or None when nothing was quarantined."""
    n_kept = kept.height if rows_kept is None else rows_kept
    if n_kept + quarantined.height != rows_in:
        raise AssertionError(
            f"{label}: rows in {rows_in} != kept {n_kept} + quarantined {quarantined.height}"
        )
    qpath: Path | None = None
    if quarantined.height:
        qpath = write_parquet(quarantined, files.quarantine_file)
    else:
        files.quarantine_file.unlink(missing_ok=True)
    write_parquet(kept, files.lake_file)
    return qpath


class ParquetAppender:
    """A lake Parquet file written batch by batch, atomically (``ingest.atomic.AtomicFile``): moved
    into place by ``commit``, removed by ``discard``. A file of one batch is written by Polars in one
    go (exactly as ``write_parquet`` would); from the second batch on, batches are appended as row
    groups (pyarrow ``ParquetWriter``), so at most one batch is held. ``rows`` counts what was written."""

    def __init__(self, path: Path, schema: pl.Schema) -> None:
        self.path = path
        self.schema = schema
        self.target: AtomicFile | None = None
        self.pending: pl.DataFrame | None = None
        self.writer: Any = None
        self.rows = 0

    def _tmp(self) -> Path:
        if self.target is None:
            self.target = AtomicFile(self.path)
        return self.target.tmp

    def _append(self, df: pl.DataFrame) -> None:
        if self.writer is None:
            import pyarrow.parquet as pq  # noqa: PLC0415 - only for files of several batches

            self.arrow_schema = pl.DataFrame(schema=self.schema).to_arrow().schema
            self.writer = pq.ParquetWriter(self._tmp(), self.arrow_schema, compression="zstd")
        self.writer.write_table(df.to_arrow().cast(self.arrow_schema))

    def write(self, df: pl.DataFrame) -> None:
        """Add the rows of ``df`` (in the file's schema)."""
        if not df.height:
            return
        self.rows += df.height
        if self.pending is None and self.writer is None:
            self.pending = df
            return
        if self.pending is not None:
            self._append(self.pending)
            self.pending = None
        self._append(df)

    def commit(self) -> Path:
        """Finish the file (zero rows give an empty file with the schema) and move it into place."""
        if self.writer is not None:
            self.writer.close()
            self.writer = None
        else:
            df = self.pending if self.pending is not None else pl.DataFrame(schema=self.schema)
            df.write_parquet(self._tmp(), compression="zstd", statistics=True)
        assert self.target is not None
        return self.target.commit()

    def discard(self) -> None:
        """Drop what was written; the file at ``path`` is left as it was."""
        try:
            if self.writer is not None:
                self.writer.close()
                self.writer = None
        finally:
            if self.target is not None:
                self.target.discard()
