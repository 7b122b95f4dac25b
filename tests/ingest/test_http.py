"""The shared HTTP layer (ingest/http.py) against a real HTTP server on 127.0.0.1: Retry-After,
5xx bursts, the attempt and wait budgets, the throttle, resumable downloads and secret masking."""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus

import pytest
import requests

from ingest.http import (
    PoliteHttp,
    RetriesExhaustedError,
    RetryPolicy,
    TransientError,
    env_float,
    looks_like_html,
    short,
)

SECRET = "s3cr+t/key=="  # a key with characters that URL encoding changes


@dataclass
class Reply:
    status: int = 200
    body: bytes = b"ok"
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Script:
    """What the server answers, in order (then ``default``), and what it received."""

    replies: list[Reply] = field(default_factory=list)
    default: Reply = field(default_factory=Reply)
    requests: list[tuple[float, str, dict[str, str]]] = field(default_factory=list)  # (time, path, headers)


@pytest.fixture
def server() -> Iterator[tuple[str, Script]]:
    script = Script()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            script.requests.append((time.monotonic(), self.path, dict(self.headers)))
            reply = script.replies.pop(0) if script.replies else script.default
            body = reply.body.replace(b"{path}", self.path.encode())
            self.send_response(reply.status)
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}", script
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def make_http(sleeps: list[float]) -> Iterator[Callable[..., PoliteHttp]]:
    """Clients with tiny retry waits whose sleeps are recorded instead of slept; closed afterwards."""
    made: list[PoliteHttp] = []

    def factory(**kw: Any) -> PoliteHttp:
        kw.setdefault("min_interval", 0.0)
        kw.setdefault("timeout", (2.0, 2.0))
        kw.setdefault(
            "retry", RetryPolicy(max_attempts=4, base_delay=0.01, max_delay=0.05, max_total_wait=60)
        )
        kw.setdefault("sleep", sleeps.append)
        made.append(PoliteHttp(**kw))
        return made[-1]

    yield factory
    for http in made:
        http.close()


def text_check(resp: requests.Response, content: bytes) -> str:
    return content.decode()


@pytest.mark.parametrize(
    ("reply", "min_wait"),
    [
        pytest.param(Reply(429, b"slow down", {"Retry-After": "7"}), 7.0, id="retry-after-header"),
        pytest.param(
            Reply(429, b"Rate limit is exceeded. Try again in 5 seconds."), 5.0, id="try-again-body"
        ),
        pytest.param(Reply(503, b"busy", {"Retry-After": "soon"}), 0.0, id="unreadable-retry-after"),
    ],
)
def test_429_waits_at_least_what_the_server_asks(
    server: tuple[str, Script],
    sleeps: list[float],
    make_http: Callable[..., PoliteHttp],
    reply: Reply,
    min_wait: float,
) -> None:
    # GIVEN a server that refuses once and then answers
    url, script = server
    script.replies = [reply]
    # WHEN a GET is made
    result, text = make_http().get(url + "/data", {}, check=text_check, label="test")
    # THEN it is retried once, after a wait of at least the announced seconds (and no more than backoff else)
    assert (result.status, text, result.attempts) == (200, "ok", 2)
    assert len(script.requests) == 2 and len(sleeps) == 1
    assert sleeps[0] >= min_wait and (min_wait > 0 or sleeps[0] <= 0.01)


def test_5xx_burst_then_success(
    server: tuple[str, Script], sleeps: list[float], make_http: Callable[..., PoliteHttp]
) -> None:
    url, script = server
    script.replies = [Reply(503, b"down"), Reply(502, b"gateway"), Reply(500, b"oops")]
    http = make_http()
    result, text = http.get(url + "/x", {"a": "1"}, check=text_check, label="test")
    assert (text, result.attempts, len(script.requests), http.calls) == ("ok", 4, 4, 4)
    assert len(sleeps) == 3 and all(0.005 <= s <= 0.05 for s in sleeps)  # bounded, jittered backoff
    assert http.waited == pytest.approx(sum(sleeps))
    assert result.url.endswith("/x?a=1")


