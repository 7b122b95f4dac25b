"""The offline sample: deterministic, SYNTHETIC UN Comtrade v1 `get` responses.

Nothing here is published statistics. A seeded model of "true" bilateral flows between ten
reporters and Taiwan (Comtrade's "Other Asia, nes", 490) for a few dozen semiconductor HS6 codes
is turned into what each customs office would report: exporters report FOB, importers report CIF
(a margin on top), importers sometimes book a shipment a month later, both add noise, quantities
are sometimes missing or estimated, and each reporter writes partner World (0) as its total with
the rest of the world. Japan's exports of hydrogen fluoride (281111) to Korea collapse from July
2019 and Korea buys more from China and Taiwan afterwards.

Responses are byte-compatible with the real API: the envelope ``{elapsedTime,count,data,error}`` and
the 47 record fields in the real order, spelling and JSON types, one response per reporter, frequency
and year (12 periods a call, as the live planner asks). Grain of a record: reporter × partner ×
HS6 (in the HS version the reporter used that year) × period × flow; values in US dollars.
"""

from __future__ import annotations

import json
import math
import random
from collections.abc import Iterator
from dataclasses import dataclass, field

from ingest import reference
from ingest.comtrade.schema import partition_for
from ingest.config import Paths
from ingest.landing import LandedFile, land

SEED = 20190704
SOURCE = "comtrade"
DATASET = "records"

# M49 codes. Taiwan (490) trades in the sample but reports nothing, as in Comtrade.
REPORTERS: tuple[int, ...] = (410, 392, 156, 842, 276, 528, 702, 458, 704, 56)
TAIWAN = 490
WORLD = 0
ECONOMIES: tuple[int, ...] = (*REPORTERS, TAIWAN)

MONTHLY_YEARS: tuple[int, ...] = tuple(range(2015, 2025))
ANNUAL_YEARS: tuple[int, ...] = tuple(range(2005, 2025))

EXPORT_CONTROL_START = (2019, 7)  # Japan's licensing requirement took effect on 4 July 2019.


def hs_version_for_year(year: int) -> str:
    """The HS version a reporter used in ``year`` (Comtrade classification code)."""
    return reference.hs_version_for_year(year)


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


@dataclass(frozen=True)
class SampleScope:
    """What to generate: reporters and years (the full sample by default)."""

    reporters: tuple[int, ...] = REPORTERS
    monthly_years: tuple[int, ...] = MONTHLY_YEARS
    annual_years: tuple[int, ...] = ANNUAL_YEARS


@dataclass
class _Flow:
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


