"""The UN Comtrade v1 data record: its 47 fields as the API spells them, and the lake schema.

Field names, order and JSON types follow the real response recorded in
shared/reference/comtrade/comtradr/data_v1_get_C_A_HS_chn_2010_total.json (note ``cifvalue`` and
``fobvalue`` with a lower-case v, and ``period``/``mosCode`` as strings).
"""

from __future__ import annotations

import re

import polars as pl

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

# Lineage columns added to every lake row, so each number traces back to a raw file.
LINEAGE_SCHEMA: dict[str, pl.DataType] = {
    "origin": pl.String(),  # 'live' or 'sample'
    "source_file": pl.String(),  # landing-relative path of the raw file
    "source_row": pl.Int32(),  # 0-based position in the response's data array
    "vintage": pl.String(),  # sha256 of the raw file
    "fetched_at": pl.String(),  # ISO timestamp of the fetch
}

LAKE_SCHEMA: pl.Schema = pl.Schema({f[1]: f[2] for f in RECORD_FIELDS} | LINEAGE_SCHEMA)

QUARANTINE_SCHEMA: pl.Schema = pl.Schema(
    {
        "source": pl.String(),
        "dataset": pl.String(),
        "source_file": pl.String(),
        "source_row": pl.Int32(),
        "reason": pl.String(),
        "raw": pl.String(),
        "origin": pl.String(),
        "vintage": pl.String(),
    }
)

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


def partition_for(freq: str, year: int, reporter: int) -> str:
    """Landing/lake partition of one Comtrade response or record: freq / year / reporter."""
    return f"freq={freq}/year={year}/reporter={reporter}"
