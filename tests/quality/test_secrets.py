"""Secrets never reach a file, a log, an output, an event or an error text.

The canary keys (tests/conftest.py) are in the environment for the whole session. The module requests
everything it must scan, so it holds in any test order:

- the session's built homes (tests/published.py: published, small and rebuilt), built with the
  canaries set, and the Dagster events of their runs;
- its own runs of every command that sends a key: `semitrade fetch comtrade`, `fetch kcs` and
  `fetch japan --via estat` against the fake sources on 127.0.0.1, each once with the key the fake
  accepts (Comtrade's path with a 429 and a 5xx retried; e-Stat's server echoing the key back) and once
  with a key it refuses, into homes of their own, with every log record (DEBUG included), stdout and
  stderr captured.

Every file under the session's temporary directory (those homes, and whatever other tests wrote so
far) is searched as raw bytes and decoded (Parquet, gzip and DuckDB compress their strings), for each
key in plain and URL-encoded form; so are the captured texts and events, and every captured text of
the tests run so far (tests/conftest.py) for the canaries. The self-tests plant leaks to prove that the
search finds them.
"""

from __future__ import annotations

import contextlib
import gzip
import io
import logging
import os
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, quote_plus

import duckdb
import polars as pl
import pytest

from orchestration.cli import main as cli_main
from tests.conftest import CANARY_KEYS, CANARY_TEXTS
from tests.fakes import estat_server, kcs_server
from tests.fakes.comtrade_records import make_dataset
from tests.fakes.comtrade_server import FakeComtrade, Fault
from tests.published import Build, Rebuild

MAX_PLAIN = 200 * 1024 * 1024
REFUSED = {  # keys the fakes refuse: an error path must not echo them either
    "COMTRADE_API_KEY": "refused-COMTRADE-71c3a9e05b2d48f6",
    "DATA_GO_KR_KEY": CANARY_KEYS["DATA_GO_KR_KEY"],
    "ESTAT_APP_ID": "refused-ESTAT-2d9f40b7c1e3a865",
}
ACCEPTED = {  # keys the fakes accept (Korea Customs' fake knows one key, with characters to encode)
    "COMTRADE_API_KEY": CANARY_KEYS["COMTRADE_API_KEY"],
    "DATA_GO_KR_KEY": kcs_server.SERVICE_KEY,
    "ESTAT_APP_ID": CANARY_KEYS["ESTAT_APP_ID"],
}
ESTAT_EXPORTS_2016_20 = "0003313965"


def needles(keys: Iterable[str]) -> list[bytes]:
    """Each key as it could be written: plain and URL-encoded (query string and form)."""
    forms = {form for key in keys for form in (key, quote(key, safe=""), quote_plus(key))}
    return sorted(form.encode() for form in forms)


def hits_in_file(path: Path, found: list[bytes]) -> list[str]:
    """Needles found in ``path``: raw bytes, plus decoded content of compressed formats
    (Parquet pages and gzip are compressed, DuckDB compresses strings)."""
    raw = path.read_bytes() if path.stat().st_size <= MAX_PLAIN else b""
    texts = [raw]
    if path.suffix == ".gz":
        try:
            texts.append(gzip.decompress(raw))
        except (OSError, EOFError, zlib.error):  # truncated/corrupt gzips of the bad-input tests: raw only
            pass
    if path.suffix == ".parquet" and not path.name.startswith("."):
        try:
            df = pl.read_parquet(path)
            texts.append(df.cast({c: pl.String for c in df.columns}, strict=False).write_csv().encode())
        except Exception:  # noqa: BLE001 - unreadable test inputs (bad-input corpus) are scanned raw only
            pass
    if path.suffix == ".duckdb" and not path.name.startswith("."):
        texts.append(_duckdb_strings(path, found))
    return [f"{path}: {needle.decode()}" for needle in found if any(needle in t for t in texts)]


