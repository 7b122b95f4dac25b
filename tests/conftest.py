"""Shared fixtures: an isolated SEMITRADE_HOME per test, and the paths of the real reference fixtures."""

from __future__ import annotations

from pathlib import Path

import pytest

from ingest.config import Paths, paths

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Paths:
    """A fresh, empty data directory for one test."""
    monkeypatch.setenv("SEMITRADE_HOME", str(tmp_path / "data"))
    return paths()


@pytest.fixture
def fixtures_dir() -> Path:
    return FIXTURES
