"""Offline sample: SYNTHETIC Korea Customs XML responses from the same model as the Comtrade sample.

Nothing here is published statistics. The "true" flows of ``ingest.comtrade.sample`` (USD) are turned
into what Korea Customs would answer to ``getNitemtradeList?strtYymm=Y01&endYymm=Y12&hsSgn=<HS6>``:
each HS6 is split into one to three 10-digit HSK lines, values are in whole US dollars (exports
FOB, imports CIF with the flow's margin and booking lag), and the national figures differ from what
Comtrade shows for Korea the way real ones do: later revisions (KCS carries them, Comtrade keeps the
first release), a few late declarations booked into the next month, and rounding. The first item is
the 총계 total row. One response per year × HS6 code (in the HS version of that year).
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from xml.sax.saxutils import escape

from ingest import reference
from ingest.comtrade import sample as comtrade_sample
from ingest.comtrade import sample_flows
from ingest.config import Paths
from ingest.kcs.client import TOTAL_LABEL, KcsQuery
from ingest.landing import LandedFile, land_at, read_manifest

KOREA = 410
SEED = sample_flows.SEED


def national_lines(hs6: str, digits: int, seed: int = SEED) -> list[tuple[str, float]]:
    """Deterministic split of an HS6 code into 1–3 national lines of ``digits`` digits with shares."""
    rng = random.Random(f"{seed}-{digits}-{hs6}")
    n = rng.choice((1, 2, 2, 3))
    tails = ("1", "2", "9")[-n:] if n > 1 else ("0",)
    weights = [rng.uniform(0.2, 1.0) for _ in range(n)]
    pad = digits - 7
    return [(hs6 + t + "0" * pad, w / sum(weights)) for t, w in zip(tails, weights, strict=True)]


@cache
def korean_names() -> dict[str, str]:
    return {r["iso2"]: r["name_kor"] for r in reference.read_seed("kcs_country_codes")}


def booked_month(
    flow: sample_flows.Flow,
    series: dict[tuple[int, int], float],
    year: int,
    month: int,
    export: bool,
    rng: random.Random,
) -> float:
    """The true value of ``flow`` for a month as the reporting side books it (USD): the exporter its own
    month (FOB, 2 % noise), the importer the month ``import_lag`` earlier plus the CIF margin (3 % noise)."""
    if export:
        return series[(year, month)] * rng.lognormvariate(0, 0.02)
    lag = (year, month - flow.import_lag) if month > flow.import_lag else (year - 1, 12)
    return series[lag] * (1 + flow.cif_margin) * rng.lognormvariate(0, 0.03)


def book_late(monthly: list[float], rng: random.Random, chance: float, share: float) -> None:
    """Move ``share`` of a month's value into the next month, for each of January…November with
    probability ``chance`` (declarations or permits booked a month late). Changes ``monthly`` in place."""
    for month in range(1, 12):
        if rng.random() < chance:
            moved = monthly[month - 1] * share
            monthly[month - 1] -= moved
            monthly[month] += moved


def sample_years(paths: Paths, reporters: tuple[int, ...] = (KOREA,)) -> tuple[int, ...]:
    """Monthly years of the landed Comtrade sample for ``reporters`` (all sample years if none)."""
    mine: set[int] = set()
    anyone: set[int] = set()
    for entry in read_manifest(paths, source="comtrade", dataset="records"):
        if entry.origin == "sample" and entry.params.get("freqCode") == "M":
            year = int(entry.partition.split("year=")[1].split("/")[0])
            anyone.add(year)
            if int(entry.params.get("reporterCode", 0)) in reporters:
                mine.add(year)
    return tuple(sorted(mine or anyone)) or sample_flows.MONTHLY_YEARS


@dataclass(frozen=True)
class KcsSampleResponse:
    query: KcsQuery
    content: bytes
    items: int


def _item(fields: dict[str, str]) -> str:
    # The service writes the item's elements in alphabetical order.
    return "<item>" + "".join(f"<{k}>{escape(v)}</{k}>" for k, v in sorted(fields.items())) + "</item>"


def _fmt(x: float) -> str:
    return str(int(round(x)))


class KcsSampleGenerator:
    """Korea's side of the sample model, as Korea Customs would publish it."""

    def __init__(self, generator: comtrade_sample.SampleGenerator | None = None, seed: int = SEED) -> None:
        self.seed = seed
        self.model = (generator or comtrade_sample.SampleGenerator(seed)).model

    def response(self, year: int, product: sample_flows.Product, cmd: str, share: float) -> KcsSampleResponse:
        """The answer to one year × HS6 query (all partners, all HSK10 lines under ``cmd``)."""
        rng = random.Random(f"{self.seed}-kcs-{year}-{cmd}")
        iso2 = reference.codes_by_m49("kcs_country_codes", "iso2")  # M49 (as Comtrade writes it) → ISO2
        lines = national_lines(cmd, 10, self.seed)
        cells: dict[tuple[int, str, str], list[float]] = {}
        for flow in self.model.flows:
            if flow.product is not product or KOREA not in (flow.exporter, flow.importer):
                continue
            series = self.model.values[(flow.exporter, flow.importer, product.code)]
            export = flow.exporter == KOREA
            partner = iso2[flow.importer if export else flow.exporter]
            monthly = []
            for month in range(1, 13):
                value = booked_month(flow, series, year, month, export, rng)
                if rng.random() < 0.08:  # revised after Comtrade took the first release
                    value *= rng.uniform(0.94, 1.06)
                monthly.append(value * share)
            book_late(monthly, rng, chance=0.04, share=0.4)  # late declarations
            for month, value in enumerate(monthly, start=1):
                for code, line_share in lines:
                    usd = round(value * line_share)
                    if usd <= 0:
                        continue
                    kg = round(usd / product.unit_value) if product.unit_value < 1000 else round(usd / 2000)
                    cell = cells.setdefault((month, partner, code), [0.0, 0.0, 0.0, 0.0])
                    if export:
                        cell[0] += kg
                        cell[1] += usd
                    else:
                        cell[2] += kg
                        cell[3] += usd
        desc = reference.hs6_descriptions().get((reference.hs_version_for_year(year), cmd), "")
        names = korean_names()
        items = []
        totals = [0.0, 0.0, 0.0, 0.0]
        for (month, partner, code), (ew, ed, iw, idl) in sorted(cells.items()):
            totals = [totals[0] + ew, totals[1] + ed, totals[2] + iw, totals[3] + idl]
            items.append(
                _item(
                    {
                        "year": f"{year}.{month:02d}",
                        "statCd": partner,
                        "statCdCntnKor1": names.get(partner, partner),
                        "statKor": f"(sample) {desc[:60]}",
                        "hsCd": code,
                        "expWgt": _fmt(ew),
                        "expDlr": _fmt(ed),
                        "impWgt": _fmt(iw),
                        "impDlr": _fmt(idl),
                        "balPayments": _fmt(ed - idl),
                    }
                )
            )
        total = (
            _item(
                {
                    "year": TOTAL_LABEL,
                    "statCd": "-",
                    "statCdCntnKor1": "-",
                    "statKor": "-",
                    "hsCd": "-",
                    "expWgt": _fmt(totals[0]),
                    "expDlr": _fmt(totals[1]),
                    "impWgt": _fmt(totals[2]),
                    "impDlr": _fmt(totals[3]),
                    "balPayments": _fmt(totals[1] - totals[3]),
                }
            )
            if items
            else ""
        )
        body = (
            '<?xml version="1.0" encoding="UTF-8" standalone="yes"?><response><header><resultCode>00</resultCode>'
            "<resultMsg>NORMAL SERVICE.</resultMsg></header><body><items>"
            + total
            + "".join(items)
            + "</items></body></response>"
        )
        query = KcsQuery(f"{year}01", f"{year}12", hs=cmd)
        return KcsSampleResponse(query, body.encode("utf-8"), len(items) + (1 if items else 0))

    def responses(self, years: tuple[int, ...]) -> Iterator[KcsSampleResponse]:
        for year in years:
            version = reference.hs_version_for_year(year)
            for product in sample_flows.PRODUCTS:
                for cmd, share in sample_flows.codes_for(product, version):
                    yield self.response(year, product, cmd, share)


def land_sample(
    paths: Paths,
    years: tuple[int, ...] | None = None,
    generator: comtrade_sample.SampleGenerator | None = None,
) -> list[tuple[LandedFile, bool]]:
    """Generate and land the KCS sample (origin 'sample') for ``years`` (default: the Comtrade sample's)."""
    gen = KcsSampleGenerator(generator)
    return [
        land_at(paths, r.query.place(), r.content, origin="sample")
        for r in gen.responses(years or sample_years(paths))
    ]