class _Model:
    """Seeded 'true' flows for every month 2005-01 … 2024-12."""

    def __init__(self, seed: int = SEED) -> None:
        rng = random.Random(seed)
        self.flows: list[_Flow] = []
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
                        _Flow(
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


def _codes_for(product: Product, version: str) -> list[tuple[str, float]]:
    if version in product.versions:
        return product.versions[version]
    return [(product.code, 1.0)]


def _record_template(reporter: int, partner: int, flow: str, cl: str, cmd: str) -> dict[str, object]:
    countries = reference.countries()
    rep, par = countries[reporter], countries[partner]
    unit_abbr = reference.hs6_units().get((cl, cmd), "kg")
    return {
        "reporterCode": reporter,
        "reporterISO": rep["iso3"],
        "reporterDesc": rep["country_name"],
        "flowCode": flow,
        "flowDesc": "Import" if flow == "M" else "Export",
        "partnerCode": partner,
        "partnerISO": "W00" if partner == WORLD else par["iso3"],
        "partnerDesc": par["country_name"],
        "classificationCode": cl,
        "cmdCode": cmd,
        "cmdDesc": reference.hs6_descriptions()[(cl, cmd)],
        "qtyUnitAbbr": unit_abbr,
        "qtyUnitCode": reference.qty_unit_codes().get(unit_abbr, -1),
    }


def _record(
    tpl: dict[str, object],
    *,
    freq: str,
    year: int,
    month: int | None,
    value: float,
    unit_value: float,
    rng: random.Random,
    qty_missing: bool,
    aggregate: bool,
) -> dict[str, object]:
    """One API record with all 47 fields in the real order and JSON types."""
    flow = tpl["flowCode"]
    value = round(value, 0) if value >= 1000 else round(value, 2)
    unit = tpl["qtyUnitAbbr"]
    estimated = rng.random() < 0.08
    qty: float | None = round(value / unit_value * rng.uniform(0.92, 1.08), 0) if value else 0.0
    net_wgt: float | None
    if unit == "kg":
        net_wgt = qty
    else:
        net_wgt = None if rng.random() < 0.3 else round(value / unit_value * rng.uniform(0.5, 3.0), 0)
    if qty_missing:
        qty, net_wgt, estimated = None, None, False
    period = f"{year}" if freq == "A" else f"{year}{month:02d}"
    return {
        "typeCode": "C",
        "freqCode": freq,
        "refPeriodId": int(f"{year}{(month or 1):02d}01"),
        "refYear": year,
        "refMonth": 52 if freq == "A" else month,
        "period": period,
        "reporterCode": tpl["reporterCode"],
        "reporterISO": tpl["reporterISO"],
        "reporterDesc": tpl["reporterDesc"],
        "flowCode": flow,
        "flowDesc": tpl["flowDesc"],
        "partnerCode": tpl["partnerCode"],
        "partnerISO": tpl["partnerISO"],
        "partnerDesc": tpl["partnerDesc"],
        "partner2Code": 0,
        "partner2ISO": "W00",
        "partner2Desc": "World",
        "classificationCode": tpl["classificationCode"],
        "classificationSearchCode": "HS",
        "isOriginalClassification": True,
        "cmdCode": tpl["cmdCode"],
        "cmdDesc": tpl["cmdDesc"],
        "aggrLevel": 6,
        "isLeaf": True,
        "customsCode": "C00",
        "customsDesc": "TOTAL CPC",
        "mosCode": "0",
        "motCode": 0,
        "motDesc": "TOTAL MOT",
        "qtyUnitCode": tpl["qtyUnitCode"] if qty is not None else -1,
        "qtyUnitAbbr": unit if qty is not None else "N/A",
        "qty": qty,
        "isQtyEstimated": estimated,
        "altQtyUnitCode": -1,
        "altQtyUnitAbbr": "N/A",
        "altQty": None,
        "isAltQtyEstimated": False,
        "netWgt": net_wgt,
        "isNetWgtEstimated": estimated and net_wgt is not None,
        "grossWgt": None,
        "isGrossWgtEstimated": False,
        "cifvalue": value if flow == "M" else None,
        "fobvalue": value if flow == "X" else None,
        "primaryValue": value,
        "legacyEstimationFlag": 2 if estimated else 0,
        "isReported": True,
        "isAggregate": aggregate,
    }


@dataclass(frozen=True)
class SampleResponse:
    """One synthetic API response: the request it answers and its raw bytes."""

    reporter: int
    freq: str
    year: int
    params: dict[str, str]
    content: bytes
    count: int


class SampleGenerator:
    """Turns the seeded model into per-reporter responses."""

    def __init__(self, seed: int = SEED) -> None:
        self.seed = seed
        self.model = _Model(seed)

    def _reported(self, reporter: int, freq: str, year: int) -> list[dict[str, object]]:
        rng = random.Random(f"{self.seed}-{reporter}-{freq}-{year}")
        version = hs_version_for_year(year)
        months = list(range(1, 13))
        rows: list[dict[str, object]] = []
        # (flow, partner, cmd) -> value per period, accumulated before the World row is added.
        cells: dict[tuple[str, int, str, int | None], float] = {}
        qty_missing: dict[tuple[str, int, str], bool] = {}
        unit_values: dict[str, float] = {}
        for flow in self.model.flows:
            if reporter not in (flow.exporter, flow.importer):
                continue
            series = self.model.values[(flow.exporter, flow.importer, flow.product.code)]
            trade_flow = "X" if reporter == flow.exporter else "M"
            partner = flow.importer if trade_flow == "X" else flow.exporter
            for cmd, share in _codes_for(flow.product, version):
                unit_values[cmd] = flow.product.unit_value
                qty_missing[(trade_flow, partner, cmd)] = rng.random() < flow.qty_missing_rate
                for month in months:
                    if trade_flow == "X":
                        true = series[(year, month)]
                        reported = true * rng.lognormvariate(0, 0.04)
                    else:
                        lag_year, lag_month = (
                            (year, month - flow.import_lag) if month > flow.import_lag else (year - 1, 12)
                        )
                        true = series[(lag_year, lag_month)]
                        reported = true * (1 + flow.cif_margin) * rng.lognormvariate(0, 0.06)
                    key = (trade_flow, partner, cmd, None if freq == "A" else month)
                    cells[key] = cells.get(key, 0.0) + reported * share
        if freq == "A":
            # Annual reports are compiled separately and differ slightly from the sum of months.
            cells = {k: v * rng.lognormvariate(0, 0.01) for k, v in cells.items()}
        world: dict[tuple[str, str, int | None], float] = {}
        for (trade_flow, partner, cmd, month), value in sorted(
            cells.items(), key=lambda kv: (kv[0][3] or 0, kv[0][0], kv[0][1], kv[0][2])
        ):
            world[(trade_flow, cmd, month)] = world.get((trade_flow, cmd, month), 0.0) + value
            tpl = _record_template(reporter, partner, trade_flow, version, cmd)
            rows.append(
                _record(
                    tpl,
                    freq=freq,
                    year=year,
                    month=month,
                    value=value,
                    unit_value=unit_values[cmd],
                    rng=rng,
                    qty_missing=qty_missing[(trade_flow, partner, cmd)] or (rng.random() < 0.01),
                    aggregate=False,
                )
            )
        for (trade_flow, cmd, month), value in sorted(
            world.items(), key=lambda kv: (kv[0][2] or 0, kv[0][0], kv[0][1])
        ):
            total = value * (1 + self.model.rest_of_world[reporter])
            tpl = _record_template(reporter, WORLD, trade_flow, version, cmd)
            rows.append(
                _record(
                    tpl,
                    freq=freq,
                    year=year,
                    month=month,
                    value=total,
                    unit_value=unit_values[cmd],
                    rng=rng,
                    qty_missing=False,
                    aggregate=True,
                )
            )
        return rows

    def response(self, reporter: int, freq: str, year: int) -> SampleResponse:
        """The synthetic response to ``get/C/{freq}/HS`` for one reporter and one year of periods."""
        rows = self._reported(reporter, freq, year)
        periods = str(year) if freq == "A" else ",".join(f"{year}{m:02d}" for m in range(1, 13))
        params = {
            "typeCode": "C",
            "freqCode": freq,
            "clCode": "HS",
            "reporterCode": str(reporter),
            "period": periods,
            "partnerCode": "",
            "partner2Code": "0",
            "motCode": "0",
            "customsCode": "C00",
            "flowCode": "M,X",
            "cmdCode": "sample-semiconductor-hs6",
            "includeDesc": "TRUE",
        }
        elapsed = random.Random(f"{self.seed}-{reporter}-{freq}-{year}-t").uniform(0.05, 1.5)
        envelope = {"elapsedTime": f"{elapsed:.2f} secs", "count": len(rows), "data": rows, "error": ""}
        content = json.dumps(envelope, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        return SampleResponse(reporter, freq, year, params, content, len(rows))

    def responses(self, scope: SampleScope) -> Iterator[SampleResponse]:
        """Every response in ``scope``: monthly then annual, reporter by reporter."""
        for reporter in scope.reporters:
            for year in scope.monthly_years:
                yield self.response(reporter, "M", year)
            for year in scope.annual_years:
                yield self.response(reporter, "A", year)


def land_sample(
    paths: Paths, scope: SampleScope | None = None, seed: int = SEED
) -> list[tuple[LandedFile, bool]]:
    """Generate the sample and land every response as a live fetch would, with ``origin: sample``."""
    generator = SampleGenerator(seed)
    landed = []
    for resp in generator.responses(scope or SampleScope()):
        landed.append(
            land(
                paths,
                source=SOURCE,
                dataset=DATASET,
                partition=partition_for(resp.freq, resp.year, resp.reporter),
                stem=f"get_C_{resp.freq}_HS_{resp.reporter}_{resp.year}",
                content=resp.content,
                params=resp.params,
                origin="sample",
            )
        )
    return landed
