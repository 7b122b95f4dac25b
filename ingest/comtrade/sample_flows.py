"""The offline sample's model: deterministic, SYNTHETIC "true" bilateral flows that every offline sample
reports (the Comtrade sample in ``ingest.comtrade.sample``, the Korea and Japan samples in
``ingest.kcs.sample`` and ``ingest.japan.sample``). Nothing here is published statistics.

A seeded model of flows between ten reporters and Taiwan (Comtrade's "Other Asia, nes", 490) for a few
dozen semiconductor HS6 codes: a level per exporter → importer × product relationship, trend, season and
persistent noise, each month 2004-01 … 2024-12 in US dollars, with the CIF margin and booking lag the
importer will report. Japan's exports of hydrogen fluoride (281111) to Korea collapse from July 2019
and Korea buys more from China and Taiwan afterwards.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field

SEED = 20190704

# M49 codes. Taiwan (490) trades in the sample but reports nothing, as in Comtrade.
REPORTERS: tuple[int, ...] = (410, 392, 156, 842, 276, 528, 702, 458, 704, 56)
TAIWAN = 490
WORLD = 0
ECONOMIES: tuple[int, ...] = (*REPORTERS, TAIWAN)

MONTHLY_YEARS: tuple[int, ...] = tuple(range(2015, 2025))
ANNUAL_YEARS: tuple[int, ...] = tuple(range(2005, 2025))

EXPORT_CONTROL_START = (2019, 7)  # Japan's licensing requirement took effect on 4 July 2019.


# Relative strengths by product group: who sells (exporter) and who buys (importer).
_MAT_X = {392: 5, 842: 2, 276: 2, 156: 2, 410: 1, 56: 1.5, 490: 1, 702: 0.5, 528: 0.5, 458: 0.2}
_WAFER_X = {276: 3, 392: 4, 842: 2, 156: 2, 410: 1, 458: 1, 490: 1.5, 702: 1}
_GAS_X = {842: 2, 392: 1, 156: 1, 276: 1, 410: 0.5, 528: 1}
_EQ_X = {392: 4, 842: 5, 528: 4, 276: 1.5, 702: 1.5, 410: 1, 156: 0.5, 490: 0.5, 458: 0.5}
_METRO_X = {842: 4, 392: 3, 276: 2, 490: 0.5, 410: 0.5, 702: 0.5}
_MEM_X = {410: 6, 490: 2, 156: 3, 842: 1, 392: 1, 458: 1, 702: 1, 704: 1.5}
_LOGIC_X = {490: 5, 156: 3, 458: 2, 842: 2, 410: 1.5, 702: 1.5, 704: 1, 392: 1, 276: 0.5}
_DISC_X = {156: 4, 392: 2, 276: 1.5, 458: 1.5, 490: 1.5, 410: 1, 842: 1, 704: 1}
_FAB_M = {410: 5, 490: 5, 156: 6, 392: 2, 842: 3, 702: 1, 458: 1, 276: 1, 528: 0.5, 704: 0.5, 56: 0.3}
_DEV_M = {156: 8, 490: 3, 410: 3, 842: 3, 702: 2, 458: 2, 704: 3, 392: 2, 276: 1.5, 528: 1, 56: 0.3}


@dataclass(frozen=True)
class Product:
    """A product concept, named by its HS2007–HS2022 code, with how it was reported in older versions."""

    code: str
    scale_usd: float  # trade among the sample economies in 2015, USD per year
    unit_value: float  # USD per kg (kg products) or per item (u products)
    exporters: dict[int, float]
    importers: dict[int, float]
    growth: float = 0.05
    # hs_version -> [(code, share)] where the code differs from ``code``; [] = not separately reported.
    versions: dict[str, list[tuple[str, float]]] = field(default_factory=dict)


_H2_ETCH = {"H2": [("845691", 0.4), ("854311", 0.2), ("901042", 0.4)]}
_H2_NONE: dict[str, list[tuple[str, float]]] = {"H2": []}
_H2_DIGITAL = {"H2": [("854221", 1.0)]}
_H2_OTHER_IC = {"H2": [("854229", 1.0)]}

PRODUCTS: tuple[Product, ...] = (
    # materials
    Product("280461", 5e9, 15.0, {**_WAFER_X, 156: 4}, _FAB_M),
    Product("381800", 10e9, 900.0, _WAFER_X, _FAB_M),
    Product("284920", 1e9, 3.0, {**_WAFER_X, 156: 4}, _FAB_M),
    Product("281111", 0.8e9, 1.2, {**_MAT_X, 156: 3}, _FAB_M),
    Product("280429", 0.5e9, 40.0, _GAS_X, _FAB_M),
    Product("281290", 1e9, 25.0, _MAT_X, _FAB_M),
    Product("370710", 0.3e9, 30.0, _MAT_X, _FAB_M),
    Product("370790", 5e9, 60.0, _MAT_X, _FAB_M),
    Product("392099", 4e9, 12.0, _MAT_X, _FAB_M),
    # equipment
    Product("848610", 3e9, 900_000.0, _EQ_X, _FAB_M, 0.08, _H2_NONE),
    Product("848620", 30e9, 1_500_000.0, _EQ_X, _FAB_M, 0.08, _H2_ETCH),
    Product("848630", 5e9, 800_000.0, _EQ_X, _FAB_M, 0.02, _H2_NONE),
    Product("848640", 4e9, 400_000.0, _EQ_X, _FAB_M, 0.07, _H2_NONE),
    Product("848690", 15e9, 2_000.0, _EQ_X, _FAB_M, 0.08, _H2_NONE),
    Product("903082", 3e9, 250_000.0, _METRO_X, _FAB_M, 0.07),
    Product("903141", 4e9, 300_000.0, _METRO_X, _FAB_M, 0.07),
    Product("903149", 3e9, 20_000.0, _METRO_X, _FAB_M),
    Product("903180", 8e9, 5_000.0, _METRO_X, _FAB_M),
    # devices
    Product("854231", 200e9, 8.0, _LOGIC_X, _DEV_M, 0.06, _H2_DIGITAL),
    Product("854232", 120e9, 4.0, _MEM_X, _DEV_M, 0.06, _H2_DIGITAL),
    Product("854233", 10e9, 0.5, _LOGIC_X, _DEV_M, 0.04, _H2_OTHER_IC),
    Product("854239", 60e9, 1.0, _LOGIC_X, _DEV_M, 0.05, _H2_OTHER_IC),
    Product("854290", 5e9, 0.2, _LOGIC_X, _DEV_M),
    Product("854110", 8e9, 0.02, _DISC_X, _DEV_M, 0.03),
    Product("854129", 6e9, 0.3, _DISC_X, _DEV_M, 0.04),
    Product("854140", 20e9, 0.5, _DISC_X, _DEV_M, 0.04, {"H6": [("854141", 0.5), ("854149", 0.5)]}),
)


@dataclass
class Flow:
    """A persistent exporter → importer × product relationship in the model."""

    exporter: int
    importer: int
    product: Product
    level: float  # USD per month in 2015
    cif_margin: float
    import_lag: int  # months between the exporter's and the importer's booking
    qty_missing_rate: float


def _months(first_year: int, last_year: int) -> list[tuple[int, int]]:
    return [(y, m) for y in range(first_year, last_year + 1) for m in range(1, 13)]


def _shock(exporter: int, importer: int, code: str, year: int, month: int) -> float:
    """Multiplier for the 2019 Japanese export controls and Korea's substitution."""
    after = (year, month) >= EXPORT_CONTROL_START
    if not after or importer != 410:
        return 1.0
    months_after = (year - 2019) * 12 + month - 7
    if code == "281111":
        if exporter == 392:
            return 0.06 if months_after < 6 else 0.10 + min(months_after, 42) * 0.002
        if exporter in (156, 490):
            return 1.0 + min(months_after + 1, 6) * 0.12
    if code == "370790" and exporter == 392:
        return 0.85 if months_after < 12 else 0.95
    if code == "392099" and exporter == 392:
        return 0.75 if months_after < 12 else 0.9
    return 1.0


