"""Outputs and component state in a real ipykernel, driven over its comms as a frontend would."""

from __future__ import annotations

import base64
import contextlib
import itertools
import json
import queue
import textwrap
import time
from collections.abc import Iterator
from typing import Any

import pytest
from jupyter_client.blocking.client import BlockingKernelClient
from jupyter_client.manager import KernelManager, start_new_kernel

from tests.jupyter.test_comm_kernel import _custom, _drain, _execute, _send, _values

pytestmark = pytest.mark.kernel

SETUP = textwrap.dedent('''
    from typing import Literal
    import matplotlib.pyplot as plt
    from IPython.display import Markdown
    import nbstate as ns

    CALLS = {"chart": 0, "summary": 0}

    class Sales(ns.State):
        region: Literal["north", "south"] = "north"
        months: int = 12
        note: str = ""

        @ns.computed
        def series(self) -> list[float]:
            base = 100.0 if self.region == "north" else 50.0
            return [base + i for i in range(self.months)]

        @ns.output
        def chart(self):
            CALLS["chart"] += 1
            if self.months == 0:
                raise ValueError("no months to plot")
            fig, ax = plt.subplots(figsize=(4, 2))
            ax.plot(self.series)
            ax.set_title(f"{self.region} {self.months}")
            return fig

    @ns.output(min_interval=0)
    def summary():
        CALLS["summary"] += 1
        sales = ns.get_state(Sales)
        return Markdown(f"**{sales.region}**: {sum(sales.series):,.0f}")

    class Counter(ns.ComponentState):
        count: int = 0

        def increment(self):
            self.count += 1

    ns.show(Sales)
    summary
''')


@pytest.fixture(scope="module")
def kernel() -> Iterator[BlockingKernelClient]:
    km: KernelManager
    km, kc = start_new_kernel(kernel_name="python3")
    try:
        yield kc
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)


_ids = itertools.count(1)


