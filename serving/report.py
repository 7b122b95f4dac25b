"""The static HTML report: Korea–Japan semiconductor trade in four plotly charts, one offline file.

Source: the published, read-only warehouse. Korea–Japan bilateral trade (segments, mirror) comes from
`fct_trade_flows_preferred`: one report per flow — the reporter's own customs statistics (Korea
Customs, Japan MOF) where the warehouse has them, else its report to Comtrade — so no flow is counted
twice. The World totals behind the dependence and shock charts are Comtrade's (national sources have
no World row): `fct_trade_flows` rows with source = 'comtrade'. `dim_country` names the partners.
Values in US dollars as reported (imports CIF, exports FOB). The page inlines plotly.js once, so it opens without a
network. When the warehouse holds the offline sample, every chart and the page banner say SYNTHETIC.
"""

from __future__ import annotations

import datetime as dt
import html
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import plotly.graph_objects as go
import plotly.io as pio
import polars as pl
from plotly.offline import get_plotlyjs
from plotly.subplots import make_subplots

from ingest.atomic import write_atomic
from ingest.config import paths
from serving.errors import ReportError

KOREA, JAPAN, WORLD = 410, 392, 0
KEY_MATERIALS: dict[str, str] = {
    "281111": "Hydrogen fluoride (281111)",
    "370790": "Photoresist and litho chemicals (370790)",
    "392099": "Fluorinated polyimide proxy: plastic film (392099)",
}
HF = "281111"
SHOCK_MONTH = dt.date(2019, 7, 1)
SEGMENT_COLOURS = {"materials": "#1b9e77", "equipment": "#d95f02", "devices": "#7570b3"}
CHART_IDS: tuple[str, ...] = ("chart-segments", "chart-dependence", "chart-shock", "chart-mirror")


@dataclass
class Report:
    """What `build_report` wrote: the page, its figures by chart id, and whether the data is synthetic."""

    path: Path
    figures: dict[str, go.Figure]
    synthetic: bool
    origins: list[str] = field(default_factory=list)


def _frame(con: duckdb.DuckDBPyConnection, sql: str, params: list[object]) -> pl.DataFrame:
    return pl.from_arrow(con.sql(sql, params=params).to_arrow_table())  # type: ignore[return-value]


def _names(con: duckdb.DuckDBPyConnection) -> dict[int, str]:
    rows = con.execute(
        "select m49_code, coalesce(display_name, country_name) from main.dim_country"
    ).fetchall()
    return {code: name for code, name in rows}


def _no_data(fig: go.Figure, what: str) -> go.Figure:
    fig.add_annotation(
        text=f"no data in the warehouse for {what}", showarrow=False, x=0.5, y=0.5, xref="paper", yref="paper"
    )
    return fig


def _title(text: str, synthetic: bool) -> str:
    return f"{text}<br><sup>{'SYNTHETIC sample data — not published statistics' if synthetic else 'US dollars as reported'}</sup>"


def segments_chart(con: duckdb.DuckDBPyConnection, synthetic: bool) -> go.Figure:
    """Korea's annual imports from and exports to Japan by segment (Korea's reports, one per flow:
    fct_trade_flows_preferred), USD millions."""
    data = _frame(
        con,
        """
        select ref_year as year, flow_code, segment, sum(value_usd) / 1e6 as usd_millions
        from main.fct_trade_flows_preferred
        where freq_code = 'A' and reporter_code = ? and partner_code = ? and flow_code in ('M', 'X')
          and segment is not null
        group by all order by year, segment
        """,
        [KOREA, JAPAN],
    )
    fig = make_subplots(
        rows=1,
        cols=2,
        shared_yaxes=True,
        subplot_titles=("Korea's imports from Japan (CIF)", "Korea's exports to Japan (FOB)"),
    )
    for col, flow in ((1, "M"), (2, "X")):
        for segment, colour in SEGMENT_COLOURS.items():
            part = data.filter((pl.col("flow_code") == flow) & (pl.col("segment") == segment))
            fig.add_trace(
                go.Bar(
                    x=part["year"].to_list(),
                    y=part["usd_millions"].to_list(),
                    name=segment,
                    legendgroup=segment,
                    showlegend=col == 1,
                    marker_color=colour,
                    hovertemplate="%{x}: %{y:,.1f} M USD<extra>" + segment + "</extra>",
                ),
                row=1,
                col=col,
            )
    fig.update_layout(
        barmode="stack", title=_title("Korea–Japan semiconductor trade by segment, annual", synthetic)
    )
    fig.update_yaxes(title_text="USD millions", row=1, col=1)
    fig.update_xaxes(dtick=1)
    return fig if data.height else _no_data(fig, "Korea's annual trade with Japan")


