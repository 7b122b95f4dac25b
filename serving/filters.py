"""`--where key=value` filters of an export, translated into one SELECT with bound parameters.

Friendly keys: reporter / partner / exporter / importer / supplier (ISO3 or M49), segment, flow (M, X,
import, export), year and period (single values, lists `a,b` or ranges `a..b`), hs6, freq (A, M, annual,
monthly). Any other column of the table can be filtered by exact text match (`--where hs_version=H5`).
Repeating a key ORs its values; different keys are ANDed. Identifiers come from the catalog only; every
value is a bound parameter.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import duckdb

from serving.catalog import MART_SCHEMA, TableInfo, quote_ident
from serving.errors import ExportError


@dataclass(frozen=True)
class Filter:
    """A parsed `--where key=value` before translation: the key and its raw value text."""

    key: str
    value: str


_COUNTRY_KEYS = ("reporter", "partner", "exporter", "importer", "supplier")
_FRIENDLY_KEYS = (*_COUNTRY_KEYS, "segment", "flow", "year", "period", "hs6", "freq")
_FLOW_ALIASES = {"import": "M", "imports": "M", "export": "X", "exports": "X"}
_FREQ_ALIASES = {"annual": "A", "monthly": "M"}


def parse_filters(items: Sequence[str]) -> list[Filter]:
    """`key=value` strings → filters; keys are case-insensitive, values keep their text."""
    filters = []
    for item in items:
        key, sep, value = item.partition("=")
        key, value = key.strip().lower(), value.strip()
        if not sep or not key or not value:
            raise ExportError(
                f"bad filter {item!r}: write key=value, e.g. --where reporter=KOR --where year=2018..2020"
            )
        filters.append(Filter(key, value))
    return filters


def _split(value: str) -> list[str]:
    """``"a, b,"`` → ``["a", "b"]``."""
    return [v.strip() for v in value.split(",") if v.strip()]


def _range(text: str) -> tuple[str, str] | None:
    """``"2018..2020"`` → ``("2018", "2020")``; None when ``text`` is not a range."""
    lo, sep, hi = text.partition("..")
    return (lo.strip(), hi.strip()) if sep else None


def _in_list(column: str, values: Sequence[object]) -> tuple[str, list[object]]:
    """``column in (?, ?, …)`` with one bound parameter per value."""
    return f"{quote_ident(column)} in ({', '.join('?' * len(values))})", list(values)


def _require_known(flt: Filter, values: Sequence[str], known: set[str], hint: str) -> None:
    """ExportError naming the first of ``values`` that is not ``known`` (segment, flow codes)."""
    bad = [v for v in values if v not in known]
    if bad:
        raise ExportError(
            f"bad filter {flt.key}={flt.value}: unknown {flt.key} {bad[0]!r}; "
            f"use {hint}one of {', '.join(sorted(known))}"
        )


def _country_codes(con: duckdb.DuckDBPyConnection, key: str, value: str) -> list[int]:
    """ISO3 or M49 → M49 codes as Comtrade uses them (TWN also matches 490, Comtrade's Taiwan)."""
    if value.isdigit():
        code = int(value)
        if not con.execute("select count(*) from main.dim_country where m49_code = ?", [code]).fetchone()[0]:
            raise ExportError(f"bad filter {key}={value}: no country with M49 code {code} in dim_country")
        return [code]
    iso3 = value.upper()
    if not re.fullmatch(r"[A-Z0-9]{3}", iso3):
        raise ExportError(f"bad filter {key}={value}: give an ISO3 code (KOR) or an M49 code (410)")
    codes = [
        r[0]
        for r in con.execute(
            "select m49_code from main.dim_country where iso3 = ? or (? = 'TWN' and is_taiwan_in_comtrade) "
            "order by 1",
            [iso3, iso3],
        ).fetchall()
    ]
    if not codes:
        raise ExportError(f"bad filter {key}={value}: no country with ISO3 code {iso3} in dim_country")
    return codes


def _condition(con: duckdb.DuckDBPyConnection, info: TableInfo, flt: Filter) -> tuple[str, list[object]]:
    """One filter → (SQL condition over catalog column names, bound parameters)."""
    key, value = flt.key, flt.value
    names = {c.name for c in info.columns}

    def need(*candidates: str) -> str:
        for c in candidates:
            if c in names:
                return c
        raise ExportError(
            f"bad filter {key}={value}: table {info.name} has no {key} column (looked for {', '.join(candidates)})"
        )

    if key in _COUNTRY_KEYS:
        if f"{key}_iso3" in names and f"{key}_code" not in names and not value.isdigit():
            col, params = f"{key}_iso3", [v.upper() for v in _split(value)]
        else:
            col = need(f"{key}_code", f"{key}_m49")
            params = sorted({c for v in _split(value) for c in _country_codes(con, key, v)})
        return _in_list(col, params)
    if key == "segment":
        col, vals = need("segment"), [v.lower() for v in _split(value)]
        known = {
            r[0]
            for r in con.execute(
                "select distinct segment from main.dim_product where segment is not null"
            ).fetchall()
        }
        _require_known(flt, vals, known, "")
        return _in_list(col, vals)
    if key == "flow":
        col = need("flow_code")
        vals = [_FLOW_ALIASES.get(v.lower(), v.upper()) for v in _split(value)]
        known = {r[0] for r in con.execute("select flow_code from main.dim_flow").fetchall()}
        _require_known(flt, vals, known, "import/export or ")
        return _in_list(col, vals)
    if key == "freq":
        col = need("freq_code")
        vals = [_FREQ_ALIASES.get(v.lower(), v.upper()) for v in _split(value)]
        if any(v not in ("A", "M") for v in vals):
            raise ExportError(f"bad filter freq={value}: use A/annual or M/monthly")
        return _in_list(col, vals)
    if key == "hs6":
        col, vals = need("hs6"), _split(value)
        if any(not re.fullmatch(r"\d{6}", v) for v in vals):
            raise ExportError(f"bad filter hs6={value}: give six-digit HS codes, e.g. hs6=281111,370790")
        return _in_list(col, vals)
    if key == "year":
        col = need("ref_year", "year")
        return _ranged(key, value, col, r"\d{4}", int)
    if key == "period":
        col = need("period_key")
        return _ranged(key, value, col, r"\d{4}(\d{2})?", str)
    if key in names:
        vals = _split(value)
        return f"cast({quote_ident(key)} as varchar) in ({', '.join('?' * len(vals))})", list(vals)
    raise ExportError(
        f"bad filter {key}={value}: unknown key {key!r}; use one of {', '.join(_FRIENDLY_KEYS)} "
        f"or a column of {info.name}: {', '.join(sorted(names))}"
    )


def _ranged(key: str, value: str, col: str, pattern: str, cast: type) -> tuple[str, list[object]]:
    """Values and ``lo..hi`` ranges of ``key`` → ``col between ? and ?`` conditions, ORed."""
    parts, params = [], []
    for part in _split(value):
        bounds = _range(part) or (part, part)
        if not all(re.fullmatch(pattern, b) for b in bounds):
            raise ExportError(f"bad filter {key}={value}: {part!r} is not a {key} or a range like 2018..2020")
        lo, hi = cast(bounds[0]), cast(bounds[1])
        if lo > hi:
            raise ExportError(f"bad filter {key}={value}: range {part!r} runs backwards")
        parts.append(f"{quote_ident(col)} between ? and ?")
        params += [lo, hi]
    return "(" + " or ".join(parts) + ")", params


def build_query(
    con: duckdb.DuckDBPyConnection, info: TableInfo, filters: Sequence[Filter]
) -> tuple[str, list[object]]:
    """SELECT over the mart with the filters as bound parameters; identifiers come from the catalog only."""
    by_key: dict[str, list[tuple[str, list[object]]]] = {}
    for flt in filters:
        by_key.setdefault(flt.key, []).append(_condition(con, info, flt))
    where, params = [], []
    for conds in by_key.values():
        where.append("(" + " or ".join(c for c, _ in conds) + ")")
        params += [p for _, ps in conds for p in ps]
    cols = ", ".join(quote_ident(c.name) for c in info.columns)
    sql = f"select {cols} from {MART_SCHEMA}.{quote_ident(info.name)}"  # noqa: S608 - catalog identifiers only
    if where:
        sql += " where " + " and ".join(where)
    return sql, params
