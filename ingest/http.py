"""The one HTTP layer of every source (Comtrade, Korea Customs, Japan MOF and e-Stat, ECB).

``PoliteHttp`` owns a ``requests.Session`` (connection reuse), puts a timeout on every call, keeps a
minimum interval between calls (throttle) and retries transient failures with exponential backoff
and jitter (``RetryPolicy``), honouring a server's Retry-After (header, or "try again in N seconds"
in the body), within a number of attempts and a total budget of seconds spent waiting. Transient:
HTTP 408, 429 and 5xx, connection errors, timeouts, broken transfers, and whatever a caller's check
raises as :class:`TransientError` (an HTML page or a cut-off body where data was expected). Any other
exception of a check stops at once: each client maps statuses and bodies to its own errors.

Secrets given to a client (keys, application IDs) are masked, raw and URL-encoded, out of every
message and log line of this layer; ``serviceKey=``, ``key=`` and ``appId=`` query values are also
masked out of the debug lines of urllib3 and requests, which print full request URLs.
"""

from __future__ import annotations

import hashlib
import logging
import os
import random
import re
import threading
import time
import weakref
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote, quote_plus

import requests

log = logging.getLogger(__name__)

T = TypeVar("T")

_KEY_IN_URL = re.compile(r"(?i)((?:service)?key=|appid=)[^&\s\"']+")
_SECRET_PARAM = re.compile(r"(?i)^((service)?key|appid)$")
_TRY_AGAIN = re.compile(r"try again in (\d+(?:\.\d+)?)\s*second", re.IGNORECASE)
_CONTENT_SIZE = re.compile(r"size=(\d+)")
_URL_LOGGERS = ("urllib3.connectionpool", "urllib3.util.retry", "requests")


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to retry transient failures: at most ``max_attempts`` tries and ``max_total_wait``
    seconds of sleeping in all; the n-th wait is ``base_delay * 2**(n-1)`` capped at ``max_delay``,
    with up to ``jitter`` of it randomised. A server-announced wait (Retry-After) is honoured."""

    max_attempts: int = 6
    base_delay: float = 2.0
    max_delay: float = 120.0
    max_total_wait: float = 600.0
    jitter: float = 0.5

    def backoff(self, attempt: int, rng: random.Random) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1-based), jitter included."""
        delay = min(self.max_delay, self.base_delay * 2 ** (attempt - 1))
        return delay * (1 - self.jitter * rng.random())


