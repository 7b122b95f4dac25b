"""Paths and settings from the environment, each with a safe default (see ARCHITECTURE.md)."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

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


HomeKind = Literal["sample", "real"]
# Default homes when $SEMITRADE_HOME is not set: the SYNTHETIC offline sample and real data (live
# pulls and imported files) never share a home, so they never share a warehouse.
DEFAULT_HOMES: dict[str, str] = {"sample": "data/sample", "real": "data/live"}
HOME_MARKER = ".semitrade-home.json"
# Sources whose real data serve both kinds of home: the ECB exchange rates convert the sample's
# national values too (they are reference data, not trade statistics).
REFERENCE_SOURCES = frozenset({"fx"})


class HomeMixError(RuntimeError):
    """A command would put SYNTHETIC sample data and real data in the same home."""


def semitrade_home(kind: HomeKind = "real") -> Path:
    """Root of all data files, made absolute: $SEMITRADE_HOME when set, else the default home of
    ``kind`` (``data/live`` for real data, ``data/sample`` for the offline sample)."""
    chosen = os.environ.get("SEMITRADE_HOME") or DEFAULT_HOMES[kind]
    return Path(chosen).expanduser().resolve()


def paths(kind: HomeKind = "real") -> Paths:
    """The store layout for the current environment (see ``semitrade_home``)."""
    return Paths(semitrade_home(kind))


def home_kind(store: Paths) -> HomeKind | None:
    """What ``store`` holds: 'sample', 'real', or None for a home nothing has been landed in.

    The marker file says it; a home written before markers existed is judged by its manifest
    (any sample file makes it a sample home)."""
    marker = store.home / HOME_MARKER
    if marker.exists():
        try:
            kind = json.loads(marker.read_text(encoding="utf-8")).get("kind")
        except (OSError, ValueError, AttributeError) as exc:
            raise HomeMixError(f"{marker} is unreadable ({exc}): fix or delete it") from None
        if kind in DEFAULT_HOMES:
            return kind
        raise HomeMixError(f"{marker} names an unknown kind {kind!r} (expected 'sample' or 'real')")
    if not store.manifest.exists():
        return None
    origins = set()
    with open(store.manifest, encoding="utf-8") as fh:
        for line in fh:
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if record.get("source") not in REFERENCE_SOURCES:
                origins.add(record.get("origin"))
    if not origins:
        return None
    return "sample" if "sample" in origins else "real"


def check_home(store: Paths, kind: HomeKind) -> None:
    """Stop, writing nothing, when ``store`` holds the other kind of data than ``kind``."""
    held = home_kind(store)
    if held is None or held == kind:
        return
    if held == "sample":
        raise HomeMixError(
            f"the data home {store.home} holds the SYNTHETIC offline sample, and real data (live pulls, "
            "imported files) never shares a home or a warehouse with it. Use another home for real data: "
            f"unset SEMITRADE_HOME to use the default {Path(DEFAULT_HOMES['real']).as_posix()}/, or set "
            "SEMITRADE_HOME to an empty folder (or delete this one to start over)."
        )
    raise HomeMixError(
        f"the data home {store.home} holds real data (live pulls or imported files), and the SYNTHETIC "
        "offline sample never shares a home or a warehouse with it. Run the sample in its own home: unset "
        f"SEMITRADE_HOME to use the default {Path(DEFAULT_HOMES['sample']).as_posix()}/, or set SEMITRADE_HOME "
        "to an empty folder."
    )


def claim_home(store: Paths, kind: HomeKind) -> None:
    """Check ``store`` (see ``check_home``) and record that it holds ``kind`` of data."""
    check_home(store, kind)
    marker = store.home / HOME_MARKER
    if marker.exists():
        return
    store.home.mkdir(parents=True, exist_ok=True)
    body = {"kind": kind, "since": datetime.now(UTC).isoformat(timespec="seconds")}
    tmp = marker.with_name(f".{marker.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(body, sort_keys=True) + "\n", encoding="utf-8")
    os.replace(tmp, marker)


def comtrade_base_url() -> str:
    """Base URL of the UN Comtrade API ($COMTRADE_BASE_URL)."""
    return os.environ.get("COMTRADE_BASE_URL", DEFAULT_COMTRADE_BASE_URL).rstrip("/")


def comtrade_api_key() -> str | None:
    """The Comtrade subscription key, or None. Never log or persist the returned value."""
    key = os.environ.get("COMTRADE_API_KEY", "").strip()
    return key or None


class KeyedClient:
    """A source's client with an API key (``_key``, None without one) at ``base_url``: whether a key is
    set, and a repr that never shows it."""

    _key: str | None
    base_url: str

    @property
    def has_key(self) -> bool:
        """Whether a key is configured (else only the source's public endpoints work)."""
        return self._key is not None

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={self.base_url!r}, key={'***' if self._key else None})"