class TrueFlows:
    """Seeded 'true' flows for every month 2004-01 … 2024-12 (``values[(exporter, importer, code)][(year, month)]``, USD)."""

    def __init__(self, seed: int = SEED) -> None:
        rng = random.Random(seed)
        self.flows: list[Flow] = []
        for product in PRODUCTS:
            x_total = sum(product.exporters.values())
            m_total = sum(product.importers.values())
            for exporter, xs in product.exporters.items():
                for importer, ms in product.importers.items():
                    if exporter == importer:
                        continue
                    share = xs / x_total * ms / m_total
                    # Keep the big relationships and the Korea–Japan corridor; most small ones are absent.
                    corridor = {exporter, importer} == {392, 410}
                    if share < 0.03 and not corridor and rng.random() < 0.9:
                        continue
                    level = product.scale_usd / 12 * share * rng.lognormvariate(0, 0.35)
                    if (exporter, importer, product.code) == (392, 410, "281111"):
                        level = 5.6e6  # about USD 5-6 M a month before the 2019 controls
                    far = {exporter, importer} & {842, 276, 528, 56} and {exporter, importer} & {
                        410,
                        392,
                        156,
                        490,
                        702,
                        458,
                        704,
                    }
                    self.flows.append(
                        Flow(
                            exporter,
                            importer,
                            product,
                            level,
                            cif_margin=(0.06 if far else 0.03) + rng.uniform(0, 0.03),
                            import_lag=1 if far and rng.random() < 0.5 else 0,
                            qty_missing_rate=rng.choice((0.0, 0.02, 0.1)),
                        )
                    )
        self.months = _months(2004, 2024)
        self.values: dict[tuple[int, int, str], dict[tuple[int, int], float]] = {}
        for flow in self.flows:
            series: dict[tuple[int, int], float] = {}
            persistent = 0.0
            for year, month in self.months:
                persistent = 0.7 * persistent + rng.gauss(0, 0.12)
                season = 1 + 0.08 * math.sin((month - 3) / 12 * 2 * math.pi)
                trend = (1 + flow.product.growth) ** (year - 2015 + (month - 1) / 12)
                value = flow.level * trend * season * math.exp(persistent)
                value *= _shock(flow.exporter, flow.importer, flow.product.code, year, month)
                series[(year, month)] = value
            self.values[(flow.exporter, flow.importer, flow.product.code)] = series
        self.rest_of_world = {r: 0.15 + rng.random() * 0.25 for r in REPORTERS}


def codes_for(product: Product, version: str) -> list[tuple[str, float]]:
    """The codes ``product`` was reported under in HS ``version``, with the share of its value each took."""
    if version in product.versions:
        return product.versions[version]
    return [(product.code, 1.0)]
