"""``semitrade import``: Comtrade CSV files a user already has, landed and parsed like API responses.

``import_file`` reads a file, detects its format from the header (``import_formats``: legacy
35-column CSV, the legacy JSON API's records as CSV, or the current 47-field CSV) and refuses
anything else before landing a byte. The raw bytes are landed unchanged under
landing/comtrade/records/imported/<format>__<sha16>.csv with origin 'imported' and params
``{"format", "file_name"}``; ``parse.parse_landed`` recognises such an entry and calls
``parse_import``, so re-parsing from landing works for imported files as for fetched ones.

``parse_import`` converts every row to a record with the API field names, applies the JSON path's
record contract (``parse.split_positioned``: types, codes, periods, duplicate keys) and splits the
kept rows by lake partition (freq/year/reporter: an import spans several), one lake file per
partition named by the file's vintage, each written under that partition's lock. Rejected rows go
to one quarantine file with "line N: reason" and the raw line. Rows in = kept + quarantined.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

from ingest.comtrade import parse
from ingest.comtrade.import_formats import FORMATS, ImportFormatError, convert, read_csv
from ingest.comtrade.schema import partition_for
from ingest.config import Paths
from ingest.lake import ParseResult, partition_lock, quarantine_frame, write_parquet
from ingest.landing import LandedFile, land, read_manifest

LANDING_PARTITION = "imported"
_WHOLE_FILE_RAW_CHARS = (
    4000  # the start of an unusable file kept in its quarantine row (landing keeps it all)
)

__all__ = ["FORMATS", "ImportFormatError", "import_file", "land_import", "parse_import"]


def land_import(paths: Paths, file: Path) -> tuple[LandedFile, bool]:
    """Land ``file`` (raw bytes, unchanged) if it is a Comtrade CSV format; return the manifest entry
    and whether it was new. Raises ImportFormatError (naming the file) before landing anything else.
    Identical bytes are landed once, whatever the file is called (the first name stays in the manifest).
    """
    try:
        content = file.read_bytes()
    except OSError as exc:
        raise ImportFormatError(f"{file}: cannot read the file ({exc.strerror or exc})") from None
    fmt, _header, _rows = read_csv(content, str(file))
    entry, new = land(
        paths,
        source=parse.SOURCE,
        dataset=parse.DATASET,
        partition=LANDING_PARTITION,
        stem=fmt,
        content=content,
        params={"format": fmt, "file_name": file.name},
        origin="imported",
        suffix=".csv",
    )
    if not new:  # the manifest's entry keeps the first import's time, name and lineage
        entry = next(
            (
                e
                for e in read_manifest(paths, source=parse.SOURCE, dataset=parse.DATASET)
                if e.path == entry.path
            ),
            entry,
        )
    return entry, new


def import_file(paths: Paths, file: Path) -> tuple[LandedFile, bool, ParseResult]:
    """Land ``file`` and parse it into the lake (see the module docstring)."""
    entry, new = land_import(paths, file)
    return entry, new, parse.parse_landed(paths, entry)


def parse_import(paths: Paths, entry: LandedFile, *, force: bool = False) -> ParseResult:
    """Parse one imported file into its lake partitions and the quarantine. Idempotent: a lake or
    quarantine file of this vintage that exists is left as it is (``force`` rewrites it);
    ``skipped`` says nothing had to be written. A file that cannot be read as its recorded format
    at all is quarantined whole (one row, position -1), as the JSON path does."""
    content = entry.absolute(paths).read_bytes()
    fmt = entry.params.get("format")
    try:
        if fmt not in FORMATS:
            raise ImportFormatError(f"{entry.path}: the manifest names no known import format ({fmt!r})")
        converted = convert(content, entry.path)
        if converted.fmt != fmt:
            raise ImportFormatError(
                f"{entry.path}: the manifest says {fmt} but the header is {converted.fmt}"
            )
    except ImportFormatError as exc:
        raw = content[:_WHOLE_FILE_RAW_CHARS].decode("utf-8", "replace")
        return _write_quarantine_only(paths, entry, [(-1, str(exc), raw)], force=force)
    good, rejected = parse.split_positioned(converted.records)
    bad: list[tuple[int, str, Any]] = [
        (pos, f"line {converted.lines[pos]}: {reason}", converted.raw[pos])
        for pos, reason in [*converted.failures, *((p, r) for p, r, _rec in rejected)]
    ]
    bad.sort(key=lambda b: b[0])
    if len(good) + len(bad) != converted.rows_in:
        raise AssertionError(
            f"{entry.path}: rows in {converted.rows_in} != kept {len(good)} + quarantined {len(bad)}"
        )
    by_partition: dict[str, list[tuple[int, dict[str, Any]]]] = defaultdict(list)
    for pos, rec in good:
        by_partition[partition_for(rec["freqCode"], rec["refYear"], rec["reporterCode"])].append((pos, rec))
    lake_files: list[Path] = []
    wrote = False
    for partition, rows in sorted(by_partition.items()):
        out = parse.vintage_files(paths, partition, entry.sha256).lake_file
        lake_files.append(out)
        with partition_lock(paths, parse.SOURCE, parse.DATASET, partition):
            if force or not out.exists():
                write_parquet(parse.records_frame(rows, entry), out)
                wrote = True
    qresult = _write_quarantine_only(paths, entry, bad, force=force)
    return ParseResult(
        entry.path,
        converted.rows_in,
        len(good),
        len(bad),
        lake_files[0] if lake_files else None,
        qresult.quarantine_file,
        not wrote and qresult.skipped,
        tuple(lake_files),
    )


def _write_quarantine_only(
    paths: Paths, entry: LandedFile, bad: list[tuple[int, str, Any]], *, force: bool
) -> ParseResult:
    """Write (or keep) the file's quarantine rows; the result counts only them."""
    qpath = parse.vintage_files(paths, entry.partition, entry.sha256).quarantine_file
    if not bad:
        if force:
            qpath.unlink(missing_ok=True)
        return ParseResult(entry.path, 0, 0, 0, None, None, True)
    skipped = qpath.exists() and not force
    if not skipped:
        write_parquet(quarantine_frame(bad, entry), qpath)
    return ParseResult(entry.path, len(bad), 0, len(bad), None, qpath, skipped)