def _opens(msgs: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    found = {}
    for m in msgs:
        if m["msg_type"] == "comm_open" and "_nb_spec" in m["content"]["data"]["state"]:
            state = m["content"]["data"]["state"]
            found[state["_nb_spec"]["path"]] = {"comm_id": m["content"]["comm_id"],
                                                "state": state}
    return found


@pytest.fixture(scope="module")
def models(kernel: BlockingKernelClient) -> dict[str, dict[str, Any]]:
    msgs = _execute(kernel, SETUP)
    found = _opens(msgs)
    assert not [m for m in msgs if m["msg_type"] == "display_data"
                and "image/png" in m["content"]["data"]], "the inline backend showed a figure"
    return found


def _updates(msgs: list[dict[str, Any]], comm_id: str) -> list[dict[str, Any]]:
    """The whole values each patch sent on ``comm_id`` carried, ``{var: value}`` per patch."""
    return [{op["path"][1:]: op["value"] for op in patch["ops"]
             if op["op"] in ("add", "replace") and op["path"].count("/") == 1}
            for m in msgs if m["msg_type"] == "comm_msg" and m["content"]["comm_id"] == comm_id
            and (patch := _custom(m)) and patch.get("type") == "patch"]


def _set(kc: BlockingKernelClient, comm_id: str, var: str, value: Any) -> int:
    msg_id = next(_ids)
    _send(kc, comm_id, {"type": "set", "id": msg_id, "var": var, "value": value})
    return msg_id


def _collect(kc: BlockingKernelClient, seconds: float) -> list[dict[str, Any]]:
    seen, deadline = [], time.monotonic() + seconds
    while time.monotonic() < deadline:
        with contextlib.suppress(queue.Empty):
            seen.append(kc.get_iopub_msg(timeout=0.05))
    return seen


def _calls(kc: BlockingKernelClient) -> dict[str, int]:
    calls: dict[str, int] = json.loads(_values(kc, "__import__('json').dumps(CALLS)"))
    return calls


def test_outputs_arrive_as_mime_bundles_in_the_models(
        models: dict[str, dict[str, Any]]) -> None:
    chart = models["sales"]["state"]["chart"]
    assert base64.b64decode(chart["image/png"]).startswith(b"\x89PNG")
    specs = {v["name"]: v["kind"] for v in models["sales"]["state"]["_nb_spec"]["vars"]}
    assert specs["chart"] == "output" and specs["series"] == "computed"
    summary = models["output-summary"]["state"]
    assert summary["summary"]["text/markdown"] == "**north**: 1,266"
    assert summary["_nb_spec"]["title"] == ""


def test_an_output_reruns_exactly_when_what_it_read_changed(
        kernel: BlockingKernelClient, models: dict[str, dict[str, Any]]) -> None:
    comm = models["sales"]["comm_id"]
    before = _calls(kernel)
    _set(kernel, comm, "note", "unrelated")
    _collect(kernel, 0.3)
    assert _calls(kernel) == before
    time.sleep(0.12)  # past the chart's min_interval: it renders at once
    _set(kernel, comm, "region", "south")
    msgs = _collect(kernel, 0.5)
    assert _calls(kernel) == {"chart": before["chart"] + 1, "summary": before["summary"] + 1}
    charts = [u["chart"] for u in _updates(msgs, comm) if "chart" in u]
    assert len(charts) == 1 and "image/png" in charts[0]
    summaries = [u["summary"] for u in _updates(msgs, models["output-summary"]["comm_id"])]
    assert summaries == [{"text/markdown": "**south**: 666",
                          "text/plain": "<IPython.core.display.Markdown object>"}]


def test_a_failing_output_shows_its_error_and_the_next_render_replaces_it(
        kernel: BlockingKernelClient, models: dict[str, dict[str, Any]]) -> None:
    comm = models["sales"]["comm_id"]
    time.sleep(0.12)
    msg_id = _set(kernel, comm, "months", 0)
    msgs = _collect(kernel, 0.5)
    answers = [c for c in map(_custom, msgs) if c and c.get("id") == msg_id]
    assert answers == [{"type": "done", "id": msg_id}]  # the set itself succeeded
    error = next(u["chart"] for u in _updates(msgs, comm) if "chart" in u)
    info = error["application/vnd.nbstate.error+json"]
    assert info["ename"] == "ValueError" and info["evalue"] == "no months to plot"
    text = "\n".join(info["traceback"])
    assert 'raise ValueError("no months to plot")' in text
    assert "nbstate/" not in text  # the user's frames only
    assert _values(kernel, "ns.get_state(Sales).months") == "0"  # not rolled back
    time.sleep(0.12)
    _set(kernel, comm, "months", 6)
    msgs = _collect(kernel, 0.5)
    good = next(u["chart"] for u in _updates(msgs, comm) if "chart" in u)
    assert "image/png" in good and "application/vnd.nbstate.error+json" not in good


def test_a_dragged_slider_renders_at_most_every_min_interval_and_ends_on_the_last(
        kernel: BlockingKernelClient, models: dict[str, dict[str, Any]]) -> None:
    comm = models["sales"]["comm_id"]
    _set(kernel, comm, "months", 1)
    _collect(kernel, 0.3)
    before = _calls(kernel)["chart"]
    start = time.monotonic()
    for months in range(2, 102):
        _set(kernel, comm, "months", months)
        time.sleep(0.016)  # a 60 Hz drag
    duration = time.monotonic() - start
    msgs = _collect(kernel, 0.6)
    renders = _calls(kernel)["chart"] - before
    assert 1 <= renders <= 1 + duration / 0.1 + 1, (renders, duration)
    charts = [u["chart"] for u in _updates(msgs, comm) if "chart" in u]
    assert len(charts) == renders
    final = _values(kernel, "ns.get_state(Sales).chart['image/png'] == "
                            "__import__('nbstate.jupyter.render').jupyter.render.render_output("
                            "ns.get_state(Sales).chart and Sales.chart.fget(ns.get_state(Sales)))"
                            "['image/png']")
    assert final == "True"
    assert charts[-1]["image/png"] == json.loads(_values(
        kernel, "__import__('json').dumps(ns.get_state(Sales).chart['image/png'])"))


def test_no_matplotlib_figure_is_left_open(kernel: BlockingKernelClient,
                                           models: dict[str, dict[str, Any]]) -> None:
    assert _values(kernel, "plt.get_fignums()") == "[]"


def _execute_in_cell(kc: BlockingKernelClient, code: str, cell_id: str,
                     deleted: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    msg = kc.session.msg("execute_request", {
        "code": code, "silent": False, "store_history": True, "user_expressions": {},
        "allow_stdin": False, "stop_on_error": True},
        metadata={"cellId": cell_id, "deletedCells": list(deleted)})
    kc.shell_channel.send(msg)
    reply = kc.get_shell_msg(timeout=30)
    assert reply["content"]["status"] == "ok", reply["content"]
    return _drain(kc)


def test_counters_are_independent_and_dropped_ones_leave(
        kernel: BlockingKernelClient, models: dict[str, dict[str, Any]]) -> None:
    msgs = _execute_in_cell(kernel, "a, b, c = Counter.create(), Counter.create(count=10), "
                                    "Counter.create()\nns.show(a, b, c)", "cell-counters")
    opened = _opens(msgs)
    assert len(opened) == 3
    comms = {v["state"]["count"]: v["comm_id"] for v in opened.values() if v["state"]["count"]}
    paths = sorted(opened)
    first = next(p for p in paths if opened[p]["state"]["count"] == 0)
    for _ in range(2):
        _send(kernel, opened[first]["comm_id"], {"type": "event", "id": next(_ids),
                                                 "handler": "increment", "payload": {}})
    _send(kernel, comms[10], {"type": "event", "id": next(_ids), "handler": "increment",
                              "payload": {}})
    _collect(kernel, 0.3)
    counts = _values(kernel, "sorted(s.count for s in (a, b, c))")
    assert counts == "[0, 2, 11]"

    # dropped, never shown: removed after the cell
    _execute_in_cell(kernel, "d = Counter.create()\nd_path = d._nb_path\ndel d", "cell-drop")
    assert _values(kernel, "d_path in ns.default_session().snapshot()") == "False"
    # shown, still referenced: stays when its cell runs again; unreferenced: goes
    assert _values(kernel, "all(s._nb_path in ns.default_session().snapshot() "
                           "for s in (a, b, c))") == "True"
    msgs = _execute_in_cell(kernel, "del a, b\nc_path = c._nb_path\ndel c\nNone",
                            "cell-counters")
    closed = {m["content"]["comm_id"] for m in msgs if m["msg_type"] == "comm_close"}
    assert closed == {v["comm_id"] for v in opened.values()}
    assert _values(kernel, "[p for p in ns.default_session().snapshot() "
                           "if p.startswith('counter-')]") == "[]"
    assert _values(kernel, "__import__('gc').collect() >= 0 and "
                           "sum(type(o).__name__ == 'Counter' and isinstance(o, ns.State) "
                           "for o in __import__('gc').get_objects())") == "0"


def test_a_component_shown_by_the_kernels_first_cell_goes_when_that_cell_runs_again() -> None:
    km, kc = start_new_kernel(kernel_name="python3")
    try:
        code = textwrap.dedent('''
            import nbstate as ns

            class Tally(ns.ComponentState):
                n: int = 0

            ns.show(Tally.create(n=1))
        ''')
        first = _opens(_execute_in_cell(kc, code, "first-cell"))
        assert [v["state"]["n"] for v in first.values()] == [1]
        msgs = _execute_in_cell(kc, code, "first-cell")
        closed = {m["content"]["comm_id"] for m in msgs if m["msg_type"] == "comm_close"}
        assert closed == {v["comm_id"] for v in first.values()}
        left = _values(kc, "[p for p in ns.default_session().snapshot() if p.startswith('tally-')]")
        assert left == f"{['tally-2']}" and list(first) == ["tally-1"]
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)


def test_a_deleted_cells_components_leave_at_the_next_run(
        kernel: BlockingKernelClient, models: dict[str, dict[str, Any]]) -> None:
    opened = _opens(_execute_in_cell(kernel, "ns.show(Counter.create(count=5))", "cell-gone"))
    assert [v["state"]["count"] for v in opened.values()] == [5]
    (path,) = opened
    _execute_in_cell(kernel, "1", "cell-other")
    assert _values(kernel, f"{path!r} in ns.default_session().snapshot()") == "True"
    msgs = _execute_in_cell(kernel, "2", "cell-other", deleted=("cell-gone",))
    assert {m["content"]["comm_id"] for m in msgs if m["msg_type"] == "comm_close"} == {
        v["comm_id"] for v in opened.values()}
    assert _values(kernel, f"{path!r} in ns.default_session().snapshot()") == "False"
