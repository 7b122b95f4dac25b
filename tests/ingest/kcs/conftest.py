"""Fixtures for the national-statistics tests: an isolated store, a fake KCS server, fast clients."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.fakes import kcs_server


@pytest.fixture
def home(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    """An empty store under tmp_path; returns ingest.config.paths()."""
    from ingest import config

    monkeypatch.setenv("SEMITRADE_HOME", str(tmp_path / "home"))
    return config.paths()


@pytest.fixture
def kcs_state() -> kcs_server.KcsState:
    return kcs_server.KcsState(
        items=[
            kcs_server.item("2019.01", "JP", "2811111000", imp_usd=3_000_000, imp_kg=2_500_000),
            kcs_server.item("2019.01", "JP", "2811119000", imp_usd=1_000_000, imp_kg=900_000),
            kcs_server.item("2019.01", "CN", "2811111000", imp_usd=500_000, exp_usd=20_000),
            kcs_server.item("2019.07", "JP", "2811111000", imp_usd=200_000),
            kcs_server.item("2020.02", "JP", "2811111000", imp_usd=900_000),
            kcs_server.item("2019.01", "JP", "3707901010", imp_usd=77_000),
        ]
    )


@pytest.fixture
def kcs_url(kcs_state: kcs_server.KcsState) -> Iterator[str]:
    with kcs_server.FakeKcs(kcs_state) as fake:
        yield fake.url


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def kcs_client(kcs_url: str, sleeps: list[float]) -> Any:
    from ingest.http import RetryPolicy
    from ingest.kcs.client import KcsClient

    return KcsClient(
        kcs_url,
        kcs_server.SERVICE_KEY,
        min_interval=0,
        timeout=(2, 5),
        sleep=sleeps.append,
        retry=RetryPolicy(max_attempts=3, base_delay=0.01, max_delay=0.05, max_total_wait=5),
    )