def _duckdb_strings(path: Path, found: list[bytes]) -> bytes:
    """The stored strings of ``path``'s tables that hold a needle (views store none: they read the lake,
    whose files are scanned themselves)."""
    try:
        con = duckdb.connect(str(path), read_only=True)
    except duckdb.Error:
        return b""
    out = []
    values = [n.decode() for n in found]
    with con:
        cols = con.execute(
            "select c.table_schema, c.table_name, list(c.column_name order by c.ordinal_position) "
            "from information_schema.columns as c join information_schema.tables as t "
            "using (table_catalog, table_schema, table_name) "
            "where t.table_type = 'BASE TABLE' and c.data_type = 'VARCHAR' group by all"
        ).fetchall()
        for schema, table, columns in cols:
            ident = ".".join('"' + p.replace('"', '""') + '"' for p in (schema, table))
            quoted = ['"' + c.replace('"', '""') + '"' for c in columns]
            where = " or ".join(f"contains({c}, ?)" for c in quoted for _ in values)
            sql = f"select {', '.join(quoted)} from {ident} where {where}"  # noqa: S608 - catalog names, quoted
            out += [str(v) for row in con.execute(sql, values * len(quoted)).fetchall() for v in row]
    return "\n".join(out).encode()


def files_under(*roots: Path) -> list[Path]:
    return sorted({p for root in roots for p in root.rglob("*") if p.is_file() and not p.is_symlink()})


def leaks_in_files(files: Iterable[Path], found: list[bytes]) -> list[str]:
    return [hit for path in files for hit in hits_in_file(path, found)]


def leaks_in_texts(texts: Iterable[str], found: list[bytes]) -> list[str]:
    return [t[:200] for t in texts if any(n.decode() in t for n in found)]


def assert_no_leak(files: Iterable[Path], texts: Iterable[str], keys: Iterable[str]) -> None:
    """Fail naming every file and text that holds one of ``keys`` (plain or URL-encoded)."""
    found = needles(keys)
    assert leaks_in_files(files, found) == []
    assert leaks_in_texts(texts, found) == []


# -- the paths that send a key ------------------------------------------------------------------------


@dataclass
class KeyRuns:
    """The homes, exit codes and captured texts of the fetches with a key; what the fakes received."""

    homes: list[Path] = field(default_factory=list)
    codes: dict[str, int] = field(default_factory=dict)
    texts: list[str] = field(default_factory=list)
    sent: dict[str, bool] = field(default_factory=dict)  # the fake received the accepted key


class _Records(logging.Handler):
    def __init__(self, texts: list[str]) -> None:
        super().__init__(logging.DEBUG)
        self.texts = texts

    def emit(self, record: logging.LogRecord) -> None:
        self.texts.append(self.format(record))


@contextlib.contextmanager
def _captured(texts: list[str]) -> Iterator[None]:
    """Every log record (DEBUG and up: urllib3 logs each URL), stdout and stderr into ``texts``."""
    root, handler, out, err = logging.getLogger(), _Records(texts), io.StringIO(), io.StringIO()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            yield
    finally:
        root.setLevel(level)
        root.removeHandler(handler)
        texts += [out.getvalue(), err.getvalue()]


def _run(runs: KeyRuns, name: str, home: Path, argv: list[str], mp: pytest.MonkeyPatch) -> None:
    mp.setenv("SEMITRADE_HOME", str(home))
    runs.homes.append(home)
    with _captured(runs.texts):
        try:
            runs.codes[name] = cli_main(argv)
        except Exception as exc:  # an escaping error's text is scanned too (and the code assertion fails)
            runs.texts.append(repr(exc))
            runs.codes[name] = -1


def _comtrade(runs: KeyRuns, base: Path, mp: pytest.MonkeyPatch) -> None:
    periods = [f"2019{m:02d}" for m in range(1, 13)]
    argv = ["fetch", "comtrade", "--reporter", "410", "--partner", "392", "--period", "201901-201912"]
    argv += ["--cmd", "281111", "--flow", "M,X"]
    with FakeComtrade(
        make_dataset([410], [392], periods, ["281111"]), api_key=ACCEPTED["COMTRADE_API_KEY"]
    ) as fake:
        fake.faults += [Fault("429", retry_after=0), Fault("5xx")]
        mp.setenv("COMTRADE_BASE_URL", fake.url)
        mp.setenv("COMTRADE_MIN_INTERVAL", "0")
        mp.setenv("COMTRADE_RETRY_BASE_DELAY", "0.01")
        mp.setenv("COMTRADE_API_KEY", ACCEPTED["COMTRADE_API_KEY"])
        _run(runs, "comtrade", base / "comtrade", argv, mp)
        runs.sent["comtrade"] = any(r.had_key for r in fake.log)
        mp.setenv("COMTRADE_API_KEY", REFUSED["COMTRADE_API_KEY"])
        _run(runs, "comtrade_refused", base / "comtrade_refused", argv, mp)


