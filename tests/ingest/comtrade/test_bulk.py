"""Bulk files: list, download (resumable with Range, size checked), land, stream-parse into the lake."""

from __future__ import annotations

import gzip
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from ingest.comtrade.bulk import fetch_bulk
from ingest.comtrade.bulk_parse import parse_bulk
from ingest.comtrade.client import BulkDownloadError
from ingest.comtrade.schema import LAKE_SCHEMA
from ingest.config import Paths
from ingest.landing import land, read_manifest
from tests.fakes.comtrade_records import lake_rows, make_dataset, make_record, server_rows
from tests.fakes.comtrade_server import FakeComtrade


@pytest.fixture
def server() -> Iterator[FakeComtrade]:
    with FakeComtrade() as fake:
        for reporter in (410, 392):
            fake.add_bulk_file(
                reporter,
                "2019",
                make_dataset([reporter], [392, 410, 0], ["2019"], ["281111", "370790"], breakdowns=True),
            )
        yield fake


def _bulk_records(server: FakeComtrade) -> list[dict[str, Any]]:
    return [r for _, raw in server.bulk.values() for r in _rows_of(raw)]


def _rows_of(raw: bytes) -> list[dict[str, Any]]:
    df = pl.read_csv(gzip.decompress(raw), separator="\t", infer_schema=False)
    return df.to_dicts()


def test_bulk_files_land_and_parse_every_row(
    home: Paths, server: FakeComtrade, make_client: Callable[..., Any]
) -> None:
    summary = fetch_bulk(home, make_client(server.url), freq="A", reporters=(410, 392))
    assert (summary.files_listed, summary.files_downloaded, summary.files_skipped) == (2, 2, 0)
    # breakdowns kept: bulk is everything
    assert summary.rows_landed == summary.rows_kept == 2 * 3 * 2 * 2 * 4
    df = pl.scan_parquet(home.lake / "comtrade/records/**/*.parquet").collect()
    assert df.schema == LAKE_SCHEMA
    assert df.height == summary.rows_kept
    entries = list(read_manifest(home, source="comtrade", dataset="bulk"))
    assert sorted(e.partition for e in entries) == [
        "freq=A/year=2019/reporter=392",
        "freq=A/year=2019/reporter=410",
    ]
    assert all(e.path.endswith(".tsv.gz") for e in entries)
    assert not any((home.landing / "comtrade" / "_downloads").glob("*"))
    # typed exactly like the JSON path: ints, floats, bools, nulls
    row = df.filter((pl.col("reporter_code") == 410) & (pl.col("partner_code") == 0)).row(0, named=True)
    assert (
        row["is_aggregate"] is True and row["gross_wgt"] is None and isinstance(row["primary_value"], float)
    )
    again = fetch_bulk(home, make_client(server.url), freq="A", reporters=(410, 392))
    assert (again.files_downloaded, again.files_skipped) == (0, 2)
    assert pl.scan_parquet(home.lake / "comtrade/records/**/*.parquet").collect().height == df.height


def test_interrupted_download_resumes_with_range(
    server: FakeComtrade, make_client: Callable[..., Any], tmp_path: Path
) -> None:
    client = make_client(server.url)
    bulk = client.bulk_files("C", "A", "HS", {"reporterCode": "410"})[0]
    server.bulk_cut_once = 1000
    dest = client.download_bulk(bulk, tmp_path / "f.tsv.gz", chunk_size=256)
    assert dest.read_bytes() == server.bulk[bulk.file_hash][1]
    downloads = [r for r in server.log if r.path.startswith("/bulk/v1/file/")]
    assert [r.status for r in downloads] == [200, 206]
    offset = int(downloads[1].headers["Range"].removeprefix("bytes=").rstrip("-"))
    assert 0 < offset <= 1000 and offset % 256 == 0  # only whole chunks kept, the rest asked again


def test_interrupted_bulk_pull_loses_and_duplicates_nothing(
    home: Paths, server: FakeComtrade, make_client: Callable[..., Any]
) -> None:
    server.bulk_cut_once = 300
    summary = fetch_bulk(home, make_client(server.url), freq="A", reporters=(410,))
    assert summary.files_downloaded == 1
    expected = [r for r in _bulk_records(server) if r["reporterCode"] == "410"]
    df = pl.scan_parquet(home.lake / "comtrade/records/**/*.parquet").collect()
    assert df.height == len(expected) == summary.rows_kept
    assert sorted(df["primary_value"].to_list()) == sorted(float(r["primaryValue"]) for r in expected)


def test_checksum_mismatch_is_refused(
    home: Paths, server: FakeComtrade, make_client: Callable[..., Any], tmp_path: Path
) -> None:
    client = make_client(server.url)
    (bulk, *_) = client.bulk_files("C", "A", "HS", {"reporterCode": "410"})
    with pytest.raises(BulkDownloadError, match="does not match the expected"):
        client.download_bulk(bulk, tmp_path / "x.tsv.gz", sha256="0" * 64)
    assert not (tmp_path / "x.tsv.gz").exists() and not (tmp_path / "x.tsv.gz.part").exists()


