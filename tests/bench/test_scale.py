"""The scale generator and the bulk ingest at small scale: determinism, row conservation, the
quarantine, batches equal one pass, and a memory bound. Timings live in the benchmark, not here.

Data are SYNTHETIC (bench/generate.py): not published statistics.
"""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

from bench import generate
from ingest.comtrade.bulk_parse import parse_bulk
from ingest.comtrade.schema import API_FIELDS, LAKE_SCHEMA
from ingest.config import Paths
from ingest.landing import LandedFile, land_file, read_manifest

ROWS = 20_000
PER_FILE = 5_000
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """20k rows in four 5k-row bulk files (written once for the module)."""
    return generate.generate(tmp_path_factory.mktemp("bulk"), ROWS, rows_per_file=PER_FILE, jobs=1)


def _land(home: Paths, f: Path) -> LandedFile:
    src = home.home / "_in" / f.name
    src.parent.mkdir(parents=True, exist_ok=True)
    src.write_bytes(f.read_bytes())
    entry, _ = land_file(
        home,
        src,
        source="comtrade",
        dataset="bulk",
        partition=f"freq=A/year=2015/reporter={f.name[17:20]}",
        stem="bulk_2015",
        params={},
        origin="sample",
    )
    return entry


def test_generator_is_deterministic_and_shaped_like_bulk_files(files: list[Path], tmp_path: Path) -> None:
    # GIVEN the module's files WHEN the first one is written again elsewhere
    again = generate.write_file(generate.plan(ROWS, PER_FILE)[0], tmp_path)
    # THEN the bytes are identical, and every file is a gzip TSV with the 47 record fields as header
    assert again.read_bytes() == files[0].read_bytes()
    assert len(files) == 4 and sum(s.rows for s in generate.plan(ROWS, PER_FILE)) == ROWS
    header = gzip.open(files[0], "rt").readline().rstrip("\n").split("\t")
    assert header == list(API_FIELDS) and len(header) == 47
    listing = json.loads((files[0].parent / "_listing.json").read_text())
    assert listing["count"] == 4 and "SYNTHETIC" in listing["label"]


def test_generated_rows_carry_real_irregularities(files: list[Path]) -> None:
    # GIVEN one file read as plain strings
    df = pl.read_csv(files[0], separator="\t", infer_schema=False, quote_char=None)
    # THEN it holds nulls, estimated flags, aggregate rows, breakdown rows and bad rows, at sane rates
    assert df.height == PER_FILE
    assert 0.05 < df["netWgt"].is_null().mean() < 0.2
    assert (df["isQtyEstimated"] == "True").mean() > 0.05
    assert (df["partnerCode"] == "0").any() and (df["cmdCode"] == "TOTAL").any()
    assert (df["aggrLevel"] != "6").mean() > 0.05 and (df["isAggregate"] == "True").any()
    assert (df["motCode"] != "0").any() and (df["customsCode"] != "C00").any()
    assert df["primaryValue"].str.starts_with("-").any()
    # several HS versions across the release (by year and by reporter)
    versions = {s.hs_version for s in generate.plan(2_000_000, 10_000)}
    assert {"H4", "H5", "H6"} <= versions and len(versions) >= 4


def test_every_row_is_kept_or_quarantined(files: list[Path], tmp_path: Path) -> None:
    # GIVEN a fresh home WHEN every file is landed (moved, hashed) and parsed
    home = Paths(tmp_path / "home")
    results = [parse_bulk(home, _land(home, f)) for f in files]
    # THEN rows in = kept + quarantined, nothing is lost, and the lake has the lake schema
    assert sum(r.rows_in for r in results) == ROWS
    assert all(r.rows_kept + r.rows_quarantined == r.rows_in for r in results)
    quarantined = sum(r.rows_quarantined for r in results)
    assert 0 < quarantined <= ROWS * 0.001  # the generator's few contract breaches, nothing else
    lake = pl.scan_parquet(home.lake / "comtrade/records/**/*.parquet")
    assert lake.collect_schema() == LAKE_SCHEMA
    assert lake.select(pl.len()).collect().item() == ROWS - quarantined
    reasons = pl.read_parquet(home.quarantine / "comtrade/records/**/*.parquet")["reason"].unique().to_list()
    assert set(reasons) <= {
        "primaryValue is negative",
        "netWgt is not a valid num",
        "duplicate key of an earlier row",
    }
    assert len(list(read_manifest(home, source="comtrade", dataset="bulk"))) == len(files)
    assert not list((home.home / "_in").iterdir())  # land_file moved every file