def _kcs(runs: KeyRuns, base: Path, mp: pytest.MonkeyPatch) -> None:
    state = kcs_server.KcsState(items=[kcs_server.item("2019.07", "JP", "2811111000", imp_usd=200_000)])
    argv = ["fetch", "kcs", "--hs", "281111", "--country", "JP", "--period", "201901-201912"]
    with kcs_server.FakeKcs(state) as fake:
        mp.setenv("KCS_BASE_URL", fake.url)
        mp.setenv("KCS_MIN_INTERVAL", "0")
        mp.setenv("DATA_GO_KR_KEY", ACCEPTED["DATA_GO_KR_KEY"])
        _run(runs, "kcs", base / "kcs", argv, mp)
        runs.sent["kcs"] = any(quote(ACCEPTED["DATA_GO_KR_KEY"], safe="") in q for q in state.requests)
        mp.setenv("DATA_GO_KR_KEY", REFUSED["DATA_GO_KR_KEY"])
        _run(runs, "kcs_refused", base / "kcs_refused", argv, mp)


def _estat(runs: KeyRuns, base: Path, mp: pytest.MonkeyPatch) -> None:
    cells = estat_server.line_cells(
        "281111000", "50103", 2019, [5000, 5200, 4800, 5100, 4900, 5300] + [100] * 6
    )
    state = estat_server.EstatState(
        app_id=ACCEPTED["ESTAT_APP_ID"], tables={ESTAT_EXPORTS_2016_20: cells}, echo_app_id=True
    )
    argv = ["fetch", "japan", "--year", "2019", "--direction", "export", "--hs", "281111", "--partner", "103"]
    with estat_server.FakeEstat(state) as fake:
        mp.setenv("ESTAT_BASE_URL", fake.url)
        mp.setenv("ESTAT_APP_ID", ACCEPTED["ESTAT_APP_ID"])
        _run(runs, "estat", base / "estat", [*argv, "--via", "estat"], mp)
        runs.sent["estat"] = any(f"appId={ACCEPTED['ESTAT_APP_ID']}" in q for q in state.raw_queries)
        mp.setenv("ESTAT_APP_ID", REFUSED["ESTAT_APP_ID"])
        _run(runs, "estat_refused", base / "estat_refused", [*argv, "--via", "estat"], mp)


@pytest.fixture(scope="module")
def key_runs(tmp_path_factory: pytest.TempPathFactory) -> KeyRuns:
    """Every command that sends a key, with the accepted and with a refused key, in homes of its own."""
    runs, base = KeyRuns(), tmp_path_factory.mktemp("secrets")
    with pytest.MonkeyPatch.context() as mp:
        for path in (_comtrade, _kcs, _estat):
            path(runs, base, mp)
    return runs


ALL_KEYS = sorted({*CANARY_KEYS.values(), *ACCEPTED.values(), *REFUSED.values()})


# -- tests --------------------------------------------------------------------------------------------


def test_the_canary_keys_were_set_for_the_session() -> None:
    for name, value in CANARY_KEYS.items():
        assert os.environ.get(name) == value, f"{name} is not the canary: a test left it changed"


def test_the_key_paths_ran_and_sent_their_keys(key_runs: KeyRuns) -> None:
    # the fetches with the accepted keys succeeded, those with a refused key failed, and each server
    # received the key: the scans below searched what a leak would have left
    assert key_runs.codes == {
        "comtrade": 0,
        "comtrade_refused": 1,
        "kcs": 0,
        "kcs_refused": 1,
        "estat": 0,
        "estat_refused": 1,
    }
    assert key_runs.sent == {"comtrade": True, "kcs": True, "estat": True}
    assert all(files_under(home) for home in key_runs.homes[::2])  # each accepted fetch landed files


