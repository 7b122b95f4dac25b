"""The Comtrade HTTP client against a fake Comtrade server on 127.0.0.1 and real recordings."""

from __future__ import annotations

import json
import logging
import random
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from ingest.comtrade.client import (
    KEY_HEADER,
    BulkFile,
    ComtradeAuthError,
    ComtradeRequestError,
    ComtradeUnavailableError,
    QuotaExhaustedError,
)
from ingest.http import RetryPolicy
from tests.fakes.comtrade_records import make_dataset
from tests.fakes.comtrade_server import API_KEY, FakeComtrade, Fault, reference_payloads

PARAMS = {
    "reporterCode": "410",
    "period": "201901",
    "partnerCode": "392",
    "partner2Code": "0",
    "customsCode": "C00",
    "motCode": "0",
    "cmdCode": "281111",
    "flowCode": "M,X",
}


@pytest.fixture
def server(comtrade_fixtures: Path) -> Iterator[FakeComtrade]:
    records = make_dataset([410], [392, 156], ["201901", "201902"], ["281111", "370790"])
    with FakeComtrade(records, references=reference_payloads(comtrade_fixtures)) as fake:
        yield fake


def test_get_sends_key_in_header_and_returns_records(
    server: FakeComtrade, make_client: Callable[..., Any]
) -> None:
    resp = make_client(server.url).get_records("C", "M", "HS", PARAMS)
    assert resp.count == 2 and len(resp.data) == 2
    assert {r["flowCode"] for r in resp.data} == {"M", "X"}
    assert json.loads(resp.content) == resp.body
    (req,) = server.log
    assert req.had_key and req.path == "/data/v1/get/C/M/HS"
    assert req.params["partner2Code"] == "0" and API_KEY not in json.dumps(req.params)


@pytest.mark.parametrize(
    ("fault", "min_wait"),
    [
        pytest.param(Fault("429", retry_after=7), 7.0, id="429-body-try-again-in-7-seconds"),
        pytest.param(Fault("429-header", retry_after=5), 5.0, id="429-retry-after-header"),
        pytest.param(Fault("5xx", times=3), 0.0, id="503-burst"),
        pytest.param(Fault("truncated"), 0.0, id="truncated-json-200"),
        pytest.param(Fault("html"), 0.0, id="html-200"),
        pytest.param(Fault("reset"), 0.0, id="connection-dropped"),
    ],
)
def test_transient_failures_are_retried(
    server: FakeComtrade, make_client: Callable[..., Any], sleeps: list[float], fault: Fault, min_wait: float
) -> None:
    server.faults.append(fault)
    times = fault.times
    resp = make_client(server.url).get_records("C", "M", "HS", PARAMS)
    assert resp.count == 2
    assert resp.attempts == times + 1
    assert len(server.log) == times + 1
    assert len(sleeps) == times
    assert max(sleeps) >= min_wait  # the server's "try again in N seconds" is honoured


def test_slow_response_times_out_and_is_retried(
    server: FakeComtrade, make_client: Callable[..., Any]
) -> None:
    server.faults.append(Fault("slow", delay=2.0))
    resp = make_client(server.url, timeout=(1.0, 1.0)).get_records("C", "M", "HS", PARAMS)
    assert resp.count == 2 and resp.attempts == 2


def test_retries_are_bounded_by_attempts(server: FakeComtrade, make_client: Callable[..., Any]) -> None:
    server.faults.append(Fault("5xx", times=10))
    client = make_client(server.url, retry=RetryPolicy(max_attempts=3, base_delay=0.01, max_total_wait=60))
    with pytest.raises(ComtradeUnavailableError, match=r"gave up after 3 attempt\(s\).*HTTP 503"):
        client.get_records("C", "M", "HS", PARAMS)
    assert len(server.log) == 3


def test_retries_are_bounded_by_total_wait(
    server: FakeComtrade, make_client: Callable[..., Any], sleeps: list[float]
) -> None:
    server.faults.append(Fault("429-header", retry_after=3600))
    client = make_client(server.url, retry=RetryPolicy(max_attempts=10, base_delay=0.01, max_total_wait=30))
    with pytest.raises(ComtradeUnavailableError, match="gave up after 1 attempt"):
        client.get_records("C", "M", "HS", PARAMS)
    assert sleeps == []  # never sleeps an hour when only 30 s are allowed


@pytest.mark.parametrize(
    ("fault", "message"),
    [
        pytest.param("invalid-key", "HTTP 401, the subscription key was refused", id="401"),
        pytest.param("forbidden-key", "HTTP 403, the key is invalid, expired", id="403-invalid-key"),
    ],
)
def test_bad_key_fails_at_once_without_leaking_it(
    server: FakeComtrade, make_client: Callable[..., Any], fault: str, message: str
) -> None:
    server.faults.append(Fault(fault))
    with pytest.raises(ComtradeAuthError, match=message) as info:
        make_client(server.url).get_records("C", "M", "HS", PARAMS)
    assert len(server.log) == 1
    assert API_KEY not in str(info.value) and API_KEY not in repr(info.value)
    assert "COMTRADE_API_KEY" in str(info.value)


def test_wrong_key_is_refused_by_the_server(server: FakeComtrade, make_client: Callable[..., Any]) -> None:
    wrong = "wrong-key-secret-987"
    with pytest.raises(ComtradeAuthError) as info:
        make_client(server.url, api_key=wrong).get_records("C", "M", "HS", PARAMS)
    assert wrong not in str(info.value)