def test_batches_give_the_same_lake_as_one_pass(files: list[Path], tmp_path: Path) -> None:
    # GIVEN one file with a copy of its first data row appended (a duplicate key in a later batch)
    lines = gzip.open(files[1], "rt").read().splitlines()
    raw = tmp_path / files[1].name
    raw.write_bytes(gzip.compress(("\n".join([*lines, lines[1]]) + "\n").encode()))
    one, many = Paths(tmp_path / "one"), Paths(tmp_path / "many")
    # WHEN parsed in one batch (the file fits one piece: Polars decompresses it itself) and in
    # pieces of 250 kB (about 700 rows, decompressed by zlib in a thread)
    r1 = parse_bulk(one, _land(one, raw))
    r2 = parse_bulk(many, _land(many, raw), chunk_bytes=250_000)
    # THEN counts, lake rows and quarantine reasons are the same, and the late duplicate is caught
    assert (r1.rows_in, r1.rows_kept, r1.rows_quarantined) == (r2.rows_in, r2.rows_kept, r2.rows_quarantined)
    assert r1.rows_in == PER_FILE + 1
    cols = [c for c in LAKE_SCHEMA.names() if c not in ("fetched_at",)]
    assert pl.read_parquet(r1.lake_file).select(cols).equals(pl.read_parquet(r2.lake_file).select(cols))
    q1, q2 = pl.read_parquet(r1.quarantine_file), pl.read_parquet(r2.quarantine_file)
    assert q1.select("source_row", "reason").equals(q2.select("source_row", "reason"))
    assert q2.filter(pl.col("source_row") == PER_FILE)["reason"].to_list() == [
        "duplicate key of an earlier row"
    ]


def test_land_file_moves_hashes_and_recognises_identical_bytes(tmp_path: Path) -> None:
    # GIVEN a file on disk WHEN it is landed, then the same bytes again from another file
    home = Paths(tmp_path / "home")
    a, b = tmp_path / "a.tsv.gz", tmp_path / "b.tsv.gz"
    a.write_bytes(b"\x1f\x8b same bytes")
    b.write_bytes(b"\x1f\x8b same bytes")
    first, new1 = land_file(
        home,
        a,
        source="comtrade",
        dataset="bulk",
        partition="freq=A/year=2019/reporter=410",
        stem="bulk",
        params={"period": "2019", "token": "SECRET"},
    )
    second, new2 = land_file(
        home,
        b,
        source="comtrade",
        dataset="bulk",
        partition="freq=A/year=2019/reporter=410",
        stem="bulk",
        params={"period": "2019"},
    )
    # THEN one file, content-addressed, one manifest line without the secret, both sources consumed
    assert (new1, new2) == (True, False) and first.path == second.path
    assert (home.landing / first.path).read_bytes() == b"\x1f\x8b same bytes"
    assert first.path.endswith(f"__{first.sha256[:16]}.tsv.gz") and first.size == 13
    assert not a.exists() and not b.exists()
    assert "SECRET" not in home.manifest.read_text() and len(home.manifest.read_text().splitlines()) == 1


_PEAK = """
import sys
from pathlib import Path
from ingest.comtrade.bulk_parse import parse_bulk
from ingest.config import Paths
from ingest.landing import land_file
src, home = Path(sys.argv[1]), Paths(Path(sys.argv[2]))
entry, _ = land_file(home, src, source="comtrade", dataset="bulk", partition="freq=A/year=2019/reporter=410",
                     stem="bulk", params={}, origin="sample")
r = parse_bulk(home, entry, chunk_bytes=1_000_000)
assert r.rows_in == int(sys.argv[3]), r
from bench.steps import vm_hwm_mb
print(int(vm_hwm_mb()))  # not ru_maxrss: it inherits the parent's peak across fork + exec
"""


def test_ingest_memory_stays_flat_as_the_file_grows(tmp_path: Path) -> None:
    # GIVEN one file of 10k rows and one of 40k rows, each ingested (land + parse in 1 MB pieces)
    # in a fresh process
    peaks = []
    for rows in (10_000, 40_000):
        src = generate.write_file(generate.BulkSpec(0, 410, 2019, "H5", rows), tmp_path)
        cmd = [sys.executable, "-c", _PEAK, str(src), str(tmp_path / f"home{rows}"), str(rows)]
        proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, check=True)
        peaks.append(int(proc.stdout.strip().splitlines()[-1]))
    # THEN the peak resident set (MB) stays bounded and flat: 4x the rows, at most 1.3x the memory
    assert peaks[1] < 1024, peaks
    assert peaks[1] <= 1.3 * peaks[0], peaks
