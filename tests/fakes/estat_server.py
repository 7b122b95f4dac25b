"""A fake e-Stat API 3.0 (``/rest/3.0/app/json/getStatsData``): a real threaded HTTP server on 127.0.0.1.

Serves the 品別国別表 shape (see ingest/japan/estat.py): cells ``{"@tab","@cat01","@cat02","@area",
"@time","@unit","$"}`` filtered by ``cdTime``, ``cdCat01`` / ``cdCat01From``-``cdCat01To`` and ``cdArea``,
paged by ``startPosition``/``limit`` with ``RESULT_INF.NEXT_KEY``. Answers like e-Stat: STATUS 100 for an
unknown appId (HTTP 403 or 200, ``auth_http_status``), STATUS 1 when nothing matches, STATUS 102 for an
unknown statsDataId. Scripted faults, one per request: "429" (Retry-After: 0), "503", "html".
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any

from tests.fakes.server import StateFake, split

PATH = "/rest/3.0/app/json/getStatsData"
HTML_PAGE = (
    "<!DOCTYPE html><html><head><title>e-Stat メンテナンス</title></head><body>メンテナンス中</body></html>"
)


def line_cells(
    hs9: str,
    area: str,
    year: int,
    values: list[int | str],
    *,
    unit2: str = "KG",
    quantity2: list[int | str] | None = None,
    year_total: int | str | None = None,
) -> list[dict[str, Any]]:
    """The 41 cells of one HS9 × area line: units (100, 110), year totals (120-140), then per month
    quantity 1 / quantity 2 / value (150 + 30(m-1), +10, +20). Values and quantities are strings, as
    e-Stat sends them; ``values`` may hold "-" for a month without a figure."""
    q2 = quantity2 if quantity2 is not None else [v if isinstance(v, str) else v // 2 for v in values]
    numbers = [v for v in values if not isinstance(v, str)]
    q2_numbers = [q for q in q2 if not isinstance(q, str)]
    total = sum(numbers) if year_total is None else year_total
    base = {"@tab": "100", "@cat01": hs9, "@area": area, "@time": f"{year}000000"}
    cells = [
        {**base, "@cat02": "100", "$": "-"},
        {**base, "@cat02": "110", "$": unit2},
        {**base, "@cat02": "120", "$": "0"},
        {**base, "@cat02": "130", "$": str(sum(q2_numbers))},
        {**base, "@cat02": "140", "@unit": "千円", "$": str(total)},
    ]
    for m in range(12):
        v, q = values[m], q2[m]
        cells += [
            {**base, "@cat02": str(150 + 30 * m), "$": "-" if isinstance(v, str) else "0"},
            {**base, "@cat02": str(160 + 30 * m), "$": str(q)},
            {**base, "@cat02": str(170 + 30 * m), "@unit": "千円", "$": str(v)},
        ]
    return cells


@dataclass
class EstatState:
    app_id: str
    tables: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # statsDataId -> cells
    faults: list[str] = field(default_factory=list)
    auth_http_status: int = 403
    echo_app_id: bool = False  # echo appId in PARAMETER (the client must mask it before landing)
    notes: list[dict[str, str]] = field(default_factory=lambda: [{"@char": "-", "$": "該当数値なし"}])
    requests: list[dict[str, str]] = field(default_factory=list)  # query parameters, one dict per call
    raw_queries: list[str] = field(default_factory=list)


def _select(cells: list[dict[str, Any]], q: dict[str, str]) -> list[dict[str, Any]]:
    out = cells
    if "cdTime" in q:
        out = [c for c in out if c["@time"] in q["cdTime"].split(",")]
    if "cdCat01" in q:
        out = [c for c in out if c["@cat01"] in q["cdCat01"].split(",")]
    if "cdCat01From" in q:
        out = [c for c in out if q["cdCat01From"] <= c["@cat01"] <= q.get("cdCat01To", "999999999")]
    if "cdArea" in q:
        out = [c for c in out if c["@area"] in q["cdArea"].split(",")]
    return out


def _document(
    status: int, message: str, q: dict[str, str], data: dict[str, Any] | None = None, *, echo: bool = False
) -> bytes:
    body: dict[str, Any] = {
        "GET_STATS_DATA": {
            "RESULT": {"STATUS": status, "ERROR_MSG": message, "DATE": "2026-12-01T10:00:00.000+09:00"},
            "PARAMETER": {
                "LANG": "J",
                "DATA_FORMAT": "J",
                **{k: v for k, v in q.items() if echo or k != "appId"},
            },
        }
    }
    if data is not None:
        body["GET_STATS_DATA"]["STATISTICAL_DATA"] = data
    return json.dumps(body, ensure_ascii=False).encode("utf-8")


class FakeEstat(StateFake[EstatState]):
    """The fake API over ``state``; ``url`` ends in /rest/3.0/app/json, like ``ESTAT_BASE_URL``."""

    content_type = "application/json;charset=utf-8"
    html_page = HTML_PAGE
    base_path = "/rest/3.0/app/json"

    def handle(self, h: BaseHTTPRequestHandler) -> None:
        url, q = split(h)
        self.state.requests.append({k: v for k, v in q.items() if k != "appId"})
        self.state.raw_queries.append(url.query)
        fault = self.next_fault()
        if self.send_fault(h, fault):
            return None
        if url.path != PATH:
            return self.send(h, 404, b"Not Found", "text/plain")
        if q.get("appId") != self.state.app_id:
            return self.send(h, self.state.auth_http_status, _document(100, "認証に失敗しました。", q))
        cells = self.state.tables.get(q.get("statsDataId", ""))
        if cells is None:
            return self.send(h, 400, _document(102, "指定されたデータが存在しません。", q))
        selected = _select(cells, q)
        if not selected:
            return self.send(h, 200, _document(1, "絞り込み条件に該当するデータが存在しません。", q))
        start, limit = int(q.get("startPosition", "1")), int(q.get("limit", "100000"))
        page = selected[start - 1 : start - 1 + limit]
        end = start + len(page) - 1
        inf: dict[str, Any] = {"TOTAL_NUMBER": len(selected), "FROM_NUMBER": start, "TO_NUMBER": end}
        if end < len(selected):
            inf["NEXT_KEY"] = end + 1
        data = {
            "RESULT_INF": inf,
            "TABLE_INF": {"@id": q["statsDataId"], "STAT_NAME": {"@code": "00350300", "$": "普通貿易統計"}},
            "DATA_INF": {
                "NOTE": self.state.notes,
                "VALUE": page[0] if len(page) == 1 else page,
            },
        }
        return self.send(h, 200, _document(0, "正常に終了しました。", q, data, echo=self.state.echo_app_id))
