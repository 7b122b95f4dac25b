"""A polite, retrying HTTP GET shared by the national-statistics clients (KCS, Japan MOF, ECB).

One ``requests.Session`` (connection reuse), a timeout on every call, a minimum interval between
calls, and bounded retries with exponential backoff and jitter (the Comtrade ``RetryPolicy``) on
429, 408, 5xx, connection errors, timeouts and bodies the caller's ``check`` marks as transient.
Secrets given to the constructor are masked (raw and URL-encoded) out of every message.
"""

from __future__ import annotations

import logging
import random
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import quote, quote_plus

import requests

from ingest.comtrade.client import RetryPolicy

log = logging.getLogger(__name__)

_KEY_IN_URL = re.compile(r"(?i)((?:service)?key=|appid=)[^&\s\"']+")


class _RedactKeys(logging.Filter):
    """Redact ``serviceKey=...`` from urllib3's debug lines (they print the full request URL)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if _KEY_IN_URL.search(message):
            record.msg, record.args = _KEY_IN_URL.sub(r"\1***", message), None
        return True


_REDACTOR = _RedactKeys()
for _name in ("urllib3.connectionpool", "urllib3.util.retry", "requests"):
    if _REDACTOR not in logging.getLogger(_name).filters:
        logging.getLogger(_name).addFilter(_REDACTOR)

T = TypeVar("T")


class TransientError(Exception):
    """A failure worth retrying, with the server's requested wait if it gave one."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class RetriesExhaustedError(RuntimeError):
    """Every attempt failed with a transient problem; ``reason`` is the last one (masked)."""

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class HttpResult:
    """A successful GET: status, headers, raw bytes as received, and the number of attempts."""

    url: str  # masked
    status: int
    headers: dict[str, str]
    content: bytes
    attempts: int


class PoliteHttp:
    """GET with throttle, timeouts and bounded retries; secrets never appear in messages."""

    def __init__(
        self,
        *,
        timeout: tuple[float, float] = (10.0, 120.0),
        min_interval: float = 1.0,
        retry: RetryPolicy | None = None,
        session: requests.Session | None = None,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
        secrets: tuple[str, ...] = (),
    ) -> None:
        self.timeout = timeout
        self.min_interval = min_interval
        self.retry = retry or RetryPolicy(max_attempts=5, base_delay=2.0, max_total_wait=300.0)
        self._session = session or requests.Session()
        self._sleep = sleep
        self._rng = rng or random.Random()
        self._secrets = tuple(s for s in secrets if s)
        self._last_call = 0.0
        self.calls = 0
        self.waited = 0.0

    def close(self) -> None:
        self._session.close()

    def mask(self, text: str) -> str:
        """``text`` with every secret (raw, %-encoded and +-encoded) replaced by ***."""
        text = _KEY_IN_URL.sub(r"\1***", text)
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

    def get(
        self,
        url: str,
        params: Mapping[str, Any],
        *,
        check: Callable[[requests.Response, bytes], T],
        label: str,
    ) -> tuple[HttpResult, T]:
        """GET ``url`` until ``check(resp, content)`` returns, retrying transient failures.

        ``check`` raises :class:`TransientError` to retry, or any other exception to stop at once.
        HTTP 429/408/5xx are transient before ``check`` is called. Raises
        :class:`RetriesExhaustedError` with a masked message when the budget is spent.
        """
        attempt = 0
        waited = 0.0
        while True:
            attempt += 1
            try:
                self._throttle()
                self.calls += 1
                resp = self._session.get(url, params=dict(params), timeout=self.timeout)
                try:
                    content = resp.content
                    if resp.status_code in (408, 429) or resp.status_code >= 500:
                        raise TransientError(
                            f"HTTP {resp.status_code}: {short(body_text(content))}", retry_after(resp)
                        )
                    value = check(resp, content)
                finally:
                    resp.close()
                result = HttpResult(
                    self.mask(resp.url), resp.status_code, dict(resp.headers), content, attempt
                )
                return result, value
            except (
                TransientError,
                requests.ConnectionError,
                requests.Timeout,
                requests.exceptions.ChunkedEncodingError,
                requests.exceptions.ContentDecodingError,
            ) as exc:
                reason = self.mask(str(exc))
                hinted = exc.retry_after if isinstance(exc, TransientError) else None
                delay = self.retry.backoff(attempt, self._rng)
                if hinted is not None:
                    delay = max(delay, hinted)
                if attempt >= self.retry.max_attempts or waited + delay > self.retry.max_total_wait:
                    raise RetriesExhaustedError(
                        f"{label}: gave up after {attempt} attempt(s) and {waited:.1f}s of waiting; last problem: "
                        f"{short(reason)}",
                        reason,
                    ) from None
                log.warning(
                    "%s: attempt %d failed (%s); retrying in %.2fs", label, attempt, short(reason), delay
                )
                self._sleep(delay)
                self.waited += delay
                waited += delay


def body_text(content: bytes) -> str:
    """Best-effort text of a body for messages (never raises)."""
    return content[:2000].decode("utf-8", "replace")


def short(text: str, limit: int = 200) -> str:
    """One line of at most ``limit`` characters."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[:limit] + "…"


def retry_after(resp: requests.Response) -> float | None:
    """Seconds from a numeric Retry-After header, if any."""
    header = resp.headers.get("Retry-After")
    if header:
        try:
            return max(0.0, float(header))
        except ValueError:
            return None
    return None


def looks_like_html(content: bytes) -> bool:
    """True when a body is an HTML page (a portal, login or maintenance page), not data."""
    head = content[:512].lstrip().lower()
    return head.startswith((b"<!doctype html", b"<html")) or b"<html" in head[:200]
