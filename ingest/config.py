"""Paths and settings from the environment, each with a safe default (see ARCHITECTURE.md)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

DEFAULT_COMTRADE_BASE_URL = "https://comtradeapi.un.org"


@dataclass(frozen=True)
class Paths:
    """The four stores under SEMITRADE_HOME: landing/, lake/, warehouse/ and dagster/."""

    home: Path

    @property
    def landing(self) -> Path:
        return self.home / "landing"

    @property
    def manifest(self) -> Path:
        return self.landing / "_manifest.jsonl"

    @property
    def lake(self) -> Path:
        return self.home / "lake"

    @property
    def quarantine(self) -> Path:
        return self.lake / "_quarantine"

    @property
    def warehouse_dir(self) -> Path:
        return self.home / "warehouse"

    @property
    def build_db(self) -> Path:
        """The DuckDB file dbt writes into; only the pipeline opens it."""
        return self.warehouse_dir / "build.duckdb"

    @property
    def serving_db(self) -> Path:
        """The published, read-only copy that BI tools open."""
        return self.warehouse_dir / "semitrade.duckdb"


def semitrade_home() -> Path:
    """Root of all data files: $SEMITRADE_HOME, default ./data, made absolute."""
    return Path(os.environ.get("SEMITRADE_HOME", "data")).expanduser().resolve()


def paths() -> Paths:
    """The store layout for the current environment."""
    return Paths(semitrade_home())


def comtrade_base_url() -> str:
    """Base URL of the UN Comtrade API ($COMTRADE_BASE_URL)."""
    return os.environ.get("COMTRADE_BASE_URL", DEFAULT_COMTRADE_BASE_URL).rstrip("/")


def comtrade_api_key() -> str | None:
    """The Comtrade subscription key, or None. Never log or persist the returned value."""
    key = os.environ.get("COMTRADE_API_KEY", "").strip()
    return key or None