def test_quota_raises_with_replenish_time(server: FakeComtrade, make_client: Callable[..., Any]) -> None:
    server.quota_after = 0
    with pytest.raises(QuotaExhaustedError, match="replenished in 5:43:21") as info:
        make_client(server.url).get_records("C", "M", "HS", PARAMS)
    assert info.value.replenish_in == timedelta(hours=5, minutes=43, seconds=21)
    assert len(server.log) == 1  # not retried


def test_key_is_never_logged_or_shown(
    server: FakeComtrade, make_client: Callable[..., Any], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    server.faults += [Fault("5xx"), Fault("html"), Fault("invalid-key")]
    client = make_client(server.url)
    with pytest.raises(ComtradeAuthError) as info:
        client.get_records("C", "M", "HS", PARAMS)
    assert "retrying" in caplog.text
    assert API_KEY not in caplog.text
    assert API_KEY not in repr(client) and "***" in repr(client)
    assert API_KEY not in "".join(str(a) for a in info.value.args)


def test_preview_needs_no_key_and_caps_at_500(server: FakeComtrade, make_client: Callable[..., Any]) -> None:
    client = make_client(server.url, api_key=None)
    assert not client.has_key
    resp = client.records("C", "M", "HS", {**PARAMS, "maxRecords": "100000"})
    assert resp.count == 2
    (req,) = server.log
    assert req.path == "/public/v1/preview/C/M/HS" and not req.had_key
    assert req.params["maxRecords"] == "500"


def test_keyless_client_refuses_key_only_endpoints(make_client: Callable[..., Any]) -> None:
    client = make_client("http://127.0.0.1:9", api_key=None)
    with pytest.raises(ComtradeAuthError, match="needs a subscription key: set COMTRADE_API_KEY"):
        client.get_records("C", "M", "HS", PARAMS)


def test_unknown_parameter_returns_count_zero_not_an_error(
    server: FakeComtrade, make_client: Callable[..., Any]
) -> None:
    resp = make_client(server.url).get_records("C", "M", "HS", {**PARAMS, "reporterCde": "410"})
    assert resp.count == 0 and resp.data == []


def test_availability_uses_data_or_public_endpoint(
    server: FakeComtrade, make_client: Callable[..., Any]
) -> None:
    rows = make_client(server.url).availability("C", "M", "HS", {"reporterCode": "410", "period": "201901"})
    assert [(r["reporterCode"], r["period"], r["totalRecords"]) for r in rows] == [(410, "201901", 32)]
    assert {"datasetChecksum", "firstReleased", "lastReleased"} <= rows[0].keys()
    make_client(server.url, api_key=None).availability("C", "M", "HS", {"reporterCode": "410"})
    assert [r.path for r in server.log] == ["/data/v1/getDa/C/M/HS", "/public/v1/getDa/C/M/HS"]
    assert [r.had_key for r in server.log] == [True, False]


def test_reference_list_from_recording(
    server: FakeComtrade, make_client: Callable[..., Any], comtrade_fixtures: Path
) -> None:
    body = make_client(server.url).reference("ModeOfTransportCodes")
    recorded = json.loads((comtrade_fixtures / "reference_ModeOfTransportCodes.json").read_text())
    assert body == recorded
    assert {r["id"]: r["text"] for r in body["results"]}["2100"] == "Sea"
    assert not server.log[0].had_key  # reference files are public
    with pytest.raises(ComtradeRequestError, match="must be letters"):
        make_client(server.url).reference("../secrets")


def test_missing_resource_is_a_request_error(server: FakeComtrade, make_client: Callable[..., Any]) -> None:
    with pytest.raises(ComtradeRequestError, match="HTTP 404"):
        make_client(server.url).reference("NoSuchList")


def test_throttle_spaces_calls(
    server: FakeComtrade, make_client: Callable[..., Any], sleeps: list[float]
) -> None:
    client = make_client(server.url, min_interval=5.0)
    client.get_records("C", "M", "HS", PARAMS)
    client.get_records("C", "M", "HS", PARAMS)
    assert len(sleeps) == 1 and 4.0 < sleeps[0] <= 5.0


def test_recorded_bulk_listing_parses(comtrade_fixtures: Path) -> None:
    rows = json.loads((comtrade_fixtures / "bulk_v1_get_C_A_HS_filelist.json").read_text())["data"]
    (f,) = [BulkFile.from_row(r) for r in rows]
    assert f.file_hash == "b07f98ee4cfb477c5b86923bbf159d48ca519ccb35c35865b3578b075fc918fb"
    assert (f.reporter_code, f.period, f.ref_period_id, f.classification_code) == (32, "1962", 196201, "S1")
    assert f.publication_date == "2003-04-29T11:24:10Z"
    assert f.approx_bytes == int(183.34 * 1024)


def test_recorded_empty_response_is_accepted(
    comtrade_fixtures: Path, make_client: Callable[..., Any]
) -> None:
    from ingest.comtrade.client import _check_body

    body = _check_body((comtrade_fixtures / "data_v1_get_S_A_EB_empty.json").read_bytes(), "data")
    assert body["count"] == 0 and body["data"] == []


@pytest.mark.parametrize("attempt", [1, 2, 3, 8])
def test_backoff_is_exponential_with_bounded_jitter(attempt: int) -> None:
    policy = RetryPolicy(base_delay=1.0, max_delay=30.0, jitter=0.5)
    waits = [policy.backoff(attempt, random.Random(seed)) for seed in range(50)]
    full = min(30.0, 2 ** (attempt - 1))
    assert all(full * 0.5 <= w <= full for w in waits)
    assert len(set(waits)) > 1  # jittered


def test_key_header_name() -> None:
    assert KEY_HEADER == "Ocp-Apim-Subscription-Key"
