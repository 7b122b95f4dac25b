"""The live scope: which reporters, partners, years and frequencies `semitrade run --mode live` pulls
from every source, read from one TOML file (see scope.toml at the repository root). Products come
from the taxonomy seed (``ingest.reference.semiconductor_hs6``), never from this file."""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from pathlib import Path

from ingest.config import Paths
from ingest.reference import dbt_project_dir, read_seed, semiconductor_hs6

SCOPE_FILE = "scope.toml"
KOREA = 410
JAPAN = 392
WORLD = 0


class ScopeError(ValueError):
    """The scope file is missing or invalid: the message names the file and the problem."""


@dataclass(frozen=True)
class Scope:
    """What to pull. Partners empty = every partner."""

    path: Path
    reporters: tuple[int, ...]
    partners: tuple[int, ...]
    first_year: int
    last_year: int
    comtrade_freqs: tuple[str, ...] = ("M",)
    comtrade_flows: tuple[str, ...] = ("M", "X")
    segments: tuple[str, ...] = ()

    @property
    def years(self) -> tuple[int, ...]:
        return tuple(range(self.first_year, self.last_year + 1))

    def hs6_codes(self, year: int | None = None) -> tuple[str, ...]:
        """The taxonomy's HS6 codes (the scope's segments) in the HS version in force in ``year``, or of
        every HS version when None (Comtrade: a reporter may still use an older version)."""
        return semiconductor_hs6(year, self.segments)

    def kcs_countries(self) -> tuple[str | None, ...]:
        """Korea Customs partner codes (ISO2) of the scope; (None,) = every partner in one call."""
        wanted = [p for p in self.partners if p != WORLD]
        if not self.partners or not wanted:
            return (None,)
        iso2 = {int(r["m49_code"]): r["iso2"] for r in read_seed("kcs_country_codes") if r["m49_code"]}
        missing = [p for p in wanted if p not in iso2]
        if missing:
            raise ScopeError(
                f"{self.path}: partners {missing} have no Korea Customs country code (kcs_country_codes)"
            )
        return tuple(sorted({iso2[p] for p in wanted}))

    def japan_countries(self) -> tuple[str, ...]:
        """Japan MOF 3-digit partner codes of the scope; () = every partner."""
        wanted = [p for p in self.partners if p != WORLD]
        if not wanted:
            return ()
        codes: dict[int, list[str]] = {}
        for row in read_seed("japan_customs_country_codes"):
            if row.get("m49_code"):
                codes.setdefault(int(row["m49_code"]), []).append(row["japan_code"])
        return tuple(sorted({c for p in wanted for c in codes.get(p, [])}))


def scope_path(store: Paths | None = None, explicit: str | Path | None = None) -> Path:
    """Which scope file applies: ``explicit``, $SEMITRADE_SCOPE, <home>/scope.toml, the repository's."""
    if explicit:
        return Path(explicit).expanduser().resolve()
    env = os.environ.get("SEMITRADE_SCOPE")
    if env:
        return Path(env).expanduser().resolve()
    if store is not None and (store.home / SCOPE_FILE).exists():
        return store.home / SCOPE_FILE
    return dbt_project_dir().parent / SCOPE_FILE


def _int_list(path: Path, table: dict, name: str) -> tuple[int, ...]:
    value = table.get(name, [])
    if not isinstance(value, list) or not all(isinstance(v, int) and not isinstance(v, bool) for v in value):
        raise ScopeError(f"{path}: [scope] {name} must be a list of integer M49 codes, got {value!r}")
    return tuple(value)


def _str_list(
    path: Path, table: dict, name: str, allowed: tuple[str, ...], default: tuple[str, ...]
) -> tuple[str, ...]:
    value = table.get(name, list(default))
    if not isinstance(value, list) or any(v not in allowed for v in value):
        raise ScopeError(f"{path}: [scope] {name} must be a list drawn from {list(allowed)}, got {value!r}")
    return tuple(value)


def load_scope(store: Paths | None = None, explicit: str | Path | None = None) -> Scope:
    """Read and check the scope file (see ``scope_path``)."""
    path = scope_path(store, explicit)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ScopeError(f"scope file {path} does not exist (copy scope.toml from the repository)") from None
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ScopeError(f"scope file {path} is not valid TOML: {exc}") from None
    table = raw.get("scope")
    if not isinstance(table, dict):
        raise ScopeError(f"{path}: no [scope] table")
    unknown = sorted(
        set(table)
        - {"reporters", "partners", "first_year", "last_year", "comtrade_freqs", "comtrade_flows", "segments"}
    )
    if unknown:
        raise ScopeError(f"{path}: unknown [scope] keys {unknown}")
    reporters = _int_list(path, table, "reporters")
    if not reporters:
        raise ScopeError(
            f"{path}: [scope] reporters is empty: name at least one M49 code (410 Korea, 392 Japan)"
        )
    first, last = table.get("first_year"), table.get("last_year")
    if not isinstance(first, int) or not isinstance(last, int) or not 1988 <= first <= last <= 2100:
        raise ScopeError(
            f"{path}: [scope] first_year and last_year must be years with first_year <= last_year, got {first!r}, {last!r}"
        )
    segments = tuple(sorted({r["segment"] for r in read_seed("semiconductor_taxonomy")}))
    return Scope(
        path=path,
        reporters=reporters,
        partners=_int_list(path, table, "partners"),
        first_year=first,
        last_year=last,
        comtrade_freqs=_str_list(path, table, "comtrade_freqs", ("A", "M"), ("M",)) or ("M",),
        comtrade_flows=_str_list(path, table, "comtrade_flows", ("M", "X", "RM", "RX"), ("M", "X"))
        or ("M", "X"),
        segments=_str_list(path, table, "segments", segments, ()),
    )
