"""Outputs: tracked reads, one render per flush and per min_interval, errors in place,
rendering through IPython's formatter, free outputs."""

from __future__ import annotations

import asyncio
import time
from typing import Any, Literal

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd
import pytest
from IPython.display import Markdown

import nbstate as ns
from nbstate.outputs import ERROR_MIME, FreeOutput, RenderTimer, error_bundle, render
from nbstate.session import bind_session
from nbstate.spec import spec_of

CALLS: dict[str, int] = {}


def md(text: str) -> Any:
    return Markdown(text)  # type: ignore[no-untyped-call]


class OutSales(ns.State):
    region: Literal["north", "south"] = "north"
    months: int = 3
    note: str = ""

    @ns.computed
    def series(self) -> list[float]:
        base = 10.0 if self.region == "north" else 20.0
        return [base + i for i in range(self.months)]

    @ns.output
    def chart(self) -> Any:
        CALLS["chart"] = CALLS.get("chart", 0) + 1
        fig, ax = plt.subplots(figsize=(3, 2))
        ax.plot(self.series)
        return fig

    @ns.output(min_interval=0)
    def total(self) -> Any:
        CALLS["total"] = CALLS.get("total", 0) + 1
        if self.months == 0:
            raise ValueError("no months to sum")
        return md(f"**{self.region}**: {sum(self.series):,.0f}")

    @ns.output(min_interval=0)
    def table(self) -> Any:
        return pd.DataFrame({"month": range(self.months), "sales": self.series})

    def set_months(self, months: int) -> None:
        self.months = months


@ns.output(min_interval=0)
def out_summary() -> Any:
    sales = ns.get_state(OutSales)
    CALLS["summary"] = CALLS.get("summary", 0) + 1
    return md(f"{sales.region} {len(sales.series)}")


@pytest.fixture
def session() -> ns.Session:
    CALLS.clear()
    made = ns.Session()
    bind_session(made)
    return made


def test_an_output_reruns_only_when_what_it_read_changed(session: ns.Session) -> None:
    sales = session.get_state(OutSales)
    assert CALLS == {"chart": 1, "total": 1}
    sales.note = "unrelated"
    session.flush()
    assert CALLS == {"chart": 1, "total": 1}
    sales.region = "south"  # through the computed var it read
    delta = session.flush()
    assert CALLS == {"chart": 2, "total": 2}
    assert delta is not None
    chart_ops = [op for op in delta["ops"] if op["path"] == "/out_sales/chart"]
    assert chart_ops[0]["op"] == "replace" and "image/png" in chart_ops[0]["value"]
    assert session.snapshot()["out_sales"]["total"]["text/markdown"] == "**south**: 63"


def test_several_changes_before_a_flush_render_once(session: ns.Session) -> None:
    sales = session.get_state(OutSales)
    session.flush_interval = 10  # cell code's changes wait for the flush below
    session.flush()
    for months in range(4, 10):
        sales.months = months
    session.flush()
    assert CALLS["total"] == 2
    assert session.snapshot()["out_sales"]["total"]["text/markdown"] == "**north**: 126"


def test_rendering_goes_through_the_display_formatter_and_closes_figures(
        session: ns.Session) -> None:
    plt.close("all")
    session.get_state(OutSales)
    doc = session.snapshot()["out_sales"]
    assert doc["chart"]["image/png"].startswith("iVBORw0KGgo")  # base64 of the PNG signature
    assert doc["chart"]["text/plain"].startswith("<Figure size")
    assert "<table" in doc["table"]["text/html"]
    assert doc["total"]["text/markdown"] == "**north**: 33"
    assert plt.get_fignums() == []
    assert render(None) == {}
    assert render(md("x"))["text/markdown"] == "x"


async def test_a_failing_output_shows_its_error_and_the_next_render_replaces_it(
        session: ns.Session) -> None:
    sales = session.get_state(OutSales)
    await session.dispatch("out_sales.set_months", {"months": 0})  # the handler is not failed
    assert sales.months == 0  # and not rolled back
    total = session.snapshot()["out_sales"]["total"]
    error = total[ERROR_MIME]
    assert error["ename"] == "ValueError" and error["evalue"] == "no months to sum"
    text = "\n".join(error["traceback"])
    assert 'raise ValueError("no months to sum")' in text and "test_outputs.py" in text
    assert "nbstate" + "/" not in text.replace("tests/", "")  # none of nbstate's frames
    assert "image/png" in session.snapshot()["out_sales"]["chart"]  # the rest keeps working
    await session.dispatch("out_sales.set_months", {"months": 2})
    assert session.snapshot()["out_sales"]["total"] == {
        "text/markdown": "**north**: 21", "text/plain": "<IPython.core.display.Markdown object>"}


def test_an_error_in_a_computed_var_it_read_shows_the_users_line() -> None:
    def inner() -> None:
        raise KeyError("missing")

    try:
        try:
            inner()
        except KeyError as exc:
            raise ns.ComputedVarError("computed var x.y raised KeyError") from exc
    except ns.ComputedVarError as exc:
        bundle = error_bundle(exc)
    assert bundle[ERROR_MIME]["ename"] == "KeyError"
    assert "in inner" in bundle["text/plain"]


