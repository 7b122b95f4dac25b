"""Fixtures for the Comtrade tests: a fake Comtrade server, an isolated SEMITRADE_HOME, fast clients."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest


@pytest.fixture
def comtrade_fixtures(pytestconfig: pytest.Config) -> Path:
    """tests/fixtures/comtrade: real recorded responses (see its README)."""
    return pytestconfig.rootpath / "tests" / "fixtures" / "comtrade"


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    """An empty store under tmp_path; returns ingest.config.paths()."""
    from ingest import config

    monkeypatch.setenv("SEMITRADE_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("COMTRADE_API_KEY", raising=False)
    monkeypatch.delenv("COMTRADE_BASE_URL", raising=False)
    return config.paths()


@pytest.fixture
def sleeps() -> list[float]:
    """Waits requested by clients made with ``make_client`` (recorded, not slept)."""
    return []


@pytest.fixture
def make_client(sleeps: list[float]) -> Iterator[Callable[..., Any]]:
    """Factory for a client with tiny retry waits whose sleeps are recorded instead of slept."""
    from ingest.comtrade.client import ComtradeClient
    from ingest.http import RetryPolicy
    from tests.fakes.comtrade_server import API_KEY

    made: list[ComtradeClient] = []

    def factory(base_url: str, api_key: str | None = API_KEY, **kw: Any) -> ComtradeClient:
        kw.setdefault(
            "retry", RetryPolicy(max_attempts=5, base_delay=0.01, max_delay=0.05, max_total_wait=60)
        )
        kw.setdefault("min_interval", 0.0)
        kw.setdefault("timeout", (2.0, 2.0))
        kw.setdefault("sleep", sleeps.append)
        client = ComtradeClient(base_url, api_key, **kw)
        made.append(client)
        return client

    yield factory
    for c in made:
        c.close()