def test_attempts_exhausted_raise_with_the_last_problem(
    server: tuple[str, Script], sleeps: list[float], make_http: Callable[..., PoliteHttp]
) -> None:
    url, script = server
    script.default = Reply(503, b"Service Unavailable")
    http = make_http(retry=RetryPolicy(max_attempts=3, base_delay=0.01, max_total_wait=60))
    with pytest.raises(
        RetriesExhaustedError, match=r"^Comtrade /x: gave up after 3 attempt\(s\) and"
    ) as info:
        http.get(url + "/x", {}, check=text_check, label="Comtrade /x")
    assert "last problem: HTTP 503: Service Unavailable" in str(info.value)
    assert info.value.reason == "HTTP 503: Service Unavailable"
    assert len(script.requests) == 3 and len(sleeps) == 2


def test_wait_budget_exhausted_never_sleeps_past_it(
    server: tuple[str, Script], sleeps: list[float], make_http: Callable[..., PoliteHttp]
) -> None:
    # GIVEN a server asking for an hour when only 30 s of waiting are allowed
    url, script = server
    script.default = Reply(429, b"later", {"Retry-After": "3600"})
    http = make_http(retry=RetryPolicy(max_attempts=10, base_delay=0.01, max_total_wait=30))
    # THEN the call gives up at once instead of sleeping
    with pytest.raises(
        RetriesExhaustedError, match=r"gave up after 1 attempt\(s\) and 0.0s of waiting.*HTTP 429"
    ):
        http.get(url + "/x", {}, check=text_check, label="test")
    assert sleeps == [] and len(script.requests) == 1


def test_check_decides_what_is_transient(
    server: tuple[str, Script], sleeps: list[float], make_http: Callable[..., PoliteHttp]
) -> None:
    url, script = server
    script.replies = [Reply(200, b"<html><body>maintenance</body></html>")]

    def check(resp: requests.Response, content: bytes) -> str:
        if looks_like_html(content):
            raise TransientError("an HTML page came back")
        if resp.status_code == 404:
            raise LookupError("not published")
        return content.decode()

    result, text = make_http().get(url + "/x", {}, check=check, label="test")
    assert (text, result.attempts) == ("ok", 2)
    # a non-transient exception of the check stops at once, without a retry
    script.replies = [Reply(404, b"no such file")]
    with pytest.raises(LookupError, match="not published"):
        make_http().get(url + "/x", {}, check=check, label="test")
    assert len(script.requests) == 3


def test_timeouts_and_refused_connections_are_retried(
    sleeps: list[float], make_http: Callable[..., PoliteHttp]
) -> None:
    http = make_http(timeout=(0.5, 0.5), retry=RetryPolicy(max_attempts=2, base_delay=0.01))
    with pytest.raises(RetriesExhaustedError, match=r"gave up after 2 attempt\(s\)"):
        http.get("http://127.0.0.1:9/x", {}, check=text_check, label="test")
    assert http.calls == 2 and len(sleeps) == 1


def test_throttle_spaces_calls_by_the_minimum_interval(server: tuple[str, Script]) -> None:
    # GIVEN a client that really sleeps, with 0.3 s between calls
    url, script = server
    http = PoliteHttp(min_interval=0.3, timeout=(2.0, 2.0))
    # WHEN four calls are made back to back
    with contextlib.closing(http):
        for _ in range(4):
            http.get(url + "/x", {}, check=text_check, label="test")
    # THEN the server saw them at least 0.3 s apart, and the client counted the waits
    arrivals = [t for t, _, _ in script.requests]
    gaps = [b - a for a, b in zip(arrivals, arrivals[1:], strict=False)]
    assert len(gaps) == 3 and min(gaps) >= 0.25
    assert 0 < http.waited <= 0.9 + 0.01


