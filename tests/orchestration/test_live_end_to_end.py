"""End to end on real-shaped data: stand-in servers on 127.0.0.1 for UN Comtrade, Korea Customs, Japan MOF
and the ECB; `semitrade run --mode live` for a scope file, then `semitrade fetch` (a revision) + `semitrade
build`. No sample row anywhere; values conserved to the cent per source, partner and month; a month a
source reports as zero stays a row with 0; a sample home refuses live work."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest

from ingest import reference
from ingest.comtrade import sample_flows
from ingest.fx import rates
from orchestration.cli import main
from tests.fakes import comtrade_records, comtrade_server, estat_server, japan_server, kcs_server
from tests.ingest.japan.conftest import csv_row, make_csv

YEAR = 2019
IMPORTS = Path(__file__).resolve().parents[1] / "fixtures" / "comtrade_import"
BRAZIL = 76  # a partner the sample never generates
MONTHS = [f"{YEAR}{m:02d}" for m in range(1, 13)]


def _new_code() -> str:
    """A taxonomy materials code (HS2017) that the offline sample never generates."""
    generated = {code for p in sample_flows.PRODUCTS for code, _ in sample_flows.codes_for(p, "H5")}
    candidates = [c for c in reference.semiconductor_hs6(YEAR, ("materials",)) if c not in generated]
    assert candidates, "every materials code is in the sample: pick another check"
    return candidates[0]


NEW_CODE = _new_code()


def _comtrade_records() -> list[dict[str, Any]]:
    records = comtrade_records.make_dataset(
        [410], [392, BRAZIL, 0], MONTHS, ["281111", "370790", NEW_CODE], ["M"], breakdowns=False
    )
    for rec in records:  # Korea reports zero imports of HF from Japan in August 2019: a reported zero
        if rec["cmdCode"] == "281111" and rec["partnerCode"] == 392 and rec["period"] == "201908":
            rec.update(primaryValue=0.0, cifvalue=0.0, netWgt=0.0, qty=0.0, altQty=0.0)
    return records


def _kcs_items() -> list[dict[str, str]]:
    items = []
    for month in range(1, 13):
        period = f"{YEAR}.{month:02d}"
        hf = 0 if month in (8, 9) else 900_000 + month * 7_001  # the collapse: 0 kg / 0 USD in Aug–Sep 2019
        items.append(kcs_server.item(period, "JP", "2811111000", imp_usd=hf, imp_kg=hf // 3))
        items.append(kcs_server.item(period, "TW", "2811111000", imp_usd=50_000 + month))
        items.append(kcs_server.item(period, "BR", "3707901010", imp_usd=1_234 + month, exp_usd=99))
    return items


def _japan_hf() -> list[int]:
    hf = [1_000 + m for m in range(12)]
    hf[7] = 0  # Japan reports zero exports of HF to Korea in August 2019
    return hf


def _estat_tables() -> dict[str, list[dict[str, Any]]]:
    """The same figures as the CSV files, as e-Stat's 品別国別表 for 2019 (exports 0003313965, imports 0003313966)."""
    exports = estat_server.line_cells("281111000", "50103", YEAR, _japan_hf())
    exports += estat_server.line_cells("370790000", "50103", YEAR, [500] * 12)
    imports = estat_server.line_cells("854232000", "50103", YEAR, [7_000 + m for m in range(12)])
    return {"0003313965": exports, "0003313966": imports}


def _japan_files() -> dict[str, bytes]:
    hf = _japan_hf()
    exports = make_csv(
        [
            csv_row("1", str(YEAR), "'281111000'", "103", hf),
            csv_row("1", str(YEAR), "'370790000'", "103", [500] * 12),
        ]
    )
    imports = make_csv([csv_row("2", str(YEAR), "'854232000'", "103", [7_000 + m for m in range(12)])])
    return {f"/files/hs9_country/{YEAR}/exp.csv": exports, f"/files/hs9_country/{YEAR}/imp.csv": imports}


def _ecb_csv() -> bytes:
    monthly = rates.offline_monthly_rates()  # the real ECB averages, served as the ECB API would
    lines = [b"KEY,FREQ,CURRENCY,CURRENCY_DENOM,EXR_TYPE,EXR_SUFFIX,TIME_PERIOD,OBS_VALUE,OBS_STATUS,TITLE"]
    for cur in ("JPY", "KRW", "USD"):
        for month in MONTHS:
            value = monthly[(month, cur)]
            lines.append(
                f"EXR.M.{cur}.EUR.SP00.A,M,{cur},EUR,SP00,A,{month[:4]}-{month[4:]},{value!r},A,x".encode()
            )
    return b"\n".join(lines) + b"\n"


