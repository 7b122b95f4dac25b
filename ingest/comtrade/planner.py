"""Query planning for the Comtrade data API: turn a user query into calls that cannot hit the cap.

Every call covers one reporter and one calendar year (so it lands in one partition, see
``ingest.comtrade.schema.partition_for``), at most 12 periods, a bounded URL, and an upper bound on
its record count below the plan's cap. The bound is the product of the explicit dimensions
(periods × partners × commodity codes × flows — partner2, mode of transport and customs procedure
are pinned to their totals) or, when a dimension is "all", the availability ``totalRecords`` of its
reporter-periods. A response whose count reaches the cap is truncated: ``split_call`` divides it
(by period, then commodity codes, then partners, then flows). Pure functions, no I/O.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from urllib.parse import urlencode

from ingest.comtrade.schema import partition_for

PLAN_CAPS: dict[str, int] = {"free": 100_000, "premium": 250_000, "preview": 500}
MAX_PERIODS_PER_CALL = 12
MAX_URL_LENGTH = 2_000
# Totals of the breakdowns: without them one flow is returned once per partner2 / mode of
# transport / customs procedure as well as in total, and summing double counts.
DEFAULT_PARTNER2 = "0"
DEFAULT_MOT = "0"
DEFAULT_CUSTOMS = "C00"

_PERIOD_RANGE = re.compile(r"^(\d{4}|\d{6})-(\d{4}|\d{6})$")


class PlanError(ValueError):
    """A query cannot be planned (bad period, unsplittable call): the message says what to change."""


@dataclass(frozen=True)
class Query:
    """What a user asks for. ``None`` for partners, commodity codes or flows means "all"."""

    reporters: tuple[int, ...]
    periods: tuple[str, ...]
    partners: tuple[int, ...] | None = None
    cmd_codes: tuple[str, ...] | None = None
    flows: tuple[str, ...] | None = None
    freq: str = "M"
    type_code: str = "C"
    cl_code: str = "HS"
    partner2_code: str = DEFAULT_PARTNER2
    mot_code: str = DEFAULT_MOT
    customs_code: str = DEFAULT_CUSTOMS


@dataclass(frozen=True)
class Call:
    """One request to ``/data/v1/get/{type}/{freq}/{cl}``: one reporter, periods of one year."""

    type_code: str
    freq: str
    cl_code: str
    reporter: int
    year: int
    periods: tuple[str, ...]
    partners: tuple[int, ...] | None
    cmd_codes: tuple[str, ...] | None
    flows: tuple[str, ...] | None
    partner2_code: str
    mot_code: str
    customs_code: str
    max_records: int

    @property
    def endpoint_path(self) -> str:
        """``{type}/{freq}/{cl}``, the path after ``/data/v1/get/``."""
        return f"{self.type_code}/{self.freq}/{self.cl_code}"

    @property
    def partition(self) -> str:
        """Landing/lake partition: ``freq=M/year=2019/reporter=410``."""
        return partition_for(self.freq, self.year, self.reporter)

    def params(self) -> dict[str, str]:
        """Query parameters in a fixed order (no key: it travels in a header)."""
        out = {
            "reporterCode": str(self.reporter),
            "period": ",".join(self.periods),
        }
        if self.partners is not None:
            out["partnerCode"] = ",".join(str(p) for p in self.partners)
        out["partner2Code"] = self.partner2_code
        if self.cmd_codes is not None:
            out["cmdCode"] = ",".join(self.cmd_codes)
        if self.flows is not None:
            out["flowCode"] = ",".join(self.flows)
        out |= {
            "customsCode": self.customs_code,
            "motCode": self.mot_code,
            "maxRecords": str(self.max_records),
            "format": "JSON",
            "breakdownMode": "classic",
            "includeDesc": "true",
        }
        return out

    def key(self) -> str:
        """Hash of what the call asks for (maxRecords excluded): the resume/state key."""
        canon = {k: v for k, v in self.params().items() if k != "maxRecords"} | {"path": self.endpoint_path}
        return hashlib.sha256(json.dumps(canon, sort_keys=True).encode()).hexdigest()

    def url_length(self, base_url: str) -> int:
        """Length of the full request URL."""
        return len(f"{base_url}/data/v1/get/{self.endpoint_path}?{urlencode(self.params())}")

    def describe(self) -> str:
        """A short human label for progress output."""
        first, last = self.periods[0], self.periods[-1]
        span = first if first == last else f"{first}-{last}"
        n_cmd = "all" if self.cmd_codes is None else str(len(self.cmd_codes))
        n_par = "all" if self.partners is None else str(len(self.partners))
        return f"reporter {self.reporter} {span} ({n_cmd} cmd, {n_par} partners)"


def cap_for(plan: str) -> int:
    """Records per call allowed by ``plan`` (free, premium or preview)."""
    try:
        return PLAN_CAPS[plan]
    except KeyError:
        raise PlanError(f"unknown plan {plan!r}: use one of {', '.join(PLAN_CAPS)}") from None


def parse_periods(spec: str, freq: str) -> tuple[str, ...]:
    """Expand ``201901-201912``, ``2018-2019``, ``201901,201903`` or ``2019`` into Comtrade periods.

    Monthly (``freq="M"``) periods are YYYYMM (a year expands to its 12 months); annual are YYYY.
    """
    if freq not in ("A", "M"):
        raise PlanError(f"frequency {freq!r} must be A (annual) or M (monthly)")
    out: list[str] = []
    for item in (s.strip() for s in spec.split(",")):
        if not item:
            continue
        m = _PERIOD_RANGE.match(item)
        first, last = (m.group(1), m.group(2)) if m else (item, item)
        if not re.fullmatch(r"\d{4}|\d{6}", first) or len(first) != len(last):
            raise PlanError(f"period {item!r} must be YYYY, YYYYMM, YYYY-YYYY or YYYYMM-YYYYMM")
        if freq == "A":
            if len(first) != 4:
                raise PlanError(f"period {item!r}: annual data (--freq A) takes years (YYYY), not months")
            if int(last) < int(first):
                raise PlanError(f"period range {item!r} ends before it starts")
            out.extend(str(y) for y in range(int(first), int(last) + 1))
            continue
        start = (int(first[:4]), int(first[4:]) if len(first) == 6 else 1)
        end = (int(last[:4]), int(last[4:]) if len(last) == 6 else 12)
        for y, mth in (start, end):
            if not 1 <= mth <= 12:
                raise PlanError(f"period {item!r}: month {mth:02d} of {y} is not 01-12")
        if end < start:
            raise PlanError(f"period range {item!r} ends before it starts")
        y, mth = start
        while (y, mth) <= end:
            out.append(f"{y}{mth:02d}")
            y, mth = (y + 1, 1) if mth == 12 else (y, mth + 1)
    if not out:
        raise PlanError("no period given: use e.g. 201901-201912 or 2019")
    return tuple(dict.fromkeys(out))


def record_bound(call: Call, totals: Mapping[tuple[int, str], int] | None = None) -> int | None:
    """An upper bound on the records ``call`` can return, or None when it cannot be bounded.

    ``totals`` maps (reporter, period) to availability ``totalRecords`` (all records of that
    reporter-period, every breakdown included), which bounds any query on it.
    """
    bound: int | None = None
    if call.partners is not None and call.cmd_codes is not None and call.flows is not None:
        bound = len(call.periods) * len(call.partners) * len(call.cmd_codes) * len(call.flows)
    if totals is not None and all((call.reporter, p) in totals for p in call.periods):
        available = sum(totals[(call.reporter, p)] for p in call.periods)
        bound = available if bound is None else min(bound, available)
    return bound


def _halves(items: tuple, n: int = 2) -> list[tuple]:
    size = math.ceil(len(items) / n)
    return [items[i : i + size] for i in range(0, len(items), size)]


def split_call(call: Call) -> list[Call]:
    """Divide ``call`` in two along the first dimension with more than one value: periods, then
    commodity codes, then partners, then flows. Raises PlanError when nothing can be divided."""
    for attr in ("periods", "cmd_codes", "partners", "flows"):
        values = getattr(call, attr)
        if values is not None and len(values) > 1:
            return [replace(call, **{attr: part}) for part in _halves(values)]
    raise PlanError(
        f"{call.describe()}: a single call reaches the record cap of {call.max_records:,} and cannot be "
        "divided further; list commodity codes (--cmd) and partners (--partner) explicitly, or use the bulk files"
    )


def _split_for_url(call: Call) -> list[Call]:
    """Divide the longest comma list (usually the commodity codes) to shorten the URL."""
    lists = [
        (len(",".join(map(str, v))), attr)
        for attr in ("cmd_codes", "partners", "periods", "flows")
        if (v := getattr(call, attr)) is not None and len(v) > 1
    ]
    if not lists:
        raise PlanError(f"{call.describe()}: the request URL is too long even for one value per list")
    _, attr = max(lists)
    return [replace(call, **{attr: part}) for part in _halves(getattr(call, attr))]


def plan_calls(
    query: Query,
    *,
    cap: int,
    totals: Mapping[tuple[int, str], int] | None = None,
    base_url: str = "https://comtradeapi.un.org",
    max_periods: int = MAX_PERIODS_PER_CALL,
    max_url_length: int = MAX_URL_LENGTH,
) -> list[Call]:
    """Calls that together cover ``query``: one reporter and one year each, at most ``max_periods``
    periods, URL at most ``max_url_length`` characters, and a record bound below ``cap`` wherever
    the query makes one computable (see ``record_bound``); unbounded calls are split reactively by
    ``split_call`` when their response reaches the cap."""
    if not query.reporters:
        raise PlanError("no reporter given: use e.g. --reporter 410")
    if not query.periods:
        raise PlanError("no period given: use e.g. --period 201901-201912")
    for name, values in (("partner", query.partners), ("cmd", query.cmd_codes), ("flow", query.flows)):
        if values is not None and not values:
            raise PlanError(f"empty --{name} list: omit it to ask for all")
    by_year: dict[int, list[str]] = {}
    for period in query.periods:
        by_year.setdefault(int(period[:4]), []).append(period)
    pending: list[Call] = []
    for reporter in dict.fromkeys(query.reporters):
        for year, periods in sorted(by_year.items()):
            for chunk in (tuple(periods[i : i + max_periods]) for i in range(0, len(periods), max_periods)):
                pending.append(
                    Call(
                        query.type_code,
                        query.freq,
                        query.cl_code,
                        reporter,
                        year,
                        chunk,
                        _dedupe(query.partners),
                        _dedupe(query.cmd_codes),
                        _dedupe(query.flows),
                        query.partner2_code,
                        query.mot_code,
                        query.customs_code,
                        cap,
                    )
                )
    done: list[Call] = []
    while pending:
        call = pending.pop(0)
        if call.url_length(base_url) > max_url_length:
            pending[0:0] = _split_for_url(call)
            continue
        bound = record_bound(call, totals)
        if bound is not None and bound >= cap:
            pending[0:0] = split_call(call)
            continue
        done.append(call)
    return done


def _dedupe(values: Sequence | None) -> tuple | None:
    return None if values is None else tuple(dict.fromkeys(values))
