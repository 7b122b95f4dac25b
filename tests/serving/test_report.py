"""`semitrade report`: an offline HTML page with four plotly charts, checked in its data and in headless Chromium."""

from __future__ import annotations

import base64
import json
import re
import shutil
import subprocess
from pathlib import Path

import duckdb
import numpy as np
import pytest

from ingest.config import Paths
from orchestration.cli import main as cli_main
from serving.errors import ReportError
from serving.report import CHART_IDS, KEY_MATERIALS, build_report

BROWSER_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
)


def _chromium() -> str | None:
    return next((p for p in map(shutil.which, ("chromium", "chromium-browser", "google-chrome")) if p), None)


@pytest.fixture(scope="module")
def report_dir(published_home: Paths, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The report of the shared sample warehouse, written once through the command line."""
    out = tmp_path_factory.mktemp("report")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("SEMITRADE_HOME", str(published_home.home))
        assert cli_main(["report", "--out", str(out)]) == 0
    return out


def _plots(page: str) -> dict[str, list[dict[str, object]]]:
    """Traces passed to Plotly.newPlot, by div id (numeric arrays decoded from plotly's base64 form)."""
    decoder = json.JSONDecoder()
    plots = {}
    for match in re.finditer(r'Plotly\.newPlot\(\s*"([^"]+)",\s*', page):
        traces, _ = decoder.raw_decode(page, match.end())
        plots[match.group(1)] = traces
    return plots


def _values(array: object) -> list[float]:
    if isinstance(array, dict) and "bdata" in array:
        return np.frombuffer(base64.b64decode(array["bdata"]), dtype=np.dtype(array["dtype"])).tolist()
    return list(array)  # type: ignore[arg-type]


def test_the_page_is_self_contained_labelled_synthetic_and_holds_every_chart(report_dir: Path) -> None:
    # GIVEN the report of the SYNTHETIC sample warehouse
    page = (report_dir / "index.html").read_text(encoding="utf-8")
    # THEN plotly.js is inlined (no external script or stylesheet), so the page works offline
    assert re.search(r"<script[^>]+src=", page) is None and "<link" not in page
    assert len(page) > 3_000_000 and "plotly.js" in page
    # AND the page says loudly that the data is synthetic, in the banner and in every chart's title
    assert 'id="synthetic-banner"' in page and "not from published statistics" in page
    plots = _plots(page)
    assert sorted(plots) == sorted(f"{c}-plot" for c in CHART_IDS)
    assert page.count("SYNTHETIC sample data — not published statistics") == len(CHART_IDS)


def test_the_charts_hold_the_warehouse_numbers(report_dir: Path, published_home: Paths) -> None:
    # GIVEN the traces embedded in the page and the same numbers queried from the warehouse
    plots = _plots((report_dir / "index.html").read_text(encoding="utf-8"))
    with duckdb.connect(str(published_home.serving_db), read_only=True) as con:
        hf_from_japan = con.execute(
            "select strftime(make_date(ref_year, ref_month, 1), '%Y-%m-%d'), value_usd / 1e6 from fct_trade_flows "
            "where source = 'comtrade' and freq_code = 'M' and reporter_code = 410 and partner_code = 392 and flow_code = 'M' "
            "and hs6 = '281111' order by 1"
        ).fetchall()
        materials_2019 = con.execute(
            "select sum(value_usd) / 1e6 from fct_trade_flows_preferred where freq_code = 'A' "
            "and ref_year = 2019 "
            "and reporter_code = 410 and partner_code = 392 and flow_code = 'M' and segment = 'materials'"
        ).fetchone()[0]
        # Korea's imports from Japan in the first quarter of 2019, one report per flow: Korea Customs'
        # where the warehouse has them (the sample has), else Comtrade's
        korea_q1, sources_q1 = con.execute(
            "select sum(value_usd) / 1e6, list(distinct source order by source) from fct_trade_flows_preferred "
            "where freq_code = 'M' and reporter_code = 410 and partner_code = 392 and flow_code = 'M' "
            "and segment is not null and period_key between '201901' and '201903'"
        ).fetchone()
    # THEN the shock chart's Japan series is Korea's monthly HF imports from Japan, month by month
    shock = {t["name"]: t for t in plots["chart-shock-plot"]}
    japan = shock["from Japan"]
    assert japan["x"] == [month for month, _ in hf_from_japan]
    assert _values(japan["y"]) == pytest.approx([usd for _, usd in hf_from_japan])
    assert len(hf_from_japan) == 36 and {"from China", "total from the world"} <= set(shock)
    # AND the segment chart's 2019 materials bar is Korea's annual materials imports from Japan
    materials = next(
        t for t in plots["chart-segments-plot"] if t["name"] == "materials" and t.get("xaxis", "x") == "x"
    )
    bars = dict(zip(_values(materials["x"]), _values(materials["y"]), strict=True))
    assert bars[2019] == pytest.approx(materials_2019)
    # AND the dependence chart has one share series per controlled material, all between 0 and 1,
    # with hydrogen fluoride's share falling by more than half after the controls
    dependence = {t["name"]: t for t in plots["chart-dependence-plot"]}
    assert set(dependence) == set(KEY_MATERIALS.values())
    hf = dict(
        zip(
            dependence[KEY_MATERIALS["281111"]]["x"],
            _values(dependence[KEY_MATERIALS["281111"]]["y"]),
            strict=True,
        )
    )
    assert all(0 <= v <= 1 for v in hf.values())
    assert hf["2019-10-01"] < 0.5 * hf["2019-01-01"]
    # AND the mirror chart compares Korea's imports with Japan's exports and shows their gap
    mirror = {t["name"]: t for t in plots["chart-mirror-plot"]}
    assert len(mirror) == 3 and len(_values(mirror["discrepancy (M − X) / X"]["y"])) == 12
    korea = mirror["Korea's imports from Japan (Korea reports, CIF)"]
    assert "kcs" in sources_q1
    assert dict(zip(korea["x"], _values(korea["y"]), strict=True))["2019-01-01"] == pytest.approx(korea_q1)


def test_a_missing_warehouse_or_a_file_as_folder_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ReportError, match="no published warehouse at .*run `semitrade run` first"):
        build_report(tmp_path / "out", warehouse=tmp_path / "nope.duckdb")


def test_report_into_a_file_fails_clearly(
    published_home: Paths, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "report.html"
    blocker.write_text("x")
    assert cli_main(["report", "--out", str(blocker), "--warehouse", str(published_home.serving_db)]) == 1
    assert "it is a file; give a folder with --out" in capsys.readouterr().err


@pytest.mark.skipif(
    _chromium() is None,
    reason="chromium is not installed (apt-get install -y chromium): browser check skipped",
)
def test_every_chart_renders_in_headless_chromium(report_dir: Path, tmp_path: Path) -> None:
    # GIVEN a real headless browser with no network use beyond the local file
    browser = [
        _chromium(),
        *BROWSER_FLAGS,
        f"--user-data-dir={tmp_path / 'profile'}",
        "--virtual-time-budget=10000",
    ]
    url = (report_dir / "index.html").as_uri()
    # WHEN it loads the page, runs plotly and dumps the DOM, then takes a screenshot
    dom = subprocess.run(
        [*browser, "--dump-dom", url], capture_output=True, text=True, timeout=180, check=True
    ).stdout
    shot = tmp_path / "report.png"
    subprocess.run(
        [*browser, "--window-size=1300,3200", f"--screenshot={shot}", url],
        capture_output=True,
        timeout=180,
        check=True,
    )
    # THEN each chart's section holds plotly's rendered SVG with its traces
    for chart_id in CHART_IDS:
        start = dom.index(f'<section id="{chart_id}"')
        section = dom[start : dom.index("</section>", start)]
        assert section.count('class="main-svg"') >= 2, f"{chart_id} did not render"
        assert re.search(r'class="(trace|scatterlayer|barlayer)', section), f"{chart_id} has no traces"
    assert "SYNTHETIC SAMPLE" in dom
    # AND the screenshot is a real PNG of the page
    png = shot.read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 50_000
