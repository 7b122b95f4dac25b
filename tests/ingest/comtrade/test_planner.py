"""The query planner: periods, one reporter-year per call, record caps, URL length, splitting."""

from __future__ import annotations

import itertools

import pytest

from ingest.comtrade.planner import (
    PLAN_CAPS,
    Call,
    PlanError,
    Query,
    cap_for,
    parse_periods,
    plan_calls,
    record_bound,
    split_call,
)


@pytest.mark.parametrize(
    ("spec", "freq", "expected"),
    [
        pytest.param("201901-201903", "M", ("201901", "201902", "201903"), id="month-range"),
        pytest.param(
            "201911-202002", "M", ("201911", "201912", "202001", "202002"), id="month-range-over-new-year"
        ),
        pytest.param("2019", "M", tuple(f"2019{m:02d}" for m in range(1, 13)), id="year-expands-to-months"),
        pytest.param("2018-2019", "A", ("2018", "2019"), id="year-range-annual"),
        pytest.param("201901,201905", "M", ("201901", "201905"), id="comma-list"),
        pytest.param("201901,201901-201902", "M", ("201901", "201902"), id="duplicates-dropped"),
        pytest.param("2010", "A", ("2010",), id="single-year"),
    ],
)
def test_parse_periods(spec: str, freq: str, expected: tuple[str, ...]) -> None:
    assert parse_periods(spec, freq) == expected


@pytest.mark.parametrize(
    ("spec", "freq", "message"),
    [
        pytest.param("201913", "M", "month 13", id="month-13"),
        pytest.param("201905-201901", "M", "ends before it starts", id="backwards"),
        pytest.param("201901", "A", "annual data", id="month-for-annual"),
        pytest.param("19-20", "M", "must be YYYY", id="garbage"),
        pytest.param("", "M", "no period", id="empty"),
        pytest.param("2019", "Q", "must be A", id="bad-freq"),
    ],
)
def test_parse_periods_rejects(spec: str, freq: str, message: str) -> None:
    with pytest.raises(PlanError, match=message):
        parse_periods(spec, freq)


def _query(**kw: object) -> Query:
    base = dict(
        reporters=(410,),
        periods=parse_periods("201901-201912", "M"),
        partners=(392,),
        cmd_codes=("281111", "370790"),
        flows=("M", "X"),
    )
    return Query(**(base | kw))  # type: ignore[arg-type]


def _cells(calls: list[Call]) -> list[tuple[object, ...]]:
    """Every (reporter, period, partner, cmd, flow) a plan asks for, with repetition."""
    return [
        cell
        for c in calls
        for cell in itertools.product(
            [c.reporter], c.periods, c.partners or [None], c.cmd_codes or [None], c.flows or [None]
        )
    ]


def test_issue_example_is_one_call_with_double_counting_guards() -> None:
    calls = plan_calls(_query(), cap=PLAN_CAPS["free"])
    assert len(calls) == 1
    params = calls[0].params()
    assert params["partner2Code"] == "0" and params["motCode"] == "0" and params["customsCode"] == "C00"
    assert params["period"] == ",".join(f"2019{m:02d}" for m in range(1, 13))
    assert params["reporterCode"] == "410" and params["partnerCode"] == "392"
    assert params["cmdCode"] == "281111,370790" and params["flowCode"] == "M,X"
    assert params["maxRecords"] == "100000"
    assert calls[0].partition == "freq=M/year=2019/reporter=410"


@pytest.mark.parametrize(
    ("query", "n_calls"),
    [
        pytest.param(_query(periods=parse_periods("201807-201906", "M")), 2, id="two-years-two-calls"),
        pytest.param(_query(reporters=(410, 392)), 2, id="one-reporter-per-call"),
        pytest.param(
            _query(freq="A", periods=parse_periods("2015-2020", "A")), 6, id="annual-one-year-per-call"
        ),
        pytest.param(_query(reporters=(410, 410)), 1, id="duplicate-reporter-once"),
    ],
)
def test_each_call_is_one_reporter_year(query: Query, n_calls: int) -> None:
    calls = plan_calls(query, cap=PLAN_CAPS["free"])
    assert len(calls) == n_calls
    for c in calls:
        assert {p[:4] for p in c.periods} == {str(c.year)}
        assert len(c.periods) <= 12
    assert sorted(_cells(calls)) == sorted(set(_cells(calls)))


