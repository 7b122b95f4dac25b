"""The Korea Customs client against a fake data.go.kr server: every error form, the key never leaks."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from ingest.http import RetryPolicy
from ingest.kcs.client import (
    KcsAuthError,
    KcsClient,
    KcsQuery,
    KcsRequestError,
    KcsUnavailableError,
    plan_periods,
)
from tests.fakes import kcs_server


@pytest.mark.parametrize(
    ("start", "end", "chunks"),
    [
        ("201901", "201912", [("201901", "201912")]),
        ("201807", "202003", [("201807", "201812"), ("201901", "201912"), ("202001", "202003")]),
        ("202005", "202005", [("202005", "202005")]),
    ],
    ids=["one-year", "three-calendar-years", "one-month"],
)
def test_periods_are_split_into_calendar_years(start: str, end: str, chunks: list[tuple[str, str]]) -> None:
    assert plan_periods(start, end) == chunks


def test_a_query_across_years_or_without_filters_is_refused_before_any_call() -> None:
    with pytest.raises(KcsRequestError, match="within one calendar year"):
        KcsQuery("201907", "202006", hs="281111")
    with pytest.raises(KcsRequestError, match="hsSgn.*cntyCd"):
        KcsQuery("201901", "201912")


def test_valid_answer_has_the_total_row_first(kcs_client: KcsClient, kcs_state: kcs_server.KcsState) -> None:
    # GIVEN the fake holds 5 HF (2811…) items, 4 of them in 2019
    # WHEN Korea's 2019 HF trade with Japan is asked for
    resp = kcs_client.trade(KcsQuery("201901", "201912", hs="281111", country="JP"))
    # THEN three JP items plus the total row come back, and the key was sent URL-encoded
    assert resp.items == 4
    assert "총계" in resp.content.decode()
    assert "serviceKey=kcs%2Btest%2Fkey%3D%3D" in kcs_state.requests[0]
    assert "serviceKey" not in resp.params and resp.params == {
        "strtYymm": "201901",
        "endYymm": "201912",
        "hsSgn": "281111",
        "cntyCd": "JP",
    }


def test_gateway_unregistered_key_is_an_auth_error_without_the_key(kcs_url: str) -> None:
    client = KcsClient(kcs_url, "wrong+key/secret", min_interval=0)
    with pytest.raises(KcsAuthError, match="SERVICE_KEY_IS_NOT_REGISTERED_ERROR") as info:
        client.trade(KcsQuery("201901", "201912", hs="281111"))
    assert "wrong" not in str(info.value) and "secret" not in str(info.value)


def test_xml_result_code_30_is_an_auth_error(kcs_url: str, kcs_state: kcs_server.KcsState) -> None:
    kcs_state.xml_auth_error = True
    with pytest.raises(KcsAuthError, match="resultCode 30"):
        KcsClient(kcs_url, "other", min_interval=0).trade(KcsQuery("201901", "201912", hs="281111"))


def test_result_code_99_is_a_request_error(kcs_client: KcsClient, monkeypatch: pytest.MonkeyPatch) -> None:
    # GIVEN a query that slips past local validation (neither hsSgn nor cntyCd)
    query = KcsQuery("201901", "201912", hs="281111")
    monkeypatch.setattr(KcsQuery, "params", lambda self: {"strtYymm": "201901", "endYymm": "201912"})
    with pytest.raises(KcsRequestError, match="resultCode 99"):
        kcs_client.trade(query)


def test_429_is_retried_with_backoff_then_succeeds(
    kcs_client: KcsClient, kcs_state: kcs_server.KcsState, sleeps: list[float]
) -> None:
    kcs_state.faults = ["429", "500"]
    resp = kcs_client.trade(KcsQuery("201901", "201912", hs="281111"))
    assert resp.attempts == 3 and resp.items == 5  # 4 items of 2019 + the total row
    assert len(sleeps) == 2


@pytest.mark.parametrize(
    ("faults", "message"),
    [
        (["html"] * 3, "HTML page"),
        (["truncated"] * 3, "not well-formed XML"),
        (["429"] * 3, "HTTP 429"),
        (["latin1"] * 3, "not well-formed XML"),
    ],
    ids=["html-page", "truncated-xml", "rate-limited", "wrong-encoding"],
)
def test_bad_bodies_exhaust_retries_with_a_clear_masked_error(
    kcs_client: KcsClient,
    kcs_state: kcs_server.KcsState,
    faults: list[str],
    message: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    kcs_state.faults = list(faults)
    with caplog.at_level(logging.DEBUG), pytest.raises(KcsUnavailableError, match=message) as info:
        kcs_client.trade(KcsQuery("201901", "201912", hs="281111"))
    assert "gave up after 3 attempt(s)" in str(info.value)
    for text in (str(info.value), caplog.text):
        assert kcs_server.SERVICE_KEY not in text and "kcs%2Btest" not in text


def test_connection_refused_does_not_leak_the_key(sleeps: list[float]) -> None:
    # GIVEN nothing listens on the port; requests' error text carries the full URL with the key
    client = KcsClient(
        "http://127.0.0.1:9",
        "top+secret/key",
        min_interval=0,
        timeout=(0.5, 0.5),
        sleep=sleeps.append,
        retry=RetryPolicy(max_attempts=2, base_delay=0.01, max_total_wait=1),
    )
    with pytest.raises(KcsUnavailableError) as info:
        client.trade(KcsQuery("201901", "201912", hs="281111"))
    assert "top" not in str(info.value).replace("stop", "") and "secret" not in str(info.value)


def test_missing_key_is_refused_without_a_call(
    kcs_url: str, kcs_state: kcs_server.KcsState, monkeypatch: pytest.MonkeyPatch
) -> Any:
    monkeypatch.delenv("DATA_GO_KR_KEY", raising=False)
    monkeypatch.setenv("KCS_BASE_URL", kcs_url)
    with pytest.raises(KcsAuthError, match="DATA_GO_KR_KEY is not set"):
        KcsClient.from_env().trade(KcsQuery("201901", "201912", hs="281111"))
    assert kcs_state.requests == []
