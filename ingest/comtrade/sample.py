"""The offline sample: deterministic, SYNTHETIC UN Comtrade v1 `get` responses.

Nothing here is published statistics. The seeded "true" bilateral flows of
``ingest.comtrade.sample_flows`` (ten reporters and Taiwan, a few dozen semiconductor HS6 codes, the
2019 shock on Japan's hydrogen fluoride to Korea) are turned into what each customs office would
report: exporters report FOB, importers report CIF (a margin on top), importers sometimes book a
shipment a month later, both add noise, quantities are sometimes missing or estimated, and each
reporter writes partner World (0) as its total with the rest of the world.

Responses are byte-compatible with the real API: the envelope ``{elapsedTime,count,data,error}`` and
the 47 record fields in the real order, spelling and JSON types, one response per reporter, frequency
and year (12 periods a call, as the live planner asks). Grain of a record: reporter × partner ×
HS6 (in the HS version the reporter used that year) × period × flow; values in US dollars.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from dataclasses import dataclass

from ingest import reference
from ingest.comtrade.sample_flows import (
    ANNUAL_YEARS,
    MONTHLY_YEARS,
    REPORTERS,
    SEED,
    WORLD,
    TrueFlows,
    codes_for,
)
from ingest.comtrade.schema import partition_for
from ingest.config import Paths
from ingest.landing import LandedFile, land

SOURCE = "comtrade"
DATASET = "records"


@dataclass(frozen=True)
class SampleScope:
    """What to generate: reporters and years (the full sample by default)."""

    reporters: tuple[int, ...] = REPORTERS
    monthly_years: tuple[int, ...] = MONTHLY_YEARS
    annual_years: tuple[int, ...] = ANNUAL_YEARS


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
        self.model = TrueFlows(seed)

    def _reported(self, reporter: int, freq: str, year: int) -> list[dict[str, object]]:
        rng = random.Random(f"{self.seed}-{reporter}-{freq}-{year}")
        version = reference.hs_version_for_year(year)
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
            for cmd, share in codes_for(flow.product, version):
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