@pytest.mark.parametrize(
    ("cap", "partners", "cmds"),
    [
        pytest.param(500, tuple(range(1, 40)), ("281111", "370790"), id="preview-cap-many-partners"),
        pytest.param(10, (392,), ("281111", "370790", "854232"), id="tiny-cap"),
        pytest.param(2, (392, 156), ("281111",), id="cap-two-splits-to-single-cells"),
    ],
)
def test_every_call_stays_below_the_cap_and_covers_the_query_once(
    cap: int, partners: tuple[int, ...], cmds: tuple[str, ...]
) -> None:
    query = _query(partners=partners, cmd_codes=cmds)
    calls = plan_calls(query, cap=cap)
    for c in calls:
        bound = record_bound(c)
        assert bound is not None and bound < cap, c
        assert c.max_records == cap
    expected = sorted(itertools.product((410,), query.periods, partners, cmds, ("M", "X")))
    assert sorted(_cells(calls)) == expected  # nothing lost, nothing asked twice


def test_url_length_is_bounded_by_splitting_long_code_lists() -> None:
    cmds = tuple(f"{n:06d}" for n in range(100000, 100600))  # 600 codes: ~4,200 characters
    calls = plan_calls(_query(cmd_codes=cmds), cap=250_000, max_url_length=2_000)
    assert len(calls) > 1
    assert all(c.url_length("https://comtradeapi.un.org") <= 2_000 for c in calls)
    assert sorted(code for c in calls for code in c.cmd_codes or ()) == sorted(cmds)


def test_availability_totals_bound_calls_for_all_commodities() -> None:
    query = _query(cmd_codes=None, partners=None)
    totals = {(410, p): 40 for p in query.periods}
    calls = plan_calls(query, cap=100, totals=totals)
    # halving 12 → 6 → 3 → 2+1 periods: 80 or 40 records, each below the cap
    assert [len(c.periods) for c in calls] == [2, 1] * 4
    assert [record_bound(c, totals) for c in calls] == [80, 40] * 4
    assert [p for c in calls for p in c.periods] == list(query.periods)


def test_unbounded_calls_are_left_for_reactive_splitting() -> None:
    calls = plan_calls(_query(cmd_codes=None), cap=100)
    assert len(calls) == 1 and record_bound(calls[0]) is None


@pytest.mark.parametrize(
    ("call_kw", "attr", "parts"),
    [
        pytest.param({}, "periods", [6, 6], id="periods-first"),
        pytest.param({"periods": ("201901",)}, "cmd_codes", [1, 1], id="then-commodities"),
        pytest.param(
            {"periods": ("201901",), "cmd_codes": ("281111",)}, "partners", [2, 1], id="then-partners"
        ),
        pytest.param(
            {"periods": ("201901",), "cmd_codes": ("281111",), "partners": (392,)},
            "flows",
            [1, 1],
            id="then-flows",
        ),
    ],
)
def test_split_call_order(call_kw: dict[str, object], attr: str, parts: list[int]) -> None:
    base = plan_calls(_query(partners=(392, 156, 842)), cap=PLAN_CAPS["free"])[0]
    call = Call(**{**base.__dict__, **call_kw})  # type: ignore[arg-type]
    halves = split_call(call)
    assert [len(getattr(h, attr)) for h in halves] == parts
    assert sorted(_cells(halves)) == sorted(_cells([call]))


def test_split_call_refuses_a_single_cell_with_advice() -> None:
    call = plan_calls(_query(periods=("201901",), cmd_codes=None, partners=None, flows=("M",)), cap=10)[0]
    with pytest.raises(PlanError, match="cannot be divided further; list commodity codes"):
        split_call(call)


def test_call_key_ignores_max_records_but_not_the_question() -> None:
    free = plan_calls(_query(), cap=100_000)[0]
    premium = plan_calls(_query(), cap=250_000)[0]
    other = plan_calls(_query(partners=(156,)), cap=100_000)[0]
    assert free.key() == premium.key()
    assert free.key() != other.key()
    assert len(free.key()) == 64


@pytest.mark.parametrize(("plan", "cap"), [("free", 100_000), ("premium", 250_000), ("preview", 500)])
def test_cap_for(plan: str, cap: int) -> None:
    assert cap_for(plan) == cap


def test_cap_for_unknown_plan() -> None:
    with pytest.raises(PlanError, match="unknown plan 'gold'"):
        cap_for("gold")


def test_empty_lists_are_rejected() -> None:
    with pytest.raises(PlanError, match="empty --cmd"):
        plan_calls(_query(cmd_codes=()), cap=100)