def dependence_chart(con: duckdb.DuckDBPyConnection, synthetic: bool) -> go.Figure:
    """Japan's share of Korea's imports of the three controlled materials, quarterly (Japan / World)."""
    data = _frame(
        con,
        """
        with q as (
            select hs6, make_date(ref_year, (ref_month - 1) // 3 * 3 + 1, 1) as quarter_start,
                   sum(value_usd) filter (where partner_code = ?) as from_japan,
                   sum(value_usd) filter (where partner_code = ?) as from_world
            from main.fct_trade_flows
            where source = 'comtrade' and freq_code = 'M' and reporter_code = ? and flow_code = 'M' and hs6 in (?, ?, ?)
            group by all
        )
        select hs6, strftime(quarter_start, '%Y-%m-%d') as quarter_start, from_japan / from_world as japan_share
        from q where from_world > 0 order by hs6, quarter_start
        """,
        [JAPAN, WORLD, KOREA, *KEY_MATERIALS],
    )
    fig = go.Figure()
    for hs6, label in KEY_MATERIALS.items():
        part = data.filter(pl.col("hs6") == hs6)
        fig.add_trace(
            go.Scatter(
                x=part["quarter_start"].to_list(),
                y=part["japan_share"].fill_null(0).to_list(),
                mode="lines+markers",
                name=label,
                hovertemplate="%{x|%Y Q%q}: %{y:.0%}<extra>" + hs6 + "</extra>",
            )
        )
    _shock_line(fig)
    fig.update_layout(
        title=_title(
            "Korea's dependence on Japan for the controlled materials: Japan's share of Korea's imports, quarterly",
            synthetic,
        )
    )
    fig.update_yaxes(
        title_text="share of Korea's imports from the world", tickformat=".0%", rangemode="tozero"
    )
    return fig if data.height else _no_data(fig, "Korea's monthly imports of the key materials")


def shock_chart(con: duckdb.DuckDBPyConnection, synthetic: bool, names: dict[int, str]) -> go.Figure:
    """Korea's monthly imports of hydrogen fluoride by supplier, 2018–2020 (Korea's reports, CIF)."""
    data = _frame(
        con,
        """
        select strftime(make_date(ref_year, ref_month, 1), '%Y-%m-%d') as month, partner_code,
               sum(value_usd) / 1e6 as usd_millions
        from main.fct_trade_flows
        where source = 'comtrade' and freq_code = 'M' and reporter_code = ? and flow_code = 'M' and hs6 = ?
          and ref_year between 2018 and 2020
        group by all order by month, partner_code
        """,
        [KOREA, HF],
    )
    fig = go.Figure()
    bilateral = data.filter(pl.col("partner_code") != WORLD)
    totals = (
        bilateral.group_by("partner_code")
        .agg(pl.col("usd_millions").sum())
        .sort("usd_millions", descending=True)
    )
    months = data["month"].unique().sort()
    for code in totals["partner_code"].to_list():
        part = pl.DataFrame({"month": months}).join(
            bilateral.filter(pl.col("partner_code") == code), on="month", how="left"
        )
        fig.add_trace(
            go.Scatter(
                x=part["month"].to_list(),
                y=part["usd_millions"].fill_null(0).to_list(),
                name=f"from {names.get(code, code)}",
                stackgroup="suppliers",
                mode="lines",
                hovertemplate="%{x|%b %Y}: %{y:,.2f} M USD<extra>" + names.get(code, str(code)) + "</extra>",
            )
        )
    world = data.filter(pl.col("partner_code") == WORLD)
    fig.add_trace(
        go.Scatter(
            x=world["month"].to_list(),
            y=world["usd_millions"].to_list(),
            name="total from the world",
            mode="lines",
            line={"color": "black", "dash": "dot"},
        )
    )
    _shock_line(fig)
    fig.update_layout(
        title=_title(
            "The July 2019 shock: Korea's monthly imports of hydrogen fluoride (281111) by supplier",
            synthetic,
        )
    )
    fig.update_yaxes(title_text="USD millions per month (CIF)")
    return fig if data.height else _no_data(fig, "Korea's monthly hydrogen fluoride imports 2018–2020")


