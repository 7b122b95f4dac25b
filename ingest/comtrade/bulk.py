"""Comtrade bulk files: list them, download each (resumable, size-checked), land it, and parse it
into the same lake partitions as the records pull (``bulk_parse.parse_bulk``).

Landing: landing/comtrade/bulk/<freq=/year=/reporter=>/bulk_<period>_<classification>.tsv.gz; the
JSON state file landing/comtrade/_state/bulk.json remembers each parsed file's publication date, so a
rerun skips what is unchanged and re-fetches a file the service republished.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ingest.comtrade.bulk_parse import parse_bulk
from ingest.comtrade.client import BulkFile, ComtradeClient, QuotaExhaustedError
from ingest.comtrade.fetch import FetchProgress, FetchState, ProgressCallback
from ingest.comtrade.schema import partition_for
from ingest.config import Paths
from ingest.lake import ParseResult
from ingest.landing import LandedFile, land_file

SOURCE = "comtrade"
BULK_DATASET = "bulk"

__all__ = ["BULK_DATASET", "BulkSummary", "fetch_bulk"]


@dataclass
class BulkSummary:
    """What a bulk pull did."""

    files_listed: int = 0
    files_downloaded: int = 0
    files_skipped: int = 0
    rows_landed: int = 0
    rows_kept: int = 0
    rows_quarantined: int = 0
    stopped: str | None = None
    lake_files: list[Path] = field(default_factory=list)


def fetch_bulk(
    paths: Paths,
    client: ComtradeClient,
    *,
    freq: str,
    reporters: tuple[int, ...],
    periods: tuple[str, ...] | None = None,
    type_code: str = "C",
    cl_code: str = "HS",
    progress: ProgressCallback | None = None,
) -> BulkSummary:
    """List, download, land and parse the bulk files of ``reporters`` (and ``periods``).

    A file already parsed with the same publication date is skipped; a partial download resumes.
    """
    summary = BulkSummary()
    state = FetchState(paths, BULK_DATASET)
    params = {"reporterCode": ",".join(str(r) for r in reporters)}
    if periods:
        params["period"] = ",".join(periods)
    try:
        files = client.bulk_files(type_code, freq, cl_code, params)
        summary.files_listed = len(files)
        for n, bulk in enumerate(files, 1):
            key = f"{bulk.reporter_code}/{bulk.file_hash}"
            label = f"bulk reporter {bulk.reporter_code} {bulk.period}"
            done = state.get(key)
            if done is not None and done.get("publication_date") == bulk.publication_date:
                summary.files_skipped += 1
                if progress:
                    progress(FetchProgress(n, len(files), label, "skipped"))
                continue
            result, entry = _fetch_one_bulk(paths, client, bulk, freq)
            summary.files_downloaded += 1
            summary.rows_landed += result.rows_in
            summary.rows_kept += result.rows_kept
            summary.rows_quarantined += result.rows_quarantined
            if result.lake_file is not None:
                summary.lake_files.append(result.lake_file)
            state.put(
                key, {"publication_date": bulk.publication_date, "file": entry.path, "rows": result.rows_in}
            )
            if progress:
                progress(FetchProgress(n, len(files), label, "fetched", result.rows_in))
    except QuotaExhaustedError as exc:
        summary.stopped = str(exc)
    return summary


def _fetch_one_bulk(
    paths: Paths, client: ComtradeClient, bulk: BulkFile, freq: str
) -> tuple[ParseResult, LandedFile]:
    download = paths.landing / SOURCE / "_downloads" / f"{bulk.reporter_code}_{bulk.file_hash}.tsv.gz"
    client.download_bulk(bulk, download)
    year = int(str(bulk.period)[:4] or str(bulk.ref_period_id)[:4])
    # land_file() hashes the download in chunks and moves it into landing/: never read whole.
    entry, _new = land_file(
        paths,
        download,
        source=SOURCE,
        dataset=BULK_DATASET,
        partition=partition_for(freq, year, bulk.reporter_code),
        stem=f"bulk_{bulk.period}_{bulk.classification_code or 'HS'}",
        params={
            "endpoint": f"/bulk/v1/file/{bulk.reporter_code}/{bulk.file_hash}",
            "publicationDate": bulk.publication_date,
            "period": bulk.period,
        },
        suffix=".tsv.gz",
    )
    return parse_bulk(paths, entry), entry