def test_bulk_rows_equal_the_published_records(home: Paths, make_client: Callable[..., Any]) -> None:
    records = make_dataset([410], [392, 0], ["201901", "201902"], ["281111"], breakdowns=False)
    with FakeComtrade() as fake:
        fake.add_bulk_file(410, "201901", [r for r in records if r["period"] == "201901"])
        fake.add_bulk_file(410, "201902", [r for r in records if r["period"] == "201902"])
        fetch_bulk(home, make_client(fake.url), freq="M", reporters=(410,))
    assert lake_rows(home.lake) == server_rows(records)
    assert len(list((home.lake / "comtrade/records/freq=M/year=2019/reporter=410").glob("*.parquet"))) == 2


def test_bad_bulk_rows_are_quarantined_with_reasons(home: Paths) -> None:
    good = make_record(410, 392, "2019", "281111", "M", 10.0)
    negative = make_record(410, 156, "2019", "281111", "M", -5.0)
    bad_period = make_record(410, 842, "2019", "281111", "M", 1.0) | {"refMonth": 7}
    bad_cmd = make_record(410, 0, "2019", "28111", "M", 1.0)
    fields = list(good)
    lines = ["\t".join(fields)] + [
        "\t".join("" if r[f] is None else str(r[f]) for f in fields)
        for r in (good, negative, bad_period, bad_cmd, good)
    ]
    lines.append("\t".join(["C", "A", "notanumber"] + [""] * (len(fields) - 3)))
    raw = gzip.compress(("\n".join(lines) + "\n").encode())
    entry, _ = land(
        home,
        source="comtrade",
        dataset="bulk",
        partition="freq=A/year=2019/reporter=410",
        stem="bulk_test",
        content=raw,
        params={},
        suffix=".tsv.gz",
    )
    result = parse_bulk(home, entry)
    assert (result.rows_in, result.rows_kept, result.rows_quarantined) == (6, 1, 5)
    q = pl.read_parquet(result.quarantine_file).sort("source_row")
    assert q["source_row"].to_list() == [1, 2, 3, 4, 5]
    reasons = q["reason"].to_list()
    assert reasons[0] == "primaryValue is negative" or reasons[0].startswith("qty")
    assert "annual period" in reasons[1]
    assert "cmdCode" in reasons[2]
    assert "duplicate key" in reasons[3]
    assert "refPeriodId is not a valid int" in reasons[4]
    again = parse_bulk(home, entry)
    assert again.skipped and (again.rows_kept, again.rows_quarantined) == (1, 5)


def test_not_gzip_is_quarantined_whole(home: Paths) -> None:
    entry, _ = land(
        home,
        source="comtrade",
        dataset="bulk",
        partition="freq=A/year=2019/reporter=410",
        stem="bulk_broken",
        content=b"<html>not a file</html>",
        params={},
        suffix=".tsv.gz",
    )
    result = parse_bulk(home, entry)
    assert (result.rows_in, result.rows_kept, result.rows_quarantined) == (1, 0, 1)
    assert "not a readable gzip TSV" in pl.read_parquet(result.quarantine_file)["reason"][0]


def _flip(data: bytes, pos: int) -> bytes:
    return data[:pos] + bytes([data[pos] ^ 0x55]) + data[pos + 1 :]


def _gzip_rows(n: int) -> bytes:
    return gzip.compress(
        b"period\tcmdCode\n" + "".join(f"2019\t{100000 + i * 7919 % 900000}\n" for i in range(n)).encode(),
        mtime=0,  # the same bytes in every process: xdist workers must collect the same parameters
    )


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        # cut in half: the size trailer is gone, so it is read in pieces (zlib)
        (
            "truncated",
            _gzip_rows(5000)[: len(_gzip_rows(5000)) // 2],
            "ended before the end-of-stream marker",
        ),
        # one byte of the deflate stream changed, trailer intact: read in one piece (Polars)
        ("corrupt", _flip(_gzip_rows(5000), len(_gzip_rows(5000)) // 2), "corrupt deflate stream"),
        ("empty", gzip.compress(b"", mtime=0), "empty file: no header line"),
    ],
)
def test_broken_small_gzip_is_quarantined_whole(home: Paths, name: str, content: bytes, reason: str) -> None:
    # GIVEN a small gzip, truncated, corrupt or empty
    entry, _ = land(
        home,
        source="comtrade",
        dataset="bulk",
        partition="freq=A/year=2019/reporter=410",
        stem=f"bulk_{name}",
        content=content,
        params={},
        suffix=".tsv.gz",
    )
    # WHEN it is parsed
    result = parse_bulk(home, entry)
    # THEN it is quarantined whole, with the reason, and the lake file is empty
    assert (result.rows_in, result.rows_kept, result.rows_quarantined) == (1, 0, 1)
    got = pl.read_parquet(result.quarantine_file)["reason"][0]
    assert "not a readable gzip TSV" in got and reason in got
    assert pl.read_parquet(result.lake_file).height == 0