async def test_a_dragged_slider_renders_at_most_every_min_interval_and_ends_on_the_last(
        session: ns.Session) -> None:
    sales = session.get_state(OutSales)
    start = time.monotonic()
    for months in range(1, 101):
        sales.months = months
        session.flush()
        await asyncio.sleep(0.003)
    duration = time.monotonic() - start
    await asyncio.sleep(0.25)  # the held-back render is due
    renders = CALLS["chart"] - 1
    assert 2 <= renders <= 1 + duration / 0.1 + 1, (renders, duration)
    assert CALLS["total"] == 101  # min_interval=0: every flush
    png = session.snapshot()["out_sales"]["chart"]["image/png"]
    expected = render(_figure_of(list(sales.series)))["image/png"]
    assert png == expected  # the final value


def _figure_of(series: list[float]) -> Any:
    fig, ax = plt.subplots(figsize=(3, 2))
    ax.plot(series)
    return fig


def test_without_an_event_loop_a_held_render_happens_at_once(session: ns.Session) -> None:
    sales = session.get_state(OutSales)
    sales.months = 5
    session.flush()
    assert CALLS["chart"] == 2  # no loop could flush it later


def test_a_free_output_follows_the_states_it_read(session: ns.Session) -> None:
    assert isinstance(out_summary, FreeOutput)
    state = session.get_state(out_summary.state_class)
    assert state._nb_path == "output-out_summary"
    assert session.snapshot()["output-out_summary"]["out_summary"]["text/markdown"] == "north 3"
    sales = session.get_state(OutSales)
    sales.note = "x"
    session.flush()
    assert CALLS["summary"] == 1
    sales.months = 5
    session.flush()
    assert CALLS["summary"] == 2
    assert session.snapshot()["output-out_summary"]["out_summary"]["text/markdown"] == "north 5"
    assert out_summary().data == "north 5"  # still a function
    assert out_summary._repr_mimebundle_() is None  # no widget host here: its repr shows


def test_a_free_output_reads_its_own_session_not_the_bound_one() -> None:
    first, second = ns.Session(), ns.Session()
    bind_session(first)
    first.get_state(OutSales).region = "south"
    first.flush()
    second.get_state(OutSales)
    bind_session(second)
    first.get_state(out_summary.state_class)
    assert first.snapshot()["output-out_summary"]["out_summary"]["text/markdown"] == "south 3"


def test_the_spec_marks_outputs_and_a_free_output_has_no_title() -> None:
    spec = spec_of(OutSales)
    kinds = {v["name"]: v["kind"] for v in spec["vars"]}
    assert kinds == {"region": "base", "months": "base", "note": "base", "series": "computed",
                     "chart": "output", "total": "output", "table": "output"}
    free = spec_of(out_summary.state_class)
    assert free["title"] == "" and [v["kind"] for v in free["vars"]] == ["output"]


def test_bad_declarations_are_refused() -> None:
    declare: Any = ns.output
    with pytest.raises(TypeError, match="takes only 'self'"):
        declare(lambda self, x: x)
    with pytest.raises(ValueError, match="min_interval"):
        ns.output(min_interval=-1)(lambda self: 1)


async def test_a_render_held_back_in_handlers_comes_when_due(session: ns.Session) -> None:
    sales = session.get_state(OutSales)
    for months in (4, 5):
        await session.set_var("out_sales", "months", months)
    await session.dispatch("out_sales.set_months", {"months": 6})  # flushed inside the handler
    assert CALLS["chart"] == 1  # rendered just now, when the state was made: all held back
    await asyncio.sleep(0.2)
    assert CALLS["chart"] == 2
    assert session.snapshot()["out_sales"]["chart"] == sales.chart
    assert sales.months == 6


async def test_flush_now_renders_what_is_held_back(session: ns.Session) -> None:
    sales = session.get_state(OutSales)
    await session.set_var("out_sales", "months", 7)
    assert CALLS["chart"] == 1
    timer = session.computed.later
    assert isinstance(timer, RenderTimer)
    timer.flush_now()
    assert CALLS["chart"] == 2
    assert session.snapshot()["out_sales"]["chart"] == sales.chart
    await asyncio.sleep(0.15)
    assert CALLS["chart"] == 2  # the timer it replaced does not render again


class _Pixels:
    def _repr_png_(self) -> bytes:
        return b"\x89PNG\r\n\x1a\n"


class _Odd:
    def _repr_json_(self) -> Any:
        return {"x": float("nan")}


def test_bytes_travel_as_base64_and_what_json_cannot_carry_is_an_error_in_place(
        session: ns.Session) -> None:
    assert render(_Pixels())["image/png"] == "iVBORw0KGgo="

    class OutOdd(ns.State):
        n: int = 0

        @ns.output
        def odd(self) -> Any:
            return _Odd() if self.n else _Pixels()

    state = session.get_state(OutOdd)
    assert session.snapshot()["out_odd"]["odd"]["image/png"] == "iVBORw0KGgo="
    state.n = 1
    session.flush()  # no ComputedVarError: the error shows in place
    error = session.snapshot()["out_odd"]["odd"][ERROR_MIME]
    assert "out_odd.odd rendered what JSON cannot carry" in error["evalue"]
    assert state.n == 1