def test_no_file_the_suite_wrote_holds_a_key(
    key_runs: KeyRuns,
    published_build: Build,
    rebuilt_build: Rebuild,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    # GIVEN every file under the session's temporary directory: at least the homes this test requested
    base = tmp_path_factory.getbasetemp()
    files = files_under(base)
    homes = [*key_runs.homes[::2], published_build.store.home, rebuilt_build.store.home]
    assert all(any(f.is_relative_to(home) for f in files) for home in homes)
    # AND the DuckDB files of the session builds: warehouses, publications, the earlier publication
    session_dbs = {
        *(
            p.resolve()
            for b in (published_build, rebuilt_build)
            for p in (b.store.build_db, b.store.serving_db)
        ),
        rebuilt_build.previous.resolve(),
    }
    assert session_dbs <= {f.resolve() for f in files if f.suffix == ".duckdb"}
    assert len(session_dbs) == 5
    # THEN none holds a key, plain or URL-encoded, raw or in a Parquet, gzip or DuckDB string
    assert_no_leak(files, [], ALL_KEYS)


def test_no_log_output_or_event_of_the_key_paths_or_the_session_builds_holds_a_key(
    key_runs: KeyRuns, published_build: Build, rebuilt_build: Rebuild
) -> None:
    results = [published_build.result, rebuilt_build.crashed, rebuilt_build.result]
    events = [repr(e) for result in results for e in result.all_events]
    assert len(events) > 1000
    assert any("getStatsData" in t for t in key_runs.texts)  # urllib3's DEBUG line with the URL was captured
    assert_no_leak([], [*key_runs.texts, *events], ALL_KEYS)


def test_no_captured_text_so_far_holds_a_canary(caplog: pytest.LogCaptureFixture) -> None:
    # GIVEN a log record carrying a canary would be caught (the detector works)
    logging.getLogger("semitrade.canary-selftest").warning("probe %s", "x")
    texts = list(CANARY_TEXTS)
    assert any("probe x" in t for t in texts + [caplog.text])
    # THEN no captured log, stdout, stderr or exception text of any test so far contains a canary
    assert_no_leak([], texts, CANARY_KEYS.values())


def test_the_detector_finds_a_planted_canary(tmp_path: Path) -> None:
    # GIVEN a canary hidden in a compressed Parquet column and in a DuckDB table
    value = next(iter(CANARY_KEYS.values()))
    pl.DataFrame({"x": ["a" * 1000 + value]}).write_parquet(tmp_path / "p.parquet", compression="zstd")
    with duckdb.connect(str(tmp_path / "w.duckdb")) as con:
        con.execute("create table t as select ? || repeat('z', 5000) as s from range(1000)", [value])
    # THEN the scan finds both (so a clean result above means something), the DuckDB one in the
    # table's decoded strings
    found = needles([value])
    assert hits_in_file(tmp_path / "p.parquet", found) and hits_in_file(tmp_path / "w.duckdb", found)
    assert value.encode() in _duckdb_strings(tmp_path / "w.duckdb", found)
    (tmp_path / "p.parquet").unlink()
    (tmp_path / "w.duckdb").unlink()


def test_a_planted_leak_fails_every_scan(tmp_path: Path) -> None:
    # GIVEN a home where a fetch leaked Korea Customs' key: URL-encoded in a manifest line, plain in a
    # gzipped landed file; and a log line with the e-Stat key
    home = tmp_path / "leaky"
    (home / "landing").mkdir(parents=True)
    encoded = quote(ACCEPTED["DATA_GO_KR_KEY"], safe="")
    (home / "landing" / "_manifest.jsonl").write_text(f'{{"url": "http://x/?serviceKey={encoded}"}}\n')
    (home / "landing" / "r.xml.gz").write_bytes(
        gzip.compress(f"<k>{ACCEPTED['DATA_GO_KR_KEY']}</k>".encode())
    )
    (home / "landing" / "clean.json").write_text("{}")
    texts = ["fetched 12 rows", f"GET /getStatsData?appId={ACCEPTED['ESTAT_APP_ID']}&limit=1"]
    # WHEN the scans of this module run on them
    file_leaks = leaks_in_files(files_under(home), needles(ALL_KEYS))
    text_leaks = leaks_in_texts(texts, needles(ALL_KEYS))
    # THEN each leak is reported with its file (and the clean file is not), and the assertion the
    # tests above make fails, naming them
    assert sorted(Path(h.split(": ")[0]).name for h in file_leaks) == ["_manifest.jsonl", "r.xml.gz"]
    assert text_leaks == [texts[1]]
    with pytest.raises(AssertionError, match="_manifest.jsonl"):
        assert_no_leak(files_under(home), [], ALL_KEYS)
    with pytest.raises(AssertionError, match="appId="):
        assert_no_leak([home / "landing" / "clean.json"], texts, ALL_KEYS)
    (home / "landing" / "_manifest.jsonl").unlink()
    (home / "landing" / "r.xml.gz").unlink()
