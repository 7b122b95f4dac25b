"""The UN Comtrade v1 data record: its 47 fields as the API spells them, and the lake schema.

Field names, order and JSON types follow the real response recorded in
shared/reference/comtrade/comtradr/data_v1_get_C_A_HS_chn_2010_total.json (note ``cifvalue`` and
``fobvalue`` with a lower-case v, and ``period``/``mosCode`` as strings).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

import polars as pl

from ingest import reference
from ingest.lake import LINEAGE_SCHEMA

# (API field, lake column, polars dtype, JSON type, nullable)
# JSON type: "int" (not bool), "num" (int or float), "str", "bool".
RECORD_FIELDS: tuple[tuple[str, str, pl.DataType, str, bool], ...] = (
    ("typeCode", "type_code", pl.String(), "str", False),
    ("freqCode", "freq_code", pl.String(), "str", False),
    ("refPeriodId", "ref_period_id", pl.Int64(), "int", False),
    ("refYear", "ref_year", pl.Int32(), "int", False),
    ("refMonth", "ref_month", pl.Int32(), "int", False),
    ("period", "period", pl.String(), "str", False),
    ("reporterCode", "reporter_code", pl.Int32(), "int", False),
    ("reporterISO", "reporter_iso", pl.String(), "str", True),
    ("reporterDesc", "reporter_desc", pl.String(), "str", True),
    ("flowCode", "flow_code", pl.String(), "str", False),
    ("flowDesc", "flow_desc", pl.String(), "str", True),
    ("partnerCode", "partner_code", pl.Int32(), "int", False),
    ("partnerISO", "partner_iso", pl.String(), "str", True),
    ("partnerDesc", "partner_desc", pl.String(), "str", True),
    ("partner2Code", "partner2_code", pl.Int32(), "int", False),
    ("partner2ISO", "partner2_iso", pl.String(), "str", True),
    ("partner2Desc", "partner2_desc", pl.String(), "str", True),
    ("classificationCode", "classification_code", pl.String(), "str", False),
    ("classificationSearchCode", "classification_search_code", pl.String(), "str", True),
    ("isOriginalClassification", "is_original_classification", pl.Boolean(), "bool", True),
    ("cmdCode", "cmd_code", pl.String(), "str", False),
    ("cmdDesc", "cmd_desc", pl.String(), "str", True),
    ("aggrLevel", "aggr_level", pl.Int32(), "int", True),
    ("isLeaf", "is_leaf", pl.Boolean(), "bool", True),
    ("customsCode", "customs_code", pl.String(), "str", False),
    ("customsDesc", "customs_desc", pl.String(), "str", True),
    ("mosCode", "mos_code", pl.String(), "str", False),
    ("motCode", "mot_code", pl.Int32(), "int", False),
    ("motDesc", "mot_desc", pl.String(), "str", True),
    ("qtyUnitCode", "qty_unit_code", pl.Int32(), "int", True),
    ("qtyUnitAbbr", "qty_unit_abbr", pl.String(), "str", True),
    ("qty", "qty", pl.Float64(), "num", True),
    ("isQtyEstimated", "is_qty_estimated", pl.Boolean(), "bool", True),
    ("altQtyUnitCode", "alt_qty_unit_code", pl.Int32(), "int", True),
    ("altQtyUnitAbbr", "alt_qty_unit_abbr", pl.String(), "str", True),
    ("altQty", "alt_qty", pl.Float64(), "num", True),
    ("isAltQtyEstimated", "is_alt_qty_estimated", pl.Boolean(), "bool", True),
    ("netWgt", "net_wgt", pl.Float64(), "num", True),
    ("isNetWgtEstimated", "is_net_wgt_estimated", pl.Boolean(), "bool", True),
    ("grossWgt", "gross_wgt", pl.Float64(), "num", True),
    ("isGrossWgtEstimated", "is_gross_wgt_estimated", pl.Boolean(), "bool", True),
    ("cifvalue", "cif_value", pl.Float64(), "num", True),
    ("fobvalue", "fob_value", pl.Float64(), "num", True),
    ("primaryValue", "primary_value", pl.Float64(), "num", True),
    ("legacyEstimationFlag", "legacy_estimation_flag", pl.Int32(), "int", True),
    ("isReported", "is_reported", pl.Boolean(), "bool", True),
    ("isAggregate", "is_aggregate", pl.Boolean(), "bool", True),
)
assert len(RECORD_FIELDS) == 47

API_FIELDS: tuple[str, ...] = tuple(f[0] for f in RECORD_FIELDS)
RENAME: dict[str, str] = {f[0]: f[1] for f in RECORD_FIELDS}

# Lineage (``lake.LINEAGE_SCHEMA``): ``source_row`` is the 0-based position in the response's data
# array (or the bulk file's data rows).
LAKE_SCHEMA: pl.Schema = pl.Schema({f[1]: f[2] for f in RECORD_FIELDS} | LINEAGE_SCHEMA)

# Value fields that must never be negative in a trade record.
NON_NEGATIVE: tuple[str, ...] = (
    "qty",
    "altQty",
    "netWgt",
    "grossWgt",
    "cifvalue",
    "fobvalue",
    "primaryValue",
)

HS_VERSIONS: tuple[str, ...] = ("H0", "H1", "H2", "H3", "H4", "H5", "H6")
CMD_CODE = re.compile(r"^(TOTAL|\d{2}|\d{4}|\d{6})$")

# The fields that identify a record: two records of one response or bulk file with the same values
# here are duplicates (the later one is quarantined).
KEY_FIELDS: tuple[str, ...] = (
    "freqCode",
    "period",
    "reporterCode",
    "partnerCode",
    "partner2Code",
    "flowCode",
    "classificationCode",
    "cmdCode",
    "customsCode",
    "motCode",
)


@cache
def flow_codes() -> frozenset[str]:
    """The Comtrade flow codes of the comtrade_flows seed."""
    return frozenset(r["flow_code"] for r in reference.read_seed("comtrade_flows"))


# -- the record contract -------------------------------------------------------------------------
# ONE definition, read by both paths: ``parse.validate_record`` checks a JSON record with it and
# ``bulk_parse.reason_expr`` compiles it to Polars expressions for the bulk TSV. A record breaks the
# contract at the first of: a missing field (JSON) / a null in a non-nullable field / a value that
# is not of its field's kind (``RECORD_FIELDS``), then the first ``VALUE_RULES`` rule that fails on
# the typed values, then the duplicate-key rule (``KEY_FIELDS``). A rule's ``summary`` is the reason
# the bulk path writes; ``detail`` (a ``str.format`` template over the record's API fields, ``v`` =
# the rule's field) is the JSON path's, with the row's values.


@dataclass(frozen=True)
class Rule:
    """One value rule of the record contract, checked on typed, non-null values.

    ``test``: ``non_negative`` (field >= 0 when not null), ``one_of`` (field in ``values()``),
    ``pattern`` (the whole field matches ``pattern``), ``annual`` / ``monthly`` (when freqCode is A / M,
    period agrees with refYear and refMonth: ``YYYY`` and refMonth 52 / ``YYYYMM`` and refMonth 1-12).
    """

    field: str
    test: str
    summary: str
    detail: str
    values: Callable[[], frozenset[str]] | None = None
    pattern: re.Pattern[str] | None = None


FREQ_CODES = frozenset({"A", "M"})
VALUE_RULES: tuple[Rule, ...] = (
    *(Rule(api, "non_negative", f"{api} is negative", f"{api} is negative: {{v!r}}") for api in NON_NEGATIVE),
    Rule("freqCode", "one_of", "freqCode is not A or M", "freqCode {v!r} is not A or M", lambda: FREQ_CODES),
    Rule(
        "period",
        "annual",
        "annual period does not match refYear / refMonth 52",
        "annual period {period!r} does not match refYear {refYear} / refMonth {refMonth} (52 expected)",
    ),
    Rule(
        "period",
        "monthly",
        "monthly period does not match refYear and refMonth",
        "monthly period {period!r} does not match refYear {refYear} and refMonth {refMonth}",
    ),
    Rule(
        "flowCode",
        "one_of",
        "flowCode is not a Comtrade flow code",
        "flowCode {v!r} is not a Comtrade flow code",
        flow_codes,
    ),
    Rule(
        "classificationCode",
        "one_of",
        f"classificationCode is not one of {', '.join(HS_VERSIONS)}",
        f"classificationCode {{v!r}} is not one of {', '.join(HS_VERSIONS)}",
        lambda: frozenset(HS_VERSIONS),
    ),
    Rule(
        "cmdCode",
        "pattern",
        "cmdCode is not TOTAL or a 2/4/6-digit HS code",
        "cmdCode {v!r} is not TOTAL or a 2/4/6-digit HS code",
        pattern=CMD_CODE,
    ),
)
DUPLICATE_SUMMARY = "duplicate key of an earlier row"


def duplicate_detail(first_row: int, key: tuple[object, ...]) -> str:
    """The JSON path's duplicate-key reason: the first row with the key, and the key."""
    pairs = ", ".join(f"{k}={v}" for k, v in zip(KEY_FIELDS, key, strict=True))
    return f"duplicate key of row {first_row} ({pairs})"


def partition_for(freq: str, year: int, reporter: int) -> str:
    """Landing/lake partition of one Comtrade response or record: freq / year / reporter."""
    return f"freq={freq}/year={year}/reporter={reporter}"
