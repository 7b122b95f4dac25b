"""A fake Korea Customs (data.go.kr) nitemtrade API: a real threaded HTTP server on 127.0.0.1.

It answers ``GET /1220000/nitemtrade/getNitemtradeList`` with the real XML shape (total row first,
elements in alphabetical order) built from ``items`` (filtered by hsSgn prefix, cntyCd and period),
and reproduces the service's error forms: missing key or unknown key (gateway text
SERVICE_KEY_IS_NOT_REGISTERED_ERROR, or XML resultCode 30 when ``xml_auth_error``), resultCode 99 for
a missing hsSgn/cntyCd, 429 when ``faults`` says so (with Retry-After), 500, an HTML page with status 200,
a body that is not UTF-8 XML, a wrong control total, and a truncated body.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from xml.sax.saxutils import escape

from tests.fakes.server import StateFake, split

SERVICE_KEY = "kcs+test/key=="  # characters that must be URL-encoded, like real data.go.kr keys
GATEWAY_UNREGISTERED = (
    "<OpenAPI_ServiceResponse><cmmMsgHeader><errMsg>SERVICE ERROR</errMsg>"
    "<returnAuthMsg>SERVICE_KEY_IS_NOT_REGISTERED_ERROR</returnAuthMsg><returnReasonCode>30</returnReasonCode>"
    "</cmmMsgHeader></OpenAPI_ServiceResponse>"
)
HTML_PAGE = "<!DOCTYPE html><html><head><title>공공데이터포털</title></head><body>점검 중입니다</body></html>"


def item(
    period: str, iso2: str, hsk10: str, exp_usd: int = 0, imp_usd: int = 0, exp_kg: int = 0, imp_kg: int = 0
) -> dict[str, str]:
    """One API item (period YYYY.MM)."""
    return {
        "year": period,
        "statCd": iso2,
        "statCdCntnKor1": iso2,
        "statKor": "불화수소",
        "hsCd": hsk10,
        "expWgt": str(exp_kg),
        "expDlr": str(exp_usd),
        "impWgt": str(imp_kg),
        "impDlr": str(imp_usd),
        "balPayments": str(exp_usd - imp_usd),
    }


def render(
    items: list[dict[str, str]], *, code: str = "00", msg: str = "NORMAL SERVICE.", total_offset: int = 0
) -> bytes:
    """The XML body for ``items`` with the 총계 total row first (``total_offset`` corrupts the total)."""

    def el(fields: dict[str, str]) -> str:
        return "<item>" + "".join(f"<{k}>{escape(v)}</{k}>" for k, v in sorted(fields.items())) + "</item>"

    body = ""
    if items:
        sums = {f: sum(int(i[f]) for i in items) for f in ("expWgt", "expDlr", "impWgt", "impDlr")}
        sums["impDlr"] += total_offset
        total = {
            "year": "총계",
            "statCd": "-",
            "statCdCntnKor1": "-",
            "statKor": "-",
            "hsCd": "-",
            **{k: str(v) for k, v in sums.items()},
            "balPayments": str(sums["expDlr"] - sums["impDlr"]),
        }
        body = el(total) + "".join(el(i) for i in items)
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?><response><header>'
        f"<resultCode>{code}</resultCode><resultMsg>{msg}</resultMsg></header><body><items>{body}</items>"
        "</body></response>"
    ).encode()


@dataclass
class KcsState:
    items: list[dict[str, str]] = field(default_factory=list)
    faults: list[str] = field(
        default_factory=list
    )  # consumed one per request: 429, 500, html, truncated, badtotal, latin1
    xml_auth_error: bool = False
    requests: list[str] = field(default_factory=list)  # raw query strings received


class FakeKcs(StateFake[KcsState]):
    """The fake service over ``state`` (a test changes ``state`` to script the next answers)."""

    content_type = "application/xml;charset=UTF-8"
    html_page = HTML_PAGE
    html_type = "text/html;charset=UTF-8"
    rate_limit_body = b"API rate limit exceeded"

    def handle(self, h: BaseHTTPRequestHandler) -> None:
        url, q = split(h)
        self.state.requests.append(url.query)
        if url.path != "/1220000/nitemtrade/getNitemtradeList":
            return self.send(h, 404, b"Not Found", "text/plain")
        if q.get("serviceKey") != SERVICE_KEY:
            if self.state.xml_auth_error:
                return self.send(h, 200, render([], code="30", msg="SERVICE KEY IS NOT REGISTERED ERROR."))
            return self.send(h, 401, GATEWAY_UNREGISTERED.encode(), "text/xml")
        fault = self.next_fault()
        if self.send_fault(h, fault):
            return None
        if not q.get("hsSgn") and not q.get("cntyCd"):
            return self.send(h, 200, render([], code="99", msg="필수 파라미터 누락 (hsSgn or cntyCd)"))
        start, end = q.get("strtYymm", ""), q.get("endYymm", "")
        rows = [
            i
            for i in self.state.items
            if start <= i["year"].replace(".", "") <= end
            and (not q.get("hsSgn") or i["hsCd"].startswith(q["hsSgn"]))
            and (not q.get("cntyCd") or i["statCd"] == q["cntyCd"])
        ]
        body = render(rows, total_offset=7 if fault == "badtotal" else 0)
        if fault == "truncated":
            body = body[: len(body) // 2]
        if fault == "latin1":
            body = body.decode().replace("총계", "Total").encode("utf-16")
        return self.send(h, 200, body)
