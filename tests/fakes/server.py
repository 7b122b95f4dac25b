"""What every fake source shares: a real threaded HTTP server on 127.0.0.1 (a free port), started and
stopped as a context manager, that hands each GET to the subclass's ``handle``; answers with their
Content-Type and Content-Length; and the scripted failures every client must survive (429 with
Retry-After, a 5xx status, an HTML page with status 200).

A fake is a subclass: it sets its texts (``content_type``, ``html_page`` …) and implements ``handle``;
``StateFake`` is the base of the fakes a test scripts through a state dataclass.
"""

from __future__ import annotations

import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Generic, Protocol, Self, TypeVar
from urllib.parse import SplitResult, parse_qs, urlsplit


class _QuietServer(ThreadingHTTPServer):
    """A threaded server that does not print a traceback when a client hangs up (timeouts, resets)."""

    def handle_error(self, request: Any, client_address: Any) -> None:
        return


def split(h: BaseHTTPRequestHandler) -> tuple[SplitResult, dict[str, str]]:
    """The request's URL parts and the first value of each non-blank query parameter."""
    url = urlsplit(h.path)
    return url, {k: v[0] for k, v in parse_qs(url.query).items()}


class FakeServer:
    """Base of the fake sources. Use as a context manager; ``url`` is the base URL a client is given."""

    content_type = "application/json; charset=utf-8"  # of a body sent without one
    html_page = "<!DOCTYPE html><html><body>The service is temporarily unavailable.</body></html>"
    html_type = "text/html; charset=UTF-8"
    rate_limit_body = b"Too Many Requests"
    rate_limit_type = "text/plain"
    base_path = ""  # appended to http://127.0.0.1:PORT in ``url``
    protocol_version = "HTTP/1.0"

    def __init__(self) -> None:
        self.lock = threading.Lock()  # guards what handler threads change on the fake
        self._server = _QuietServer(("127.0.0.1", 0), self._handler_class())
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}{self.base_path}"

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def handle(self, h: BaseHTTPRequestHandler) -> None:
        """Answer one GET (``h.path`` is the request target)."""
        raise NotImplementedError

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = fake.protocol_version

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - silence stderr
                return

            def do_GET(self) -> None:  # noqa: N802 - http.server naming
                fake.handle(self)

        return Handler

    def send(
        self,
        h: BaseHTTPRequestHandler,
        status: int,
        body: bytes,
        ctype: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        """Answer with ``status`` and the whole ``body`` (Content-Type ``ctype``, default ``content_type``)."""
        h.send_response(status)
        h.send_header("Content-Type", ctype or self.content_type)
        h.send_header("Content-Length", str(len(body)))
        for k, v in (headers or {}).items():
            h.send_header(k, v)
        h.end_headers()
        h.wfile.write(body)

    def send_fault(self, h: BaseHTTPRequestHandler, kind: str | None, retry_after: int = 0) -> bool:
        """Serve a shared scripted failure: "429" (with Retry-After), a 5xx status ("500", "503" …) as
        plain text, or "html" (an HTML page with status 200). False when ``kind`` is none of them."""
        if kind == "429":
            self.send(h, 429, self.rate_limit_body, self.rate_limit_type, {"Retry-After": str(retry_after)})
        elif kind is not None and kind.isdigit() and kind.startswith("5"):
            self.send(h, int(kind), HTTPStatus(int(kind)).phrase.encode(), "text/plain")
        elif kind == "html":
            self.send(h, 200, self.html_page.encode(), self.html_type)
        else:
            return False
        return True


class _Scripted(Protocol):
    faults: list[str]


S = TypeVar("S", bound=_Scripted)


class StateFake(FakeServer, Generic[S]):
    """A fake that answers from ``state``, a dataclass the test keeps and changes (its records, its
    request log, ``faults``: scripted failures consumed one per request)."""

    def __init__(self, state: S) -> None:
        super().__init__()
        self.state = state

    def next_fault(self) -> str | None:
        """The next scripted failure, consumed (None when none is left)."""
        return self.state.faults.pop(0) if self.state.faults else None