def mirror_chart(con: duckdb.DuckDBPyConnection, synthetic: bool) -> go.Figure:
    """Korea's imports from Japan (CIF) vs Japan's exports to Korea (FOB), semiconductor goods, quarterly:
    each side's preferred report (fct_trade_flows_preferred: national customs where present, else Comtrade)."""
    data = _frame(
        con,
        """
        with q as (
            select strftime(make_date(ref_year, (ref_month - 1) // 3 * 3 + 1, 1), '%Y-%m-%d') as quarter_start,
                   sum(value_usd) filter (where reporter_code = ? and partner_code = ? and flow_code = 'M') / 1e6 as korea_imports,
                   sum(value_usd) filter (where reporter_code = ? and partner_code = ? and flow_code = 'X') / 1e6 as japan_exports
            from main.fct_trade_flows_preferred
            where freq_code = 'M' and segment is not null
            group by all
        )
        select *, (korea_imports - japan_exports) / japan_exports as discrepancy
        from q where korea_imports is not null or japan_exports is not null order by quarter_start
        """,
        [KOREA, JAPAN, JAPAN, KOREA],
    )
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, row_heights=[0.65, 0.35], vertical_spacing=0.08)
    x = data["quarter_start"].to_list()
    fig.add_trace(
        go.Scatter(
            x=x,
            y=data["korea_imports"].to_list(),
            name="Korea's imports from Japan (Korea reports, CIF)",
            mode="lines+markers",
        ),
        row=1,
        col=1,
    )
    fig.add_trace(
        go.Scatter(
            x=x,
            y=data["japan_exports"].to_list(),
            name="Japan's exports to Korea (Japan reports, FOB)",
            mode="lines+markers",
        ),
        row=1,
        col=1,
    )
    fig.add_trace(
        go.Bar(
            x=x,
            y=data["discrepancy"].to_list(),
            name="discrepancy (M − X) / X",
            marker_color="#888",
            hovertemplate="%{x|%Y Q%q}: %{y:.1%}<extra></extra>",
        ),
        row=2,
        col=1,
    )
    fig.update_yaxes(title_text="USD millions per quarter", row=1, col=1)
    fig.update_yaxes(title_text="(M − X) / X", tickformat=".0%", row=2, col=1)
    fig.update_layout(
        title=_title(
            "Mirror flows: what Korea says it bought from Japan vs what Japan says it sold to Korea",
            synthetic,
        )
    )
    return fig if data.height else _no_data(fig, "Korea–Japan mirror flows")


def _shock_line(fig: go.Figure) -> None:
    fig.add_vline(x=SHOCK_MONTH.isoformat(), line_dash="dash", line_color="#c0392b")
    fig.add_annotation(
        x=SHOCK_MONTH.isoformat(),
        y=1.0,
        yref="paper",
        text="export controls, 4 Jul 2019",
        showarrow=False,
        xanchor="left",
        font={"color": "#c0392b"},
    )


CAPTIONS: dict[str, str] = {
    "chart-segments": "Korea's own reports, annual data (freq A), semiconductor HS6 codes grouped by the taxonomy seed's segment. "
    "Japan sells Korea materials and equipment; Korea sells Japan devices.",
    "chart-dependence": "Japan's share = Korea's imports from Japan ÷ Korea's imports from the World (partner 0), summed over the months of each quarter. "
    "The dashed line marks Japan's licensing requirement of 4 July 2019.",
    "chart-shock": "Korea's monthly imports of hydrogen fluoride, stacked by supplier (bilateral rows only); the dotted line is Korea's reported total from the World, which also covers suppliers outside the sample. "
    "Watch Japan's share collapse after July 2019 and other suppliers fill the gap.",
    "chart-mirror": "Mirror statistics for all semiconductor codes, each side's own customs statistics (Korea Customs, Japan MOF) where the warehouse has them, else its report to Comtrade: "
    "importers report CIF (freight and insurance included) and sometimes book a shipment a month later; "
    "exporters report FOB. A persistent positive gap of a few percent is the CIF/FOB margin.",
}


