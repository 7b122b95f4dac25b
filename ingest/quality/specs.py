"""What every lake dataset must satisfy before it reaches the warehouse: one registry, one entry per
source dataset.

A source registers its expectations here, in ``SPECS``, with a function returning a ``DatasetSpec``:
the lake schema, key columns, code lists (from the reference seeds), value columns that may not be
negative, the period columns and, optionally, how to compute a unit value whose outliers are flagged
(never blocked). ``ingest.quality.expectations`` turns a spec into Great Expectations expectations.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import polars as pl

from ingest import reference
from ingest.comtrade.schema import HS_VERSIONS, LAKE_SCHEMA, NON_NEGATIVE, RENAME
from ingest.landing import ORIGINS


@dataclass(frozen=True)
class CodeCheck:
    """Values of ``column`` must be in ``values()`` (nulls are not checked here)."""

    column: str
    values: Callable[[], list[object]]
    describe: str


@dataclass(frozen=True)
class DatasetSpec:
    """The contract of one lake dataset (grain and units are the source's; see its schema module).

    ``derive`` adds computed columns that checks refer to (e.g. ``hs_key`` = version-code for HS6
    rows); ``unit_value`` names the value and quantity columns and the grouping whose median a row's
    unit value is compared with; ``outlier_orders`` is how many orders of magnitude away from that
    median a unit value may be before it is flagged (a warning, the row is published).
    """

    source: str
    dataset: str
    asset_key: tuple[str, ...]  # the Dagster asset that writes the lake files (for the asset check)
    schema: pl.Schema
    keys: tuple[str, ...]
    codes: tuple[CodeCheck, ...] = ()
    non_negative: tuple[str, ...] = ()
    period_column: str | None = None
    period_regex: str | None = None
    year_column: str | None = None
    min_year: int = 1962
    derive: Callable[[pl.LazyFrame], pl.LazyFrame] | None = None
    unit_value: tuple[str, str, tuple[str, ...]] | None = None  # (value, quantity, group columns)
    outlier_orders: float = 2.0
    lineage_column: str = "source_file"  # lake rows name the landed file they came from
    extra_columns: tuple[str, ...] = field(default_factory=tuple)  # other columns the checks read

    @property
    def name(self) -> str:
        return f"{self.source}_{self.dataset}"


def max_year() -> int:
    """Latest reference year a trade record may carry (the current year)."""
    return datetime.now(UTC).year


def _hs_keys() -> list[object]:
    return sorted({f"{r['hs_version']}-{r['hs6']}" for r in reference.read_seed("hs6_codes")})


def _m49(*, reporters_only: bool = False) -> Callable[[], list[object]]:
    def values() -> list[object]:
        rows = reference.countries().items()
        return sorted(code for code, row in rows if not reporters_only or row["is_reporter"] == "true")

    return values


def _seed_column(seed: str, column: str, cast: Callable[[str], object] = str) -> Callable[[], list[object]]:
    return lambda: sorted({cast(r[column]) for r in reference.read_seed(seed)})


def _comtrade_derive(lf: pl.LazyFrame) -> pl.LazyFrame:
    six = pl.col("cmd_code").str.len_chars() == 6
    return lf.with_columns(
        pl.when(six).then(pl.col("classification_code") + "-" + pl.col("cmd_code")).alias("hs_key")
    )


def comtrade_records() -> DatasetSpec:
    """UN Comtrade records (lake/comtrade/records): one row per record as received, values in USD."""
    return DatasetSpec(
        source="comtrade",
        dataset="records",
        asset_key=("comtrade", "lake_records"),
        schema=LAKE_SCHEMA,
        keys=(
            "freq_code",
            "period",
            "reporter_code",
            "partner_code",
            "partner2_code",
            "flow_code",
            "classification_code",
            "cmd_code",
            "customs_code",
            "mot_code",
            "source_file",
            "vintage",
        ),
        codes=(
            CodeCheck(
                "reporter_code", _m49(reporters_only=True), "reporters in comtrade_countries (is_reporter)"
            ),
            CodeCheck("partner_code", _m49(), "partners in comtrade_countries"),
            CodeCheck("partner2_code", _m49(), "second partners in comtrade_countries"),
            CodeCheck("flow_code", _seed_column("comtrade_flows", "flow_code"), "flows in comtrade_flows"),
            CodeCheck("classification_code", lambda: list(HS_VERSIONS), "HS versions H0…H6"),
            CodeCheck("hs_key", _hs_keys, "HS6 codes of the reported HS version in hs6_codes"),
            CodeCheck(
                "qty_unit_code",
                _seed_column("comtrade_qty_units", "qty_unit_code", int),
                "units in comtrade_qty_units",
            ),
            CodeCheck("freq_code", lambda: ["A", "M"], "frequency A or M"),
            CodeCheck("origin", lambda: list(ORIGINS), "origin live, imported or sample"),
        ),
        non_negative=tuple(RENAME[f] for f in NON_NEGATIVE),
        period_column="period",
        period_regex=r"^\d{4}(?:0[1-9]|1[0-2])?$",
        year_column="ref_year",
        derive=_comtrade_derive,
        unit_value=("primary_value", "net_wgt", ("classification_code", "cmd_code", "flow_code")),
    )


def _hs_version_for_year(year_col: str) -> pl.Expr:
    """The HS version in force in a year (national tariffs follow the WCO editions), built from the seed
    hs_versions as ``ingest.reference.hs_version_for_year`` and dbt read it. A year before the first
    edition gets ``"none"``, so that its ``hs_key`` matches no code and the code check reports the row
    instead of skipping a null."""
    y = pl.col(year_col)
    expr = pl.lit("none")
    for version in reference.hs_versions():
        in_force = y >= version.first_year
        if version.last_year is not None:
            in_force = in_force & (y <= version.last_year)
        expr = pl.when(in_force).then(pl.lit(version.hs_version)).otherwise(expr)
    return expr


def _national_derive(lf: pl.LazyFrame) -> pl.LazyFrame:
    return lf.with_columns((_hs_version_for_year("ref_year") + "-" + pl.col("hs6")).alias("hs_key"))


def kcs_trade() -> DatasetSpec:
    """Korea Customs trade lines (lake/kcs/trade): month × partner (ISO2) × HSK10; USD and kg."""
    from ingest.kcs.parse import LAKE_SCHEMA as KCS_SCHEMA  # noqa: PLC0415 - only when this spec is used

    return DatasetSpec(
        source="kcs",
        dataset="trade",
        asset_key=("kcs", "lake_trade"),
        schema=KCS_SCHEMA,
        keys=("period", "stat_cd", "hsk10", "hs6", "source_file", "vintage"),
        codes=(
            CodeCheck("stat_cd", _seed_column("kcs_country_codes", "iso2"), "partners in kcs_country_codes"),
            CodeCheck("hs_key", _hs_keys, "HS6 codes of the HS version in force that year in hs6_codes"),
            CodeCheck("origin", lambda: list(ORIGINS), "origin live, imported or sample"),
        ),
        non_negative=("exp_wgt_kg", "exp_usd", "imp_wgt_kg", "imp_usd"),
        period_column="period",
        period_regex=r"^\d{4}(?:0[1-9]|1[0-2])$",
        year_column="ref_year",
        derive=_national_derive,
        unit_value=("imp_usd", "imp_wgt_kg", ("hs6",)),
    )


def japan_trade() -> DatasetSpec:
    """Japan MOF trade lines (lake/japan/trade): month × flow × country × HS9; thousand JPY."""
    from ingest.japan.parse import LAKE_SCHEMA as JAPAN_SCHEMA  # noqa: PLC0415

    return DatasetSpec(
        source="japan",
        dataset="trade",
        asset_key=("japan", "lake_trade"),
        schema=JAPAN_SCHEMA,
        keys=("period", "flow_code", "hs9", "hs6", "country_code", "source_file", "vintage"),
        codes=(
            CodeCheck(
                "country_code",
                _seed_column("japan_customs_country_codes", "japan_code"),
                "countries in japan_customs_country_codes",
            ),
            CodeCheck("flow_code", lambda: ["M", "X"], "flow M or X"),
            CodeCheck("hs_key", _hs_keys, "HS6 codes of the HS version in force that year in hs6_codes"),
            CodeCheck("origin", lambda: list(ORIGINS), "origin live, imported or sample"),
        ),
        non_negative=("quantity1", "quantity2", "value_thousand_jpy"),
        period_column="period",
        period_regex=r"^\d{4}(?:0[1-9]|1[0-2])$",
        year_column="ref_year",
        derive=_national_derive,
        unit_value=("value_thousand_jpy", "quantity1", ("hs9", "flow_code", "unit1")),
    )


# (source, dataset) -> spec factory. Add one line per lake dataset.
SPECS: dict[tuple[str, str], Callable[[], DatasetSpec]] = {
    ("comtrade", "records"): comtrade_records,
    ("kcs", "trade"): kcs_trade,
    ("japan", "trade"): japan_trade,
}


def spec_for(source: str, dataset: str) -> DatasetSpec:
    """The registered spec of a lake dataset."""
    try:
        return SPECS[(source, dataset)]()
    except KeyError:
        known = ", ".join(f"{s}/{d}" for s, d in SPECS)
        raise KeyError(f"no quality spec registered for {source}/{dataset} (known: {known})") from None