def test_secrets_are_masked_in_log_records_and_errors(
    server: tuple[str, Script],
    sleeps: list[float],
    make_http: Callable[..., PoliteHttp],
    caplog: pytest.LogCaptureFixture,
) -> None:
    # GIVEN a server that echoes the request URL (with the key) in its error bodies
    url, script = server
    script.default = Reply(500, b"error for {path}")
    http = make_http(secrets=(SECRET,), retry=RetryPolicy(max_attempts=2, base_delay=0.01))
    caplog.set_level(logging.DEBUG)
    # WHEN a call with the key in the query string fails for good
    with pytest.raises(RetriesExhaustedError) as info:
        http.get(url + "/api", {"serviceKey": SECRET, "hs": "281111"}, check=text_check, label="KCS")
    # THEN the key reached the server, but no log record and no message holds it in any encoding
    assert quote_plus(SECRET) in script.requests[0][1]
    forms = {SECRET, quote(SECRET, safe=""), quote_plus(SECRET), quote(SECRET)}
    texts = [r.getMessage() for r in caplog.records] + [str(info.value), info.value.reason]
    assert any("serviceKey=***" in t for t in texts)  # urllib3's URL line, masked
    assert any("retrying" in t for t in texts)  # our own warning, masked
    assert [t for t in texts if any(f in t for f in forms)] == []


@pytest.mark.parametrize("name", ["serviceKey", "key", "appId"])
def test_key_like_query_values_are_masked_in_third_party_logs(
    server: tuple[str, Script],
    sleeps: list[float],
    make_http: Callable[..., PoliteHttp],
    caplog: pytest.LogCaptureFixture,
    name: str,
) -> None:
    # GIVEN a client that was not told the secret (the URL pattern alone must hide it)
    url, _ = server
    caplog.set_level(logging.DEBUG)
    make_http().get(url + "/x", {name: "hidden-value-123"}, check=text_check, label="test")
    assert f"{name}=***" in caplog.text and "hidden-value-123" not in caplog.text


def test_a_closed_client_stops_masking_its_secret_in_third_party_logs(
    sleeps: list[float], make_http: Callable[..., PoliteHttp]
) -> None:
    from ingest import http as http_module

    http = make_http(secrets=("only-while-open",))
    record = logging.LogRecord(
        "urllib3.connectionpool", logging.DEBUG, __file__, 1, "x %s", ("only-while-open",), None
    )
    assert http_module._REDACTOR.filter(record) and record.getMessage() == "x ***"
    http.close()
    record = logging.LogRecord(
        "urllib3.connectionpool", logging.DEBUG, __file__, 1, "x %s", ("only-while-open",), None
    )
    assert http_module._REDACTOR.filter(record) and record.getMessage() == "x only-while-open"


def test_download_resumes_with_range_and_checks_the_size(
    server: tuple[str, Script], sleeps: list[float], make_http: Callable[..., PoliteHttp], tmp_path: Path
) -> None:
    # GIVEN a 10-byte file whose first answer stops after 4 bytes (the size is announced in Content-Range)
    url, script = server
    script.replies = [
        Reply(206, b"0123", {"Content-Range": "bytes 0-3/10"}),
        Reply(206, b"456789", {"Content-Range": "bytes 4-9/10"}),
    ]
    part = tmp_path / "file.part"
    size = make_http().download(url + "/f", {}, part, label="test", check=lambda resp: None)
    # THEN the second request asks for the rest, and the file is whole
    assert size == 10 and part.read_bytes() == b"0123456789"
    assert "Range" not in script.requests[0][2] and script.requests[1][2]["Range"] == "bytes=4-"
    assert len(sleeps) == 1


def test_env_float_reads_a_number_or_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("X_MIN_INTERVAL", raising=False)
    assert env_float("X_MIN_INTERVAL", 1.5, ValueError) == 1.5
    monkeypatch.setenv("X_MIN_INTERVAL", " 0.25 ")
    assert env_float("X_MIN_INTERVAL", 1.5, ValueError) == 0.25
    monkeypatch.setenv("X_MIN_INTERVAL", "fast")
    with pytest.raises(RuntimeError, match=r"\$X_MIN_INTERVAL must be a number of seconds, not 'fast'"):
        env_float("X_MIN_INTERVAL", 1.5, RuntimeError)


def test_short_keeps_one_line_of_bounded_length() -> None:
    assert short("a\n  b\tc") == "a b c"
    assert short("x" * 300, 10) == "x" * 10 + "…"