def _page(figures: dict[str, go.Figure], synthetic: bool, origins: list[str], warehouse: Path) -> str:
    banner = (
        '<div class="banner" id="synthetic-banner">SYNTHETIC SAMPLE — every number on this page comes from the offline '
        "sample generator (origin = 'sample'), not from published statistics. Do not cite.</div>"
        if synthetic
        else ""
    )
    sections = []
    config = {"displaylogo": False, "responsive": True}
    for chart_id, fig in figures.items():
        div = pio.to_html(
            fig,
            full_html=False,
            include_plotlyjs=False,
            div_id=f"{chart_id}-plot",
            config=config,
            default_height="560px",
        )
        sections.append(
            f'<section id="{chart_id}">\n{div}\n<p class="caption">{html.escape(CAPTIONS[chart_id])}</p>\n</section>'
        )
    built = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    published = dt.datetime.fromtimestamp(warehouse.stat().st_mtime, dt.UTC).isoformat(timespec="seconds")
    return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>semitrade — Korea–Japan semiconductor trade{" (SYNTHETIC sample)" if synthetic else ""}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 0 auto; max-width: 1200px; padding: 1em 2em; color: #222; }}
.banner {{ background: #c0392b; color: white; font-weight: bold; padding: 0.8em 1em; border-radius: 4px; }}
section {{ margin: 2em 0; border-top: 1px solid #ddd; padding-top: 1em; }}
.caption {{ color: #555; font-size: 0.9em; }}
footer {{ color: #777; font-size: 0.8em; border-top: 1px solid #ddd; padding-top: 1em; }}
</style>
<script type="text/javascript">{get_plotlyjs()}</script>
</head>
<body>
{banner}
<h1>Korea–Japan semiconductor trade</h1>
<p>Korea leads in memory and fabrication, Japan in materials and equipment. In July 2019 Japan required export
licences for hydrogen fluoride, photoresist and fluorinated polyimide. Four views of the warehouse's marts.</p>
{chr(10).join(sections)}
<footer>Built {built} from {html.escape(str(warehouse))} (published {published}); origin of the rows: {html.escape(", ".join(origins) or "n/a")}.
Sources: Korea–Japan bilateral flows from the dbt mart fct_trade_flows_preferred (one report per flow: the reporter's national customs statistics where present, else UN Comtrade, so no flow is counted twice); World totals from the UN Comtrade rows of fct_trade_flows. Charts: plotly, inlined — the page works offline.</footer>
</body>
</html>
"""


def build_report(out_dir: Path, warehouse: Path | None = None) -> Report:
    """Write `<out_dir>/index.html` (self-contained, offline) from the published warehouse."""
    db = Path(warehouse) if warehouse else paths().serving_db
    if not db.exists():
        raise ReportError(f"no published warehouse at {db}: run `semitrade run` first")
    out_dir = Path(out_dir).expanduser().absolute()
    if out_dir.exists() and not out_dir.is_dir():
        raise ReportError(f"cannot write the report into {out_dir}: it is a file; give a folder with --out")
    with duckdb.connect(str(db), read_only=True) as con:
        origins = [
            r[0]
            for r in con.execute("select distinct origin from main.fct_trade_flows order by 1").fetchall()
        ]
        synthetic = "sample" in origins
        names = _names(con)
        figures = {
            "chart-segments": segments_chart(con, synthetic),
            "chart-dependence": dependence_chart(con, synthetic),
            "chart-shock": shock_chart(con, synthetic, names),
            "chart-mirror": mirror_chart(con, synthetic),
        }
    page = _page(figures, synthetic, origins, db)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        path = write_atomic(out_dir / "index.html", lambda tmp: tmp.write_text(page, encoding="utf-8"))
        path.chmod(0o644)
    except OSError as exc:
        raise ReportError(
            f"cannot write the report into {out_dir}: {exc.strerror or exc}; choose another --out"
        ) from exc
    return Report(path, figures, synthetic, origins)