class TransientError(Exception):
    """A failure worth retrying, with the server's requested wait (seconds) if it gave one."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class RetriesExhaustedError(RuntimeError):
    """Every attempt failed with a transient problem, or the next wait would exceed the budget.

    The message names the call, the attempts and the seconds waited; ``reason`` is the last problem
    (masked). Clients re-raise it as their own "unavailable" error.
    """

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    TransientError,
    requests.ConnectionError,
    requests.Timeout,
    requests.exceptions.ChunkedEncodingError,
    requests.exceptions.ContentDecodingError,
)


@dataclass(frozen=True)
class HttpResult:
    """A successful GET: status, headers, raw bytes as received, and the number of attempts."""

    url: str  # masked
    status: int
    headers: dict[str, str]
    content: bytes
    attempts: int


class _RedactSecrets(logging.Filter):
    """Masks key-like query values and the secrets of every open client out of third-party log
    lines (urllib3 logs full request URLs at DEBUG)."""

    def __init__(self) -> None:
        super().__init__()
        self._clients: weakref.WeakSet[PoliteHttp] = weakref.WeakSet()
        self._lock = threading.Lock()

    def register(self, client: PoliteHttp) -> None:
        with self._lock:
            self._clients.add(client)

    def unregister(self, client: PoliteHttp) -> None:
        with self._lock:
            self._clients.discard(client)

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = _KEY_IN_URL.sub(r"\1***", message)
        with self._lock:
            clients = list(self._clients)
        for client in clients:
            masked = client.mask_secrets(masked)
        if masked != message:
            record.msg, record.args = masked, None
        return True


_REDACTOR = _RedactSecrets()
for _name in _URL_LOGGERS:
    if not any(isinstance(f, _RedactSecrets) for f in logging.getLogger(_name).filters):
        logging.getLogger(_name).addFilter(_REDACTOR)


class PoliteHttp:
    """GET with a throttle, timeouts and bounded retries; secrets never appear in messages or logs."""

    def __init__(
        self,
        *,
        timeout: tuple[float, float] = (10.0, 120.0),
        min_interval: float = 1.0,
        retry: RetryPolicy | None = None,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
        secrets: tuple[str | None, ...] = (),
    ) -> None:
        self.timeout = timeout
        self.min_interval = min_interval
        self.retry = retry or RetryPolicy(max_attempts=5, base_delay=2.0, max_total_wait=300.0)
        self._session = session or requests.Session()
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._secrets = tuple(s for s in secrets if s)
        self._last_call = 0.0
        self.calls = 0  # HTTP requests sent, retries included
        self.waited = 0.0  # seconds slept for throttling and backoff
        if self._secrets:
            _REDACTOR.register(self)

    def close(self) -> None:
        """Close the session and stop masking this client's secrets in third-party logs."""
        _REDACTOR.unregister(self)
        self._session.close()

    def __repr__(self) -> str:
        return f"PoliteHttp(min_interval={self.min_interval}, secrets={'***' if self._secrets else None})"

    def mask(self, text: str) -> str:
        """``text`` with key-like query values and every secret (raw, %-encoded, +-encoded) as ***."""
        return self.mask_secrets(_KEY_IN_URL.sub(r"\1***", text))

    def mask_secrets(self, text: str) -> str:
        """``text`` with this client's secrets (raw, %-encoded, +-encoded) as ***."""
        for secret in self._secrets:
            for form in {secret, quote(secret, safe=""), quote_plus(secret), quote(secret)}:
                text = text.replace(form, "***")
        return text

    def _throttle(self) -> None:
        wait = self._last_call + self.min_interval - time.monotonic()
        if wait > 0:
            self._sleep(wait)
            self.waited += wait
        self._last_call = time.monotonic()

    def send(
        self,
        url: str,
        params: Mapping[str, Any],
        *,
        headers: Mapping[str, str] | None = None,
        stream: bool = False,
    ) -> requests.Response:
        """One throttled GET with the client's timeout (no retry: see ``retrying`` and ``get``)."""
        self._throttle()
        self.calls += 1
        shown = {k: "***" if _SECRET_PARAM.match(k) else v for k, v in params.items()}
        log.debug("GET %s %s", self.mask(url), self.mask(str(shown)))
        return self._session.get(
            url, params=dict(params), headers=dict(headers or {}), timeout=self.timeout, stream=stream
        )

    def retrying(self, label: str, attempt: Callable[[int], T]) -> T:
        """Call ``attempt(n)`` (n = 1, 2, …) until it returns, sleeping between transient failures
        (see ``TRANSIENT_ERRORS``); any other exception propagates at once. Raises
        :class:`RetriesExhaustedError` (masked message) when the attempts or the wait budget are spent."""
        number = 0
        waited = 0.0
        while True:
            number += 1
            try:
                return attempt(number)
            except TRANSIENT_ERRORS as exc:
                reason = self.mask(str(exc))
                hinted = exc.retry_after if isinstance(exc, TransientError) else None
                delay = self.retry.backoff(number, self._rng)
                if hinted is not None:
                    delay = max(delay, hinted)
                if number >= self.retry.max_attempts or waited + delay > self.retry.max_total_wait:
                    raise RetriesExhaustedError(
                        f"{label}: gave up after {number} attempt(s) and {waited:.1f}s of waiting; "
                        f"last problem: {short(reason)}",
                        reason,
                    ) from None
                log.warning(
                    "%s: attempt %d failed (%s); retrying in %.2fs", label, number, short(reason), delay
                )
                self._sleep(delay)
                self.waited += delay
                waited += delay

    def get(
        self,
        url: str,
        params: Mapping[str, Any],
        *,
        check: Callable[[requests.Response, bytes], T],
        label: str,
        headers: Mapping[str, str] | None = None,
    ) -> tuple[HttpResult, T]:
        """GET ``url`` until ``check(resp, content)`` returns, retrying transient failures.

        HTTP 408, 429 and 5xx are transient before ``check`` is called; ``check`` raises
        :class:`TransientError` to retry, or any other exception to stop at once. Raises
        :class:`RetriesExhaustedError` with a masked message when the budget is spent.
        """

        def once(number: int) -> tuple[HttpResult, T]:
            resp = self.send(url, params, headers=headers)
            try:
                content = resp.content
                if is_transient_status(resp.status_code):
                    raise TransientError(
                        f"HTTP {resp.status_code}: {short(body_text(content))}", retry_after(resp, content)
                    )
                value = check(resp, content)
            finally:
                resp.close()
            result = HttpResult(self.mask(resp.url), resp.status_code, dict(resp.headers), content, number)
            return result, value

        return self.retrying(label, once)

    def download(
        self,
        url: str,
        params: Mapping[str, Any],
        part: Path,
        *,
        label: str,
        check: Callable[[requests.Response], None],
        headers: Mapping[str, str] | None = None,
        chunk_size: int = 1 << 16,
    ) -> int:
        """Stream ``url`` into ``part``, resuming what it holds with an HTTP Range request, until its
        size matches the size the server announced; returns that size. ``check(resp)`` runs first on
        every response and raises for what retrying cannot fix. A response other than 200/206, a
        broken stream or a short file is retried; a file longer than announced is removed and retried.
        """
        expected: list[int | None] = [None]  # the full size, once a response announced it

        def once(_: int) -> int:
            have = part.stat().st_size if part.exists() else 0
            range_header = {"Range": f"bytes={have}-"} if have else {}
            with self.send(url, params, headers={**(headers or {}), **range_header}, stream=True) as resp:
                check(resp)
                if resp.status_code == 416 and expected[0] is not None and have == expected[0]:
                    return have
                if resp.status_code not in (200, 206):
                    raise TransientError(f"HTTP {resp.status_code}", retry_after(resp, resp.content))
                if resp.status_code == 200 and have:
                    have = 0  # the server ignored the Range header: start over
                total = total_size(resp, have)
                if total is not None:
                    expected[0] = total
                with open(part, "ab" if have else "wb") as fh:
                    for chunk in resp.iter_content(chunk_size):
                        fh.write(chunk)
            size = part.stat().st_size
            if expected[0] is None or size == expected[0]:
                return size
            if size > expected[0]:
                part.unlink()
                raise TransientError(f"received {size} bytes, more than the announced {expected[0]}")
            raise TransientError(f"stream ended at {size} of {expected[0]} bytes")

        return self.retrying(label, once)


