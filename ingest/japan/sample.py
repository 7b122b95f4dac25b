"""Offline sample: SYNTHETIC Japan MOF CSVs from the same model as the Comtrade sample.

Nothing here is published statistics. The "true" flows of ``ingest.comtrade.sample`` (USD) are turned
into the MOF country × HS9 table, one Shift_JIS CSV per year and direction, in the real column layout
(``Exp or Imp, Year, HS, Country, Unit1, Unit2``, then Quantity1/Quantity2/Value for the year and each
month). Values are converted to thousand yen at the ECB monthly average cross rate (the bundled ECB
daily history) and rounded down, as MOF does. Each HS6 is split into one to three 9-digit lines.
Differences from Comtrade's Japan rows are the realistic ones: export-permit timing (a few shipments
booked a month later), revisions, yen rounding. The last year of the scope is landed twice, as the
preliminary release and the later confirmed one (some cells revised).
"""

from __future__ import annotations

import math
import random
from datetime import UTC, datetime

from ingest import reference
from ingest.comtrade import sample as comtrade_sample
from ingest.comtrade import sample_flows
from ingest.config import Paths
from ingest.fx.rates import offline_monthly_rates
from ingest.japan.client import MONTHS
from ingest.japan.parse import DATASET, SOURCE
from ingest.kcs.sample import book_late, booked_month, national_lines, sample_years
from ingest.landing import LandedFile, land

JAPAN = 392
SEED = sample_flows.SEED
HEADER = [
    "Exp or Imp",
    "Year",
    "HS",
    "Country",
    "Unit1",
    "Unit2",
    "Quantity1-Year",
    "Quantity2-Year",
    "Value-Year",
] + [f"{k}-{m}" for m in MONTHS for k in ("Quantity1", "Quantity2", "Value")]


class JapanSampleGenerator:
    """Japan's side of the sample model, as MOF would publish it."""

    def __init__(self, generator: comtrade_sample.SampleGenerator | None = None, seed: int = SEED) -> None:
        self.seed = seed
        self.model = (generator or comtrade_sample.SampleGenerator(seed)).model
        self.rates = offline_monthly_rates()

    def jpy_per_usd(self, year: int, month: int) -> float:
        period = f"{year}{month:02d}"
        return self.rates[(period, "JPY")] / self.rates[(period, "USD")]

    def csv(self, year: int, direction: str, release: str = "confirmed") -> bytes:
        """The CSV for one year and direction; ``release`` 'preliminary' leaves out later revisions."""
        rng = random.Random(f"{self.seed}-japan-{year}-{direction}")
        export = direction == "export"
        codes = reference.codes_by_m49("japan_customs_country_codes", "japan_code")
        version = reference.hs_version_for_year(year)
        cells: dict[tuple[str, str], list[list[float]]] = {}
        units: dict[str, tuple[str, str]] = {}
        for flow in self.model.flows:
            if (flow.exporter if export else flow.importer) != JAPAN:
                continue
            product = flow.product
            series = self.model.values[(flow.exporter, flow.importer, product.code)]
            partner = codes[flow.importer if export else flow.exporter]
            kg_product = reference.hs6_units().get((version, product.code), "kg") == "kg"
            monthly = []
            for month in range(1, 13):
                value = booked_month(flow, series, year, month, export, rng)
                revised = rng.random() < 0.15
                factor = rng.uniform(0.95, 1.05)
                if revised and release == "confirmed":
                    value *= factor
                monthly.append(value)
            book_late(monthly, rng, chance=0.05, share=0.3)  # export-permit timing
            for cmd, share in sample_flows.codes_for(product, version):
                for code, line_share in national_lines(cmd, 9, self.seed):
                    units[code] = ("", "KG") if kg_product else ("NO", "KG")
                    cell = cells.setdefault((code, partner), [[0.0, 0.0, 0.0] for _ in range(12)])
                    for month, usd in enumerate(monthly, start=1):
                        usd_line = usd * share * line_share
                        kjpy = math.floor(usd_line * self.jpy_per_usd(year, month) / 1000)
                        count = usd_line / product.unit_value
                        q1 = 0 if kg_product else round(count)
                        q2 = round(count) if kg_product else round(count * 0.05)
                        cell[month - 1][0] += q1
                        cell[month - 1][1] += q2
                        cell[month - 1][2] += kjpy
        lines = [",".join(HEADER)]
        flow_code = "1" if export else "2"
        for (code, partner), months in sorted(cells.items()):
            u1, u2 = units[code]
            year_tot = [int(sum(m[i] for m in months)) for i in range(3)]
            fields = [flow_code, str(year), f"'{code}'", partner, u1, u2, *map(str, year_tot)]
            for m in months:
                fields += [str(int(m[0])), str(int(m[1])), str(int(m[2]))]
            lines.append(",".join(fields))
        return ("\r\n".join(lines) + "\r\n").encode("cp932")


def land_sample(
    paths: Paths,
    years: tuple[int, ...] | None = None,
    generator: comtrade_sample.SampleGenerator | None = None,
) -> list[tuple[LandedFile, bool]]:
    """Land the Japan sample (origin 'sample'): both directions per year; the last year twice
    (preliminary, then confirmed, with release dates as fetched_at)."""
    gen = JapanSampleGenerator(generator)
    years = years or sample_years(paths, (JAPAN,))
    landed = []
    for year in years:
        releases = ("preliminary", "confirmed") if year == max(years) else ("confirmed",)
        for release in releases:
            fetched = datetime(
                year + 1,
                1 if release == "preliminary" else 3,
                31 if release == "preliminary" else 15,
                tzinfo=UTC,
            )
            for direction in ("export", "import"):
                landed.append(
                    land(
                        paths,
                        source=SOURCE,
                        dataset=DATASET,
                        partition=f"year={year}/direction={direction}",
                        stem=f"hs9_country_{year}_{direction}_{release}",
                        content=gen.csv(year, direction, release),
                        params={
                            "year": str(year),
                            "direction": direction,
                            "release": release,
                            "statistics_code": "00350300",
                        },
                        origin="sample",
                        suffix=".csv",
                        fetched_at=fetched,
                    )
                )
    return landed