@pytest.fixture(scope="module")
def servers() -> Iterator[dict[str, Any]]:
    kcs_state = kcs_server.KcsState(items=_kcs_items())
    japan_state = japan_server.JapanState(files=_japan_files(), ecb_csv=_ecb_csv())
    estat_state = estat_server.EstatState(app_id="e2e-estat-app-id", tables=_estat_tables())
    with (
        comtrade_server.FakeComtrade(_comtrade_records()) as fake,
        kcs_server.FakeKcs(kcs_state) as kcs,
        japan_server.FakeJapan(japan_state) as japan,
        estat_server.FakeEstat(estat_state) as estat,
    ):
        yield {
            "comtrade": fake,
            "kcs_url": kcs.url,
            "japan_url": japan.url,
            "estat_url": estat.url,
            "estat": estat_state,
        }


@pytest.fixture(scope="module")
def live_home(servers: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A real-data home after `semitrade run --mode live`, a revision fetched and `semitrade build`."""
    home = tmp_path_factory.mktemp("live") / "home"
    scope = home.parent / "scope.toml"
    scope.write_text(
        f"[scope]\nreporters = [410, 392]\npartners = []\nfirst_year = {YEAR}\nlast_year = {YEAR}\n"
        'comtrade_freqs = ["M"]\ncomtrade_flows = ["M"]\nsegments = ["materials"]\n',
        encoding="utf-8",
    )
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SEMITRADE_HOME", str(home))
        mp.setenv("DAGSTER_HOME", str(home / "dagster"))
        mp.setenv("COMTRADE_BASE_URL", servers["comtrade"].url)
        mp.setenv("COMTRADE_API_KEY", comtrade_server.API_KEY)
        mp.setenv("COMTRADE_MIN_INTERVAL", "0")
        mp.setenv("KCS_BASE_URL", servers["kcs_url"])
        mp.setenv("DATA_GO_KR_KEY", kcs_server.SERVICE_KEY)
        mp.setenv("KCS_MIN_INTERVAL", "0")
        mp.setenv("JAPAN_CUSTOMS_BASE_URL", servers["japan_url"])
        mp.setenv("ECB_BASE_URL", servers["japan_url"])
        # Japan through the e-Stat API in the live run (ESTAT_APP_ID set) ...
        mp.setenv("ESTAT_APP_ID", servers["estat"].app_id)
        mp.setenv("ESTAT_BASE_URL", servers["estat_url"])
        assert main(["run", "--mode", "live", "--scope", str(scope)]) == 0
        assert servers["estat"].requests and all(
            r.get("cdTime") == f"{YEAR}000000" for r in servers["estat"].requests
        )
        # ... and its CSV download fetched ad hoc afterwards (same figures): the file route
        for direction in ("export", "import"):
            fetch = [
                "fetch",
                "japan",
                "--via",
                "file",
                "--year",
                str(YEAR),
                "--direction",
                direction,
                "--quiet",
            ]
            assert main(fetch) == 0
        with duckdb.connect(str(home / "warehouse" / "semitrade.duckdb"), read_only=True) as con:
            before = con.execute(
                "select sum(value_usd) from fct_trade_flows where source = 'comtrade' and period_key = '201907'"
            ).fetchone()[0]
        # a revision of July 2019, fetched ad hoc, then `semitrade build`
        servers["comtrade"].revise(410, "201907", factor=1.5)
        assert (
            main(
                [
                    "fetch",
                    "comtrade",
                    "--reporter",
                    "410",
                    "--period",
                    "201907",
                    "--cmd",
                    f"281111,370790,{NEW_CODE}",
                    "--flow",
                    "M",
                    "--freq",
                    "M",
                    "--quiet",
                ]
            )
            == 0
        )
        # files an economist already has (real legacy Comtrade downloads), imported into the same real home
        assert (
            main(
                [
                    "import",
                    str(IMPORTS / "hjk91_HF_281111_2014.csv"),
                    str(IMPORTS / "hjk91_memory_854232_2014.csv"),
                ]
            )
            == 0
        )
        assert main(["build"]) == 0
        mp.setattr("tests.orchestration.test_live_end_to_end._BEFORE_REVISION", before, raising=False)
        yield home


_BEFORE_REVISION: float | None = None


def _con(home: Path) -> duckdb.DuckDBPyConnection:
    return duckdb.connect(str(home / "warehouse" / "semitrade.duckdb"), read_only=True)


def test_live_warehouse_holds_no_sample_row(live_home: Path) -> None:
    with _con(live_home) as con:
        origins = {r[0] for r in con.execute("select distinct origin from fct_trade_flows").fetchall()}
        detail = {
            r[0]
            for r in con.execute("select distinct origin from fct_trade_flows_national_detail").fetchall()
        }
        sources = {r[0] for r in con.execute("select distinct source from fct_trade_flows").fetchall()}
    assert origins == {"live", "imported"} and detail == {"live"}
    assert sources == {"comtrade", "kcs", "japan_mof"}
    assert not list((live_home / "landing" / "kcs").rglob("*sample*"))


def test_comtrade_values_conserved_per_partner_and_month_after_the_revision(live_home: Path) -> None:
    expected: dict[tuple[int, str, str], float] = {}
    for rec in _comtrade_records():
        factor = 1.5 if rec["period"] == "201907" else 1.0
        key = (rec["partnerCode"], rec["period"], rec["cmdCode"])
        expected[key] = round(rec["primaryValue"] * factor, 2)
    with _con(live_home) as con:
        got = {
            (p, per, hs): round(v, 2)
            for p, per, hs, v in con.execute(
                "select partner_code, period_key, hs6, value_usd from fct_trade_flows "
                "where source = 'comtrade' and reporter_code = 410 and flow_code = 'M' and origin = 'live'"
            ).fetchall()
        }
    assert got == expected
    assert got[(392, "201908", "281111")] == 0.0  # the reported zero is a row with 0
    assert got[(BRAZIL, "201903", NEW_CODE)] > 0  # a partner and a code the sample never has


def test_korea_customs_lines_conserved_and_zero_months_kept(live_home: Path) -> None:
    with _con(live_home) as con:
        rows = con.execute(
            "select partner_code, period_key, value_usd from fct_trade_flows "
            "where source = 'kcs' and flow_code = 'M' and hs6 = '281111'"
        ).fetchall()
        detail = con.execute(
            "select period_key, value_usd, net_weight_kg from fct_trade_flows_national_detail "
            "where source = 'kcs' and partner_national_code = 'JP' and national_code = '2811111000' and flow_code = 'M' "
            "and period_key in ('201907', '201908', '201909') order by 1"
        ).fetchall()
    m49 = {r["iso2"]: int(r["m49_code"]) for r in reference.read_seed("kcs_country_codes")}
    got = {(partner, per): v for partner, per, v in rows}
    expected = {
        (m49[i["statCd"]], i["year"].replace(".", "")): float(i["impDlr"])
        for i in _kcs_items()
        if i["hsCd"].startswith("281111")
    }
    assert got == expected and len(got) == 24
    assert got[(392, "201908")] == 0.0 and got[(392, "201909")] == 0.0
    assert detail == [("201907", 949_007.0, 316_335.0), ("201908", 0.0, 0.0), ("201909", 0.0, 0.0)]


def test_japan_values_converted_at_the_ecb_rate_to_the_cent(live_home: Path) -> None:
    monthly = rates.offline_monthly_rates()
    with _con(live_home) as con:
        got = dict(
            con.execute(
                "select period_key, value_usd from fct_trade_flows where source = 'japan_mof' and flow_code = 'X' "
                "and partner_code = 410 and hs6 = '281111'"
            ).fetchall()
        )
    assert len(got) == 12 and got["201908"] == 0.0
    july = rates.kjpy_to_usd(1_006, monthly[("201907", "USD")], monthly[("201907", "JPY")])
    assert got["201907"] == pytest.approx(round(july, 2), abs=0.005)


def test_the_revision_replaced_july_and_nothing_else(live_home: Path) -> None:
    with _con(live_home) as con:
        after = con.execute(
            "select sum(value_usd) from fct_trade_flows where source = 'comtrade' and period_key = '201907'"
        ).fetchone()[0]
        vintages = con.execute(
            "select count(distinct vintage) from fct_trade_flows where source = 'comtrade' and period_key = '201907'"
        ).fetchone()[0]
    assert _BEFORE_REVISION and after == pytest.approx(_BEFORE_REVISION * 1.5, rel=1e-9)
    assert vintages == 1


def test_a_sample_home_refuses_live_work(
    live_home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SEMITRADE_HOME", str(live_home))
    assert main(["run", "--mode", "sample"]) == 1
    err = capsys.readouterr().err
    assert f"the data home {live_home} holds real data" in err
    assert not list((live_home / "landing" / "comtrade").rglob("sample*"))


@pytest.mark.parametrize(
    ("hs6", "japan_exports", "korea_imports"),
    [("281111", 38_463_955.0, 45_520_330.0), ("854232", 298_081_902.0, 949_455_658.0)],
    ids=["hydrogen-fluoride", "memories"],
)
def test_imported_legacy_downloads_reach_the_reconciled_flows(
    live_home: Path, hs6: str, japan_exports: float, korea_imports: float
) -> None:
    # GIVEN the real 2014 legacy downloads (tests/fixtures/comtrade_import/README.md), imported and built
    with _con(live_home) as con:
        row = con.execute(
            "select export_report_fob_usd, import_report_cif_usd, origin, is_synthetic from fct_reconciled_flows "
            "where freq_code = 'A' and period_key = '2014' and exporter_code = 392 and importer_code = 410 and hs6 = ?",
            [hs6],
        ).fetchall()
    # THEN Japan's exports to Korea and Korea's imports from Japan stand side by side, as published
    assert row == [(japan_exports, korea_imports, "imported", False)]