def is_transient_status(status: int) -> bool:
    """HTTP statuses worth another try: 408 timeout, 429 rate limit, 5xx server errors."""
    return status in (408, 429) or status >= 500


def body_text(content: bytes) -> str:
    """Best-effort text of a body for messages (never raises)."""
    return content[:2000].decode("utf-8", "replace")


def response_text(resp: requests.Response) -> str:
    """The decoded body of a response for messages ("" when it cannot be read)."""
    try:
        return resp.text
    except (requests.RequestException, UnicodeDecodeError):
        return ""


def short(text: str, limit: int = 200) -> str:
    """One line of at most ``limit`` characters."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit] + "…"


def retry_after(resp: requests.Response, content: bytes = b"") -> float | None:
    """Seconds to wait from a numeric Retry-After header or a "Try again in N seconds" body."""
    header = resp.headers.get("Retry-After")
    if header:
        try:
            return max(0.0, float(header))
        except ValueError:
            pass
    m = _TRY_AGAIN.search(body_text(content))
    return float(m.group(1)) if m else None


def looks_like_html(content: bytes) -> bool:
    """True when a body is an HTML page (a portal, login or maintenance page), not data."""
    head = content[:512].lstrip().lower()
    return head.startswith((b"<!doctype html", b"<html")) or b"<html" in head[:200]


def total_size(resp: requests.Response, offset: int) -> int | None:
    """Full size of a download from Content-Range, Content-Disposition ``size=`` or Content-Length."""
    content_range = resp.headers.get("Content-Range", "")
    if "/" in content_range and content_range.rsplit("/", 1)[1].isdigit():
        return int(content_range.rsplit("/", 1)[1])
    m = _CONTENT_SIZE.search(resp.headers.get("Content-Disposition", ""))
    if m:
        return int(m.group(1))
    length = resp.headers.get("Content-Length")
    if length and length.isdigit() and "gzip" not in resp.headers.get("Content-Encoding", ""):
        return offset + int(length)
    return None


def sha256_file(path: Path) -> str:
    """Hex SHA-256 of a file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def env_float(name: str, default: float, error: type[Exception], what: str = "a number of seconds") -> float:
    """A number from ``$name`` (``default`` when unset or blank); ``error`` names the variable otherwise."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return float(default)
    try:
        return float(raw)
    except ValueError:
        raise error(f"${name} must be {what}, not {raw!r}") from None
